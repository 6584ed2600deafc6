//! Differential tests: every program runs on the interpreter and on the JIT
//! (threshold 0 and the default) from the same machine, and the machines must
//! end identical.

mod common;

use avm_isa::asm::Asm;
use avm_isa::{AluImmOp, AluOp, Inst, LoadOp, Reg, StoreOp};
use avm_jit::{JitConfig, DEFAULT_THRESHOLD};
use avm_mmu::{Exit, RAM_BASE};
use common::*;

const RAM: u32 = 1 << 20;

fn halt() -> Exit {
    Exit::Halt { code: 0 }
}

/// A loop over every ALU operation, including the division corner cases.
fn alu_program(iterations: u32) -> Vec<u8> {
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    a.li(S0, iterations);
    a.li(A0, 0x8000_0000);
    a.li(A1, 0xffff_ffff);
    a.li(A2, 7);
    let top = a.here();
    for op in AluOp::ALL {
        a.alu(*op, A3, A0, A1);
        a.alu(AluOp::Add, A5, A5, A3);
        a.alu(*op, A3, A2, A0);
        a.alu(AluOp::Xor, A5, A5, A3);
        a.alu(*op, A4, A5, Reg::ZERO);
        a.alu(AluOp::Add, A5, A5, A4);
    }
    for op in AluImmOp::ALL {
        let imm = if op.is_shift() { 13 } else { -1234 };
        a.alu_imm(*op, A3, A5, imm);
        a.alu(AluOp::Add, A5, A5, A3);
    }
    a.alu(AluOp::Add, A0, A0, A5);
    a.alu_imm(AluImmOp::Xori, A1, A1, 0x55);
    a.addi(S0, S0, -1);
    a.bne_label(S0, Reg::ZERO, top);
    // Writes to x0 must vanish.
    a.addi(Reg::ZERO, A5, 1);
    a.inst(Inst::Lui { rd: Reg::ZERO, imm: 0x1000 });
    a.inst(Inst::Auipc { rd: A4, imm: 0x2000 });
    finish(&mut a, h);
    a.finish().expect("assembles")
}

#[test]
fn alu_loop() {
    let (exit, stats) = run_both(&alu_program(200), 1_000_000, RAM);
    assert_eq!(exit, halt());
    assert!(stats.insts_run_compiled > 0);
}

#[test]
fn alu_loop_compressed() {
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    a.li(S0, 100);
    let top = a.here();
    a.compressed(Inst::AluImm { op: AluImmOp::Addi, rd: A0, rs1: A0, imm: 3 });
    a.compressed(Inst::Alu { op: AluOp::Add, rd: A1, rs1: A1, rs2: A0 });
    a.compressed(Inst::AluImm { op: AluImmOp::Slli, rd: A1, rs1: A1, imm: 1 });
    a.addi(S0, S0, -1);
    a.bne_label(S0, Reg::ZERO, top);
    finish(&mut a, h);
    let (exit, _) = run_both(&a.finish().expect("assembles"), 100_000, RAM);
    assert_eq!(exit, halt());
}

/// Loads and stores of every width: in a page, at page ends, across pages,
/// misaligned, and sign/zero extension.
#[test]
fn loads_and_stores() {
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    a.li(S0, DATA);
    a.li(A0, 0x8765_4321);
    // offsets relative to DATA: in page, misaligned, crossing into the next page
    for (k, off) in [0, 4, 1, 2, 3, 0xffd, 0xffe, 0xfff, 0x1ffe, 0x7ff].into_iter().enumerate() {
        a.li(S1, DATA + off);
        a.store(StoreOp::Sw, A0, S1, 0);
        a.store(StoreOp::Sh, A0, S1, 8);
        a.store(StoreOp::Sb, A0, S1, 13);
        for op in LoadOp::ALL {
            a.load(*op, A1, S1, 0);
            a.alu(AluOp::Add, A5, A5, A1);
            a.load(*op, A1, S1, 7);
            a.alu(AluOp::Xor, A5, A5, A1);
        }
        a.addi(A0, A0, 0x101 * k as i32 % 2000);
    }
    // negative offsets, loading into x0, rd == rs1
    a.load(LoadOp::Lw, Reg::ZERO, S0, -4);
    a.load(LoadOp::Lw, S0, S0, -8);
    finish(&mut a, h);
    let (exit, _) = run_both(&a.finish().expect("assembles"), 100_000, RAM);
    assert_eq!(exit, halt());
}

/// Faults in the middle of blocks: access faults on loads and stores (with
/// registers written earlier in the block), illegal instructions, ecall,
/// ebreak, misaligned AMOs. The handler skips the instruction.
#[test]
fn precise_traps() {
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    a.li(S0, 0x2000_0000); // nothing there
    a.li(S1, DATA);
    // The console device: stores print, loads read the status register.
    a.li(T2, 0x1000_0000);
    a.li(A0, u32::from(b'J'));
    a.store(StoreOp::Sb, A0, T2, 0);
    a.load(LoadOp::Lbu, A1, T2, 5);
    for i in 0..3 {
        a.addi(A0, A0, 1 + i);
        a.addi(A1, A0, 5);
        a.load(LoadOp::Lw, A2, S0, 0); // access fault
        a.addi(A3, A2, 1);
        a.store(StoreOp::Sw, A3, S1, 0);
        a.addi(A4, A4, 2);
        a.store(StoreOp::Sh, A4, S0, 6); // access fault
        a.addi(A5, A4, 3);
        a.inst(Inst::Amo { op: avm_isa::AmoOp::Add, rd: A2, rs1: S1, rs2: A0, aqrl: 0 });
        a.addi(S1, S1, 2); // misaligned now
        a.inst(Inst::Amo { op: avm_isa::AmoOp::Swap, rd: A2, rs1: S1, rs2: A0, aqrl: 0 }); // misaligned
        a.inst(Inst::Lr { rd: A3, rs1: S1, aqrl: 0 }); // misaligned
        a.addi(S1, S1, 2);
        a.inst(Inst::Lr { rd: A3, rs1: S1, aqrl: 0 });
        a.inst(Inst::Sc { rd: A4, rs1: S1, rs2: A0, aqrl: 0 });
        a.inst(Inst::Sc { rd: A5, rs1: S1, rs2: A0, aqrl: 0 });
        a.word(0); // illegal
        a.inst(Inst::Ecall);
        a.inst(Inst::Ebreak);
        a.csrr(A1, avm_isa::csr::INSTRET);
        a.csrr(A2, avm_isa::csr::CYCLE);
    }
    finish(&mut a, h);
    let (exit, stats) = run_both(&a.finish().expect("assembles"), 100_000, RAM);
    assert!(stats.compile_failures == 0 && stats.insts_run_compiled > 20, "{stats:?}");
    assert_eq!(exit, halt());
}

