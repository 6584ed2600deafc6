//! Per-instruction facts: what kind of work an instruction does
//! ([`Class`]), which registers it reads and writes ([`Regs`]), and when a
//! branch is taken ([`Cond`]).
//!
//! Every engine needs these facts, and each used to derive them with its
//! own `match`: the JIT's register allocation asked which registers an
//! instruction names, its access groups which register it writes, each tier
//! which instructions it compiles, and the interpreter and both compiled
//! tiers each spelled out the six branch conditions. Written here once,
//! next to the instruction table, with exhaustive matches (no `_ =>`), an
//! instruction added to [`Inst`] does not compile until its facts are
//! stated, and every consumer then sees the same ones.

use crate::inst::{AluOp, BranchOp, Inst, Reg};

/// What kind of work an instruction does. Engines decide how to lower an
/// instruction by its class (and match the class exhaustively, so a new
/// class fails to compile in every engine until each handles it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// Results from registers and immediates only (`Alu`, `AluImm`, `Lui`,
    /// `Auipc`; `auipc` also reads the pc): no memory, no trap, no control
    /// transfer.
    Alu,
    /// A load (may fault, may touch a device).
    Load,
    /// A store (may fault, touch a device or write a code page).
    Store,
    /// A conditional branch.
    Branch,
    /// `jal` or `jalr`: an unconditional jump that writes a link register.
    Jump,
    /// `fence`: an ordering hint, nothing to do on one in-order hart.
    Fence,
    /// `lr.w`, `sc.w` and the AMOs: memory access with a reservation or a
    /// read-modify-write.
    Atomic,
    /// CSR access, `ecall`, `ebreak`, `mret`, `sret`, `wfi`, `fence.i`,
    /// `sfence.vma`: may change privilege, translation, interrupts or code,
    /// or trap by design.
    System,
    /// Not an instruction: executing it raises illegal instruction.
    Illegal,
}

/// A set of integer registers, one bit per register (`x0` included when
/// an instruction names it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Regs(pub u32);

impl Regs {
    /// No register.
    pub const NONE: Regs = Regs(0);

    /// The set holding `r` alone.
    pub const fn of(r: Reg) -> Regs {
        Regs(1 << r.idx())
    }

    /// Both sets together.
    pub const fn with(self, other: Regs) -> Regs {
        Regs(self.0 | other.0)
    }

    /// True if `r` is in the set.
    pub const fn contains(self, r: Reg) -> bool {
        self.0 & (1 << r.idx()) != 0
    }

    /// The bits, register `i` at bit `i`.
    pub const fn bits(self) -> u32 {
        self.0
    }
}

/// A comparison of two 32-bit register values: what a conditional branch
/// tests, and what `slt`/`sltu` compute. Each engine gives it meaning once
/// ([`Cond::holds`] here; the compiled tiers map it to a host condition
/// code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    /// `a == b`
    Eq,
    /// `a != b`
    Ne,
    /// `a < b`, signed
    Lt,
    /// `a >= b`, signed
    Ge,
    /// `a < b`, unsigned
    Ltu,
    /// `a >= b`, unsigned
    Geu,
}

impl Cond {
    /// Whether `a cond b` holds.
    #[inline(always)]
    pub const fn holds(self, a: u32, b: u32) -> bool {
        match self {
            Cond::Eq => a == b,
            Cond::Ne => a != b,
            Cond::Lt => (a as i32) < (b as i32),
            Cond::Ge => (a as i32) >= (b as i32),
            Cond::Ltu => a < b,
            Cond::Geu => a >= b,
        }
    }
}

impl BranchOp {
    /// The condition under which the branch is taken.
    #[inline(always)]
    pub const fn cond(self) -> Cond {
        match self {
            BranchOp::Beq => Cond::Eq,
            BranchOp::Bne => Cond::Ne,
            BranchOp::Blt => Cond::Lt,
            BranchOp::Bge => Cond::Ge,
            BranchOp::Bltu => Cond::Ltu,
            BranchOp::Bgeu => Cond::Geu,
        }
    }
}

impl AluOp {
    /// True for the four division operations, whose RISC-V results for a
    /// zero divisor and for `MIN / -1` differ from most hosts' (which trap).
    pub const fn is_division(self) -> bool {
        matches!(self, AluOp::Div | AluOp::Divu | AluOp::Rem | AluOp::Remu)
    }
}

impl Inst {
    /// The instruction's [`Class`].
    pub const fn class(&self) -> Class {
        match self {
            Inst::Lui { .. } | Inst::Auipc { .. } | Inst::AluImm { .. } | Inst::Alu { .. } => Class::Alu,
            Inst::Load { .. } => Class::Load,
            Inst::Store { .. } => Class::Store,
            Inst::Branch { .. } => Class::Branch,
            Inst::Jal { .. } | Inst::Jalr { .. } => Class::Jump,
            Inst::Fence { .. } => Class::Fence,
            Inst::Lr { .. } | Inst::Sc { .. } | Inst::Amo { .. } => Class::Atomic,
            Inst::FenceI
            | Inst::Ecall
            | Inst::Ebreak
            | Inst::Mret
            | Inst::Sret
            | Inst::Wfi
            | Inst::SfenceVma { .. }
            | Inst::Csr { .. } => Class::System,
            Inst::Illegal { .. } => Class::Illegal,
        }
    }

