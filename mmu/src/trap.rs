//! Traps: synchronous exceptions, interrupts, and why an engine stopped.
//!
//! A fault is a value ([`Trap`]) returned by whatever detected it (the decoder's
//! illegal instruction, the MMU's page fault, a CSR rule). The engine then calls
//! [`Machine::raise`](crate::Machine::raise), which performs trap entry exactly
//! as the privileged spec describes: pick the target level through
//! `medeleg`/`mideleg`, save `xepc`/`xcause`/`xtval`, stack the interrupt
//! enables in `xstatus`, switch privilege and jump to `xtvec`. Both engines go
//! through this one function, so they cannot disagree on trap entry.

use crate::hart::Privilege;

/// Synchronous exception causes (`mcause` values with the interrupt bit clear).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum TrapCause {
    /// 0: instruction address misaligned (cannot happen with the C extension
    /// except through a handler address; kept for completeness).
    InstructionMisaligned = 0,
    /// 1: instruction fetch from a physical address with nothing behind it.
    InstructionAccessFault = 1,
    /// 2: illegal instruction; `tval` holds the instruction bits.
    IllegalInstruction = 2,
    /// 3: `ebreak`; `tval` holds its pc.
    Breakpoint = 3,
    /// 4: misaligned `lr.w`.
    LoadMisaligned = 4,
    /// 5: load from a physical address with nothing behind it.
    LoadAccessFault = 5,
    /// 6: misaligned `sc.w` or AMO.
    StoreMisaligned = 6,
    /// 7: store or AMO to a physical address with nothing behind it.
    StoreAccessFault = 7,
    /// 8: `ecall` from U-mode.
    EcallFromU = 8,
    /// 9: `ecall` from S-mode.
    EcallFromS = 9,
    /// 11: `ecall` from M-mode.
    EcallFromM = 11,
    /// 12: instruction page fault.
    InstructionPageFault = 12,
    /// 13: load page fault.
    LoadPageFault = 13,
    /// 15: store/AMO page fault.
    StorePageFault = 15,
}

impl TrapCause {
    /// The `xcause` exception code.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The `ecall` cause for a privilege level.
    pub const fn ecall_from(p: Privilege) -> TrapCause {
        match p {
            Privilege::User => TrapCause::EcallFromU,
            Privilege::Supervisor => TrapCause::EcallFromS,
            Privilege::Machine => TrapCause::EcallFromM,
        }
    }
}

/// Interrupt causes (`mcause` values with the interrupt bit set). aVM has no
/// timer or interrupt controller: interrupts become pending only through
/// writes to `mip`/`sip`, by the guest or by the host, which keeps them
/// deterministic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Interrupt {
    /// 1: supervisor software interrupt.
    SupervisorSoftware = 1,
    /// 3: machine software interrupt.
    MachineSoftware = 3,
    /// 5: supervisor timer interrupt.
    SupervisorTimer = 5,
    /// 7: machine timer interrupt.
    MachineTimer = 7,
    /// 9: supervisor external interrupt.
    SupervisorExternal = 9,
    /// 11: machine external interrupt.
    MachineExternal = 11,
}

impl Interrupt {
    /// Priority order of the privileged spec (highest first).
    pub const PRIORITY: [Interrupt; 6] = [
        Interrupt::MachineExternal,
        Interrupt::MachineSoftware,
        Interrupt::MachineTimer,
        Interrupt::SupervisorExternal,
        Interrupt::SupervisorSoftware,
        Interrupt::SupervisorTimer,
    ];

    /// The `xcause` code (without the interrupt bit).
    pub const fn code(self) -> u32 {
        self as u32
    }
}

/// A synchronous exception together with its trap value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Trap {
    /// What went wrong.
    pub cause: TrapCause,
    /// `xtval`: the faulting address, instruction bits, or 0.
    pub tval: u32,
}

impl Trap {
    /// A trap with a cause and a trap value.
    pub const fn new(cause: TrapCause, tval: u32) -> Trap {
        Trap { cause, tval }
    }

    /// Illegal instruction with the instruction bits as `tval`.
    pub const fn illegal(bits: u32) -> Trap {
        Trap::new(TrapCause::IllegalInstruction, bits)
    }
}

/// Why an engine returned control to the host. Engines must agree on this
/// exactly, as on the rest of the machine state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Exit {
    /// The instruction limit given to `run` was reached.
    InstructionLimit,
    /// The guest wrote an exit command to `tohost` (HTIF device 0, command 0,
    /// payload bit 0 set). `code` is `payload >> 1`: 0 means pass.
    Halt {
        /// exit code (`tohost >> 1`)
        code: u32,
    },
    /// Firmware mode only: a trap that targets M-mode, i.e. the host. The hart
    /// is left exactly as before trap entry: `pc` is the trapping instruction.
    Trap {
        /// the exception or interrupt
        trap: Trap,
        /// privilege level the trap came from
        from: Privilege,
    },
    /// Firmware mode only: an interrupt that targets M-mode became pending and
    /// enabled.
    Interrupt(Interrupt),
    /// `wfi` retired with no interrupt pending and enabled: nothing can wake the
    /// hart but the host.
    WaitForInterrupt,
    /// Traps kept being taken without a single instruction retiring in between
    /// (for example a trap vector that itself faults): the hart is stuck.
    TrapLoop {
        /// the last trap raised
        trap: Trap,
    },
}