/// The same programs stopped by many small limits, so limits land in the
/// middle of blocks, compiled and not.
#[test]
fn random_small_limits() {
    for (seed, program) in [(1u64, alu_program(30)), (2, alu_program(5))] {
        let m = machine(&program, RAM);
        let limits = random_limits(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 200_000, (9, 200, 4));
        for threshold in [0, 1, 3, DEFAULT_THRESHOLD] {
            let (_, exit, _) = run_both_with(&m, &limits, config(threshold));
            assert_eq!(exit, halt(), "threshold {threshold}");
        }
    }
}

/// Self-modifying code: a store rewrites a later instruction of the same
/// block (with and without fence.i), and a block on another page that already
/// ran (compiled, at threshold 0) is rewritten before it runs again.
#[test]
fn self_modifying_code() {
    for fence in [false, true] {
        let mut a = Asm::new(RAM_BASE);
        let h = prologue(&mut a);
        let target = a.new_label();
        let other = a.new_label();
        a.li(S0, 6);
        let top = a.here();
        // Same block: patch `target` a few instructions ahead.
        a.la(S1, target);
        a.li(T2, addi_word(A0, 100));
        a.alu(AluOp::Add, T2, T2, S0); // rd/imm bits vary with the iteration
        a.store(StoreOp::Sw, T2, S1, 0);
        if fence {
            a.inst(Inst::FenceI);
        }
        a.addi(A1, A1, 1);
        a.bind(target);
        a.addi(A0, A0, 1);
        a.addi(A2, A2, 1);
        // Another block: run it, then patch it for the next iteration.
        a.jal_label(Reg::RA, other);
        a.la(S1, other);
        a.li(T2, addi_word(A3, 100));
        a.alu_imm(AluImmOp::Slli, T1, S0, 20);
        a.alu(AluOp::Add, T2, T2, T1); // a different immediate each time
        a.store(StoreOp::Sw, T2, S1, 0);
        if fence {
            a.inst(Inst::FenceI);
        }
        a.addi(S0, S0, -1);
        a.bne_label(S0, Reg::ZERO, top);
        finish(&mut a, h);
        while !a.pc().is_multiple_of(4096) {
            a.addi(Reg::ZERO, Reg::ZERO, 0);
        }
        a.bind(other);
        a.addi(A3, A3, 7);
        a.addi(A4, A4, 1);
        a.inst(Inst::Jalr { rd: Reg::ZERO, rs1: Reg::RA, offset: 0 });
        let (exit, _) = run_both(&a.finish().expect("assembles"), 100_000, RAM);
        assert_eq!(exit, halt(), "fence {fence}");
    }
}

/// `wfi` with nothing pending stops the engine (an exit from compiled code).
#[test]
fn wfi_exit() {
    let mut a = Asm::new(RAM_BASE);
    a.li(A0, 5);
    a.addi(A0, A0, 1);
    a.inst(Inst::Wfi);
    a.addi(A0, A0, 1);
    let (exit, _) = run_both(&a.finish().expect("assembles"), 1000, RAM);
    assert_eq!(exit, Exit::WaitForInterrupt);
}

/// An interrupt made pending by a CSR write is taken at the same boundary.
#[test]
fn software_interrupt() {
    let mut a = Asm::new(RAM_BASE);
    let handler = a.new_label();
    a.la(T0, handler);
    a.csrw(avm_isa::csr::MTVEC, T0);
    a.li(T0, 1 << 1); // SSIE / SSIP
    a.csrw(avm_isa::csr::MIE, T0);
    a.li(T1, 1 << 3); // mstatus.MIE
    a.csrw(avm_isa::csr::MSTATUS, T1);
    a.li(S0, 50);
    let top = a.here();
    a.addi(A0, A0, 1);
    a.addi(S0, S0, -1);
    a.bne_label(S0, Reg::ZERO, top);
    a.csrw(avm_isa::csr::MIP, T0); // pending now
    a.addi(A1, A1, 1);
    a.addi(A1, A1, 1);
    exit_to_host(&mut a);
    a.bind(handler);
    a.csrr(A2, avm_isa::csr::MCAUSE);
    a.csrw(avm_isa::csr::MIP, Reg::ZERO);
    a.inst(Inst::Mret);
    let (exit, _) = run_both(&a.finish().expect("assembles"), 100_000, RAM);
    assert_eq!(exit, halt());
}

/// A hot loop at the default threshold ends up running compiled.
#[test]
fn hot_loop_runs_compiled() {
    let m = machine(&alu_program(20_000), RAM);
    let (_, exit, stats) = run_both_with(&m, &[100_000_000], config(DEFAULT_THRESHOLD));
    assert_eq!(exit, halt());
    assert!(stats.blocks_compiled > 0, "{stats:?}");
    assert!(stats.insts_run_compiled > 19_000, "{stats:?}");
    assert!(stats.insts_run_compiled > 10 * stats.blocks_run_interpreted, "{stats:?}");
}

/// Baseline blocks that end normally run the next one through the chain
/// stub, without returning to the engine, and still stop exactly at every
/// instruction limit (the stub enters a block only if the budget covers
/// it, as the engine does).
#[test]
fn baseline_blocks_chain_and_stop_exactly_at_limits() {
    let m = machine(&alu_program(20_000), RAM);
    let limits = [7, 1_001, 5_003, 20_011, 77_777, 100_000_000];
    let (_, exit, stats) = run_both_with(&m, &limits, baseline_only());
    assert_eq!(exit, halt());
    assert!(stats.baseline_chained > stats.baseline_calls / 2, "{stats:?}");
}

/// Compiled code is shared by content: a second engine run on a fresh
/// machine reuses it, and identical blocks at different addresses share it.
#[test]
fn code_cache_by_content() {
    let mut a = Asm::new(RAM_BASE);
    a.li(S0, 99);
    for _ in 0..4 {
        // Four copies of the same loop at different addresses.
        a.li(A0, 0);
        let top = a.here();
        a.addi(A0, A0, 3);
        a.alu(AluOp::Xor, A1, A1, A0);
        a.bne_label(A0, S0, top);
    }
    a.inst(Inst::Wfi);
    let program = a.finish().expect("assembles");
    let m = machine(&program, RAM);
    let mut jit = avm_jit::JitEngine::new(config(0));
    let mut m1 = m.try_clone().expect("clone");
    use avm_mmu::Engine as _;
    assert_eq!(jit.run(&mut m1, 1_000_000), Exit::WaitForInterrupt);
    let first = jit.stats();
    assert!(first.cache_hits >= 3, "{first:?}");
    let mut m2 = m.try_clone().expect("clone");
    assert_eq!(jit.run(&mut m2, 1_000_000), Exit::WaitForInterrupt);
    let second = jit.stats();
    assert_eq!(second.blocks_compiled, first.blocks_compiled, "nothing new to compile");
    assert_eq!(m1.hart, m2.hart);
}

