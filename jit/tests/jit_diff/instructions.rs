//! Single instructions and their corner cases: ALU, loads and stores,
//! precise traps, limits, self-modifying code, `wfi`, interrupts.

use super::*;

/// A loop over every ALU operation, including the division corner cases.
pub(crate) fn alu_program(iterations: u32) -> Vec<u8> {
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

/// The baseline tier takes an operand that the previous instruction wrote
/// from the host register it was stored from: here every instruction uses
/// the previous result in another position (first or second operand, both,
/// a load's or a store's base, a stored value, a branch operand), after
/// results left in `rax` (arithmetic), `rdx` (loads, `slt`) and a 64-bit
/// multiply's high word, and across address checks that clobber those
/// registers. Limits land between every pair.
#[test]
fn baseline_forwarding_feeds_every_operand_position() {
    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    a.li(S0, 50);
    a.li(S1, DATA);
    a.li(A0, 0x8765_4321);
    let top = a.here();
    a.alu(AluOp::Mulhu, A1, A0, A0); // high word in rax
    a.alu(AluOp::Add, A2, A1, A0); // ... as the first operand
    a.alu(AluOp::Sub, A3, A0, A2); // as the second
    a.alu(AluOp::Mul, A3, A3, A3); // as both
    a.alu(AluOp::Sltu, A4, A3, A0); // result in rdx
    a.alu(AluOp::Xor, A5, A0, A4); // ... as the second operand
    a.alu_imm(AluImmOp::Andi, T0, A5, 0xfc); // as an immediate operation's
    a.alu(AluOp::Add, T0, S1, T0); // an address
    a.store(StoreOp::Sw, A5, T0, 0); // as a store's base (checked), rax clobbered
    a.load(LoadOp::Lw, T1, T0, 0); // same group: no check
    a.alu(AluOp::Add, T2, T1, T1); // a load's result (rdx) as both operands
    a.load(LoadOp::Lbu, T3, S1, 1); // own check: clobbers rax, rcx, rdx
    a.store(StoreOp::Sw, T3, S1, 64); // a load's result as the stored value
    a.alu(AluOp::Mulh, T4, T2, A0); // signed high word
    a.alu(AluOp::Mulhsu, T5, T4, A0); // from a high word
    a.addi(T6, S1, 256);
    a.alu(AluOp::Add, A2, A2, T5); // stored through its own check
    a.store(StoreOp::Sw, A2, T6, 0);
    a.alu(AluOp::Xor, A3, A2, S11); // stored through a group's check
    a.store(StoreOp::Sw, A3, T6, 8);
    a.load(LoadOp::Lw, A4, T6, 4);
    a.addi(T3, S1, 512);
    a.alu(AluOp::Or, A1, A1, A4); // stored through a lone access's check
    a.store(StoreOp::Sh, A1, T3, 2);
    a.alu(AluOp::Add, A0, A0, T5);
    a.alu(AluOp::Add, S11, S11, T2);
    a.alu(AluOp::Add, S11, S11, A4);
    a.addi(S0, S0, -1);
    a.bne_label(S0, Reg::ZERO, top); // the previous result as a branch operand
    finish(&mut a, h);
    let program = a.finish().expect("assembles");

    let m = machine(&program, RAM);
    let (_, exit, stats) = run_both_with(&m, &[1_000_000], baseline_only());
    assert_eq!(exit, halt());
    assert!(stats.insts_run_baseline > 500, "{stats:?}");
    let limits: Vec<u64> = (1..300).collect();
    let _ = run_both_with(&m, &limits, baseline_only());
}
