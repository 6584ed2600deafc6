//! Lowering of block bodies to pre-resolved handlers.
//!
//! Dispatching on [`Inst`] costs two indirect jumps per instruction: one on the
//! shape (`Alu`, `Load`, ...) and one on the operation inside it (`AluOp::Add`,
//! ...). For the body of a block, which is only ever ALU operations, loads and
//! stores, the interpreter resolves both at decode time: each body instruction
//! becomes a [`BodyOp`] holding a function pointer to a handler specialised for
//! its operation (a const-generic instance of one of the functions below) and
//! its operands. The handlers call the same [`alu`], [`alu_imm`], [`load`] and
//! [`store`] as [`execute`], with the operation a compile-time constant, so the
//! meaning of each instruction still lives in one place.
//!
//! Anything else that can appear in a body (atomics, fences) gets a generic
//! handler that calls [`execute`].

use crate::exec::{alu, alu_imm, execute, load, store};
use avm_isa::{AluImmOp, AluOp, Class, Inst, LoadOp, StoreOp};
use avm_mmu::{Machine, Trap};

/// Why a body instruction ends its block early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// It faulted; nothing of it retired.
    Trap(Trap),
    /// It retired, but a store hit a code page or a device, so the block ends
    /// after it.
    EndBlock,
}

impl From<Trap> for Stop {
    fn from(trap: Trap) -> Stop {
        Stop::Trap(trap)
    }
}

/// A body handler: runs the instruction at `pc`. (`Result<(), Stop>` fits in
/// one register, so the common `Ok` costs one compare at the call site.)
pub type Handler = fn(&mut Machine, &BodyOp, u32) -> Result<(), Stop>;

/// `Ok` unless a store asked for the block to end.
#[inline(always)]
fn unless_stopped(m: &Machine) -> Result<(), Stop> {
    if m.stop_block {
        Err(Stop::EndBlock)
    } else {
        Ok(())
    }
}

/// One lowered body instruction.
#[derive(Clone, Copy)]
pub struct BodyOp {
    /// The specialised handler.
    pub run: Handler,
    /// Destination register index.
    pub rd: u8,
    /// First source register index.
    pub rs1: u8,
    /// Second source register index.
    pub rs2: u8,
    /// Encoded length (2 or 4).
    pub len: u8,
    /// Immediate, offset or upper immediate.
    pub imm: u32,
    /// The instruction, for the generic handler and for tracing.
    pub inst: Inst,
}

impl std::fmt::Debug for BodyOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BodyOp({:?})", self.inst)
    }
}

/// Register index as a `[u32; 32]` index (always in bounds).
#[inline(always)]
fn r(i: u8) -> usize {
    usize::from(i & 31)
}

fn alu_h<const I: usize>(m: &mut Machine, o: &BodyOp, _pc: u32) -> Result<(), Stop> {
    let x = &mut m.hart.x;
    x[r(o.rd)] = alu(AluOp::ALL[I], x[r(o.rs1)], x[r(o.rs2)]);
    Ok(())
}

fn alu_imm_h<const I: usize>(m: &mut Machine, o: &BodyOp, _pc: u32) -> Result<(), Stop> {
    let x = &mut m.hart.x;
    x[r(o.rd)] = alu_imm(AluImmOp::ALL[I], x[r(o.rs1)], o.imm as i32);
    Ok(())
}

fn load_h<const I: usize>(m: &mut Machine, o: &BodyOp, _pc: u32) -> Result<(), Stop> {
    let addr = m.hart.x[r(o.rs1)].wrapping_add(o.imm);
    let v = load(m, LoadOp::ALL[I], addr)?;
    m.hart.x[r(o.rd)] = v;
    // A load into x0 still accesses memory (and may fault), so it keeps its
    // handler; its result is discarded here.
    m.hart.x[0] = 0;
    Ok(())
}

fn store_h<const I: usize>(m: &mut Machine, o: &BodyOp, _pc: u32) -> Result<(), Stop> {
    let addr = m.hart.x[r(o.rs1)].wrapping_add(o.imm);
    store(m, StoreOp::ALL[I], addr, m.hart.x[r(o.rs2)])?;
    unless_stopped(m)
}

