//! `smarter-jit-diff`: any bytes are a semantically valid program.
//!
//! The first four bytes choose the run's metering: the instruction limit
//! (0 to 4000) and two budget-slice lengths; the rest drive
//! [`avm_testgen::generate_from_bytes`] (trap handlers, privilege changes,
//! Sv32, atomics, CSRs, compressed and self-modifying code).
//!
//! Oracle: the interpreter, the JIT at threshold 0 (every block compiled,
//! single-block regions: successors have not run yet), at threshold 3
//! (regions of blocks that already ran: loops inside compiled code), at
//! its default threshold (tiering) and its baseline tier alone run the
//! program one-shot
//! and must agree ([`avm_testgen::run_engines`]); then the same engines run
//! it again on fresh machines with the budget cut into slices, so limits land
//! mid-block, and must match the one-shot result. The second run reuses the
//! JITs, whose code caches outlive machines, so cached code is checked too.

#![no_main]

use avm_interp::Interpreter;
use avm_jit::{JitConfig, JitEngine};
use avm_mmu::Engine;
use avm_testgen::{compare, generate_from_bytes, machine_for, run_engines, run_engines_sliced, Divergence, Program};
use libfuzzer_sys::fuzz_target;

/// Largest instruction limit.
const MAX_LIMIT: u64 = 4_000;

fn fail(program: &Program, limit: u64, slices: &[u64], d: &Divergence) -> ! {
    panic!("limit {limit} slices {slices:?}\n{d}\n\nprogram:\n{}", program.disassembly());
}

fuzz_target!(|data: &[u8]| {
    let mut head = [0u8; 4];
    let n = data.len().min(4);
    head[..n].copy_from_slice(&data[..n]);
    let limit = u64::from(u16::from_le_bytes([head[0], head[1]])) % (MAX_LIMIT + 1);
    let slices = [u64::from(head[2] % 64) + 1, u64::from(head[3]) + 1];

    let program = generate_from_bytes(&data[n..]);
    let setup = || machine_for(&program);

    let mut interp = Interpreter::new();
    let mut eager = JitEngine::new(JitConfig { threshold: 0, ..JitConfig::default() });
    let mut warm = JitEngine::new(JitConfig { threshold: 3, ..JitConfig::default() });
    let mut tiered = JitEngine::new(JitConfig::default());
    let mut baseline = JitEngine::new(JitConfig::baseline_only());
    let expected = run_engines(setup, limit, &mut [&mut interp, &mut eager, &mut warm, &mut tiered, &mut baseline])
        .unwrap_or_else(|d| fail(&program, limit, &[], &d));
    let mut all: [&mut dyn Engine; 5] = [&mut interp, &mut eager, &mut warm, &mut tiered, &mut baseline];
    let sliced =
        run_engines_sliced(setup, limit, &slices, &mut all).unwrap_or_else(|d| fail(&program, limit, &slices, &d));
    compare(&expected, &sliced).unwrap_or_else(|d| fail(&program, limit, &slices, &d));
});
