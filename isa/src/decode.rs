//! The decoder: 32 fetched bits in, one [`Decoded`] instruction out.
//!
//! RISC-V tells an instruction's length from its lowest bits (ISA manual,
//! "Expanded Instruction-Length Encoding"):
//!
//! - bits `[1:0] != 11`: a 16-bit compressed (C extension) instruction;
//! - bits `[1:0] == 11` and `[4:2] != 111`: a 32-bit instruction;
//! - bits `[4:0] == 11111`: a 48-bit or longer format, which aVM does not
//!   implement, so such a word is illegal.
//!
//! Compressed instructions are pure shorthand: each one *expands* to exactly one
//! 32-bit instruction (the manual lists the expansion next to every form). The
//! decoder does that expansion here, so the interpreter and the JIT only ever see
//! base instructions plus a length of 2.
//!
//! Operation bits are looked up through the `from_code` functions of the tables
//! in [`crate::inst`], so the tables stay the single source of encodings. Any
//! bit pattern that does not name an instruction becomes [`Inst::Illegal`]
//! carrying the raw bits, which is what `mtval` reports when it traps. Decoding
//! is total: every `u32` gives an answer and nothing panics.

use crate::inst::{AluImmOp, AluOp, AmoOp, BranchOp, CsrOp, Decoded, Inst, LoadOp, Reg, StoreOp};

/// Decodes the instruction whose first bits are the low bits of `word`.
///
/// `word` is 32 bits fetched little-endian at the pc. A compressed instruction
/// only uses the low half (the upper half is the next instruction and is
/// ignored); the result's `len` says how far the pc advances.
pub fn decode(word: u32) -> Decoded {
    if inst_len(word as u16) == 2 {
        let half = word & 0xffff;
        let inst = decode_compressed(half).unwrap_or(Inst::Illegal { word: half });
        Decoded { inst, len: 2 }
    } else {
        let inst = decode_full(word).unwrap_or(Inst::Illegal { word });
        Decoded { inst, len: 4 }
    }
}

/// The length in bytes, 2 or 4, of the instruction whose first 16 bits are
/// `low`: the one rule of the RISC-V length encoding that RV32IMAC needs. Low
/// bits `11` mean a 32-bit instruction, anything else a compressed one (the
/// longer encodings the manual reserves decode as illegal 32-bit words).
/// Every part of aVM that walks instruction bytes (block decoding, fetch
/// across a page end, the JIT's block lengths and cache keys) asks this.
#[inline(always)]
pub const fn inst_len(low: u16) -> u32 {
    if low & 0b11 == 0b11 {
        4
    } else {
        2
    }
}

/// Bits `hi..=lo` of `x`, shifted down to bit 0.
#[inline(always)]
const fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1 << (hi - lo + 1)) - 1)
}

/// Bit `n` of `x` (0 or 1).
#[inline(always)]
const fn bit(x: u32, n: u32) -> u32 {
    (x >> n) & 1
}

/// Sign-extends the low `width` bits of `x`.
#[inline(always)]
const fn sext(x: u32, width: u32) -> i32 {
    let shift = 32 - width;
    ((x << shift) as i32) >> shift
}

// ---------------------------------------------------------------------------
// 32-bit instructions
// ---------------------------------------------------------------------------

/// Major opcodes (bits 6:0) of the 32-bit instructions aVM implements (the
/// encoder in [`crate::asm`] uses them too).
pub(crate) mod opcode {
    pub const LOAD: u32 = 0b000_0011;
    pub const MISC_MEM: u32 = 0b000_1111;
    pub const OP_IMM: u32 = 0b001_0011;
    pub const AUIPC: u32 = 0b001_0111;
    pub const STORE: u32 = 0b010_0011;
    pub const AMO: u32 = 0b010_1111;
    pub const OP: u32 = 0b011_0011;
    pub const LUI: u32 = 0b011_0111;
    pub const BRANCH: u32 = 0b110_0011;
    pub const JALR: u32 = 0b110_0111;
    pub const JAL: u32 = 0b110_1111;
    pub const SYSTEM: u32 = 0b111_0011;
}

