//! A small assembler, so tests and fuzzers can write RISC-V programs in Rust
//! without a cross toolchain.
//!
//! Two layers:
//!
//! - [`encode`] and [`encode_compressed`] turn one [`Inst`] into bits, using
//!   the `code()` of the same tables the decoder reads with `from_code`;
//! - [`Asm`] lays instructions out from a base address and resolves *labels*:
//!   a branch to a label that is not bound yet gets a placeholder and a
//!   *fixup*, which [`Asm::finish`] patches once every address is known. This
//!   is the classic one-pass assembler with backpatching.
//!
//! Every method that emits code appends a fixed number of bytes even when
//! something is wrong, so later addresses stay meaningful; the first problem is
//! remembered and returned by [`Asm::finish`] as an [`AsmError`]. Nothing
//! panics, whatever the input.
//!
//! ```
//! use avm_isa::asm::Asm;
//! use avm_isa::Reg;
//!
//! let (a0, a1) = (Reg::new(10), Reg::new(11));
//! let mut a = Asm::new(0x8000_0000);
//! a.li(a1, 10);
//! let top = a.here();
//! a.addi(a0, a0, 1);
//! a.bne_label(a0, a1, top);
//! let bytes = a.finish().expect("valid program");
//! assert_eq!(bytes.len(), 12);
//! ```

mod encode;

pub use encode::{encode, encode_compressed};

use crate::decode;
use crate::inst::{AluImmOp, AluOp, BranchOp, CsrOp, Inst, LoadOp, Reg, StoreOp};

/// A position in the program, created by [`Asm::new_label`] and given an
/// address by [`Asm::bind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Label(usize);

/// Why a program could not be assembled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AsmError {
    /// A label was referenced but never bound (or belongs to another [`Asm`]).
    #[error("label {0:?} is used but never bound")]
    UnboundLabel(Label),
    /// A label was bound a second time.
    #[error("label {0:?} is bound twice")]
    LabelBoundTwice(Label),
    /// A branch or jump cannot reach its label (too far, or an odd distance).
    #[error("the instruction at {at:#x} cannot reach its target {offset} bytes away")]
    OutOfRange {
        /// address of the branch or jump
        at: u32,
        /// distance to the target in bytes
        offset: i64,
    },
    /// An instruction has operands its encoding cannot hold (for example an
    /// `addi` immediate outside -2048..=2047).
    #[error("{inst:?} at {at:#x} has no encoding")]
    Unencodable {
        /// address of the instruction
        at: u32,
        /// the instruction as given
        inst: Inst,
    },
    /// [`Asm::compressed`] was given an instruction with no 16-bit form.
    #[error("{inst:?} at {at:#x} has no compressed form")]
    NoCompressedForm {
        /// address of the instruction
        at: u32,
        /// the instruction as given
        inst: Inst,
    },
}

/// What a fixup writes once its label has an address.
#[derive(Clone, Copy, Debug)]
enum Patch {
    /// A conditional branch to the label.
    Branch { op: BranchOp, rs1: Reg, rs2: Reg },
    /// `jal rd, label`.
    Jal { rd: Reg },
    /// `auipc rd, %pcrel_hi(label); addi rd, rd, %pcrel_lo(label)`.
    PcRel { rd: Reg },
}

/// A reference to a label from the code at byte offset `at`.
#[derive(Clone, Copy, Debug)]
struct Fixup {
    at: usize,
    label: Label,
    patch: Patch,
}

/// A program being assembled at a fixed base address.
#[derive(Clone, Debug)]
pub struct Asm {
    base: u32,
    bytes: Vec<u8>,
    /// Byte offset of each label, once bound.
    labels: Vec<Option<usize>>,
    fixups: Vec<Fixup>,
    /// The first problem met, reported by [`Asm::finish`].
    error: Option<AsmError>,
}

/// True if `inst` survives an encode/decode round trip, i.e. its operands fit.
fn encodable(inst: &Inst) -> bool {
    decode(encode(inst)).inst == *inst
}

/// Generates `beq_label` ... `bgeu_label`: one line per branch operation.
macro_rules! branch_label_methods {
    ($($name:ident => $op:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($op), " rs1, rs2, label` (see [`Asm::branch_label`]).")]
        pub fn $name(&mut self, rs1: Reg, rs2: Reg, label: Label) {
            self.branch_label(BranchOp::$op, rs1, rs2, label);
        }
    )*};
}