/// A loop whose region is three blocks: `top` (branches to `far` on odd
/// counts), `next` (adds `step`, loops) and `far`, `far_gap` bytes after
/// `top`, which is placed `top_off` bytes into RAM. After the loop the
/// program rewrites `far`'s first instruction (no `fence.i`: a store to
/// code is seen at once) and runs the loop again.
fn three_block_loop(top_off: u32, far_gap: u32, step: i32) -> Vec<u8> {
    let mut a = Asm::new(RAM_BASE);
    let (top, next, far, done) = (a.new_label(), a.new_label(), a.new_label(), a.new_label());
    a.li(S0, 3000);
    a.j(top);
    while a.pc() < RAM_BASE + top_off {
        a.word(0);
    }
    a.bind(top);
    a.addi(A0, A0, 1);
    a.alu_imm(AluImmOp::Andi, T0, A0, 1);
    a.bne_label(T0, Reg::ZERO, far);
    a.bind(next);
    a.addi(A1, A1, step);
    a.bne_label(A0, S0, top);
    a.j(done);
    while a.pc() < RAM_BASE + top_off + far_gap {
        a.word(0);
    }
    a.bind(far);
    a.addi(A2, A2, 3);
    a.j(next);
    a.bind(done);
    let halt = a.new_label();
    rewrite_once_then_rerun(&mut a, far, Inst::AluImm { op: AluImmOp::Addi, rd: A2, rs1: A2, imm: 9 }, top, halt);
    a.bind(halt);
    exit_to_host(&mut a);
    a.finish().expect("assembles")
}

/// Runs `program` on a fresh machine with `jit` (kept from earlier runs)
/// and on the interpreter, demands the same result, and returns how the
/// JIT's counters moved.
fn run_reused(what: &str, jit: &mut avm_jit::JitEngine, program: &[u8]) -> avm_jit::JitStats {
    use avm_mmu::Engine as _;
    let m = machine(program, RAM);
    let (mut mj, mut mi) = (m.try_clone().expect("clone"), m.try_clone().expect("clone"));
    let before = jit.stats();
    let ej = jit.run(&mut mj, 1_000_000);
    let ei = avm_interp::Interpreter::new().run(&mut mi, 1_000_000);
    assert_same(what, &mj, ej, &mi, ei);
    assert_eq!(ej, halt());
    let after = jit.stats();
    avm_jit::JitStats {
        blocks_compiled: after.blocks_compiled - before.blocks_compiled,
        blocks_run_interpreted: after.blocks_run_interpreted - before.blocks_run_interpreted,
        baseline_calls: after.baseline_calls - before.baseline_calls,
        cache_hits: after.cache_hits - before.cache_hits,
        ..after
    }
}

/// Block runs that were not Cranelift code: interpreted or baseline.
fn warming_up(s: &avm_jit::JitStats) -> u64 {
    s.blocks_run_interpreted + s.baseline_calls
}

/// A fresh machine (a new transaction) finds cached code for a block the
/// first time it reaches it, not after running it up to the threshold
/// again; but only where memory holds the whole region, in one page.
#[test]
fn cached_regions_are_installed_at_first_sight() {
    let mut jit = avm_jit::JitEngine::new(config(DEFAULT_THRESHOLD));
    let first = run_reused("first", &mut jit, &three_block_loop(0x100, 0x200, 5));
    assert!(first.blocks_compiled > 0 && warming_up(&first) > DEFAULT_THRESHOLD as u64, "{first:?}");

    let again = run_reused("again", &mut jit, &three_block_loop(0x100, 0x200, 5));
    assert_eq!(again.blocks_compiled, 0, "{again:?}");
    assert!(again.cache_hits > 0, "{again:?}");
    assert!(warming_up(&again) < 20, "only the straight-line code is interpreted: {again:?}");

    // Same first block, another `step` in the second: not that region.
    let other = run_reused("other", &mut jit, &three_block_loop(0x100, 0x200, 6));
    assert!(warming_up(&other) > DEFAULT_THRESHOLD as u64, "{other:?}");

    // The same bytes at the same distances, but `far` in the next page:
    // not the cached region, whose key puts all three blocks in one page.
    // The region compiled here spans both pages, and rewriting `far` must
    // drop the first page's entries into it as well.
    let split = run_reused("split", &mut jit, &three_block_loop(0xf00, 0x200, 5));
    assert!(warming_up(&split) > DEFAULT_THRESHOLD as u64, "{split:?}");
}

/// A JIT bomb: a million distinct straight-line blocks (`lui; j next`, 8 MiB)
/// at threshold 0. The compile budget caps the work; the result is the
/// interpreter's.
#[test]
fn jit_bomb_is_bounded() {
    const BLOCKS: u32 = 1 << 20;
    let mut program = Vec::with_capacity(BLOCKS as usize * 8 + 16);
    for i in 0..BLOCKS {
        let rd = Reg::new(5 + (i & 7));
        program.extend(avm_isa::asm::encode(&Inst::Lui { rd, imm: i << 12 }).to_le_bytes());
        program.extend(avm_isa::asm::encode(&Inst::Jal { rd: Reg::ZERO, offset: 4 }).to_le_bytes());
    }
    program.extend(avm_isa::asm::encode(&Inst::Wfi).to_le_bytes());
    let m = machine(&program, 16 << 20);
    let budget = 2000;
    let cfg = JitConfig { max_blocks: budget, ..config(0) };
    let (_, exit, stats) = run_both_with(&m, &[u64::MAX], cfg);
    assert_eq!(exit, Exit::WaitForInterrupt);
    assert!(stats.blocks_compiled <= budget as u64, "{stats:?}");
    assert!(stats.blocks_run_interpreted >= u64::from(BLOCKS) - budget as u64, "{stats:?}");
}

/// The baseline tier's JIT bomb: thousands of distinct blocks, each run
/// several times, with a code budget far below what they need. The tier
/// drops all its code whenever the budget is reached and makes it again;
/// the result is the interpreter's.
#[test]
fn baseline_code_is_bounded() {
    use avm_isa::BranchOp;
    const BLOCKS: u32 = 4000;
    let t6 = Reg::new(31);
    let mut a = Asm::new(RAM_BASE);
    a.li(t6, 4);
    let top = a.here();
    let end = a.new_label();
    for i in 0..BLOCKS {
        a.inst(Inst::Lui { rd: Reg::new(5 + (i & 7)), imm: i << 12 });
        a.inst(Inst::Jal { rd: Reg::ZERO, offset: 4 });
    }
    a.addi(t6, t6, -1);
    a.branch_label(BranchOp::Beq, t6, Reg::ZERO, end);
    a.jal_label(Reg::ZERO, top);
    a.bind(end);
    a.inst(Inst::Wfi);
    let m = machine(&a.finish().expect("assembles"), RAM);
    let budget = 16 << 10;
    let cfg = JitConfig { max_baseline_bytes: budget, ..baseline_only() };
    let (_, exit, stats) = run_both_with(&m, &[u64::MAX], cfg);
    assert_eq!(exit, Exit::WaitForInterrupt);
    assert!(stats.baseline_drops > 3 && stats.insts_run_baseline > u64::from(BLOCKS) * 2, "{stats:?}");
}

