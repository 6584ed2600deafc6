//! The test assembler: labels, fixups, ranges and errors.

use avm_isa::asm::{encode, Asm, AsmError};
use avm_isa::{decode, AluImmOp, BranchOp, Inst, Reg};

const BASE: u32 = 0x8000_0000;
const A0: Reg = Reg::new(10);
const A1: Reg = Reg::new(11);

/// Decodes a program into (address, instruction) pairs.
fn disassemble(bytes: &[u8], base: u32) -> Vec<(u32, Inst)> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let mut word = [0u8; 4];
        let end = (at + 4).min(bytes.len());
        word[..end - at].copy_from_slice(&bytes[at..end]);
        let d = decode(u32::from_le_bytes(word));
        out.push((base + at as u32, d.inst));
        at += usize::from(d.len);
    }
    out
}

#[test]
fn backward_branch_targets_its_label() {
    let mut a = Asm::new(BASE);
    let top = a.here();
    a.addi(A0, A0, 1);
    a.bne_label(A0, A1, top);
    let code = disassemble(&a.finish().unwrap(), BASE);
    assert_eq!(code[1], (BASE + 4, Inst::Branch { op: BranchOp::Bne, rs1: A0, rs2: A1, offset: -4 }));
}

#[test]
fn forward_jump_and_branch_are_patched_at_finish() {
    let mut a = Asm::new(BASE);
    let end = a.new_label();
    a.beq_label(A0, Reg::ZERO, end);
    a.j(end);
    a.addi(A0, A0, 1);
    a.bind(end);
    a.inst(Inst::Ebreak);
    let code = disassemble(&a.finish().unwrap(), BASE);
    assert_eq!(code[0].1, Inst::Branch { op: BranchOp::Beq, rs1: A0, rs2: Reg::ZERO, offset: 12 });
    assert_eq!(code[1].1, Inst::Jal { rd: Reg::ZERO, offset: 8 });
    assert_eq!(code[3].1, Inst::Ebreak);
}

#[test]
fn la_computes_the_label_address_pc_relative() {
    let mut a = Asm::new(BASE);
    let data = a.new_label();
    a.la(A0, data);
    for _ in 0..1000 {
        a.inst(Inst::Ebreak);
    }
    a.bind(data);
    a.word(0xdead_beef);
    let target = a.address_of(data).unwrap();
    let code = disassemble(&a.finish().unwrap(), BASE);
    let (Inst::Auipc { imm: hi, .. }, Inst::AluImm { op: AluImmOp::Addi, imm: lo, .. }) = (code[0].1, code[1].1) else {
        panic!("unexpected la expansion {code:?}");
    };
    assert_eq!(BASE.wrapping_add(hi).wrapping_add_signed(lo), target);
}

#[test]
fn li_loads_every_kind_of_constant() {
    for value in [0, 1, 0x7ff, 0x800, 0xfff, 0x1000, 0x1234_5678, 0x8000_0000, 0xffff_f800, u32::MAX] {
        let mut a = Asm::new(BASE);
        a.li(A0, value);
        let code = disassemble(&a.finish().unwrap(), BASE);
        let mut x = 0u32;
        for (_, inst) in code {
            match inst {
                Inst::Lui { imm, .. } => x = imm,
                Inst::AluImm { op: AluImmOp::Addi, rs1, imm, .. } => {
                    x = if rs1 == Reg::ZERO { 0 } else { x }.wrapping_add_signed(imm)
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(x, value, "li {value:#x}");
    }
}

#[test]
fn branch_out_of_range_is_an_error() {
    let mut a = Asm::new(BASE);
    let far = a.new_label();
    a.beq_label(A0, A1, far);
    for _ in 0..1024 {
        a.inst(Inst::Ebreak);
    }
    a.bind(far); // 4100 bytes away: beyond the ±4 KiB of a branch
    assert_eq!(a.finish(), Err(AsmError::OutOfRange { at: BASE, offset: 4100 }));
}

#[test]
fn branch_at_the_edge_of_its_range_assembles() {
    let mut a = Asm::new(BASE);
    let far = a.new_label();
    a.beq_label(A0, A1, far);
    for _ in 0..1022 {
        a.inst(Inst::Ebreak);
    }
    a.bind(far); // 4092 bytes away
    let code = disassemble(&a.finish().unwrap(), BASE);
    assert_eq!(code[0].1, Inst::Branch { op: BranchOp::Beq, rs1: A0, rs2: A1, offset: 4092 });
}

#[test]
fn unbound_label_is_an_error() {
    let mut a = Asm::new(BASE);
    let nowhere = a.new_label();
    a.j(nowhere);
    assert_eq!(a.finish(), Err(AsmError::UnboundLabel(nowhere)));
}

#[test]
fn binding_a_label_twice_is_an_error() {
    let mut a = Asm::new(BASE);
    let l = a.here();
    a.bind(l);
    assert_eq!(a.finish(), Err(AsmError::LabelBoundTwice(l)));
}

#[test]
fn immediate_that_does_not_fit_is_unencodable() {
    let mut a = Asm::new(BASE);
    a.addi(A0, A0, 4096);
    assert!(matches!(a.finish(), Err(AsmError::Unencodable { at: BASE, .. })));
}

#[test]
fn compressed_emits_two_bytes_and_keeps_labels_right() {
    let mut a = Asm::new(BASE);
    let end = a.new_label();
    a.compressed(Inst::AluImm { op: AluImmOp::Addi, rd: A0, rs1: A0, imm: 1 });
    a.j(end);
    a.compressed(Inst::Ebreak);
    a.bind(end);
    a.compressed(Inst::Ebreak);
    assert_eq!(a.address_of(end), Some(BASE + 8));
    let code = disassemble(&a.finish().unwrap(), BASE);
    assert_eq!(code[1], (BASE + 2, Inst::Jal { rd: Reg::ZERO, offset: 6 }));
}

#[test]
fn instruction_without_compressed_form_is_an_error() {
    let mut a = Asm::new(BASE);
    a.compressed(Inst::Mret);
    assert_eq!(a.finish(), Err(AsmError::NoCompressedForm { at: BASE, inst: Inst::Mret }));
}

#[test]
fn encode_of_illegal_is_its_word() {
    assert_eq!(encode(&Inst::Illegal { word: 0xffff_ffff }), 0xffff_ffff);
}
