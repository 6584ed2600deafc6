//! Regions: loops inside compiled code, page-straddling instructions,
//! unrolled self-loops, `x0` forms, every block an entry.

use super::*;

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
        assert!(stats.region_blocks > stats.regions_compiled, "{stats:?}");
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
