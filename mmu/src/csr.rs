//! Control and status registers as named fields, with the privileged spec's
//! access rules.
//!
//! Each CSR is a plain `u32` field; views (`sstatus`, `sie`, `sip`) are computed
//! from the machine-level register through a mask rather than stored twice, so
//! they can never drift apart. Writes go through WARL masks ("write any, read
//! legal"): bits aVM does not implement read as zero whatever is written.
//!
//! Access rules, checked before anything is read or written:
//! - the CSR must exist (an unknown address is an illegal instruction);
//! - the current privilege must be at least the level encoded in address bits
//!   9:8;
//! - writing a read-only CSR (address bits 11:10 = `0b11`) is illegal, but only
//!   when the instruction really writes (`csrrs`/`csrrc` with `x0` do not);
//! - `satp` from S-mode traps when `mstatus.TVM` is set;
//! - the user counters need the matching `mcounteren` (and, from U-mode,
//!   `scounteren`) bit.
//!
//! Registers that exist with the spec's legal minimum:
//! - **Debug triggers (Sdtrig)**: aVM implements *no* triggers, the minimum
//!   the spec allows. `tselect` reads 0 whatever is written (only index 0 is
//!   legal, and there is no trigger there); `tdata1` reads 0, i.e. type 0,
//!   "no trigger at this `tselect`", after any write; `tdata2` and `tdata3`
//!   read 0; `tinfo` reads 1 (bit 0: the only "type" at index 0 is 0, as the
//!   spec says for an index without a trigger). Writes are ignored. Debuggers
//!   and the riscv-tests `breakpoint` program see "no triggers" and move on.
//! - **`mcountinhibit`** is WARL 0: counters always count (they also meter
//!   gas, which must never stop), writes are ignored.
//! - **PMP** (`pmpcfg0..3`, `pmpaddr0..15`): stored with WARL rules, not
//!   enforced; see [`crate::pmp`].
//!
//! **Counter writes**: a write to `minstret`/`minstreth` (or `mcycle`/
//! `mcycleh`) replaces the value the writing instruction would have counted:
//! the new 64-bit value is the old one, *not* incremented by the writing
//! instruction, with one half replaced, and it is exactly what the next
//! instruction reads. So `csrw minstret,-1; csrw minstreth,-1` makes the next
//! instruction see `0xffff_ffff_ffff_ffff`, and the one after it 0 (the
//! riscv-tests `instret_overflow` case).

use crate::hart::Privilege;
use crate::pmp::Pmp;
use avm_isa::csr as addr;

/// `mstatus` bit positions and masks.
pub mod mstatus {
    /// S-mode interrupt enable.
    pub const SIE: u32 = 1 << 1;
    /// M-mode interrupt enable.
    pub const MIE: u32 = 1 << 3;
    /// SIE before the last trap into S-mode.
    pub const SPIE: u32 = 1 << 5;
    /// MIE before the last trap into M-mode.
    pub const MPIE: u32 = 1 << 7;
    /// Privilege before the last trap into S-mode (1 bit).
    pub const SPP: u32 = 1 << 8;
    /// Shift of the 2-bit MPP field.
    pub const MPP_SHIFT: u32 = 11;
    /// Privilege before the last trap into M-mode (2 bits).
    pub const MPP: u32 = 3 << MPP_SHIFT;
    /// Modify PRiVilege: M-mode loads and stores use MPP's translation.
    pub const MPRV: u32 = 1 << 17;
    /// Permit Supervisor User Memory access.
    pub const SUM: u32 = 1 << 18;
    /// Make eXecutable Readable.
    pub const MXR: u32 = 1 << 19;
    /// Trap Virtual Memory: `satp` and `sfence.vma` are illegal in S-mode.
    pub const TVM: u32 = 1 << 20;
    /// Timeout Wait: `wfi` is illegal in S-mode.
    pub const TW: u32 = 1 << 21;
    /// Trap SRET: `sret` is illegal in S-mode.
    pub const TSR: u32 = 1 << 22;
    /// Bits of `mstatus` that hold state in aVM (no F/V/big-endian support).
    pub const WRITABLE: u32 = SIE | MIE | SPIE | MPIE | SPP | MPP | MPRV | SUM | MXR | TVM | TW | TSR;
    /// Bits visible through `sstatus`.
    pub const SSTATUS_VIEW: u32 = SIE | SPIE | SPP | SUM | MXR;
}

/// `misa`: MXL = 1 (32-bit) and the extensions A, C, I, M, S, U.
pub const MISA: u32 = (1 << 30)
    | (1 << 0) // A
    | (1 << 2) // C
    | (1 << 8) // I
    | (1 << 12) // M
    | (1 << 18) // S
    | (1 << 20); // U

