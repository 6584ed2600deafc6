//! The trap model's side of [`Machine`]: taking an exception or an
//! interrupt (delegation, `xepc`/`xcause`/`xtval`, the status stack, the
//! trap vector), `mret`/`sret`, and the checks that `wfi` and `sfence.vma`
//! make against `mstatus`. Every engine calls these, so a trap has one
//! meaning in the project.

use super::{ExecMode, Machine, TRAP_LOOP_LIMIT};
use crate::csr::mstatus;
use crate::hart::Privilege;
use crate::trap::{Exit, Interrupt, Trap};

impl Machine {
    /// Take a synchronous exception raised by the instruction at `hart.pc`.
    /// Returns an exit for the host in firmware mode (trap into M-mode) or when
    /// the hart is stuck in a trap loop.
    pub fn raise(&mut self, trap: Trap) -> Option<Exit> {
        let code = trap.cause.code();
        let delegated = self.hart.privilege != Privilege::Machine && (self.hart.csr.medeleg >> code) & 1 == 1;
        if !delegated && self.mode == ExecMode::Firmware {
            return Some(Exit::Trap { trap, from: self.hart.privilege });
        }
        if self.hart.instret == self.last_trap_instret {
            self.trap_streak += 1;
            if self.trap_streak >= TRAP_LOOP_LIMIT {
                return Some(Exit::TrapLoop { trap });
            }
        } else {
            self.trap_streak = 0;
            self.last_trap_instret = self.hart.instret;
        }
        let target = if delegated { Privilege::Supervisor } else { Privilege::Machine };
        self.enter_trap(code, trap.tval, target);
        None
    }

    /// The highest-priority interrupt that is pending, enabled and allowed to
    /// preempt the current privilege level, with the level it traps to.
    pub fn pending_interrupt(&self) -> Option<(Interrupt, Privilege)> {
        let c = &self.hart.csr;
        let pending = c.mip & c.mie;
        if pending == 0 {
            return None;
        }
        let p = self.hart.privilege;
        let m_enabled = p < Privilege::Machine || c.mstatus & mstatus::MIE != 0;
        let s_enabled = p < Privilege::Supervisor || (p == Privilege::Supervisor && c.mstatus & mstatus::SIE != 0);
        Interrupt::PRIORITY.into_iter().find_map(|i| {
            let bit = 1 << i.code();
            if pending & bit == 0 {
                return None;
            }
            if c.mideleg & bit != 0 {
                // Delegated: never taken while in M-mode.
                s_enabled.then_some((i, Privilege::Supervisor))
            } else {
                m_enabled.then_some((i, Privilege::Machine))
            }
        })
    }

    /// If an interrupt is pending and enabled, take it (at the boundary before
    /// the instruction at `hart.pc`). Returns `Some` when the engine must stop.
    pub fn take_interrupt(&mut self) -> Option<Exit> {
        let (irq, target) = self.pending_interrupt()?;
        if target == Privilege::Machine && self.mode == ExecMode::Firmware {
            return Some(Exit::Interrupt(irq));
        }
        self.enter_trap(irq.code() | 1 << 31, 0, target);
        None
    }

    fn enter_trap(&mut self, cause: u32, tval: u32, target: Privilege) {
        let from = self.hart.privilege;
        let pc = self.hart.pc;
        let interrupt = cause & (1 << 31) != 0;
        self.hart.reservation = None;
        let c = &mut self.hart.csr;
        let tvec = if target == Privilege::Supervisor {
            c.sepc = pc;
            c.scause = cause;
            c.stval = tval;
            let sie = c.mstatus & mstatus::SIE != 0;
            c.mstatus &= !(mstatus::SIE | mstatus::SPIE | mstatus::SPP);
            if sie {
                c.mstatus |= mstatus::SPIE;
            }
            if from != Privilege::User {
                c.mstatus |= mstatus::SPP;
            }
            c.stvec
        } else {
            c.mepc = pc;
            c.mcause = cause;
            c.mtval = tval;
            let mie = c.mstatus & mstatus::MIE != 0;
            c.mstatus &= !(mstatus::MIE | mstatus::MPIE | mstatus::MPP);
            if mie {
                c.mstatus |= mstatus::MPIE;
            }
            c.mstatus |= from.bits() << mstatus::MPP_SHIFT;
            c.mtvec
        };
        let base = tvec & !3;
        self.hart.pc = if tvec & 1 == 1 && interrupt { base.wrapping_add(4 * (cause & 0x3f)) } else { base };
        self.hart.privilege = target;
        if (from, target) == (Privilege::User, Privilege::Supervisor) {
            // MPP is untouched and MPRV only matters in M-mode: only the
            // privilege changed, and the kernel's entries come back.
            self.tlb.switch_bank();
        } else {
            // One flush covers both changes: the privilege, and MPP (which
            // MPRV translations depend on).
            self.tlb.flush();
        }
    }

