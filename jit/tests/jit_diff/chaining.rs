//! Chaining between blocks and regions, the crosscheck, self-loops, and
//! the write-back of registers around exits and access groups.

use super::*;

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

/// Access groups ([`avm_jit::plan::group`]): several accesses through one base
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