/// Exceptions that may be delegated to S-mode (`ecall` from M cannot be).
pub const MEDELEG_WRITABLE: u32 = 0xb3ff;
/// Supervisor interrupt bits: SSIP, STIP, SEIP.
pub const S_INTERRUPTS: u32 = (1 << 1) | (1 << 5) | (1 << 9);
/// All six interrupt bits aVM models.
pub const ALL_INTERRUPTS: u32 = S_INTERRUPTS | (1 << 3) | (1 << 7) | (1 << 11);
/// `satp` bits that hold state: MODE and PPN (ASIDLEN = 0, the ASID field reads zero).
pub const SATP_WRITABLE: u32 = 0x803f_ffff;
/// `satp.MODE` = Sv32.
pub const SATP_MODE_SV32: u32 = 1 << 31;
/// Counter-enable bits: CY, TM, IR (no hpmcounters).
pub const COUNTEREN_WRITABLE: u32 = 0b111;

/// The CSR file. Counter values are not stored here: `cycle`, `time` and
/// `instret` all derive from [`Hart::instret`](crate::Hart::instret) plus the
/// offsets below, which keeps them deterministic (cycle = time = instret).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
#[repr(C)]
pub struct Csrs {
    /// Machine status; `sstatus` is a masked view of it.
    pub mstatus: u32,
    /// Exceptions delegated to S-mode.
    pub medeleg: u32,
    /// Interrupts delegated to S-mode.
    pub mideleg: u32,
    /// Interrupt enables; `sie` is the delegated part.
    pub mie: u32,
    /// Interrupt pending bits; `sip` is the delegated part.
    pub mip: u32,
    /// M-mode trap vector (base | mode).
    pub mtvec: u32,
    /// S-mode trap vector (base | mode).
    pub stvec: u32,
    /// M-mode scratch.
    pub mscratch: u32,
    /// S-mode scratch.
    pub sscratch: u32,
    /// M-mode exception pc.
    pub mepc: u32,
    /// S-mode exception pc.
    pub sepc: u32,
    /// M-mode trap cause.
    pub mcause: u32,
    /// S-mode trap cause.
    pub scause: u32,
    /// M-mode trap value.
    pub mtval: u32,
    /// S-mode trap value.
    pub stval: u32,
    /// Address translation: MODE | PPN of the root page table.
    pub satp: u32,
    /// Which counters S-mode may read.
    pub mcounteren: u32,
    /// Which counters U-mode may read.
    pub scounteren: u32,
    /// `mcycle` = instret + this offset (moved by writes to mcycle/mcycleh).
    pub mcycle_offset: u64,
    /// `minstret` = instret + this offset (moved by writes to minstret/minstreth).
    pub minstret_offset: u64,
    /// PMP configuration and address registers.
    pub pmp: Pmp,
}

/// `tinfo` with no trigger at the selected index: type 0 only.
pub const TINFO_NO_TRIGGER: u32 = 1;

/// What a CSR write changed that the machine must react to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteEffect {
    /// Nothing beyond the register itself.
    None,
    /// Translation may have changed (`satp`, or MPRV/SUM/MXR/MPP in `mstatus`):
    /// flush the TLB.
    FlushTlb,
}

/// The bits a write to a [plain](avm_isa::csr::is_plain) CSR keeps: all of
/// them, but bit 0 of `mepc`/`sepc` (IALIGN = 16: an exception pc is always
/// even). [`Csrs::write`] applies it, and so does compiled code that writes
/// the field itself.
pub const fn plain_write_mask(csr: u16) -> u32 {
    match csr {
        addr::MEPC | addr::SEPC => !1,
        _ => !0,
    }
}

impl Csrs {
    /// May `privilege` access `csr` (for writing if `write`)? Returns false for
    /// unknown CSRs and every rule violation; the caller raises illegal
    /// instruction.
    pub fn may_access(&self, csr: u16, privilege: Privilege, write: bool) -> bool {
        if avm_isa::csr::name(csr).is_none() {
            return false;
        }
        if (privilege as u8) < avm_isa::csr::min_privilege(csr) {
            return false;
        }
        if write && avm_isa::csr::is_read_only(csr) {
            return false;
        }
        match csr {
            addr::SATP => privilege == Privilege::Machine || self.mstatus & mstatus::TVM == 0,
            addr::CYCLE..=addr::INSTRET | addr::CYCLEH..=addr::INSTRETH => {
                let bit = 1u32 << (csr & 0x1f);
                match privilege {
                    Privilege::Machine => true,
                    Privilege::Supervisor => self.mcounteren & bit != 0,
                    Privilege::User => self.mcounteren & self.scounteren & bit != 0,
                }
            }
            _ => true,
        }
    }

