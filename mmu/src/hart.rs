//! Architectural state of one hart: what a context switch would have to save.
//!
//! Kept as a plain struct with public fields so that both engines, the
//! differential tests and the JIT (which addresses fields by offset) all see the
//! same layout. Equality on [`Hart`] is the definition of "both engines agree".

use crate::csr::Csrs;

/// RISC-V privilege level. The discriminants are the encodings used in
/// `mstatus.MPP`/`SPP` (2 is reserved for the hypervisor and never used).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum Privilege {
    /// User mode: contracts.
    User = 0,
    /// Supervisor mode: the guest kernel.
    Supervisor = 1,
    /// Machine mode: bare-metal programs, or the host firmware.
    #[default]
    Machine = 3,
}

impl Privilege {
    /// The level with this 2-bit encoding; the reserved value 2 has none.
    pub const fn from_bits(bits: u32) -> Option<Privilege> {
        match bits & 3 {
            0 => Some(Privilege::User),
            1 => Some(Privilege::Supervisor),
            3 => Some(Privilege::Machine),
            _ => None,
        }
    }

    /// The 2-bit encoding.
    pub const fn bits(self) -> u32 {
        self as u32
    }

    /// One-letter name as used in traces: `U`, `S` or `M`.
    pub const fn letter(self) -> char {
        match self {
            Privilege::User => 'U',
            Privilege::Supervisor => 'S',
            Privilege::Machine => 'M',
        }
    }
}

/// The registers of one hart.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Hart {
    /// Integer registers; `x[0]` is always 0 between instructions.
    pub x: [u32; 32],
    /// Address of the next instruction to execute.
    pub pc: u32,
    /// Current privilege level.
    pub privilege: Privilege,
    /// Instructions retired since reset. This is the metering counter: it is
    /// never written by the guest (writes to `minstret` move an offset in
    /// [`Csrs`] instead), so gas and instruction limits cannot be forged.
    pub instret: u64,
    /// Physical address reserved by the last `lr.w`, if any.
    pub reservation: Option<u32>,
    /// Control and status registers.
    pub csr: Csrs,
}

impl Default for Hart {
    fn default() -> Self {
        Hart {
            x: [0; 32],
            pc: crate::memory::RAM_BASE,
            privilege: Privilege::Machine,
            instret: 0,
            reservation: None,
            csr: Csrs::default(),
        }
    }
}