impl Asm {
    /// An empty program whose first byte will sit at `base`.
    pub fn new(base: u32) -> Asm {
        Asm { base, bytes: Vec::new(), labels: Vec::new(), fixups: Vec::new(), error: None }
    }

    /// The address of byte offset `offset`. Addresses wrap modulo 2^32, as the
    /// pc does; a program of 4 GiB is not a concern for a test assembler.
    fn addr(&self, offset: usize) -> u32 {
        self.base.wrapping_add(offset as u32)
    }

    /// The address the next emitted byte will have.
    pub fn pc(&self) -> u32 {
        self.addr(self.bytes.len())
    }

    /// The bytes emitted so far (fixups not yet applied).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True if nothing has been emitted yet.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Remembers the first error; later ones are usually consequences.
    fn fail(&mut self, error: AsmError) {
        self.error.get_or_insert(error);
    }

    /// A fresh, unbound label.
    pub fn new_label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Binds `label` to the current position.
    pub fn bind(&mut self, label: Label) {
        let here = self.bytes.len();
        match self.labels.get_mut(label.0) {
            Some(slot @ None) => *slot = Some(here),
            Some(Some(_)) => self.fail(AsmError::LabelBoundTwice(label)),
            None => self.fail(AsmError::UnboundLabel(label)),
        }
    }

    /// A new label bound to the current position (for backward branches).
    pub fn here(&mut self) -> Label {
        let label = self.new_label();
        self.bind(label);
        label
    }

    /// The address of a bound label.
    pub fn address_of(&self, label: Label) -> Option<u32> {
        let offset = (*self.labels.get(label.0)?)?;
        Some(self.addr(offset))
    }

    /// Emits a raw 32-bit word (little-endian), valid instruction or not.
    pub fn word(&mut self, word: u32) {
        self.bytes.extend_from_slice(&word.to_le_bytes());
    }

    /// Emits a raw 16-bit halfword (little-endian).
    pub fn half(&mut self, half: u16) {
        self.bytes.extend_from_slice(&half.to_le_bytes());
    }

    /// Emits raw bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// Emits `inst` in its 32-bit encoding. Operands that do not fit their
    /// fields are an [`AsmError::Unencodable`].
    pub fn inst(&mut self, inst: Inst) {
        if !encodable(&inst) {
            self.fail(AsmError::Unencodable { at: self.pc(), inst });
        }
        self.word(encode(&inst));
    }

    /// Emits `inst` in a 16-bit compressed encoding; an instruction without one
    /// is an [`AsmError::NoCompressedForm`] (and two zero bytes are emitted).
    pub fn compressed(&mut self, inst: Inst) {
        match encode_compressed(&inst) {
            Some(half) => self.half(half),
            None => {
                self.fail(AsmError::NoCompressedForm { at: self.pc(), inst });
                self.half(0);
            }
        }
    }

    /// `op rd, rs1, rs2`.
    pub fn alu(&mut self, op: AluOp, rd: Reg, rs1: Reg, rs2: Reg) {
        self.inst(Inst::Alu { op, rd, rs1, rs2 });
    }

    /// `op rd, rs1, imm` (imm is the shift amount for shifts).
    pub fn alu_imm(&mut self, op: AluImmOp, rd: Reg, rs1: Reg, imm: i32) {
        self.inst(Inst::AluImm { op, rd, rs1, imm });
    }

    /// `addi rd, rs1, imm`.
    pub fn addi(&mut self, rd: Reg, rs1: Reg, imm: i32) {
        self.alu_imm(AluImmOp::Addi, rd, rs1, imm);
    }

    /// `op rd, offset(rs1)`.
    pub fn load(&mut self, op: LoadOp, rd: Reg, rs1: Reg, offset: i32) {
        self.inst(Inst::Load { op, rd, rs1, offset });
    }

    /// `op rs2, offset(rs1)`: stores `rs2` at `rs1 + offset`.
    pub fn store(&mut self, op: StoreOp, rs2: Reg, rs1: Reg, offset: i32) {
        self.inst(Inst::Store { op, rs1, rs2, offset });
    }

    /// Loads a 32-bit constant into `rd` with the shortest of `addi`, `lui`, or
    /// `lui` + `addi` (1 or 2 instructions).
    pub fn li(&mut self, rd: Reg, value: u32) {
        // addi sign-extends its 12 bits, so round the upper part up when bit 11
        // is set: value = hi + sext(lo).
        let hi = value.wrapping_add(0x800) & 0xffff_f000;
        let lo = value.wrapping_sub(hi) as i32;
        if hi == 0 {
            self.addi(rd, Reg::ZERO, lo);
            return;
        }
        self.inst(Inst::Lui { rd, imm: hi });
        if lo != 0 {
            self.addi(rd, rd, lo);
        }
    }