    /// Read a CSR the caller has already checked with [`Csrs::may_access`].
    /// `instret` is the count of instructions retired before this one.
    pub fn read(&self, csr: u16, instret: u64) -> u32 {
        let cycle = instret.wrapping_add(self.mcycle_offset);
        let minstret = instret.wrapping_add(self.minstret_offset);
        match csr {
            addr::MSTATUS => self.mstatus,
            addr::SSTATUS => self.mstatus & mstatus::SSTATUS_VIEW,
            addr::MISA => MISA,
            addr::MEDELEG => self.medeleg,
            addr::MIDELEG => self.mideleg,
            addr::MIE => self.mie,
            addr::SIE => self.mie & self.mideleg,
            addr::MIP => self.mip,
            addr::SIP => self.mip & self.mideleg,
            addr::MTVEC => self.mtvec,
            addr::STVEC => self.stvec,
            addr::MSCRATCH => self.mscratch,
            addr::SSCRATCH => self.sscratch,
            addr::MEPC => self.mepc,
            addr::SEPC => self.sepc,
            addr::MCAUSE => self.mcause,
            addr::SCAUSE => self.scause,
            addr::MTVAL => self.mtval,
            addr::STVAL => self.stval,
            addr::SATP => self.satp,
            addr::MCOUNTEREN => self.mcounteren,
            addr::SCOUNTEREN => self.scounteren,
            addr::MCYCLE | addr::CYCLE | addr::TIME => cycle as u32,
            addr::MCYCLEH | addr::CYCLEH | addr::TIMEH => (cycle >> 32) as u32,
            addr::MINSTRET | addr::INSTRET => minstret as u32,
            addr::MINSTRETH | addr::INSTRETH => (minstret >> 32) as u32,
            addr::PMPCFG0..=addr::PMPCFG3 => self.pmp.read_cfg(usize::from(csr - addr::PMPCFG0)),
            addr::PMPADDR0..=addr::PMPADDR15 => self.pmp.read_addr(usize::from(csr - addr::PMPADDR0)),
            addr::TINFO => TINFO_NO_TRIGGER,
            // mstatush (no big-endian support), mcountinhibit (WARL 0),
            // tselect/tdata1-3 (no triggers) and the ID registers read as zero.
            _ => 0,
        }
    }

    /// Write a CSR the caller has already checked with [`Csrs::may_access`].
    /// `instret` is the count retired before this instruction; a counter write
    /// replaces the value this instruction would have counted, and the *next*
    /// instruction sees the written value (module docs).
    pub fn write(&mut self, csr: u16, value: u32, instret: u64) -> WriteEffect {
        let next = instret.wrapping_add(1);
        match csr {
            addr::MSTATUS => return self.write_mstatus(value, mstatus::WRITABLE),
            addr::SSTATUS => return self.write_mstatus(value, mstatus::SSTATUS_VIEW),
            addr::MEDELEG => self.medeleg = value & MEDELEG_WRITABLE,
            addr::MIDELEG => self.mideleg = value & S_INTERRUPTS,
            addr::MIE => self.mie = value & ALL_INTERRUPTS,
            addr::SIE => {
                let m = self.mideleg & S_INTERRUPTS;
                self.mie = (self.mie & !m) | (value & m);
            }
            // Only the supervisor bits are software-writable; machine bits
            // would come from a timer or interrupt controller aVM does not have.
            addr::MIP => self.mip = (self.mip & !S_INTERRUPTS) | (value & S_INTERRUPTS),
            addr::SIP => {
                let m = self.mideleg & (1 << 1); // only SSIP is writable from S
                self.mip = (self.mip & !m) | (value & m);
            }
            // Modes 2 and 3 are reserved: keep the low mode bit only.
            addr::MTVEC => self.mtvec = value & !0b10,
            addr::STVEC => self.stvec = value & !0b10,
            addr::MSCRATCH
            | addr::SSCRATCH
            | addr::MEPC
            | addr::SEPC
            | addr::MCAUSE
            | addr::SCAUSE
            | addr::MTVAL
            | addr::STVAL => {
                if let Some(field) = self.plain_mut(csr) {
                    *field = value & plain_write_mask(csr);
                }
            }
            addr::SATP => {
                self.satp = value & SATP_WRITABLE;
                return WriteEffect::FlushTlb;
            }
            addr::MCOUNTEREN => self.mcounteren = value & COUNTEREN_WRITABLE,
            addr::SCOUNTEREN => self.scounteren = value & COUNTEREN_WRITABLE,
            // `cur` is the value as this instruction sees it: its own
            // increment is suppressed by the write.
            addr::MCYCLE | addr::MCYCLEH => {
                let cur = instret.wrapping_add(self.mcycle_offset);
                let new = replace_half(cur, value, csr == addr::MCYCLEH);
                self.mcycle_offset = new.wrapping_sub(next);
            }
            addr::MINSTRET | addr::MINSTRETH => {
                let cur = instret.wrapping_add(self.minstret_offset);
                let new = replace_half(cur, value, csr == addr::MINSTRETH);
                self.minstret_offset = new.wrapping_sub(next);
            }
            addr::PMPCFG0..=addr::PMPCFG3 => self.pmp.write_cfg(usize::from(csr - addr::PMPCFG0), value),
            addr::PMPADDR0..=addr::PMPADDR15 => self.pmp.write_addr(usize::from(csr - addr::PMPADDR0), value),
            // mstatush, mcountinhibit, tselect, tdata1-3, tinfo: WARL 0 or
            // read-only, writes ignored (module docs).
            _ => {}
        }
        WriteEffect::None
    }