/// Sv32 in S-mode: megapage and 4 KiB mappings, loads and stores through
/// the TLB, page faults (load, store to a read-only page, a store crossing
/// into a read-only page), `sfence.vma`, and a store to the code page
/// through an alias mapping (self-modifying code seen through another
/// virtual address).
#[test]
fn sv32_supervisor() {
    let va = 0x4000_0000u32;

    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    enter_supervisor_sv32(&mut a, PT);
    a.li(S0, va);
    a.li(S1, va + 0x1000);
    a.li(A5, va + 0x2000);
    a.li(T2, va + 0x4000); // alias of the code page
    a.li(A4, 12);
    let top = a.here();
    a.load(LoadOp::Lw, A0, S0, 0);
    a.addi(A0, A0, 1);
    a.store(StoreOp::Sw, A0, S0, 0);
    a.load(LoadOp::Lw, A1, S1, 0);
    a.store(StoreOp::Sw, A1, S1, 0); // store page fault (read-only)
    a.load(LoadOp::Lw, A2, A5, 0); // load page fault (invalid)
    a.load(LoadOp::Lw, A3, S1, -2); // crosses into the read-only page: fine
    a.store(StoreOp::Sw, A0, S1, -2); // crosses: faults, writes nothing
    a.load(LoadOp::Lw, A3, T2, 0x40); // read code through the alias
    a.store(StoreOp::Sw, A3, T2, 0x40); // rewrite it (same bytes): invalidation
    a.inst(Inst::SfenceVma { rs1: Reg::ZERO, rs2: Reg::ZERO });
    a.addi(A4, A4, -1);
    a.bne_label(A4, Reg::ZERO, top);
    finish(&mut a, h);
    let program = a.finish().expect("assembles");

    let mut m = machine(&program, RAM);
    let mut put = |addr: u32, v: u32| m.write_phys_bytes(addr, &v.to_le_bytes()).expect("in RAM");
    put(PT + 4 * (RAM_BASE >> 22), pte(RAM_BASE, PTE_V | PTE_R | PTE_W | PTE_X));
    put(PT + 4 * (va >> 22), pte(PT2, PTE_V));
    put(PT2, pte(DATA, PTE_V | PTE_R | PTE_W));
    put(PT2 + 4, pte(DATA + 0x1000, PTE_V | PTE_R));
    put(PT2 + 16, pte(RAM_BASE, PTE_V | PTE_R | PTE_W));
    for threshold in [0, 1, DEFAULT_THRESHOLD] {
        let (mj, exit, stats) = run_both_with(&m, &[1_000_000], config(threshold));
        assert_eq!(exit, halt(), "threshold {threshold}");
        assert_eq!(mj.hart.x[27], 12 * (15 + 13 + 15), "three page faults per iteration");
        if threshold == 0 {
            assert!(stats.insts_run_compiled > 30, "{stats:?}");
        }
    }
    // And with limits landing everywhere.
    let limits: Vec<u64> = (1..3000).map(|i| i * 7).collect();
    let _ = run_both_with(&m, &limits, config(0));
}

/// A loop over two virtual pages, compiled as one region over two RAM
/// pages. Halfway, the second virtual page is remapped to another RAM page
/// holding other code (`sfence.vma`, nothing written to either code page):
/// the edge into the second page must notice the new mapping and leave the
/// region instead of running the code compiled from the old one.
#[test]
fn a_region_over_two_pages_follows_a_remapped_page() {
    const CODE: u32 = RAM_BASE + 0x2_0000;
    const OTHER: u32 = RAM_BASE + 0x3_0000;
    let va = 0x4000_0000u32;

    let mut a = Asm::new(RAM_BASE);
    enter_supervisor_sv32(&mut a, PT);
    a.li(S0, 600);
    a.li(S1, 300);
    a.li(T3, pte(OTHER, PTE_V | PTE_R | PTE_X));
    a.li(T4, PT2);
    a.li(T0, va + 0xff8);
    a.inst(Inst::Jalr { rd: Reg::ZERO, rs1: T0, offset: 0 });
    let program = a.finish().expect("assembles");

    // The loop: two instructions at the end of the first page, the rest
    // (with the remap in iteration 300) in the second.
    let looped = |step: i32| {
        let mut a = Asm::new(va + 0xff8);
        let top = a.here();
        a.addi(A0, A0, 1);
        a.addi(A1, A1, 1);
        assert_eq!(a.pc(), va + 0x1000);
        a.addi(A2, A2, step);
        let skip = a.new_label();
        a.bne_label(A0, S1, skip);
        a.store(StoreOp::Sw, T3, T4, 4);
        a.inst(Inst::SfenceVma { rs1: Reg::ZERO, rs2: Reg::ZERO });
        a.bind(skip);
        a.bne_label(A0, S0, top);
        exit_to_host(&mut a);
        a.finish().expect("assembles")
    };
    let (first, second) = (looped(1), looped(100));
    let mut m = machine(&program, RAM);
    m.write_phys_bytes(CODE + 0xff8, &first).expect("in RAM");
    m.write_phys_bytes(OTHER, &second[8..]).expect("in RAM");
    let mut put = |addr: u32, v: u32| m.write_phys_bytes(addr, &v.to_le_bytes()).expect("in RAM");
    map_ram_megapage(&mut put);
    put(PT + 4 * (va >> 22), pte(PT2, PTE_V));
    put(PT2, pte(CODE, PTE_V | PTE_R | PTE_X));
    put(PT2 + 4, pte(CODE + 0x1000, PTE_V | PTE_R | PTE_X));
    assert_remap_is_followed(&m, |stats| stats.insts_run_compiled > 2000);
}

/// Identity-map the megapage at `RAM_BASE` (the kernel code and page
/// tables) in the root table at `PT`, through `put(address, word)`.
fn map_ram_megapage(put: &mut impl FnMut(u32, u32)) {
    put(PT + 4 * (RAM_BASE >> 22), pte(RAM_BASE, PTE_V | PTE_R | PTE_W | PTE_X));
}

/// Run a remap test's machine on both engines at several thresholds: the
/// loop runs 300 iterations before the remap (`a2 += 1`) and 300 after
/// (`a2 += 100`); at the low thresholds `compiled(stats)` must hold.
fn assert_remap_is_followed(m: &avm_mmu::Machine, compiled: impl Fn(&avm_jit::JitStats) -> bool) {
    for threshold in [0, 1, 8, DEFAULT_THRESHOLD] {
        let (mj, exit, stats) = run_both_with(m, &[1_000_000], config(threshold));
        assert_eq!(exit, halt(), "threshold {threshold}");
        assert_eq!(mj.hart.x[12], 300 + 300 * 100, "a2, threshold {threshold}");
        if threshold <= 8 {
            assert!(compiled(&stats), "threshold {threshold}: {stats:?}");
        }
    }
}