fn lui_h(m: &mut Machine, o: &BodyOp, _pc: u32) -> Result<(), Stop> {
    m.hart.x[r(o.rd)] = o.imm;
    Ok(())
}

fn auipc_h(m: &mut Machine, o: &BodyOp, pc: u32) -> Result<(), Stop> {
    m.hart.x[r(o.rd)] = pc.wrapping_add(o.imm);
    Ok(())
}

fn generic_h(m: &mut Machine, o: &BodyOp, pc: u32) -> Result<(), Stop> {
    // Atomics and fences never end a block by themselves; an AMO that hits a
    // code page reports it through `m.stop_block` like a store.
    execute(m, o.inst, pc, u32::from(o.len))?;
    m.hart.x[0] = 0;
    unless_stopped(m)
}

/// Register-only instructions that write `x0` do nothing at all.
fn nop_h(_m: &mut Machine, _o: &BodyOp, _pc: u32) -> Result<(), Stop> {
    Ok(())
}

/// `[f::<0>, f::<1>, ...]`: one specialised handler per table entry. The array
/// type pins the length to the op table's, so a new operation does not compile
/// until its index is listed here.
macro_rules! handlers {
    ($f:ident, $ty:ty; $($i:literal)*) => {{
        const TABLE: [Handler; <$ty>::ALL.len()] = [$($f::<$i>,)*];
        &TABLE
    }};
}

fn index_of<T: PartialEq>(all: &[T], op: &T) -> usize {
    all.iter().position(|o| o == op).unwrap_or(0)
}

/// Lower a body instruction (one that does not end a block).
pub fn lower(inst: Inst, len: u8) -> BodyOp {
    let mut o = BodyOp { run: generic_h, rd: 0, rs1: 0, rs2: 0, len, imm: 0, inst };
    match inst {
        Inst::Alu { op, rd, rs1, rs2 } => {
            let t = handlers!(alu_h, AluOp; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17);
            (o.run, o.rd, o.rs1, o.rs2) =
                (t[index_of(AluOp::ALL, &op)], rd.idx() as u8, rs1.idx() as u8, rs2.idx() as u8);
        }
        Inst::AluImm { op, rd, rs1, imm } => {
            let t = handlers!(alu_imm_h, AluImmOp; 0 1 2 3 4 5 6 7 8);
            (o.run, o.rd, o.rs1, o.imm) =
                (t[index_of(AluImmOp::ALL, &op)], rd.idx() as u8, rs1.idx() as u8, imm as u32);
        }
        Inst::Load { op, rd, rs1, offset } => {
            let t = handlers!(load_h, LoadOp; 0 1 2 3 4);
            (o.run, o.rd, o.rs1, o.imm) =
                (t[index_of(LoadOp::ALL, &op)], rd.idx() as u8, rs1.idx() as u8, offset as u32);
        }
        Inst::Store { op, rs1, rs2, offset } => {
            let t = handlers!(store_h, StoreOp; 0 1 2);
            (o.run, o.rs1, o.rs2, o.imm) =
                (t[index_of(StoreOp::ALL, &op)], rs1.idx() as u8, rs2.idx() as u8, offset as u32);
        }
        Inst::Lui { rd, imm } => (o.run, o.rd, o.imm) = (lui_h, rd.idx() as u8, imm),
        Inst::Auipc { rd, imm } => (o.run, o.rd, o.imm) = (auipc_h, rd.idx() as u8, imm),
        // Everything else keeps the generic handler, which runs `execute`.
        // Listed rather than `_`, so a new instruction is a decision here.
        Inst::Jal { .. }
        | Inst::Jalr { .. }
        | Inst::Branch { .. }
        | Inst::Fence { .. }
        | Inst::FenceI
        | Inst::Ecall
        | Inst::Ebreak
        | Inst::Mret
        | Inst::Sret
        | Inst::Wfi
        | Inst::SfenceVma { .. }
        | Inst::Csr { .. }
        | Inst::Lr { .. }
        | Inst::Sc { .. }
        | Inst::Amo { .. }
        | Inst::Illegal { .. } => {}
    }
    // A register-only instruction into `x0` does nothing.
    if inst.class() == Class::Alu && o.rd == 0 {
        o.run = nop_h;
    }
    o
}
