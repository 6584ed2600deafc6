//! The meaning of every instruction: the reference semantics of aVM.
//!
//! [`execute`] takes one decoded instruction and the machine, does what the
//! ISA manual says, and reports where execution goes next. It knows nothing
//! about blocks, caches or budgets; the JIT calls it too, for the instructions
//! it does not translate inline (CSR access, `mret`, ...), so those have one
//! meaning in the whole project.

use avm_isa::{AluImmOp, AluOp, AmoOp, BranchOp, CsrOp, Inst, LoadOp, StoreOp};
use avm_mmu::{Exit, Machine, Trap, TrapCause};

/// Where execution continues after an instruction that did not trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Continue at this pc; the instruction retired. A basic block may go on
    /// if this is the fall-through address.
    Next(u32),
    /// Continue at this pc, but end the block first: the instruction changed
    /// something the next one must observe from the dispatcher (CSR state,
    /// privilege, translation, code bytes, pending interrupts).
    EndBlock(u32),
    /// The instruction retired and the engine must stop with this exit
    /// (`wfi` with nothing pending). The pc is the next instruction.
    Exit(u32, Exit),
}

/// Execute `inst`, located at `pc` and `len` bytes long.
///
/// On `Err(trap)` nothing architectural has changed except what the spec lets
/// a faulting instruction leave behind (A/D bits of a walk); the caller makes
/// `pc` the faulting instruction and raises the trap.
#[inline(always)]
pub fn execute(m: &mut Machine, inst: Inst, pc: u32, len: u32) -> Result<Step, Trap> {
    let next = pc.wrapping_add(len);
    let x = &mut m.hart.x;
    match inst {
        Inst::AluImm { op, rd, rs1, imm } => x[rd.idx()] = alu_imm(op, x[rs1.idx()], imm),
        Inst::Alu { op, rd, rs1, rs2 } => x[rd.idx()] = alu(op, x[rs1.idx()], x[rs2.idx()]),
        Inst::Lui { rd, imm } => x[rd.idx()] = imm,
        Inst::Auipc { rd, imm } => x[rd.idx()] = pc.wrapping_add(imm),
        Inst::Load { op, rd, rs1, offset } => {
            let addr = x[rs1.idx()].wrapping_add(offset as u32);
            let v = load(m, op, addr)?;
            m.hart.x[rd.idx()] = v;
        }
        Inst::Store { op, rs1, rs2, offset } => {
            let addr = x[rs1.idx()].wrapping_add(offset as u32);
            let v = x[rs2.idx()];
            store(m, op, addr, v)?;
            if m.stop_block {
                return Ok(Step::EndBlock(next));
            }
        }
        Inst::Branch { op, rs1, rs2, offset } => {
            if branch_taken(op, x[rs1.idx()], x[rs2.idx()]) {
                return Ok(Step::Next(pc.wrapping_add(offset as u32)));
            }
        }
        Inst::Jal { rd, offset } => {
            x[rd.idx()] = next;
            return Ok(Step::Next(pc.wrapping_add(offset as u32)));
        }
        Inst::Jalr { rd, rs1, offset } => {
            let target = x[rs1.idx()].wrapping_add(offset as u32) & !1;
            x[rd.idx()] = next;
            return Ok(Step::Next(target));
        }
        Inst::Lr { rd, rs1, .. } => {
            let addr = x[rs1.idx()];
            let v = m.load_reserved(addr)?;
            m.hart.x[rd.idx()] = v;
        }
        Inst::Sc { rd, rs1, rs2, .. } => {
            let (addr, v) = (x[rs1.idx()], x[rs2.idx()]);
            let status = m.store_conditional(addr, v)?;
            m.hart.x[rd.idx()] = status;
            if m.stop_block {
                return Ok(Step::EndBlock(next));
            }
        }
        Inst::Amo { op, rd, rs1, rs2, .. } => {
            let (addr, src) = (x[rs1.idx()], x[rs2.idx()]);
            let old = m.amo(addr, |old| amo(op, old, src))?;
            m.hart.x[rd.idx()] = old;
            if m.stop_block {
                return Ok(Step::EndBlock(next));
            }
        }
        // One in-order hart: memory ordering needs nothing. Instruction fetch
        // is always coherent with stores (a store to a code page invalidates
        // it), so `fence.i` only has to end the block.
        Inst::Fence { .. } => {}
        Inst::FenceI => return Ok(Step::EndBlock(next)),
        Inst::Ecall => return Err(Trap::new(TrapCause::ecall_from(m.hart.privilege), 0)),
        Inst::Ebreak => return Err(Trap::new(TrapCause::Breakpoint, pc)),
        Inst::Csr { op, rd, rs1, csr } => return csr_op(m, inst, op, rd.idx(), rs1, csr, next),
        Inst::Mret => {
            return if m.mret() { Ok(Step::EndBlock(m.hart.pc)) } else { Err(illegal(inst)) };
        }
        Inst::Sret => {
            return if m.sret() { Ok(Step::EndBlock(m.hart.pc)) } else { Err(illegal(inst)) };
        }
        Inst::Wfi => {
            if !m.wfi_allowed() {
                return Err(illegal(inst));
            }
            return Ok(if m.wfi_wakes() { Step::EndBlock(next) } else { Step::Exit(next, Exit::WaitForInterrupt) });
        }
        Inst::SfenceVma { .. } => {
            if !m.sfence_allowed() {
                return Err(illegal(inst));
            }
            m.tlb.flush();
            return Ok(Step::EndBlock(next));
        }
        Inst::Illegal { word } => return Err(Trap::illegal(word)),
    }
    Ok(Step::Next(next))
}