/// A tail call from one region into the next (through the chain stub)
/// translates the target pc through the fetch TLB like the dispatcher:
/// after the called page is remapped (`sfence.vma` in a third page, which
/// empties the TLB), the next call must miss, leave for the dispatcher and
/// walk the new mapping, not run the code compiled for the old one. Virtual
/// addresses equal RAM offsets here, so an empty TLB entry's delta (0)
/// would even find the old code's slot.
#[test]
fn a_tail_call_follows_a_remapped_page() {
    const CODE: u32 = 0x2_0000;
    const OLD: u32 = 0x2_2000;
    const REMAP: u32 = 0x2_4000;
    const NEW: u32 = 0x3_0000;
    let rx = PTE_V | PTE_R | PTE_X;

    let mut a = Asm::new(RAM_BASE);
    enter_supervisor_sv32(&mut a, PT);
    a.li(S0, 600);
    a.li(S1, 300);
    a.li(T3, pte(RAM_BASE + NEW, rx));
    a.li(T4, PT2 + 4 * (OLD >> 12));
    a.li(T0, CODE);
    a.inst(Inst::Jalr { rd: Reg::ZERO, rs1: T0, offset: 0 });
    let program = a.finish().expect("assembles");

    let call = |a: &mut Asm, target: u32| {
        let offset = target.wrapping_sub(a.pc()) as i32;
        a.inst(Inst::Jal { rd: Reg::RA, offset });
    };
    let ret = Inst::Jalr { rd: Reg::ZERO, rs1: Reg::RA, offset: 0 };
    let mut l = Asm::new(CODE);
    let top = l.here();
    let skip = l.new_label();
    l.addi(A0, A0, 1);
    call(&mut l, OLD);
    l.bne_label(A0, S1, skip);
    call(&mut l, REMAP);
    l.bind(skip);
    l.bne_label(A0, S0, top);
    exit_to_host(&mut l);
    let callee = |step: i32, at: u32| {
        let mut f = Asm::new(at);
        f.addi(A2, A2, step);
        f.inst(ret);
        f.finish().expect("assembles")
    };
    let mut r = Asm::new(REMAP);
    r.store(StoreOp::Sw, T3, T4, 0);
    r.inst(Inst::SfenceVma { rs1: Reg::ZERO, rs2: Reg::ZERO });
    r.inst(ret);

    let mut m = machine(&program, RAM);
    for (at, code) in [
        (CODE, l.finish().expect("assembles")),
        (OLD, callee(1, OLD)),
        (NEW, callee(100, OLD)),
        (REMAP, r.finish().expect("assembles")),
    ] {
        m.write_phys_bytes(RAM_BASE + at, &code).expect("in RAM");
    }
    let mut put = |addr: u32, v: u32| m.write_phys_bytes(addr, &v.to_le_bytes()).expect("in RAM");
    map_ram_megapage(&mut put);
    put(PT, pte(PT2, PTE_V));
    for page in [CODE, OLD, REMAP] {
        put(PT2 + 4 * (page >> 12), pte(RAM_BASE + page, rx));
    }
    assert_remap_is_followed(&m, |stats| stats.tail_calls > 500);
}

/// Regression: a run with a tracer (all interpreted) cleared the JIT's
/// block map but not its successor cache. Code rewritten during the traced
/// run then ran from the stale compiled copy once the tracer was removed.
#[test]
fn a_traced_run_leaves_no_stale_successor() {
    struct Quiet;
    impl avm_interp::Tracer for Quiet {
        fn before(&mut self, _: &avm_mmu::Machine, _: u32, _: &avm_isa::Decoded) {}
    }
    use avm_mmu::Engine as _;
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    a.li(S0, 200);
    let (top, patched, done) = (a.new_label(), a.new_label(), a.new_label());
    a.bind(top);
    a.addi(A0, A0, 1);
    a.bind(patched);
    a.addi(A2, A2, 1);
    a.bne_label(A0, S0, top);
    rewrite_once_then_rerun(&mut a, patched, Inst::AluImm { op: AluImmOp::Addi, rd: A2, rs1: A2, imm: 7 }, top, done);
    a.bind(done);
    finish(&mut a, h);
    let m = machine(&a.finish().expect("assembles"), RAM);
    let (mut mi, mut mj) = (m.try_clone().expect("clone"), m.try_clone().expect("clone"));
    let mut interp = avm_interp::Interpreter::new();
    let mut jit = avm_jit::JitEngine::new(config(0));
    for (limit, traced) in [(300, false), (700, true), (u64::MAX, false)] {
        jit.set_tracer(traced.then(|| Box::new(Quiet) as Box<dyn avm_interp::Tracer>));
        let (ei, ej) = (interp.run(&mut mi, limit), jit.run(&mut mj, limit));
        assert_same(&format!("limit {limit}, traced {traced}"), &mj, ej, &mi, ei);
    }
    assert_eq!(mj.hart.x[12], 200 + 200 * 7);
}

/// Crosscheck mode runs clean on a correct program.
#[test]
fn crosscheck_mode_agrees() {
    let m = machine(&alu_program(50), RAM);
    let cfg = JitConfig { crosscheck: true, ..config(0) };
    let (_, exit, _) = run_both_with(&m, &[1_000_000], cfg);
    assert_eq!(exit, halt());
}

/// The crosscheck report names what differs.
#[test]
fn crosscheck_names_the_difference() {
    let a = machine(&[], RAM);
    let mut b = a.try_clone().expect("clone");
    b.hart.x[5] = 7;
    b.hart.csr.mscratch = 1;
    let report = avm_jit::crosscheck::compare(&a, &b, None, Some(Exit::WaitForInterrupt));
    assert!(report.contains("x5 (t0)"), "{report}");
    assert!(report.contains("mscratch"), "{report}");
    assert!(report.contains("exit"), "{report}");
}

/// Self-loops (a block branching back to its own start) loop inside compiled
/// code: limits landing in every iteration, and memory traffic in the loop,
/// must still stop exactly where the interpreter stops.
#[test]
fn self_loop_limits() {
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    a.li(S0, 300);
    a.li(A0, RAM_BASE + 0x8000);
    let top = a.here();
    a.load(LoadOp::Lw, A3, A0, 0);
    a.addi(A3, A3, 3);
    a.store(StoreOp::Sw, A3, A0, 0);
    a.alu(AluOp::Add, A5, A5, A3);
    a.addi(S0, S0, -1);
    a.bne_label(S0, Reg::ZERO, top);
    finish(&mut a, h);
    let program = a.finish().expect("assembles");
    let m = machine(&program, RAM);
    let limits = random_limits(0x5e1f_1009, 3_000, (7, 40, 3));
    for threshold in [0, 1, 3, DEFAULT_THRESHOLD] {
        let (_, exit, stats) = run_both_with(&m, &limits, config(threshold));
        assert_eq!(exit, halt(), "threshold {threshold}");
        assert!(stats.insts_run_compiled > 0, "{stats:?}");
        let (_, exit, _) = run_both_with(&m, &[u64::MAX], config(threshold));
        assert_eq!(exit, halt(), "threshold {threshold}");
    }
}

