//! Shared harness of the JIT tests: run the interpreter and the JIT on copies
//! of one machine and demand identical results.
#![allow(dead_code)]

use avm_interp::Interpreter;
use avm_isa::asm::Asm;
use avm_isa::{csr, Reg};
use avm_jit::{JitConfig, JitEngine, JitStats, DEFAULT_THRESHOLD};
use avm_mmu::{Engine, Exit, Machine, MachineConfig, RAM_BASE};

/// Where the HTIF mailbox sits in the test machines.
pub const TOHOST: u32 = RAM_BASE + 0xf_0000;
/// Scratch data area for the programs.
pub const DATA: u32 = RAM_BASE + 0x8_0000;

pub const T0: Reg = Reg::new(5);
pub const T1: Reg = Reg::new(6);
pub const T2: Reg = Reg::new(7);
pub const T3: Reg = Reg::new(28);
pub const T4: Reg = Reg::new(29);
pub const T5: Reg = Reg::new(30);
pub const T6: Reg = Reg::new(31);
pub const A0: Reg = Reg::new(10);
pub const A1: Reg = Reg::new(11);
pub const A2: Reg = Reg::new(12);
pub const A3: Reg = Reg::new(13);
pub const A4: Reg = Reg::new(14);
pub const A5: Reg = Reg::new(15);
pub const S0: Reg = Reg::new(8);
pub const S1: Reg = Reg::new(9);
pub const S11: Reg = Reg::new(27);

/// Where the tests that turn on Sv32 put the root page table and one
/// second-level table.
pub const PT: u32 = RAM_BASE + 0x4_0000;
pub const PT2: u32 = RAM_BASE + 0x4_1000;

/// Sv32 page-table entry flags.
pub const PTE_V: u32 = 1;
pub const PTE_R: u32 = 2;
pub const PTE_W: u32 = 4;
pub const PTE_X: u32 = 8;

/// The encoding of `addi rd, rd, imm`: what self-modifying tests store over
/// an instruction to change what it adds.
pub fn addi_word(rd: Reg, imm: i32) -> u32 {
    avm_isa::asm::encode(&avm_isa::Inst::AluImm { op: avm_isa::AluImmOp::Addi, rd, rs1: rd, imm })
}

/// An Sv32 leaf (or, with only `PTE_V`, pointer) entry for physical address `pa`.
pub fn pte(pa: u32, flags: u32) -> u32 {
    ((pa >> 12) << 10) | flags
}

/// A machine of `ram` bytes with `program` at `RAM_BASE` and the HTIF mailbox.
pub fn machine(program: &[u8], ram: u32) -> Machine {
    let mut m = Machine::new(MachineConfig { ram_size: ram, ..MachineConfig::default() }).expect("machine");
    m.write_phys_bytes(RAM_BASE, program).expect("program fits");
    m.set_htif(Some(TOHOST), None);
    m
}

/// Prologue: install a trap handler that adds mcause to s11, skips the
/// faulting 4-byte instruction and returns. Call [`finish`] at the end.
pub fn prologue(a: &mut Asm) -> avm_isa::asm::Label {
    let handler = a.new_label();
    a.la(T0, handler);
    a.csrw(csr::MTVEC, T0);
    handler
}

/// Switch to S-mode with Sv32 paging rooted at the page table at `root`
/// (the code that follows runs there).
pub fn enter_supervisor_sv32(a: &mut Asm, root: u32) {
    let s_entry = a.new_label();
    a.la(T0, s_entry);
    a.csrw(csr::MEPC, T0);
    a.li(T0, 1 << 11); // MPP = S
    a.csrw(csr::MSTATUS, T0);
    a.li(T0, (1 << 31) | (root >> 12));
    a.csrw(csr::SATP, T0);
    a.inst(avm_isa::Inst::Mret);
    a.bind(s_entry);
}

/// Exit through tohost (code 0: low word 1, then the high word 0, which runs
/// the command) and spin until the machine stops.
pub fn exit_to_host(a: &mut Asm) {
    a.li(T0, TOHOST);
    a.li(T1, 1);
    a.store(avm_isa::StoreOp::Sw, T1, T0, 0);
    a.store(avm_isa::StoreOp::Sw, Reg::ZERO, T0, 4);
    let spin = a.here();
    a.j(spin);
}

