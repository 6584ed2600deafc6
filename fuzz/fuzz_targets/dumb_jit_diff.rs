//! `dumb-jit-diff`: any bytes are machine code.
//!
//! The bytes are copied to `RAM_BASE` (0x8000_0000) of a small bare-metal
//! machine whose last page holds an HTIF `tohost` slot; `mtvec` points back
//! at `RAM_BASE`, so traps re-enter the code rather than fault off RAM.
//!
//! Oracle ([`avm_testgen::run_engines`]): the interpreter twice
//! (determinism), the JIT compiling every block on first use (threshold
//! 0) and the JIT's baseline tier alone end in the same
//! [`avm_testgen::Snapshot`]: exit, pc, privilege,
//! instret, registers, CSRs, reservation, console, RAM and TLB.

#![no_main]

use avm_interp::Interpreter;
use avm_jit::{JitConfig, JitEngine};
use avm_mmu::{ExecMode, Machine, MachineConfig, RAM_BASE};
use avm_testgen::run_engines;
use libfuzzer_sys::fuzz_target;

/// RAM of the machine (as for generated programs: cheap to digest).
const RAM_SIZE: u32 = 64 << 10;
/// Offset of the `tohost` slot: the last page, which code never covers.
const TOHOST_OFFSET: u32 = RAM_SIZE - 0x1000;
/// Instructions per run.
const LIMIT: u64 = 2_000;

fuzz_target!(|data: &[u8]| {
    let code = &data[..data.len().min(TOHOST_OFFSET as usize)];
    let setup = || {
        let mut m = Machine::new(MachineConfig { ram_size: RAM_SIZE, mode: ExecMode::BareMetal })
            .expect("host maps 64 KiB of guest RAM");
        m.write_phys_bytes(RAM_BASE, code).expect("code fits below tohost");
        m.set_htif(Some(RAM_BASE + TOHOST_OFFSET), None);
        m.hart.csr.mtvec = RAM_BASE;
        m.hart.pc = RAM_BASE;
        m
    };
    let (mut a, mut b) = (Interpreter::new(), Interpreter::new());
    let mut jit = JitEngine::new(JitConfig { threshold: 0, ..JitConfig::default() });
    let mut baseline = JitEngine::new(JitConfig::baseline_only());
    if let Err(d) = run_engines(setup, LIMIT, &mut [&mut a, &mut b, &mut jit, &mut baseline]) {
        panic!("engines diverge on {} code bytes: {d}", code.len());
    }
});
