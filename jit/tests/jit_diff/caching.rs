//! Tiers, caching and budgets: hot code gets compiled, code is shared by
//! content and found again on fresh machines, JIT bombs stay bounded.

use super::*;

/// A hot loop at the default threshold ends up running compiled.
#[test]
fn hot_loop_runs_compiled() {
    let m = machine(&alu_program(20_000), RAM);
    let (_, exit, stats) = run_both_with(&m, &[100_000_000], config(DEFAULT_THRESHOLD));
    assert_eq!(exit, halt());
    assert!(stats.regions_compiled > 0, "{stats:?}");
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
    assert_eq!(second.regions_compiled, first.regions_compiled, "nothing new to compile");
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
        regions_compiled: after.regions_compiled - before.regions_compiled,
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
    assert!(first.regions_compiled > 0 && warming_up(&first) > DEFAULT_THRESHOLD as u64, "{first:?}");

    let again = run_reused("again", &mut jit, &three_block_loop(0x100, 0x200, 5));
    assert_eq!(again.regions_compiled, 0, "{again:?}");
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
    let cfg = JitConfig { max_regions: budget, ..config(0) };
    let (_, exit, stats) = run_both_with(&m, &[u64::MAX], cfg);
    assert_eq!(exit, Exit::WaitForInterrupt);
    assert!(stats.regions_compiled <= budget as u64, "{stats:?}");
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