/// A loop of several blocks (a branch, a call to another page, the return)
/// runs chained between compiled blocks, also by tail calls from one
/// region into the next. Every fourth iteration a store
/// rewrites the first instruction of the called block, which the loop chains
/// into, and every iteration a store hits data on the same page, so the
/// chain must stop and drop the successor's code. Many small limits stop it
/// mid-chain; the final run to the end must agree too.
#[test]
fn chained_blocks_limits_and_invalidation() {
    use avm_isa::BranchOp;
    for data_store in [false, true] {
        let mut a = Asm::new(RAM_BASE);
        let h = prologue(&mut a);
        let other = a.new_label();
        let skip = a.new_label();
        let nopatch = a.new_label();
        a.li(S0, 400);
        a.la(S1, other);
        let top = a.here();
        a.addi(A1, A1, 1);
        a.alu_imm(AluImmOp::Andi, T0, S0, 3);
        a.branch_label(BranchOp::Beq, T0, Reg::ZERO, skip);
        a.addi(A2, A2, 3);
        a.alu(AluOp::Xor, A5, A5, A2);
        a.bind(skip);
        a.alu(AluOp::Add, A5, A5, A1);
        a.jal_label(Reg::RA, other);
        a.alu_imm(AluImmOp::Andi, T0, S0, 3);
        a.branch_label(BranchOp::Bne, T0, Reg::ZERO, nopatch);
        a.li(T2, addi_word(A3, 100));
        a.alu_imm(AluImmOp::Slli, T1, S0, 20);
        a.alu(AluOp::Add, T2, T2, T1);
        a.store(StoreOp::Sw, T2, S1, 0);
        a.bind(nopatch);
        if data_store {
            a.store(StoreOp::Sw, S0, S1, 2044);
        }
        a.addi(S0, S0, -1);
        a.branch_label(BranchOp::Bne, S0, Reg::ZERO, top);
        finish(&mut a, h);
        while !a.pc().is_multiple_of(4096) {
            a.addi(Reg::ZERO, Reg::ZERO, 0);
        }
        a.bind(other);
        a.addi(A3, A3, 7);
        a.alu(AluOp::Add, A4, A4, A3);
        a.inst(Inst::Jalr { rd: Reg::ZERO, rs1: Reg::RA, offset: 0 });
        let m = machine(&a.finish().expect("assembles"), RAM);
        let limits = random_limits(0xc4a1_0000 + u64::from(data_store), 12_000, (8, 60, 3));
        for threshold in [0, 1, 3, 20] {
            let (_, exit, stats) = run_both_with(&m, &limits, config(threshold));
            assert_eq!(exit, halt(), "threshold {threshold}, data store {data_store}");
            assert!(stats.insts_run_compiled > 0, "{stats:?}");
            let (_, exit, stats) = run_both_with(&m, &[u64::MAX], config(threshold));
            assert_eq!(exit, halt(), "threshold {threshold}, data store {data_store}");
            // The call and the return between the two pages chain in
            // compiled code too, through the chain stub (at the higher
            // thresholds the code page is rewritten, with a new immediate,
            // before the called block gets hot again).
            if threshold == 0 {
                assert!(stats.tail_calls > 0, "{stats:?}");
            }
        }
    }
}

/// Regression: a store after a helper call checks `m.stop_block` and leaves
/// on a cold path that writes the registers back. That write-back used to
/// clear the main path's dirty set, so a register written before the store
/// (and after the previous write-back) was never stored at the block's end.
/// Grouped stores, which do not write back themselves, exposed it.
#[test]
fn stop_check_exit_keeps_dirty_registers() {
    use avm_isa::{AmoOp, BranchOp};
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    a.li(S1, DATA);
    a.li(S0, 50);
    let top = a.here();
    a.inst(Inst::Amo { op: AmoOp::Add, rd: A2, rs1: S1, rs2: A1, aqrl: 0 });
    a.addi(A3, A3, 5);
    a.store(StoreOp::Sw, A3, S1, 16);
    a.addi(A4, A4, 7);
    a.store(StoreOp::Sw, A4, S1, 20);
    a.alu(AluOp::Xor, A5, A5, A4);
    a.addi(S0, S0, -1);
    a.branch_label(BranchOp::Bne, S0, Reg::ZERO, top);
    finish(&mut a, h);
    let m = machine(&a.finish().expect("assembles"), RAM);
    for threshold in [0, 1, 8] {
        let (mj, exit, stats) = run_both_with(&m, &[100_000], config(threshold));
        assert_eq!(exit, halt());
        assert_eq!(mj.hart.x[14], 350, "a4 after 50 iterations");
        assert!(stats.insts_run_compiled > 40, "{stats:?}");
    }
}

/// Access groups ([`avm_jit::group`]): several accesses through one base
/// register share one TLB check covering both ends of their span. Under
/// Sv32, virtual pages 0 and 1 map to frames that are not consecutive
/// (the check must fail and leave before the group's first access), pages
/// 1 and 2 to consecutive frames (the check may pass for a span across
/// them). Accesses are misaligned and cross pages; limits land everywhere.
#[test]
fn access_groups_across_pages() {
    use avm_isa::BranchOp;
    let va = 0x4000_0000u32;

    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    enter_supervisor_sv32(&mut a, PT);
    a.li(A0, 0x1234_5678);
    a.li(S11, 0);
    a.li(T1, 40);
    let top = a.here();
    // Base near the end of page 0 (odd iterations) or page 1 (even ones).
    a.alu_imm(AluImmOp::Andi, T0, T1, 1);
    a.alu_imm(AluImmOp::Slli, T0, T0, 12);
    a.li(S0, va + 0x1ff0);
    a.alu(AluOp::Sub, S0, S0, T0);
    a.store(StoreOp::Sw, A0, S0, 0);
    a.load(LoadOp::Lw, A1, S0, 8);
    a.addi(A0, A0, 0x111);
    a.store(StoreOp::Sw, A0, S0, 14); // crosses the page end, misaligned
    a.load(LoadOp::Lhu, A2, S0, 15);
    a.store(StoreOp::Sb, A1, S0, 19);
    a.load(LoadOp::Lw, A3, S0, 16);
    a.alu(AluOp::Add, A5, A5, A1);
    a.alu(AluOp::Xor, A5, A5, A2);
    a.alu(AluOp::Add, A5, A5, A3);
    a.addi(T1, T1, -1);
    a.branch_label(BranchOp::Bne, T1, Reg::ZERO, top);
    finish(&mut a, h);
    let program = a.finish().expect("assembles");

    let mut m = machine(&program, RAM);
    let mut put = |addr: u32, v: u32| m.write_phys_bytes(addr, &v.to_le_bytes()).expect("in RAM");
    put(PT + 4 * (RAM_BASE >> 22), pte(RAM_BASE, PTE_V | PTE_R | PTE_W | PTE_X));
    put(PT + 4 * (va >> 22), pte(PT2, PTE_V));
    put(PT2, pte(DATA + 0x3000, PTE_V | PTE_R | PTE_W)); // page 0
    put(PT2 + 4, pte(DATA, PTE_V | PTE_R | PTE_W)); // page 1
    put(PT2 + 8, pte(DATA + 0x1000, PTE_V | PTE_R | PTE_W)); // page 2, right after page 1's frame
    for threshold in [0, 1, 8, DEFAULT_THRESHOLD] {
        let (_, exit, stats) = run_both_with(&m, &[1_000_000], config(threshold));
        assert_eq!(exit, halt(), "threshold {threshold}");
        if threshold <= 1 {
            assert!(stats.insts_run_compiled > 20 && stats.side_exits > 10, "{stats:?}");
        }
    }
    // The baseline tier makes the same group checks.
    let (_, exit, stats) = run_both_with(&m, &[1_000_000], baseline_only());
    assert_eq!(exit, halt(), "baseline");
    assert!(stats.insts_run_baseline > 20 && stats.side_exits > 10, "{stats:?}");
    let limits: Vec<u64> = (1..400).map(|i| i * 3).collect();
    for threshold in [0, 8] {
        let _ = run_both_with(&m, &limits, config(threshold));
    }
    let _ = run_both_with(&m, &limits, baseline_only());
}