/// Exit through tohost (code 0), then the trap handler.
pub fn finish(a: &mut Asm, handler: avm_isa::asm::Label) {
    exit_to_host(a);
    a.bind(handler);
    a.csrr(T6, csr::MCAUSE);
    a.alu(avm_isa::AluOp::Add, S11, S11, T6);
    a.csrr(T5, csr::MEPC);
    a.addi(T5, T5, 4);
    a.csrw(csr::MEPC, T5);
    a.inst(avm_isa::Inst::Mret);
}

/// The first time (while `s1` is 0): set `s1`, rewrite the instruction at
/// `at` to `new` with a plain store (no `fence.i`: the machine sees stores
/// to code at once), zero `a0` and run again from `top`. The second time:
/// go to `done`.
pub fn rewrite_once_then_rerun(
    a: &mut Asm,
    at: avm_isa::asm::Label,
    new: avm_isa::Inst,
    top: avm_isa::asm::Label,
    done: avm_isa::asm::Label,
) {
    a.bne_label(S1, Reg::ZERO, done);
    a.li(S1, 1);
    a.la(T0, at);
    a.li(T1, avm_isa::asm::encode(&new));
    a.store(avm_isa::StoreOp::Sw, T1, T0, 0);
    a.li(A0, 0);
    a.j(top);
}

/// Assert that two machines and exits are identical.
pub fn assert_same(what: &str, jit: &Machine, jexit: Exit, reference: &Machine, iexit: Exit) {
    let diff = avm_jit::crosscheck::compare(jit, reference, Some(jexit), Some(iexit));
    assert!(diff.is_empty(), "{what}: JIT and interpreter differ:\n{diff}");
    assert_eq!(jit.hart, reference.hart, "{what}: hart");
    assert!(jit.tlb == reference.tlb, "{what}: TLB");
    assert_eq!(jit.ram.digest(), reference.ram.digest(), "{what}: RAM");
    assert_eq!(jit.console, reference.console, "{what}: console");
    assert_eq!(jexit, iexit, "{what}: exit");
}

/// Run the interpreter and the JIT (with `config`) from copies of `m`, each
/// through the same sequence of `run` calls (absolute limits), comparing
/// after every call. Returns the JIT's machine, last exit and stats.
pub fn run_both_with(m: &Machine, limits: &[u64], config: JitConfig) -> (Machine, Exit, JitStats) {
    let mut mi = m.try_clone().expect("clone");
    let mut mj = m.try_clone().expect("clone");
    let mut interp = Interpreter::new();
    let mut jit = JitEngine::new(config);
    let mut last = Exit::InstructionLimit;
    for (i, &limit) in limits.iter().enumerate() {
        let ei = interp.run(&mut mi, limit);
        let ej = jit.run(&mut mj, limit);
        assert_same(&format!("run {i} (limit {limit}, threshold {})", config.threshold), &mj, ej, &mi, ei);
        last = ej;
        if ej != Exit::InstructionLimit {
            break;
        }
    }
    (mj, last, jit.stats())
}

/// The standard check: threshold 0 and the default threshold, one run to
/// `limit`. Returns the exit and the threshold-0 stats.
pub fn run_both(program: &[u8], limit: u64, ram: u32) -> (Exit, JitStats) {
    let m = machine(program, ram);
    let (_, exit, stats) = run_both_with(&m, &[limit], config(0));
    let _ = run_both_with(&m, &[limit], config(DEFAULT_THRESHOLD));
    let _ = run_both_with(&m, &[limit], baseline_only());
    (exit, stats)
}

/// The baseline tier alone, no crosscheck.
pub fn baseline_only() -> JitConfig {
    JitConfig { crosscheck: false, ..JitConfig::baseline_only() }
}

/// A config with this threshold and no crosscheck.
pub fn config(threshold: u32) -> JitConfig {
    JitConfig { threshold, crosscheck: false, ..JitConfig::default() }
}

/// Increasing absolute instruction limits up to `end`, to run a program in
/// slices that stop at many places: steps of 1 to `short` instructions, and
/// one step in `one_in` of 1 to `long`.
pub fn random_limits(seed: u64, end: u64, (short, long, one_in): (u64, u64, u64)) -> Vec<u64> {
    // The project's one test PRNG (a seed always names the same limits).
    let mut rng = avm_testgen::SplitMix64::new(seed);
    let mut below = |n: u64| rng.next_u64() % n;
    let mut limits = Vec::new();
    let mut at = 0;
    while at < end {
        let span = if below(one_in) == 0 { long } else { short };
        at += 1 + below(span);
        limits.push(at);
    }
    limits
}