    /// The field of a [plain](avm_isa::csr::is_plain) CSR (`None` for any
    /// other): what the JIT reads and writes in place, at this field's offset.
    pub fn plain_mut(&mut self, csr: u16) -> Option<&mut u32> {
        Some(match csr {
            addr::MSCRATCH => &mut self.mscratch,
            addr::SSCRATCH => &mut self.sscratch,
            addr::MEPC => &mut self.mepc,
            addr::SEPC => &mut self.sepc,
            addr::MCAUSE => &mut self.mcause,
            addr::SCAUSE => &mut self.scause,
            addr::MTVAL => &mut self.mtval,
            addr::STVAL => &mut self.stval,
            _ => return None,
        })
    }

    fn write_mstatus(&mut self, value: u32, mask: u32) -> WriteEffect {
        let old = self.mstatus;
        let mut new = (old & !mask) | (value & mask);
        // MPP is WARL: the reserved encoding 2 keeps the previous value.
        if Privilege::from_bits(new >> mstatus::MPP_SHIFT).is_none() {
            new = (new & !mstatus::MPP) | (old & mstatus::MPP);
        }
        self.mstatus = new;
        let translation = mstatus::MPRV | mstatus::SUM | mstatus::MXR | mstatus::MPP;
        if (old ^ new) & translation != 0 {
            WriteEffect::FlushTlb
        } else {
            WriteEffect::None
        }
    }

    /// Every register field by name, with its value, in a fixed order: what
    /// differential tests and `avm exec --json` compare. PMP registers are
    /// listed as software reads them (`pmpcfg0..3`, `pmpaddr0..15`).
    pub fn fields(&self) -> Vec<(&'static str, u64)> {
        let mut v: Vec<(&'static str, u64)> = vec![
            ("mstatus", self.mstatus.into()),
            ("medeleg", self.medeleg.into()),
            ("mideleg", self.mideleg.into()),
            ("mie", self.mie.into()),
            ("mip", self.mip.into()),
            ("mtvec", self.mtvec.into()),
            ("stvec", self.stvec.into()),
            ("mscratch", self.mscratch.into()),
            ("sscratch", self.sscratch.into()),
            ("mepc", self.mepc.into()),
            ("sepc", self.sepc.into()),
            ("mcause", self.mcause.into()),
            ("scause", self.scause.into()),
            ("mtval", self.mtval.into()),
            ("stval", self.stval.into()),
            ("satp", self.satp.into()),
            ("mcounteren", self.mcounteren.into()),
            ("scounteren", self.scounteren.into()),
            ("mcycle offset", self.mcycle_offset),
            ("minstret offset", self.minstret_offset),
        ];
        for (n, csr) in (addr::PMPCFG0..=addr::PMPCFG3).enumerate() {
            v.push((addr::name(csr).unwrap_or("pmpcfg"), self.pmp.read_cfg(n).into()));
        }
        for (i, csr) in (addr::PMPADDR0..=addr::PMPADDR15).enumerate() {
            // The stored value: what a mode change would make readable.
            v.push((addr::name(csr).unwrap_or("pmpaddr"), self.pmp.addr[i].into()));
        }
        v
    }

    /// The previous privilege saved in `mstatus.MPP`.
    pub fn mpp(&self) -> Privilege {
        Privilege::from_bits(self.mstatus >> mstatus::MPP_SHIFT).unwrap_or(Privilege::User)
    }
}

fn replace_half(cur: u64, value: u32, high: bool) -> u64 {
    if high {
        (cur & 0xffff_ffff) | (u64::from(value) << 32)
    } else {
        (cur & !0xffff_ffff) | u64::from(value)
    }
}