    /// `mret`: return from an M-mode trap. Illegal below M-mode.
    pub fn mret(&mut self) -> bool {
        if self.hart.privilege != Privilege::Machine {
            return false;
        }
        let c = &mut self.hart.csr;
        let to = c.mpp();
        let mpie = c.mstatus & mstatus::MPIE != 0;
        c.mstatus &= !(mstatus::MIE | mstatus::MPP);
        c.mstatus |= mstatus::MPIE;
        if mpie {
            c.mstatus |= mstatus::MIE;
        }
        if to != Privilege::Machine {
            c.mstatus &= !mstatus::MPRV;
        }
        self.hart.pc = c.mepc;
        // Privilege and MPP/MPRV changed: one flush.
        self.hart.privilege = to;
        self.tlb.flush();
        true
    }

    /// `sret`: return from an S-mode trap. Illegal in U-mode, and in S-mode
    /// when `mstatus.TSR` is set.
    pub fn sret(&mut self) -> bool {
        if !self.supervisor_may(mstatus::TSR) {
            return false;
        }
        let c = &mut self.hart.csr;
        let to = if c.mstatus & mstatus::SPP != 0 { Privilege::Supervisor } else { Privilege::User };
        let spie = c.mstatus & mstatus::SPIE != 0;
        c.mstatus &= !(mstatus::SIE | mstatus::SPP | mstatus::MPRV);
        c.mstatus |= mstatus::SPIE;
        if spie {
            c.mstatus |= mstatus::SIE;
        }
        self.hart.pc = c.sepc;
        if (self.hart.privilege, to) == (Privilege::Supervisor, Privilege::User) {
            // S to U: MPRV (cleared here) only matters in M-mode, so only
            // the privilege changed, and the task's entries come back.
            self.hart.privilege = to;
            self.tlb.switch_bank();
        } else {
            // Privilege and MPP/MPRV changed: one flush.
            self.hart.privilege = to;
            self.tlb.flush();
        }
        true
    }

    /// Is `wfi` legal here? (Illegal in U-mode, and in S-mode with `mstatus.TW`.)
    pub fn wfi_allowed(&self) -> bool {
        self.supervisor_may(mstatus::TW)
    }

    /// Is `sfence.vma` legal here? (Illegal in U-mode, and in S-mode with TVM.)
    pub fn sfence_allowed(&self) -> bool {
        self.supervisor_may(mstatus::TVM)
    }

    /// The rule shared by the trappable privileged instructions: always legal
    /// in M-mode, never in U-mode, and in S-mode unless `mstatus` has the
    /// given trap bit set.
    fn supervisor_may(&self, trap_bit: u32) -> bool {
        match self.hart.privilege {
            Privilege::Machine => true,
            Privilege::Supervisor => self.hart.csr.mstatus & trap_bit == 0,
            Privilege::User => false,
        }
    }

    /// True if any interrupt is pending and enabled in `mie`, regardless of
    /// the global enables: the condition that wakes `wfi`.
    pub fn wfi_wakes(&self) -> bool {
        self.hart.csr.mip & self.hart.csr.mie != 0
    }

    /// Take the device exit requested during the last instruction, if any.
    pub fn take_pending_exit(&mut self) -> Option<Exit> {
        self.pending_exit.take()
    }
}