    /// `csrrs rd, csr, zero`: reads a CSR.
    pub fn csrr(&mut self, rd: Reg, csr: u16) {
        self.inst(Inst::Csr { op: CsrOp::Rs, rd, rs1: Reg::ZERO, csr });
    }

    /// `csrrw zero, csr, rs`: writes a CSR.
    pub fn csrw(&mut self, csr: u16, rs: Reg) {
        self.inst(Inst::Csr { op: CsrOp::Rw, rd: Reg::ZERO, rs1: rs, csr });
    }

    /// Records a reference to `label` and emits `words` placeholder words.
    fn fixup(&mut self, label: Label, patch: Patch, words: usize) {
        self.fixups.push(Fixup { at: self.bytes.len(), label, patch });
        for _ in 0..words {
            self.word(0);
        }
    }

    /// `op rs1, rs2, label`: a conditional branch (reach ±4 KiB).
    pub fn branch_label(&mut self, op: BranchOp, rs1: Reg, rs2: Reg, label: Label) {
        self.fixup(label, Patch::Branch { op, rs1, rs2 }, 1);
    }

    branch_label_methods! {
        beq_label => Beq, bne_label => Bne, blt_label => Blt,
        bge_label => Bge, bltu_label => Bltu, bgeu_label => Bgeu,
    }

    /// `jal rd, label` (reach ±1 MiB).
    pub fn jal_label(&mut self, rd: Reg, label: Label) {
        self.fixup(label, Patch::Jal { rd }, 1);
    }

    /// `jal zero, label`: an unconditional jump.
    pub fn j(&mut self, label: Label) {
        self.jal_label(Reg::ZERO, label);
    }

    /// `auipc rd, ..; addi rd, rd, ..`: the address of `label`, computed
    /// pc-relative so the program works wherever the base is.
    pub fn la(&mut self, rd: Reg, label: Label) {
        self.fixup(label, Patch::PcRel { rd }, 2);
    }

    /// Writes `inst` over the placeholder word at byte offset `at`.
    fn patch_word(&mut self, at: usize, inst: Inst) {
        if let Some(slot) = self.bytes.get_mut(at..at + 4) {
            slot.copy_from_slice(&encode(&inst).to_le_bytes());
        }
    }

    /// Resolves one fixup: computes the distance to its label and writes the
    /// final instruction(s).
    fn resolve(&mut self, fixup: Fixup) -> Result<(), AsmError> {
        let target = self.labels.get(fixup.label.0).copied().flatten().ok_or(AsmError::UnboundLabel(fixup.label))?;
        let at = self.addr(fixup.at);
        // Distances between two offsets of one Vec always fit in i64.
        let distance = target as i64 - fixup.at as i64;
        let out_of_range = AsmError::OutOfRange { at, offset: distance };
        let offset = i32::try_from(distance).map_err(|_| out_of_range.clone())?;
        match fixup.patch {
            Patch::Branch { op, rs1, rs2 } => {
                let inst = Inst::Branch { op, rs1, rs2, offset };
                if !encodable(&inst) {
                    return Err(out_of_range);
                }
                self.patch_word(fixup.at, inst);
            }
            Patch::Jal { rd } => {
                let inst = Inst::Jal { rd, offset };
                if !encodable(&inst) {
                    return Err(out_of_range);
                }
                self.patch_word(fixup.at, inst);
            }
            Patch::PcRel { rd } => {
                // Same split as `li`, on the distance; any 32-bit distance works.
                let rel = offset as u32;
                let hi = rel.wrapping_add(0x800) & 0xffff_f000;
                let lo = rel.wrapping_sub(hi) as i32;
                self.patch_word(fixup.at, Inst::Auipc { rd, imm: hi });
                let addi = Inst::AluImm { op: AluImmOp::Addi, rd, rs1: rd, imm: lo };
                self.patch_word(fixup.at + 4, addi);
            }
        }
        Ok(())
    }

    /// Applies every fixup and returns the program's bytes, or the first
    /// problem met while assembling.
    pub fn finish(mut self) -> Result<Vec<u8>, AsmError> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        for fixup in std::mem::take(&mut self.fixups) {
            self.resolve(fixup)?;
        }
        Ok(self.bytes)
    }
}