/// The illegal-instruction trap for an instruction that decoded but may not
/// execute here. Only 32-bit SYSTEM instructions get here, and for them the
/// encoder reproduces the exact fetched bits.
fn illegal(inst: Inst) -> Trap {
    Trap::illegal(avm_isa::asm::encode(&inst))
}

/// Register-register ALU and M-extension operations.
#[inline(always)]
pub fn alu(op: AluOp, a: u32, b: u32) -> u32 {
    let (sa, sb) = (a as i32, b as i32);
    match op {
        AluOp::Add => a.wrapping_add(b),
        AluOp::Sub => a.wrapping_sub(b),
        AluOp::Sll => a << (b & 31),
        AluOp::Slt => u32::from(avm_isa::Cond::Lt.holds(a, b)),
        AluOp::Sltu => u32::from(avm_isa::Cond::Ltu.holds(a, b)),
        AluOp::Xor => a ^ b,
        AluOp::Srl => a >> (b & 31),
        AluOp::Sra => (sa >> (b & 31)) as u32,
        AluOp::Or => a | b,
        AluOp::And => a & b,
        AluOp::Mul => a.wrapping_mul(b),
        AluOp::Mulh => ((i64::from(sa) * i64::from(sb)) >> 32) as u32,
        AluOp::Mulhsu => ((i64::from(sa) * i64::from(b)) >> 32) as u32,
        AluOp::Mulhu => ((u64::from(a) * u64::from(b)) >> 32) as u32,
        // Division never traps in RISC-V: x/0 = all ones, MIN/-1 = MIN.
        AluOp::Div => match sb {
            0 => u32::MAX,
            _ => sa.wrapping_div(sb) as u32,
        },
        AluOp::Divu => a.checked_div(b).unwrap_or(u32::MAX),
        // x%0 = x, MIN%-1 = 0.
        AluOp::Rem => match sb {
            0 => a,
            _ => sa.wrapping_rem(sb) as u32,
        },
        AluOp::Remu => a.checked_rem(b).unwrap_or(a),
    }
}

/// Register-immediate ALU operations: the register form with the
/// sign-extended immediate as second operand.
#[inline(always)]
pub fn alu_imm(op: AluImmOp, a: u32, imm: i32) -> u32 {
    alu(op.reg_form(), a, imm as u32)
}

/// Whether a branch is taken: its condition ([`BranchOp::cond`], stated
/// once in `avm_isa::facts` for every engine) applied to the operands.
#[inline(always)]
pub fn branch_taken(op: BranchOp, a: u32, b: u32) -> bool {
    op.cond().holds(a, b)
}

/// AMO read-modify-write functions.
pub fn amo(op: AmoOp, old: u32, src: u32) -> u32 {
    match op {
        AmoOp::Swap => src,
        AmoOp::Add => old.wrapping_add(src),
        AmoOp::Xor => old ^ src,
        AmoOp::And => old & src,
        AmoOp::Or => old | src,
        AmoOp::Min => (old as i32).min(src as i32) as u32,
        AmoOp::Max => (old as i32).max(src as i32) as u32,
        AmoOp::Minu => old.min(src),
        AmoOp::Maxu => old.max(src),
    }
}

/// A load of any width, sign- or zero-extended to 32 bits.
#[inline(always)]
pub fn load(m: &mut Machine, op: LoadOp, addr: u32) -> Result<u32, Trap> {
    Ok(match op {
        LoadOp::Lb => m.load::<1>(addr)?[0] as i8 as i32 as u32,
        LoadOp::Lbu => u32::from(m.load::<1>(addr)?[0]),
        LoadOp::Lh => i16::from_le_bytes(m.load::<2>(addr)?) as i32 as u32,
        LoadOp::Lhu => u32::from(u16::from_le_bytes(m.load::<2>(addr)?)),
        LoadOp::Lw => u32::from_le_bytes(m.load::<4>(addr)?),
    })
}

/// A store of any width (the low bytes of `v`).
#[inline(always)]
pub fn store(m: &mut Machine, op: StoreOp, addr: u32, v: u32) -> Result<(), Trap> {
    let b = v.to_le_bytes();
    match op {
        StoreOp::Sb => m.store::<1>(addr, [b[0]]),
        StoreOp::Sh => m.store::<2>(addr, [b[0], b[1]]),
        StoreOp::Sw => m.store::<4>(addr, b),
    }
}

/// Zicsr: read the old value, write the new one if the instruction writes.
/// `csrrs`/`csrrc` with `x0` (or a zero immediate) do not write, so they may
/// read read-only CSRs.
fn csr_op(
    m: &mut Machine,
    inst: Inst,
    op: CsrOp,
    rd: usize,
    rs1: avm_isa::Reg,
    csr: u16,
    next: u32,
) -> Result<Step, Trap> {
    let src = if op.is_imm() { rs1.num() } else { m.hart.x[rs1.idx()] };
    let writes = matches!(op, CsrOp::Rw | CsrOp::Rwi) || rs1.num() != 0;
    let old = m.csr_read(csr, writes).ok_or_else(|| illegal(inst))?;
    if writes {
        let new = match op {
            CsrOp::Rw | CsrOp::Rwi => src,
            CsrOp::Rs | CsrOp::Rsi => old | src,
            CsrOp::Rc | CsrOp::Rci => old & !src,
        };
        m.csr_write(csr, new);
    }
    m.hart.x[rd] = old;
    m.hart.x[0] = 0;
    // A plain CSR changes nothing the rest of the block depends on, so the
    // block goes on (`Inst::ends_block` agrees, and did not cut it here).
    Ok(if avm_isa::csr::is_plain(csr) { Step::Next(next) } else { Step::EndBlock(next) })
}