/// The I-type immediate: `imm[11:0]` in bits 31:20.
const fn imm_i(w: u32) -> i32 {
    (w as i32) >> 20
}

/// The S-type immediate: `imm[11:5]` in 31:25, `imm[4:0]` in 11:7.
const fn imm_s(w: u32) -> i32 {
    sext(bits(w, 31, 25) << 5 | bits(w, 11, 7), 12)
}

/// The B-type byte offset: `imm[12|10:5]` in 31:25, `imm[4:1|11]` in 11:7.
const fn imm_b(w: u32) -> i32 {
    let imm = bit(w, 31) << 12 | bit(w, 7) << 11 | bits(w, 30, 25) << 5 | bits(w, 11, 8) << 1;
    sext(imm, 13)
}

/// The J-type byte offset: `imm[20|10:1|11|19:12]` in 31:12.
const fn imm_j(w: u32) -> i32 {
    let imm = bit(w, 31) << 20 | bits(w, 19, 12) << 12 | bit(w, 20) << 11 | bits(w, 30, 21) << 1;
    sext(imm, 21)
}

/// Decodes a 32-bit instruction; `None` means illegal.
fn decode_full(w: u32) -> Option<Inst> {
    let rd = Reg::new(bits(w, 11, 7));
    let rs1 = Reg::new(bits(w, 19, 15));
    let rs2 = Reg::new(bits(w, 24, 20));
    let funct3 = bits(w, 14, 12);
    let funct7 = bits(w, 31, 25);

    // Opcodes with bits 4:2 = 111 are longer formats; none of them is listed
    // below, so they fall through to `None` with everything else unknown.
    let inst = match bits(w, 6, 0) {
        opcode::LUI => Inst::Lui { rd, imm: w & 0xffff_f000 },
        opcode::AUIPC => Inst::Auipc { rd, imm: w & 0xffff_f000 },
        opcode::JAL => Inst::Jal { rd, offset: imm_j(w) },
        opcode::JALR if funct3 == 0 => Inst::Jalr { rd, rs1, offset: imm_i(w) },
        opcode::BRANCH => Inst::Branch { op: BranchOp::from_code(funct3)?, rs1, rs2, offset: imm_b(w) },
        opcode::LOAD => Inst::Load { op: LoadOp::from_code(funct3)?, rd, rs1, offset: imm_i(w) },
        opcode::STORE => Inst::Store { op: StoreOp::from_code(funct3)?, rs1, rs2, offset: imm_s(w) },
        opcode::OP_IMM => {
            // Shifts keep imm[11:5] as part of the operation; imm[5] set
            // (a shift by 32 or more) matches no table entry on RV32.
            if funct3 == 1 || funct3 == 5 {
                let op = AluImmOp::from_code(funct7 << 3 | funct3)?;
                Inst::AluImm { op, rd, rs1, imm: bits(w, 24, 20) as i32 }
            } else {
                Inst::AluImm { op: AluImmOp::from_code(funct3)?, rd, rs1, imm: imm_i(w) }
            }
        }
        opcode::OP => Inst::Alu { op: AluOp::from_code(funct7 << 3 | funct3)?, rd, rs1, rs2 },
        opcode::MISC_MEM => decode_misc_mem(w, funct3)?,
        opcode::SYSTEM => decode_system(w, funct3, rd, rs1, rs2)?,
        opcode::AMO if funct3 == 0b010 => decode_amo(w, rd, rs1, rs2)?,
        _ => return None,
    };
    Some(inst)
}