/// Regions: a loop whose body is several blocks (an inner `if`, a call into
/// a leaf and back) is compiled into one function in which control stays
/// between those blocks, under many small limits and to the end.
#[test]
fn regions_run_loops_inside_compiled_code() {
    use avm_isa::BranchOp;
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    let leaf = a.new_label();
    let skip = a.new_label();
    let done = a.new_label();
    a.li(S0, 3000);
    a.li(S1, DATA);
    let top = a.here();
    a.alu_imm(AluImmOp::Andi, T0, S0, 3);
    a.branch_label(BranchOp::Beq, T0, Reg::ZERO, skip);
    a.addi(A2, A2, 3);
    a.store(StoreOp::Sw, A2, S1, 0);
    a.bind(skip);
    a.jal_label(Reg::RA, leaf);
    a.load(LoadOp::Lw, A3, S1, 0);
    a.alu(AluOp::Add, A5, A5, A3);
    a.addi(S0, S0, -1);
    a.branch_label(BranchOp::Bne, S0, Reg::ZERO, top);
    a.j(done);
    a.bind(leaf);
    a.alu(AluOp::Xor, A4, A4, S0);
    a.inst(Inst::Jalr { rd: Reg::ZERO, rs1: Reg::RA, offset: 0 });
    a.bind(done);
    finish(&mut a, h);
    let m = machine(&a.finish().expect("assembles"), RAM);
    for threshold in [1, 8, 64] {
        let (_, exit, stats) = run_both_with(&m, &[u64::MAX], config(threshold));
        assert_eq!(exit, halt());
        // Blocks of the loop ran inside one compiled call: more compiled
        // block runs than calls into compiled code can explain.
        assert!(stats.region_blocks > stats.blocks_compiled, "{stats:?}");
        assert!(stats.insts_run_compiled > 9000, "{stats:?}");
        let limits = random_limits(0x5e91 + u64::from(threshold), 30_000, (40, 40, 1));
        let (_, exit, _) = run_both_with(&m, &limits, config(threshold));
        assert!(matches!(exit, Exit::InstructionLimit) || exit == halt());
    }
}

/// A hot loop with 32-bit instructions that straddle page boundaries: an
/// `addi`, a load and the jump back to the loop start. No block can
/// hold them; the block before each runs it through `jit_exec_next`, which
/// fetches it across the boundary. Limits land on and around them.
#[test]
fn straddling_instructions_in_a_hot_loop() {
    use avm_isa::BranchOp;
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    a.li(S0, 300);
    a.li(S1, DATA);
    let done = a.new_label();
    // The loop starts 8 bytes before a page end: a compressed instruction
    // and a 4-byte one put the next 4-byte instruction across the boundary.
    while a.pc() & 0xfff != 0xff8 {
        a.addi(Reg::ZERO, Reg::ZERO, 0);
    }
    let top = a.here();
    a.compressed(Inst::AluImm { op: AluImmOp::Addi, rd: A0, rs1: A0, imm: 1 });
    a.addi(A1, A1, 1);
    a.addi(A2, A2, 3); // straddles
    a.alu(AluOp::Xor, A5, A5, A2);
    a.store(StoreOp::Sw, A5, S1, 0);
    a.addi(S0, S0, -1);
    let more = a.new_label();
    a.branch_label(BranchOp::Bne, S0, Reg::ZERO, more);
    a.j(done);
    a.bind(more);
    // Up to the next page end: a load, then a branch back, across it.
    if !a.pc().is_multiple_of(4) {
        a.compressed(Inst::AluImm { op: AluImmOp::Addi, rd: A3, rs1: A3, imm: 1 });
    }
    while a.pc() & 0xfff != 0xff8 {
        a.addi(A3, A3, 1);
    }
    a.compressed(Inst::AluImm { op: AluImmOp::Addi, rd: A4, rs1: A4, imm: 1 });
    a.addi(A4, A4, 1);
    a.load(LoadOp::Lw, A3, S1, 0); // straddles
    a.compressed(Inst::AluImm { op: AluImmOp::Addi, rd: A4, rs1: A4, imm: 1 });
    while a.pc() & 0xfff != 0xffe {
        a.compressed(Inst::AluImm { op: AluImmOp::Addi, rd: A4, rs1: A4, imm: 1 });
    }
    a.j(top); // straddles
    a.bind(done);
    finish(&mut a, h);
    let m = machine(&a.finish().expect("assembles"), RAM);
    for threshold in [0, 1, 8] {
        let (mj, exit, stats) = run_both_with(&m, &[u64::MAX], config(threshold));
        assert_eq!(exit, halt(), "threshold {threshold}");
        assert_eq!(mj.hart.x[12], 900, "a2");
        assert!(stats.insts_run_compiled > 250, "{stats:?}");
        let limits: Vec<u64> = (1..2000).map(|i| i * 5 + i % 3).collect();
        let _ = run_both_with(&m, &limits, config(threshold));
    }
    let background = JitConfig { background: true, ..config(2) };
    let (_, exit, _) = run_both_with(&m, &[u64::MAX], background);
    assert_eq!(exit, halt());
}

/// A straddling `addi` runs compiled inline, checked against memory on
/// every run: a store into the next page rewrites its upper half (the
/// immediate) while the loop is hot, with no `fence.i`. The first page is
/// not written, so nothing invalidates its region; the check alone must
/// send the new instruction to the interpreter.
#[test]
fn a_rewritten_upper_half_of_a_straddler_is_seen() {
    use avm_isa::BranchOp;
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    a.li(S0, 600);
    a.li(S1, 300);
    let new_add = avm_isa::asm::encode(&Inst::AluImm { op: AluImmOp::Addi, rd: A2, rs1: A2, imm: 5 });
    a.li(T1, new_add >> 16);
    let straddler = a.new_label();
    a.la(T2, straddler);
    a.addi(T2, T2, 2);
    if !a.pc().is_multiple_of(4) {
        a.compressed(Inst::AluImm { op: AluImmOp::Addi, rd: Reg::ZERO, rs1: Reg::ZERO, imm: 0 });
    }
    while a.pc() & 0xfff != 0xff4 {
        a.addi(Reg::ZERO, Reg::ZERO, 0);
    }
    let top = a.here();
    a.addi(A0, A0, 1);
    a.addi(A1, A1, 7);
    a.compressed(Inst::AluImm { op: AluImmOp::Addi, rd: A3, rs1: A3, imm: 1 });
    a.bind(straddler);
    assert_eq!(a.pc() & 0xfff, 0xffe);
    a.addi(A2, A2, 3); // straddles
    let skip = a.new_label();
    a.branch_label(BranchOp::Bne, A0, S1, skip);
    a.store(StoreOp::Sh, T1, T2, 0);
    a.bind(skip);
    a.branch_label(BranchOp::Bne, A0, S0, top);
    finish(&mut a, h);
    let m = machine(&a.finish().expect("assembles"), RAM);
    for threshold in [0, 8, DEFAULT_THRESHOLD] {
        let (mj, exit, stats) = run_both_with(&m, &[u64::MAX], config(threshold));
        assert_eq!(exit, halt(), "threshold {threshold}");
        assert_eq!(mj.hart.x[12], 300 * 3 + 300 * 5, "a2, threshold {threshold}");
        assert!(stats.insts_run_compiled > 1000, "{stats:?}");
    }
}

