//! # avm-isa: the RV32IMAC instruction set
//!
//! This crate is the single description of the instructions aVM executes:
//! RV32I, M (multiply/divide), A (atomics), C (compressed), Zicsr, Zifencei and
//! the privileged instructions (`mret`, `sret`, `wfi`, `sfence.vma`).
//!
//! - [`inst`] is the instruction table: an [`Inst`] enum grouped by operand shape,
//!   each shape with an operation enum listing mnemonic and encoding once.
//! - [`decode`] turns any 32-bit word into an [`Inst`] plus a length. Compressed
//!   (16-bit) encodings are expanded to the base instruction they stand for, so
//!   engines never see them. Every word that is not a valid instruction decodes
//!   to [`Inst::Illegal`]; decoding never panics.
//! - [`disasm`] prints objdump-style text.
//! - [`asm`] is a small assembler so tests and fuzzers can build programs in Rust
//!   without a RISC-V toolchain.
//! - [`csr`] lists CSR addresses and names.
//! - [`facts`] states per-instruction facts once, next to the table: the
//!   [`Class`] of an instruction, the registers it reads and writes, the
//!   [`Cond`] a branch tests. Every engine's lowering matches them
//!   exhaustively.
//!
//! Why one table: an emulator with two engines is only trustworthy if both read
//! the same meaning out of the same bits. Keeping decoding here, and keeping
//! instruction *meaning* only in the interpreter and the JIT, means there is
//! exactly one place that can misread an encoding.
#![forbid(unsafe_code)]

pub mod asm;
pub mod csr;
mod decode;
pub mod disasm;
pub mod facts;
pub mod inst;

pub use decode::{decode, inst_len};
pub use facts::{Class, Cond, Regs};
pub use inst::{AluImmOp, AluOp, AmoOp, BranchOp, CsrOp, Decoded, Inst, LoadOp, Reg, StoreOp};