/// FENCE and FENCE.I. Their `rd`, `rs1` (and for FENCE.I the immediate) are
/// reserved for finer-grained fences; the manual says base implementations
/// shall ignore them, so any value decodes. Reserved `fm` values must likewise
/// act as a normal fence; the field is kept so the disassembler can tell
/// `fence.tso` apart.
fn decode_misc_mem(w: u32, funct3: u32) -> Option<Inst> {
    match funct3 {
        0b000 => {
            Some(Inst::Fence { pred: bits(w, 27, 24) as u8, succ: bits(w, 23, 20) as u8, fm: bits(w, 31, 28) as u8 })
        }
        0b001 => Some(Inst::FenceI),
        _ => None,
    }
}

/// The SYSTEM opcode: CSR accesses (funct3 != 0) and the fixed privileged
/// instructions (funct3 = 0), which are matched on the whole word because all
/// their other fields must be zero.
fn decode_system(w: u32, funct3: u32, rd: Reg, rs1: Reg, rs2: Reg) -> Option<Inst> {
    if funct3 != 0 {
        // Any 12-bit address decodes: whether the CSR exists and may be
        // accessed is decided at execution, by the MMU.
        let op = CsrOp::from_code(funct3)?;
        return Some(Inst::Csr { op, rd, rs1, csr: bits(w, 31, 20) as u16 });
    }
    // sfence.vma: funct7 = 0001001, rs1 and rs2 are operands, rd must be 0.
    if bits(w, 31, 25) == 0b000_1001 && rd == Reg::ZERO {
        return Some(Inst::SfenceVma { rs1, rs2 });
    }
    match w {
        0x0000_0073 => Some(Inst::Ecall),
        0x0010_0073 => Some(Inst::Ebreak),
        0x1020_0073 => Some(Inst::Sret),
        0x3020_0073 => Some(Inst::Mret),
        0x1050_0073 => Some(Inst::Wfi),
        _ => None,
    }
}

/// Atomics (funct3 already checked to be 010, the `.w` width). `funct5` picks
/// the operation; `lr.w` has no `rs2` and requires the field to be zero.
fn decode_amo(w: u32, rd: Reg, rs1: Reg, rs2: Reg) -> Option<Inst> {
    let aqrl = bits(w, 26, 25) as u8;
    match bits(w, 31, 27) {
        0b00010 if rs2 == Reg::ZERO => Some(Inst::Lr { rd, rs1, aqrl }),
        0b00010 => None,
        0b00011 => Some(Inst::Sc { rd, rs1, rs2, aqrl }),
        funct5 => Some(Inst::Amo { op: AmoOp::from_code(funct5)?, rd, rs1, rs2, aqrl }),
    }
}

// ---------------------------------------------------------------------------
// 16-bit (compressed) instructions
// ---------------------------------------------------------------------------

/// A 3-bit "popular register" field (`rd'`, `rs1'`, `rs2'`): x8..x15.
const fn creg(field: u32) -> Reg {
    Reg::new(8 + (field & 7))
}

/// The CI-format 6-bit immediate: `imm[5]` in bit 12, `imm[4:0]` in 6:2.
const fn c_imm6(h: u32) -> i32 {
    sext(bit(h, 12) << 5 | bits(h, 6, 2), 6)
}

/// The 6-bit shift amount of c.slli/c.srli/c.srai, if it fits RV32
/// (`shamt[5]` set is reserved on RV32).
const fn c_shamt(h: u32) -> Option<i32> {
    if bit(h, 12) == 1 {
        None
    } else {
        Some(bits(h, 6, 2) as i32)
    }
}

/// The CJ-format byte offset of c.j/c.jal: `offset[11|4|9:8|10|6|7|3:1|5]` in 12:2.
const fn c_jump_offset(h: u32) -> i32 {
    let imm = bit(h, 12) << 11
        | bit(h, 11) << 4
        | bits(h, 10, 9) << 8
        | bit(h, 8) << 10
        | bit(h, 7) << 6
        | bit(h, 6) << 7
        | bits(h, 5, 3) << 1
        | bit(h, 2) << 5;
    sext(imm, 12)
}

