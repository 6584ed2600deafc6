//! The disassembler: objdump-style text for a decoded instruction.
//!
//! The output follows GNU objdump with `-M no-aliases`: every instruction is
//! printed under its real mnemonic (`addi zero,zero,0`, not `nop`; `jalr
//! zero,0(ra)`, not `ret`), so the text names exactly the [`Inst`] the engines
//! execute. Compressed instructions print as the base instruction they expand
//! to. Registers use ABI names, CSRs their names from [`crate::csr`] (or the
//! address in hex), and branch and jump targets are absolute addresses computed
//! from the pc, as objdump shows them.
//!
//! [`Disasm`] implements [`fmt::Display`] and writes straight into the
//! formatter, so a tracer can print steps without allocating a `String` per
//! instruction; [`disasm`] is the convenience form that returns one.

use core::fmt;

use crate::csr;
use crate::inst::{Decoded, Inst};

/// An instruction at an address, ready to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disasm {
    /// the instruction and its length
    pub decoded: Decoded,
    /// the address it was fetched from (for branch and jump targets)
    pub pc: u32,
}

/// The objdump-style text of `d` fetched at `pc`.
pub fn disasm(d: &Decoded, pc: u32) -> String {
    Disasm { decoded: *d, pc }.to_string()
}

/// The `.aq`/`.rl`/`.aqrl` suffix of an atomic's ordering bits.
fn aqrl_suffix(aqrl: u8) -> &'static str {
    match aqrl & 3 {
        0 => "",
        1 => ".rl",
        2 => ".aq",
        _ => ".aqrl",
    }
}

/// A fence's predecessor or successor set: some of `iorw`, or `0` if empty.
struct FenceSet(u8);

impl fmt::Display for FenceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 & 0xf == 0 {
            return f.write_str("0");
        }
        for (mask, letter) in [(8, "i"), (4, "o"), (2, "r"), (1, "w")] {
            if self.0 & mask != 0 {
                f.write_str(letter)?;
            }
        }
        Ok(())
    }
}

/// A CSR operand: its name if aVM implements it, else the address in hex.
struct CsrName(u16);

impl fmt::Display for CsrName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match csr::name(self.0) {
            Some(name) => f.write_str(name),
            None => write!(f, "{:#x}", self.0),
        }
    }
}

impl fmt::Display for Disasm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pc = self.pc;
        let target = |offset: i32| pc.wrapping_add_signed(offset);
        match self.decoded.inst {
            Inst::Lui { rd, imm } => write!(f, "lui {rd},{:#x}", imm >> 12),
            Inst::Auipc { rd, imm } => write!(f, "auipc {rd},{:#x}", imm >> 12),
            Inst::Jal { rd, offset } => write!(f, "jal {rd},{:#x}", target(offset)),
            Inst::Jalr { rd, rs1, offset } => write!(f, "jalr {rd},{offset}({rs1})"),
            Inst::Branch { op, rs1, rs2, offset } => {
                write!(f, "{op} {rs1},{rs2},{:#x}", target(offset))
            }
            Inst::Load { op, rd, rs1, offset } => write!(f, "{op} {rd},{offset}({rs1})"),
            Inst::Store { op, rs1, rs2, offset } => write!(f, "{op} {rs2},{offset}({rs1})"),
            Inst::AluImm { op, rd, rs1, imm } if op.is_shift() => {
                write!(f, "{op} {rd},{rs1},{imm:#x}")
            }
            Inst::AluImm { op, rd, rs1, imm } => write!(f, "{op} {rd},{rs1},{imm}"),
            Inst::Alu { op, rd, rs1, rs2 } => write!(f, "{op} {rd},{rs1},{rs2}"),
            Inst::Fence { pred: 3, succ: 3, fm: 8 } => f.write_str("fence.tso"),
            Inst::Fence { pred, succ, .. } => {
                write!(f, "fence {},{}", FenceSet(pred), FenceSet(succ))
            }
            Inst::FenceI => f.write_str("fence.i"),
            Inst::Ecall => f.write_str("ecall"),
            Inst::Ebreak => f.write_str("ebreak"),
            Inst::Mret => f.write_str("mret"),
            Inst::Sret => f.write_str("sret"),
            Inst::Wfi => f.write_str("wfi"),
            Inst::SfenceVma { rs1, rs2 } => write!(f, "sfence.vma {rs1},{rs2}"),
            Inst::Csr { op, rd, rs1, csr } if op.is_imm() => {
                write!(f, "{op} {rd},{},{}", CsrName(csr), rs1.num())
            }
            Inst::Csr { op, rd, rs1, csr } => write!(f, "{op} {rd},{},{rs1}", CsrName(csr)),
            Inst::Lr { rd, rs1, aqrl } => write!(f, "lr.w{} {rd},({rs1})", aqrl_suffix(aqrl)),
            Inst::Sc { rd, rs1, rs2, aqrl } => {
                write!(f, "sc.w{} {rd},{rs2},({rs1})", aqrl_suffix(aqrl))
            }
            Inst::Amo { op, rd, rs1, rs2, aqrl } => {
                write!(f, "{op}{} {rd},{rs2},({rs1})", aqrl_suffix(aqrl))
            }
            Inst::Illegal { word } if self.decoded.len == 2 => write!(f, "illegal {word:#06x}"),
            Inst::Illegal { word } => write!(f, "illegal {word:#010x}"),
        }
    }
}
