//! The encoder: the inverse of the decoder, for the test assembler.
//!
//! [`encode`] gives the 32-bit encoding of any [`Inst`]; [`encode_compressed`]
//! gives a 16-bit encoding when the instruction has one. Operation bits come
//! from the `code()` of the tables in [`crate::inst`], the same tables the
//! decoder reads with `from_code`, so the two cannot disagree about which bits
//! mean `sub` or `amoswap.w`.
//!
//! Fields are masked to their width: an immediate that does not fit is
//! silently cut. Callers that need to know (the [`super::Asm`] builder) check
//! that the result decodes back to the same instruction.

use crate::decode::opcode;
use crate::inst::{AluImmOp, AluOp, BranchOp, Inst, LoadOp, Reg, StoreOp};

/// Bits `hi..=lo` of `x`, shifted down to bit 0.
const fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1 << (hi - lo + 1)) - 1)
}

/// R-type: `funct7 | rs2 | rs1 | funct3 | rd | opcode`.
const fn r_type(opcode: u32, rd: Reg, funct3: u32, rs1: Reg, rs2: Reg, funct7: u32) -> u32 {
    (funct7 & 0x7f) << 25 | rs2.num() << 20 | rs1.num() << 15 | (funct3 & 7) << 12 | rd.num() << 7 | opcode
}

/// I-type: `imm[11:0] | rs1 | funct3 | rd | opcode`.
const fn i_type(opcode: u32, rd: Reg, funct3: u32, rs1: Reg, imm: i32) -> u32 {
    ((imm as u32) & 0xfff) << 20 | rs1.num() << 15 | (funct3 & 7) << 12 | rd.num() << 7 | opcode
}

/// S-type: `imm[11:5] | rs2 | rs1 | funct3 | imm[4:0] | opcode`.
const fn s_type(opcode: u32, funct3: u32, rs1: Reg, rs2: Reg, imm: i32) -> u32 {
    let imm = imm as u32;
    bits(imm, 11, 5) << 25 | rs2.num() << 20 | rs1.num() << 15 | (funct3 & 7) << 12 | bits(imm, 4, 0) << 7 | opcode
}

/// B-type: `imm[12|10:5] | rs2 | rs1 | funct3 | imm[4:1|11] | opcode`.
const fn b_type(funct3: u32, rs1: Reg, rs2: Reg, offset: i32) -> u32 {
    let imm = offset as u32;
    bits(imm, 12, 12) << 31
        | bits(imm, 10, 5) << 25
        | rs2.num() << 20
        | rs1.num() << 15
        | (funct3 & 7) << 12
        | bits(imm, 4, 1) << 8
        | bits(imm, 11, 11) << 7
        | opcode::BRANCH
}

/// J-type: `imm[20|10:1|11|19:12] | rd | opcode`.
const fn j_type(rd: Reg, offset: i32) -> u32 {
    let imm = offset as u32;
    bits(imm, 20, 20) << 31
        | bits(imm, 10, 1) << 21
        | bits(imm, 11, 11) << 20
        | bits(imm, 19, 12) << 12
        | rd.num() << 7
        | opcode::JAL
}

/// The 32-bit encoding of `inst`. [`Inst::Illegal`] encodes as its raw word.
/// Out-of-range immediates are truncated to their field.
pub fn encode(inst: &Inst) -> u32 {
    match *inst {
        Inst::Lui { rd, imm } => imm & 0xffff_f000 | rd.num() << 7 | opcode::LUI,
        Inst::Auipc { rd, imm } => imm & 0xffff_f000 | rd.num() << 7 | opcode::AUIPC,
        Inst::Jal { rd, offset } => j_type(rd, offset),
        Inst::Jalr { rd, rs1, offset } => i_type(opcode::JALR, rd, 0, rs1, offset),
        Inst::Branch { op, rs1, rs2, offset } => b_type(op.code(), rs1, rs2, offset),
        Inst::Load { op, rd, rs1, offset } => i_type(opcode::LOAD, rd, op.code(), rs1, offset),
        Inst::Store { op, rs1, rs2, offset } => s_type(opcode::STORE, op.code(), rs1, rs2, offset),
        Inst::AluImm { op, rd, rs1, imm } if op.is_shift() => {
            // imm[11:5] carries the rest of the operation code, imm[4:0] the amount.
            let imm = (op.code() >> 3) << 5 | (imm as u32 & 31);
            i_type(opcode::OP_IMM, rd, op.code(), rs1, imm as i32)
        }
        Inst::AluImm { op, rd, rs1, imm } => i_type(opcode::OP_IMM, rd, op.code(), rs1, imm),
        Inst::Alu { op, rd, rs1, rs2 } => r_type(opcode::OP, rd, op.code(), rs1, rs2, op.code() >> 3),
        Inst::Fence { pred, succ, fm } => {
            (u32::from(fm) & 0xf) << 28
                | (u32::from(pred) & 0xf) << 24
                | (u32::from(succ) & 0xf) << 20
                | opcode::MISC_MEM
        }
        Inst::FenceI => 1 << 12 | opcode::MISC_MEM,
        Inst::Ecall => 0x0000_0073,
        Inst::Ebreak => 0x0010_0073,
        Inst::Sret => 0x1020_0073,
        Inst::Mret => 0x3020_0073,
        Inst::Wfi => 0x1050_0073,
        Inst::SfenceVma { rs1, rs2 } => r_type(opcode::SYSTEM, Reg::ZERO, 0, rs1, rs2, 0b000_1001),
        Inst::Csr { op, rd, rs1, csr } => i_type(opcode::SYSTEM, rd, op.code(), rs1, i32::from(csr & 0xfff)),
        Inst::Lr { rd, rs1, aqrl } => amo_type(0b00010, aqrl, rd, rs1, Reg::ZERO),
        Inst::Sc { rd, rs1, rs2, aqrl } => amo_type(0b00011, aqrl, rd, rs1, rs2),
        Inst::Amo { op, rd, rs1, rs2, aqrl } => amo_type(op.code(), aqrl, rd, rs1, rs2),
        Inst::Illegal { word } => word,
    }
}