/// The CB-format byte offset of c.beqz/c.bnez: `offset[8|4:3]` in 12:10,
/// `offset[7:6|2:1|5]` in 6:2.
const fn c_branch_offset(h: u32) -> i32 {
    let imm = bit(h, 12) << 8 | bits(h, 11, 10) << 3 | bits(h, 6, 5) << 6 | bits(h, 4, 3) << 1 | bit(h, 2) << 5;
    sext(imm, 9)
}

/// Decodes and expands a compressed instruction (`h` holds 16 bits); `None`
/// means illegal or reserved.
fn decode_compressed(h: u32) -> Option<Inst> {
    let funct3 = bits(h, 15, 13);
    match bits(h, 1, 0) {
        0b00 => decode_c0(h, funct3),
        0b01 => decode_c1(h, funct3),
        0b10 => decode_c2(h, funct3),
        _ => None,
    }
}

/// Quadrant 0: stack-pointer-based address formation and loads/stores through
/// the popular registers. The floating-point slots (c.fld, c.flw, c.fsd,
/// c.fsw) are illegal because aVM has no FPU.
fn decode_c0(h: u32, funct3: u32) -> Option<Inst> {
    let rd = creg(bits(h, 4, 2));
    let rs1 = creg(bits(h, 9, 7));
    // c.lw / c.sw offset: uimm[5:3] in 12:10, uimm[2|6] in 6:5.
    let word_offset = (bits(h, 12, 10) << 3 | bit(h, 6) << 2 | bit(h, 5) << 6) as i32;
    match funct3 {
        // c.addi4spn: nzuimm[5:4|9:6|2|3] in 12:5; zero is reserved (this
        // includes the all-zero halfword, defined illegal on purpose).
        0b000 => {
            let imm = bits(h, 12, 11) << 4 | bits(h, 10, 7) << 6 | bit(h, 6) << 2 | bit(h, 5) << 3;
            (imm != 0).then_some(Inst::AluImm { op: AluImmOp::Addi, rd, rs1: Reg::SP, imm: imm as i32 })
        }
        0b010 => Some(Inst::Load { op: LoadOp::Lw, rd, rs1, offset: word_offset }),
        0b110 => Some(Inst::Store { op: StoreOp::Sw, rs1, rs2: rd, offset: word_offset }),
        _ => None,
    }
}

/// Quadrant 1: immediates, c.lui/c.addi16sp, register-register ALU forms,
/// jumps and branches.
fn decode_c1(h: u32, funct3: u32) -> Option<Inst> {
    let rd = Reg::new(bits(h, 11, 7));
    let imm = c_imm6(h);
    let inst = match funct3 {
        // c.addi (rd = 0 or imm = 0 are hints, c.nop among them).
        0b000 => Inst::AluImm { op: AluImmOp::Addi, rd, rs1: rd, imm },
        // c.jal is RV32-only: jal ra, offset.
        0b001 => Inst::Jal { rd: Reg::RA, offset: c_jump_offset(h) },
        // c.li (rd = 0 is a hint).
        0b010 => Inst::AluImm { op: AluImmOp::Addi, rd, rs1: Reg::ZERO, imm },
        // c.addi16sp: nzimm[9] in 12, nzimm[4|6|8:7|5] in 6:2.
        0b011 if rd == Reg::SP => {
            let raw = bit(h, 12) << 9 | bit(h, 6) << 4 | bit(h, 5) << 6 | bits(h, 4, 3) << 7 | bit(h, 2) << 5;
            if raw == 0 {
                return None;
            }
            Inst::AluImm { op: AluImmOp::Addi, rd: Reg::SP, rs1: Reg::SP, imm: sext(raw, 10) }
        }
        // c.lui: nzimm[17:12]; zero is reserved, rd = 0 is a hint.
        0b011 => {
            if imm == 0 {
                return None;
            }
            Inst::Lui { rd, imm: (imm as u32) << 12 }
        }
        0b100 => return decode_c1_alu(h),
        // c.j: jal x0, offset.
        0b101 => Inst::Jal { rd: Reg::ZERO, offset: c_jump_offset(h) },
        // c.beqz / c.bnez: compare rs1' with x0.
        0b110 | 0b111 => Inst::Branch {
            op: if funct3 == 0b110 { BranchOp::Beq } else { BranchOp::Bne },
            rs1: creg(bits(h, 9, 7)),
            rs2: Reg::ZERO,
            offset: c_branch_offset(h),
        },
        _ => return None,
    };
    Some(inst)
}