    /// The integer registers the instruction reads (the immediate forms of
    /// CSR access read none: their `rs1` field is the immediate).
    pub const fn reads(&self) -> Regs {
        match *self {
            Inst::Lui { .. } | Inst::Auipc { .. } | Inst::Jal { .. } => Regs::NONE,
            Inst::Jalr { rs1, .. } | Inst::Load { rs1, .. } | Inst::AluImm { rs1, .. } | Inst::Lr { rs1, .. } => {
                Regs::of(rs1)
            }
            Inst::Branch { rs1, rs2, .. }
            | Inst::Store { rs1, rs2, .. }
            | Inst::Alu { rs1, rs2, .. }
            | Inst::SfenceVma { rs1, rs2 }
            | Inst::Sc { rs1, rs2, .. }
            | Inst::Amo { rs1, rs2, .. } => Regs::of(rs1).with(Regs::of(rs2)),
            Inst::Csr { op, rs1, .. } => {
                if op.is_imm() {
                    Regs::NONE
                } else {
                    Regs::of(rs1)
                }
            }
            Inst::Fence { .. }
            | Inst::FenceI
            | Inst::Ecall
            | Inst::Ebreak
            | Inst::Mret
            | Inst::Sret
            | Inst::Wfi
            | Inst::Illegal { .. } => Regs::NONE,
        }
    }

    /// The integer register the instruction writes, if any (`x0` included
    /// when it is the destination: writing it has no effect).
    pub const fn writes(&self) -> Option<Reg> {
        match *self {
            Inst::Lui { rd, .. }
            | Inst::Auipc { rd, .. }
            | Inst::Jal { rd, .. }
            | Inst::Jalr { rd, .. }
            | Inst::Load { rd, .. }
            | Inst::AluImm { rd, .. }
            | Inst::Alu { rd, .. }
            | Inst::Csr { rd, .. }
            | Inst::Lr { rd, .. }
            | Inst::Sc { rd, .. }
            | Inst::Amo { rd, .. } => Some(rd),
            Inst::Branch { .. }
            | Inst::Store { .. }
            | Inst::Fence { .. }
            | Inst::FenceI
            | Inst::Ecall
            | Inst::Ebreak
            | Inst::Mret
            | Inst::Sret
            | Inst::Wfi
            | Inst::SfenceVma { .. }
            | Inst::Illegal { .. } => None,
        }
    }

    /// Every register the instruction names: [`Inst::reads`] and
    /// [`Inst::writes`] together.
    pub const fn regs(&self) -> Regs {
        match self.writes() {
            Some(rd) => self.reads().with(Regs::of(rd)),
            None => self.reads(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inst::{AluImmOp, CsrOp, LoadOp};

    #[test]
    fn registers_read_and_written() {
        let (a, b, c) = (Reg::new(5), Reg::new(6), Reg::new(7));
        let add = Inst::Alu { op: AluOp::Add, rd: a, rs1: b, rs2: c };
        assert_eq!(add.reads(), Regs::of(b).with(Regs::of(c)));
        assert_eq!(add.writes(), Some(a));
        assert_eq!(add.class(), Class::Alu);
        let lw = Inst::Load { op: LoadOp::Lw, rd: a, rs1: a, offset: 0 };
        assert_eq!(lw.regs(), Regs::of(a));
        let csrrwi = Inst::Csr { op: CsrOp::Rwi, rd: a, rs1: b, csr: 0x300 };
        assert_eq!((csrrwi.reads(), csrrwi.class()), (Regs::NONE, Class::System));
        let addi = Inst::AluImm { op: AluImmOp::Addi, rd: a, rs1: Reg::ZERO, imm: 1 };
        assert!(addi.reads().contains(Reg::ZERO));
    }

    #[test]
    fn branch_conditions() {
        let cases = [
            (BranchOp::Beq, 1, 1, true),
            (BranchOp::Bne, 1, 1, false),
            (BranchOp::Blt, u32::MAX, 0, true),
            (BranchOp::Bltu, u32::MAX, 0, false),
            (BranchOp::Bge, 0, u32::MAX, true),
            (BranchOp::Bgeu, 0, u32::MAX, false),
        ];
        for (op, a, b, taken) in cases {
            assert_eq!(op.cond().holds(a, b), taken, "{op}");
        }
        assert!(AluOp::Remu.is_division() && !AluOp::Mulhu.is_division());
    }

    #[test]
    fn only_plain_csrs_keep_the_block_going() {
        let (a, b) = (Reg::new(10), Reg::new(11));
        let on = |csr| Inst::Csr { op: CsrOp::Rw, rd: a, rs1: b, csr };
        for csr in [crate::csr::SSCRATCH, crate::csr::SEPC, crate::csr::MSCRATCH, crate::csr::MTVAL] {
            assert!(!on(csr).ends_block(), "{csr:#x}");
        }
        // Translation, interrupt state, counters: the block must end.
        for csr in [crate::csr::SATP, crate::csr::SSTATUS, crate::csr::MIE, crate::csr::MINSTRET, crate::csr::CYCLE] {
            assert!(on(csr).ends_block(), "{csr:#x}");
        }
        assert!(Inst::Sret.ends_block() && !Inst::Fence { pred: 0, succ: 0, fm: 0 }.ends_block());
    }
}