/// An atomic: `funct5 | aq | rl | rs2 | rs1 | 010 | rd | opcode`.
const fn amo_type(funct5: u32, aqrl: u8, rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    let funct7 = (funct5 & 0x1f) << 2 | (aqrl as u32 & 3);
    r_type(opcode::AMO, rd, 0b010, rs1, rs2, funct7)
}

// ---------------------------------------------------------------------------
// Compressed forms
// ---------------------------------------------------------------------------

/// The 3-bit field of a "popular" register x8..x15, if `r` is one.
fn creg(r: Reg) -> Option<u32> {
    (8..16).contains(&r.num()).then(|| r.num() - 8)
}

/// True if `v` fits a signed `width`-bit field.
const fn fits_signed(v: i32, width: u32) -> bool {
    let half = 1i32 << (width - 1);
    v >= -half && v < half
}

/// True if `v` is a multiple of `align` in `0..=max`.
const fn fits_unsigned(v: i32, max: i32, align: i32) -> bool {
    v >= 0 && v <= max && v % align == 0
}

/// A CI-format 6-bit immediate: `imm[5]` to bit 12, `imm[4:0]` to 6:2.
const fn ci_imm(imm: i32) -> u32 {
    let imm = imm as u32;
    bits(imm, 5, 5) << 12 | bits(imm, 4, 0) << 2
}

/// A CJ-format offset: `offset[11|4|9:8|10|6|7|3:1|5]` to bits 12:2.
const fn cj_offset(offset: i32) -> u32 {
    let o = offset as u32;
    bits(o, 11, 11) << 12
        | bits(o, 4, 4) << 11
        | bits(o, 9, 8) << 9
        | bits(o, 10, 10) << 8
        | bits(o, 6, 6) << 7
        | bits(o, 7, 7) << 6
        | bits(o, 3, 1) << 3
        | bits(o, 5, 5) << 2
}

/// A CB-format branch offset: `offset[8|4:3]` to 12:10, `offset[7:6|2:1|5]` to 6:2.
const fn cb_offset(offset: i32) -> u32 {
    let o = offset as u32;
    bits(o, 8, 8) << 12 | bits(o, 4, 3) << 10 | bits(o, 7, 6) << 5 | bits(o, 2, 1) << 3 | bits(o, 5, 5) << 2
}

/// A compressed encoding `funct3 | body | quadrant`.
const fn c(funct3: u32, body: u32, quadrant: u32) -> u32 {
    funct3 << 13 | body | quadrant
}