/// An unrolled self-loop (the sieve's `sb; addi; bltu`): the edge into its
/// first copy checks the budget for all copies, the copies run on
/// unchecked. Every limit in a window of iterations, in slices on one engine
/// and as single runs on fresh ones, must stop exactly where the interpreter
/// stops, including inside the copies. The stores walk into a fresh page in
/// the middle of the loop, so a TLB side exit leaves from one of the copies.
#[test]
fn unrolled_self_loop_stops_at_every_limit() {
    use avm_isa::BranchOp;
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    a.li(A0, DATA + 0x1000 - 150);
    a.li(A1, DATA + 0x1000 + 150);
    a.li(A2, 0x5a);
    let top = a.here();
    a.store(StoreOp::Sb, A2, A0, 0);
    a.addi(A0, A0, 1);
    a.branch_label(BranchOp::Bltu, A0, A1, top);
    finish(&mut a, h);
    let m = machine(&a.finish().expect("assembles"), RAM);
    let (_, exit, stats) = run_both_with(&m, &[u64::MAX], config(1));
    assert_eq!(exit, halt());
    assert!(stats.insts_run_compiled > 800, "{stats:?}");
    // Past the set-up and the first (interpreted) iterations.
    let window = 40..200u64;
    for threshold in [0, 1] {
        let slices: Vec<u64> = window.clone().collect();
        let _ = run_both_with(&m, &slices, config(threshold));
        for limit in window.clone() {
            let (_, exit, _) = run_both_with(&m, &[limit, limit + 700, u64::MAX], config(threshold));
            assert_eq!(exit, halt(), "limit {limit}, threshold {threshold}");
        }
    }
}

/// The translator turns ALU operations with an `x0` operand (`li`, `mv`,
/// `neg`-like and `not`-like forms) into constants and copies; every such
/// form, written into registers that later feed a checksum, must agree with
/// the interpreter, including writes to `x0` itself.
#[test]
fn alu_forms_with_x0_operands() {
    use avm_isa::BranchOp;
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    a.li(S0, 40);
    a.li(A1, 0x1234_5678);
    let top = a.here();
    a.alu_imm(AluImmOp::Addi, A2, Reg::ZERO, -7);
    a.alu_imm(AluImmOp::Xori, A3, Reg::ZERO, -1);
    a.alu_imm(AluImmOp::Ori, A4, Reg::ZERO, 0x7ff);
    a.alu(AluOp::Add, A5, Reg::ZERO, A1);
    a.alu(AluOp::Or, T5, A1, Reg::ZERO);
    a.alu(AluOp::Xor, T6, Reg::ZERO, S0);
    a.alu(AluOp::Sub, T0, A1, Reg::ZERO);
    a.alu(AluOp::Sub, T1, Reg::ZERO, A1);
    a.alu(AluOp::Add, Reg::ZERO, A1, A1);
    a.alu(AluOp::Add, T2, Reg::ZERO, Reg::ZERO);
    for r in [A2, A3, A4, A5, T5, T6, T0, T1, T2] {
        a.alu(AluOp::Add, A0, A0, r);
        a.alu_imm(AluImmOp::Slli, A0, A0, 1);
    }
    a.alu(AluOp::Add, A1, A1, A0);
    a.addi(S0, S0, -1);
    a.branch_label(BranchOp::Bne, S0, Reg::ZERO, top);
    finish(&mut a, h);
    let (exit, stats) = run_both(&a.finish().expect("assembles"), u64::MAX, RAM);
    assert_eq!(exit, halt());
    assert!(stats.insts_run_compiled > 1000, "{stats:?}");
}

/// Every block of a region is an entry of its function: a block that is
/// not the region's first one, entered from the dispatcher (here after
/// every small limit, and through a jump from outside the loop), runs the
/// region's code from that block, with every pc it computes (`auipc`, the
/// branch targets) relative to the region's first block, and is not
/// compiled again as a region of its own.
#[test]
fn later_region_blocks_are_entries_of_the_region() {
    use avm_isa::BranchOp;
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    let skip = a.new_label();
    let tail = a.new_label();
    a.li(S0, 2000);
    let top = a.here();
    a.addi(A1, A1, 1);
    a.alu_imm(AluImmOp::Andi, T0, S0, 1);
    a.branch_label(BranchOp::Beq, T0, Reg::ZERO, skip);
    a.addi(A2, A2, 3);
    a.bind(skip);
    a.inst(Inst::Auipc { rd: T1, imm: 0 });
    a.alu(AluOp::Add, A4, A4, T1);
    a.alu(AluOp::Add, A5, A5, A1);
    a.alu_imm(AluImmOp::Andi, T0, S0, 7);
    a.branch_label(BranchOp::Bne, T0, Reg::ZERO, tail);
    a.alu(AluOp::Xor, A3, A3, A5);
    a.bind(tail);
    a.addi(S0, S0, -1);
    a.branch_label(BranchOp::Bne, S0, Reg::ZERO, top);
    // Once more into the middle of the loop, from outside it.
    a.li(S0, 300);
    a.alu_imm(AluImmOp::Xori, S1, S1, 1);
    a.branch_label(BranchOp::Bne, S1, Reg::ZERO, skip);
    finish(&mut a, h);
    let m = machine(&a.finish().expect("assembles"), RAM);
    for threshold in [1, 8, DEFAULT_THRESHOLD] {
        let (_, exit, stats) = run_both_with(&m, &[u64::MAX], config(threshold));
        assert_eq!(exit, halt());
        assert!(stats.region_entries > 0, "{stats:?}");
        let limits = random_limits(0xe47e + u64::from(threshold), 40_000, (13, 13, 1));
        let (_, exit, stats) = run_both_with(&m, &limits, config(threshold));
        assert!(matches!(exit, Exit::InstructionLimit) || exit == halt());
        assert!(stats.region_entries > 0 && stats.insts_run_compiled > 10_000, "{stats:?}");
    }
}