/// Quadrant 1, funct3 = 100: c.srli, c.srai, c.andi and the register-register
/// forms, all on popular registers with `rd' = rs1'`.
fn decode_c1_alu(h: u32) -> Option<Inst> {
    let rd = creg(bits(h, 9, 7));
    let rs2 = creg(bits(h, 4, 2));
    let inst = match bits(h, 11, 10) {
        0b00 => Inst::AluImm { op: AluImmOp::Srli, rd, rs1: rd, imm: c_shamt(h)? },
        0b01 => Inst::AluImm { op: AluImmOp::Srai, rd, rs1: rd, imm: c_shamt(h)? },
        0b10 => Inst::AluImm { op: AluImmOp::Andi, rd, rs1: rd, imm: c_imm6(h) },
        _ => {
            // bit 12 set: c.subw/c.addw on RV64, reserved here.
            if bit(h, 12) == 1 {
                return None;
            }
            let op = match bits(h, 6, 5) {
                0b00 => AluOp::Sub,
                0b01 => AluOp::Xor,
                0b10 => AluOp::Or,
                _ => AluOp::And,
            };
            Inst::Alu { op, rd, rs1: rd, rs2 }
        }
    };
    Some(inst)
}

/// Quadrant 2: c.slli, stack-pointer loads/stores, and the full-register
/// forms c.jr, c.mv, c.ebreak, c.jalr, c.add.
fn decode_c2(h: u32, funct3: u32) -> Option<Inst> {
    let rd = Reg::new(bits(h, 11, 7));
    let rs2 = Reg::new(bits(h, 6, 2));
    let inst = match funct3 {
        // c.slli (rd = 0 is a hint).
        0b000 => Inst::AluImm { op: AluImmOp::Slli, rd, rs1: rd, imm: c_shamt(h)? },
        // c.lwsp: uimm[5] in 12, uimm[4:2|7:6] in 6:2; rd = 0 is reserved.
        0b010 if rd != Reg::ZERO => {
            let offset = bit(h, 12) << 5 | bits(h, 6, 4) << 2 | bits(h, 3, 2) << 6;
            Inst::Load { op: LoadOp::Lw, rd, rs1: Reg::SP, offset: offset as i32 }
        }
        0b100 => match (bit(h, 12), rd == Reg::ZERO, rs2 == Reg::ZERO) {
            // c.jr (rs1 = 0 is reserved).
            (0, false, true) => Inst::Jalr { rd: Reg::ZERO, rs1: rd, offset: 0 },
            (0, true, true) => return None,
            // c.mv: add rd, x0, rs2 (rd = 0 is a hint).
            (0, _, false) => Inst::Alu { op: AluOp::Add, rd, rs1: Reg::ZERO, rs2 },
            (_, true, true) => Inst::Ebreak,
            // c.jalr: jalr ra, 0(rs1).
            (_, false, true) => Inst::Jalr { rd: Reg::RA, rs1: rd, offset: 0 },
            // c.add (rd = 0 is a hint).
            (_, _, false) => Inst::Alu { op: AluOp::Add, rd, rs1: rd, rs2 },
        },
        // c.swsp: uimm[5:2|7:6] in 12:7.
        0b110 => {
            let offset = bits(h, 12, 9) << 2 | bits(h, 8, 7) << 6;
            Inst::Store { op: StoreOp::Sw, rs1: Reg::SP, rs2, offset: offset as i32 }
        }
        _ => return None,
    };
    Some(inst)
}