/// The 16-bit encoding of `inst`, if some compressed form expands to exactly
/// this instruction. Where two forms fit (`addi sp,sp,16` is both c.addi and
/// c.addi16sp) either may be returned; both decode to `inst`.
pub fn encode_compressed(inst: &Inst) -> Option<u16> {
    let h = match *inst {
        Inst::AluImm { op: AluImmOp::Addi, rd, rs1, imm } => c_addi(rd, rs1, imm)?,
        Inst::Lui { rd, imm } => {
            let v = imm as i32 >> 12;
            let ok = rd != Reg::SP && imm & 0xfff == 0 && v != 0 && fits_signed(v, 6);
            ok.then(|| c(0b011, rd.num() << 7 | ci_imm(v), 0b01))?
        }
        Inst::Jal { rd, offset } if offset % 2 == 0 && fits_signed(offset, 12) => match rd {
            Reg::RA => c(0b001, cj_offset(offset), 0b01),
            Reg::ZERO => c(0b101, cj_offset(offset), 0b01),
            _ => return None,
        },
        Inst::Branch { op, rs1, rs2: Reg::ZERO, offset } if offset % 2 == 0 && fits_signed(offset, 9) => {
            let funct3 = match op {
                BranchOp::Beq => 0b110,
                BranchOp::Bne => 0b111,
                _ => return None,
            };
            c(funct3, creg(rs1)? << 7 | cb_offset(offset), 0b01)
        }
        Inst::Load { op: LoadOp::Lw, rd, rs1, offset } => {
            if rs1 == Reg::SP && rd != Reg::ZERO && fits_unsigned(offset, 252, 4) {
                let o = offset as u32;
                let body = bits(o, 5, 5) << 12 | bits(o, 4, 2) << 4 | bits(o, 7, 6) << 2;
                c(0b010, rd.num() << 7 | body, 0b10)
            } else if fits_unsigned(offset, 124, 4) {
                c(0b010, cl_body(rs1, rd, offset)?, 0b00)
            } else {
                return None;
            }
        }
        Inst::Store { op: StoreOp::Sw, rs1, rs2, offset } => {
            if rs1 == Reg::SP && fits_unsigned(offset, 252, 4) {
                let o = offset as u32;
                let body = bits(o, 5, 2) << 9 | bits(o, 7, 6) << 7;
                c(0b110, body | rs2.num() << 2, 0b10)
            } else if fits_unsigned(offset, 124, 4) {
                c(0b110, cl_body(rs1, rs2, offset)?, 0b00)
            } else {
                return None;
            }
        }
        Inst::AluImm { op: AluImmOp::Slli, rd, rs1, imm } if rd == rs1 && fits_unsigned(imm, 31, 1) => {
            c(0b000, rd.num() << 7 | ci_imm(imm), 0b10)
        }
        Inst::AluImm { op, rd, rs1, imm } if rd == rs1 => {
            let (funct2, ok) = match op {
                AluImmOp::Srli => (0b00, fits_unsigned(imm, 31, 1)),
                AluImmOp::Srai => (0b01, fits_unsigned(imm, 31, 1)),
                AluImmOp::Andi => (0b10, fits_signed(imm, 6)),
                _ => return None,
            };
            ok.then_some(())?;
            c(0b100, funct2 << 10 | creg(rd)? << 7 | ci_imm(imm), 0b01)
        }
        Inst::Alu { op: AluOp::Add, rd, rs1, rs2 } if rs2 != Reg::ZERO => {
            if rs1 == Reg::ZERO {
                c(0b100, rd.num() << 7 | rs2.num() << 2, 0b10) // c.mv
            } else if rs1 == rd {
                c(0b100, 1 << 12 | rd.num() << 7 | rs2.num() << 2, 0b10) // c.add
            } else {
                return None;
            }
        }
        Inst::Alu { op, rd, rs1, rs2 } if rd == rs1 => {
            let funct2 = match op {
                AluOp::Sub => 0b00,
                AluOp::Xor => 0b01,
                AluOp::Or => 0b10,
                AluOp::And => 0b11,
                _ => return None,
            };
            c(0b100, 0b11 << 10 | creg(rd)? << 7 | funct2 << 5 | creg(rs2)? << 2, 0b01)
        }
        Inst::Jalr { rd, rs1, offset: 0 } if rs1 != Reg::ZERO => match rd {
            Reg::ZERO => c(0b100, rs1.num() << 7, 0b10),         // c.jr
            Reg::RA => c(0b100, 1 << 12 | rs1.num() << 7, 0b10), // c.jalr
            _ => return None,
        },
        Inst::Ebreak => c(0b100, 1 << 12, 0b10),
        _ => return None,
    };
    u16::try_from(h).ok()
}

/// The register and offset fields of c.lw/c.sw: `uimm[5:3]` to 12:10, `rs1'`
/// to 9:7, `uimm[2|6]` to 6:5, `rd'`/`rs2'` to 4:2.
fn cl_body(rs1: Reg, r: Reg, offset: i32) -> Option<u32> {
    let o = offset as u32;
    Some(bits(o, 5, 3) << 10 | creg(rs1)? << 7 | bits(o, 2, 2) << 6 | bits(o, 6, 6) << 5 | creg(r)? << 2)
}

/// The compressed forms of `addi`: c.addi, c.li, c.addi16sp, c.addi4spn.
fn c_addi(rd: Reg, rs1: Reg, imm: i32) -> Option<u32> {
    if rd == rs1 && fits_signed(imm, 6) {
        Some(c(0b000, rd.num() << 7 | ci_imm(imm), 0b01))
    } else if rs1 == Reg::ZERO && fits_signed(imm, 6) {
        Some(c(0b010, rd.num() << 7 | ci_imm(imm), 0b01))
    } else if rd == Reg::SP && rs1 == Reg::SP && imm != 0 && imm % 16 == 0 && fits_signed(imm, 10) {
        let i = imm as u32;
        let body =
            bits(i, 9, 9) << 12 | bits(i, 4, 4) << 6 | bits(i, 6, 6) << 5 | bits(i, 8, 7) << 3 | bits(i, 5, 5) << 2;
        Some(c(0b011, Reg::SP.num() << 7 | body, 0b01))
    } else if rs1 == Reg::SP && imm != 0 && fits_unsigned(imm, 1020, 4) {
        let i = imm as u32;
        let body = bits(i, 5, 4) << 11 | bits(i, 9, 6) << 7 | bits(i, 2, 2) << 6 | bits(i, 3, 3) << 5;
        Some(c(0b000, body | creg(rd)? << 2, 0b00))
    } else {
        None
    }
}
