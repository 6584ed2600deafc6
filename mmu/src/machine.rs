//! [`Machine`]: hart + RAM + TLB + devices, and the memory and trap operations
//! every engine calls.
//!
//! Loads and stores have a fast path (a TLB hit on a plain RAM page: index,
//! compare, add, copy) that is `#[inline]`, and a `#[cold]` slow path that
//! walks page tables, handles misaligned accesses that cross a page, devices,
//! code-page invalidation and faults. Keeping the two apart is what lets the
//! interpreter stay simple and still fast: instruction semantics call
//! `m.load::<4>(addr)` and never think about translation.

use crate::csr::{mstatus, Csrs, WriteEffect, SATP_MODE_SV32};
use crate::devices::{Htif, HtifEvent, CONSOLE_BASE, CONSOLE_SIZE};
use crate::hart::{Hart, Privilege};
use crate::memory::{Ram, PAGE_CODE, PAGE_SIZE, RAM_BASE};
use crate::sv32::{self, access_fault, PteMemory, WalkContext};
use crate::tlb::{Access, Tlb};
use crate::trap::{Exit, Trap, TrapCause};

mod traps;

/// How M-mode is played.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ExecMode {
    /// The guest owns M-mode and handles its own traps (`avm exec`).
    #[default]
    BareMetal,
    /// M-mode is the host: traps and interrupts that target M-mode stop the
    /// engine with [`Exit::Trap`] / [`Exit::Interrupt`].
    Firmware,
}

/// Machine parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineConfig {
    /// RAM size in bytes: a multiple of 4 KiB, at most 2 GiB.
    pub ram_size: u32,
    /// Who owns M-mode.
    pub mode: ExecMode,
}

impl Default for MachineConfig {
    fn default() -> Self {
        MachineConfig { ram_size: 64 << 20, mode: ExecMode::BareMetal }
    }
}

/// Errors creating a machine.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    /// RAM size not a nonzero multiple of 4 KiB up to 2 GiB.
    #[error("RAM size {0:#x} must be a nonzero multiple of 4 KiB and at most 2 GiB")]
    BadRamSize(u32),
    /// The host could not map the RAM.
    #[error("cannot map guest RAM: {0}")]
    Map(#[from] std::io::Error),
}

/// After this many traps in a row with no instruction retired the hart is
/// declared stuck ([`Exit::TrapLoop`]). A legitimate chain (a handler whose
/// first instruction faults into a higher-level handler) is far shorter.
const TRAP_LOOP_LIMIT: u32 = 16;

/// The emulated machine.
pub struct Machine {
    /// Architectural registers.
    pub hart: Hart,
    /// Cached translations.
    pub tlb: Tlb,
    /// Physical RAM.
    pub ram: Ram,
    /// HTIF mailbox location.
    pub htif: Htif,
    /// Bytes the guest printed (console device and HTIF putchar).
    pub console: Vec<u8>,
    /// Who owns M-mode.
    pub mode: ExecMode,
    /// An exit requested by a device during the last instruction.
    pub pending_exit: Option<Exit>,
    /// Set by the slow store path when the current block must end after this
    /// instruction: a code page was written, or a device asked to stop.
    pub stop_block: bool,
    trap_streak: u32,
    last_trap_instret: u64,
    /// Unique per machine (and per clone), so an engine that keeps per-machine
    /// caches can tell when it is handed a different machine.
    id: u64,
}

/// Source of [`Machine::id`] values.
static NEXT_MACHINE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_machine_id() -> u64 {
    NEXT_MACHINE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Machine {
    /// A machine with zeroed RAM, in M-mode at [`RAM_BASE`].
    pub fn new(config: MachineConfig) -> Result<Machine, MachineError> {
        let size = config.ram_size;
        if size == 0 || !size.is_multiple_of(PAGE_SIZE) || size > 0x8000_0000 {
            return Err(MachineError::BadRamSize(size));
        }
        Ok(Machine {
            hart: Hart::default(),
            tlb: Tlb::default(),
            ram: Ram::new(size)?,
            htif: Htif::default(),
            console: Vec::new(),
            mode: config.mode,
            pending_exit: None,
            stop_block: false,
            trap_streak: 0,
            last_trap_instret: u64::MAX,
            id: next_machine_id(),
        })
    }

    /// A full copy of the machine (RAM included), e.g. for running a second
    /// engine from the same state.
    pub fn try_clone(&self) -> Result<Machine, MachineError> {
        Ok(Machine {
            hart: self.hart.clone(),
            tlb: self.tlb.clone(),
            ram: self.ram.try_clone()?,
            htif: self.htif,
            console: self.console.clone(),
            mode: self.mode,
            pending_exit: self.pending_exit,
            stop_block: self.stop_block,
            trap_streak: self.trap_streak,
            last_trap_instret: self.last_trap_instret,
            id: next_machine_id(),
        })
    }

    /// An identifier no other machine in this process has (clones get a new
    /// one). Engines key per-machine caches (RAM offset -> code) by it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Install the HTIF mailbox at these physical addresses (from the ELF).
    pub fn set_htif(&mut self, tohost: Option<u32>, fromhost: Option<u32>) {
        self.htif = Htif { tohost, fromhost };
        if let Some(off) = tohost.and_then(|t| self.ram.offset_of(t, 8)) {
            self.ram.mark_device(off);
            self.tlb.drop_writes_to(off);
        }
    }

    // ----- privilege and translation context -------------------------------

    /// Privilege used for loads and stores: MPP when M-mode sets MPRV.
    #[inline]
    pub fn data_privilege(&self) -> Privilege {
        if self.hart.privilege == Privilege::Machine && self.hart.csr.mstatus & mstatus::MPRV != 0 {
            self.hart.csr.mpp()
        } else {
            self.hart.privilege
        }
    }

    /// Change privilege level (flushing the TLB if it changes).
    pub fn set_privilege(&mut self, p: Privilege) {
        if self.hart.privilege != p {
            self.hart.privilege = p;
            self.tlb.flush();
        }
    }

    /// Translate a virtual address for an access, without touching the TLB.
    pub fn translate(&mut self, vaddr: u32, access: Access) -> Result<u32, Trap> {
        let privilege = if access == Access::Fetch { self.hart.privilege } else { self.data_privilege() };
        let satp = self.hart.csr.satp;
        if privilege == Privilege::Machine || satp & SATP_MODE_SV32 == 0 {
            return Ok(vaddr);
        }
        let ctx = WalkContext { satp, mstatus: self.hart.csr.mstatus, privilege };
        let paddr = sv32::walk(&mut PhysPtes(self), ctx, vaddr, access)?;
        u32::try_from(paddr).map_err(|_| access_fault(access, vaddr))
    }

    /// Translate and, if the result is RAM, return its RAM offset and fill the
    /// TLB. `Ok(None)` means a valid translation to a non-RAM address.
    fn translate_to_ram(&mut self, vaddr: u32, access: Access) -> Result<(u32, Option<u32>), Trap> {
        let paddr = self.translate(vaddr, access)?;
        let off = self.ram.offset_of(paddr, 1);
        if let Some(off) = off {
            if access != Access::Write || self.ram.page_flags(off) == 0 {
                self.tlb.fill(access, vaddr, off);
            }
        }
        Ok((paddr, off))
    }

    /// The RAM offset an access of `len` bytes at `vaddr` reaches, if the
    /// access could only need a TLB fill to proceed: it stays in one page,
    /// its walk (if any) writes nothing ([`sv32::probe`]: the leaf already
    /// has A, and D for a store), and it reaches plain RAM (for a store, a
    /// page with no code and no watch). `None` otherwise. Nothing changes
    /// either way.
    pub fn quiet_translation(&mut self, vaddr: u32, len: u32, access: Access) -> Option<u32> {
        if (vaddr & 0xfff) + len > PAGE_SIZE || access == Access::Fetch {
            return None;
        }
        let privilege = self.data_privilege();
        let satp = self.hart.csr.satp;
        let paddr = if privilege == Privilege::Machine || satp & SATP_MODE_SV32 == 0 {
            vaddr
        } else {
            let ctx = WalkContext { satp, mstatus: self.hart.csr.mstatus, privilege };
            u32::try_from(sv32::probe(&mut PhysPtes(self), ctx, vaddr, access)?).ok()?
        };
        let off = self.ram.offset_of(paddr, 1)?;
        (access != Access::Write || self.ram.page_flags(off) == 0).then_some(off)
    }

    /// Make the TLB hold `vaddr`'s page for `access` if that takes nothing
    /// but a fill ([`Machine::quiet_translation`]); returns whether
    /// `tlb.lookup(access, vaddr, len)` now hits. On false nothing has
    /// changed, and the access must take the full path (`load`/`store`),
    /// which faults, sets A/D bits or reaches a device as it should. On true
    /// the TLB is as the full path would have left it (it fills the same
    /// entry at the same access), so compiled code that refills in place of
    /// a side exit leaves the machine exactly as the interpreter would.
    pub fn fill_tlb_quietly(&mut self, vaddr: u32, len: u32, access: Access) -> bool {
        let Some(off) = self.quiet_translation(vaddr, len, access) else { return false };
        self.tlb.fill(access, vaddr, off);
        self.tlb.lookup(access, vaddr, len).is_some()
    }

    // ----- loads and stores -------------------------------------------------

    /// Load `N` (1, 2 or 4) little-endian bytes from a virtual address.
    #[inline(always)]
    pub fn load<const N: usize>(&mut self, vaddr: u32) -> Result<[u8; N], Trap> {
        match self.tlb.lookup(Access::Read, vaddr, N as u32) {
            Some(off) => Ok(self.ram.read::<N>(off)),
            None => self.load_slow::<N>(vaddr),
        }
    }

    #[cold]
    #[inline(never)]
    fn load_slow<const N: usize>(&mut self, vaddr: u32) -> Result<[u8; N], Trap> {
        let mut out = [0u8; N];
        let mut parts = [(0u32, 0u32, 0usize); 2];
        let n = self.split(vaddr, N as u32, Access::Read, &mut parts)?;
        for &(paddr, len, at) in &parts[..n] {
            self.read_phys(paddr, &mut out[at..at + len as usize], vaddr, Access::Read)?;
        }
        Ok(out)
    }

    /// Store `N` (1, 2 or 4) little-endian bytes to a virtual address.
    #[inline(always)]
    pub fn store<const N: usize>(&mut self, vaddr: u32, bytes: [u8; N]) -> Result<(), Trap> {
        match self.tlb.lookup(Access::Write, vaddr, N as u32) {
            Some(off) => {
                self.ram.write_plain(off, &bytes);
                Ok(())
            }
            None => self.store_slow(vaddr, &bytes),
        }
    }

    #[cold]
    #[inline(never)]
    fn store_slow(&mut self, vaddr: u32, bytes: &[u8]) -> Result<(), Trap> {
        let mut parts = [(0u32, 0u32, 0usize); 2];
        // Translate every page first, so a fault on the second page leaves
        // memory untouched.
        let n = self.split(vaddr, bytes.len() as u32, Access::Write, &mut parts)?;
        for &(paddr, len, _) in &parts[..n] {
            if self.ram.offset_of(paddr, len).is_none() && !is_console(paddr, len) {
                return Err(access_fault(Access::Write, vaddr));
            }
        }
        for &(paddr, len, at) in &parts[..n] {
            self.write_phys(paddr, &bytes[at..at + len as usize]);
        }
        Ok(())
    }

    /// Split an access into at most two single-page parts
    /// `(paddr, len, offset in the access)`, translating each.
    fn split(
        &mut self,
        vaddr: u32,
        len: u32,
        access: Access,
        parts: &mut [(u32, u32, usize); 2],
    ) -> Result<usize, Trap> {
        let first = len.min(PAGE_SIZE - (vaddr & 0xfff));
        let (paddr, _) = self.translate_to_ram(vaddr, access)?;
        parts[0] = (paddr, first, 0);
        if first == len {
            return Ok(1);
        }
        let second = vaddr.wrapping_add(first);
        let (paddr2, _) = self.translate_to_ram(second, access)?;
        parts[1] = (paddr2, len - first, first as usize);
        Ok(2)
    }

    fn read_phys(&mut self, paddr: u32, out: &mut [u8], vaddr: u32, access: Access) -> Result<(), Trap> {
        if let Some(off) = self.ram.offset_of(paddr, out.len() as u32) {
            out.copy_from_slice(&self.ram.bytes()[off as usize..off as usize + out.len()]);
            return Ok(());
        }
        if access != Access::Fetch && is_console(paddr, out.len() as u32) {
            // Line status register (offset 5): transmitter empty and idle.
            for (i, b) in out.iter_mut().enumerate() {
                *b = if paddr.wrapping_add(i as u32) == CONSOLE_BASE + 5 { 0x60 } else { 0 };
            }
            return Ok(());
        }
        Err(access_fault(access, vaddr))
    }

    /// Write to a physical range already known to be RAM or the console.
    fn write_phys(&mut self, paddr: u32, data: &[u8]) {
        let Some(off) = self.ram.offset_of(paddr, data.len() as u32) else {
            if paddr == CONSOLE_BASE {
                self.console.push(data[0]);
            }
            return;
        };
        let flags = self.ram.write(off, data);
        if flags & PAGE_CODE != 0 {
            self.stop_block = true;
        }
        if self.htif.touches_tohost_high(paddr, data.len() as u32) {
            self.htif_write();
        }
    }

    /// The high word of `tohost` was written: run the command it completes
    /// (see [`crate::devices`]).
    fn htif_write(&mut self) {
        let Some(tohost) = self.htif.tohost else { return };
        let Some(off) = self.ram.offset_of(tohost, 8) else { return };
        let value = u64::from_le_bytes(self.ram.read::<8>(off));
        let event = Htif::command(value);
        match event {
            HtifEvent::None => {}
            HtifEvent::Exit(code) => {
                self.pending_exit = Some(Exit::Halt { code });
                self.stop_block = true;
            }
            HtifEvent::Putchar(_) | HtifEvent::Getchar | HtifEvent::Ignored => {
                if let HtifEvent::Putchar(c) = event {
                    self.console.push(c);
                }
                self.ram.write(off, &[0; 8]);
                let ack = event.ack(value);
                if let (Some(ack), Some(from)) = (ack, self.htif.fromhost.and_then(|f| self.ram.offset_of(f, 8))) {
                    self.ram.write(from, &ack.to_le_bytes());
                }
            }
        }
    }

    /// Write bytes at a physical address from the host side (loaders, host
    /// calls). Code pages are invalidated as for guest stores.
    pub fn write_phys_bytes(&mut self, paddr: u32, data: &[u8]) -> Result<(), Trap> {
        let off = self.ram.offset_of(paddr, data.len() as u32).ok_or(Trap::new(TrapCause::StoreAccessFault, paddr))?;
        self.ram.write(off, data);
        Ok(())
    }

    // ----- atomics ----------------------------------------------------------

    fn atomic_target(&mut self, vaddr: u32, access: Access) -> Result<(u32, u32), Trap> {
        if vaddr & 3 != 0 {
            let cause = if access == Access::Read { TrapCause::LoadMisaligned } else { TrapCause::StoreMisaligned };
            return Err(Trap::new(cause, vaddr));
        }
        match self.translate_to_ram(vaddr, access)? {
            // All four bytes must be RAM (true for an aligned word whose first
            // byte is, but checked rather than assumed).
            (paddr, Some(_)) => match self.ram.offset_of(paddr, 4) {
                Some(off) => Ok((paddr, off)),
                None => Err(access_fault(access, vaddr)),
            },
            // Atomics on devices are not supported: an access fault.
            (_, None) => Err(access_fault(access, vaddr)),
        }
    }

    /// `lr.w`: load a word and reserve its physical address.
    pub fn load_reserved(&mut self, vaddr: u32) -> Result<u32, Trap> {
        let (paddr, off) = self.atomic_target(vaddr, Access::Read)?;
        self.hart.reservation = Some(paddr);
        Ok(u32::from_le_bytes(self.ram.read::<4>(off)))
    }

    /// `sc.w`: store if the reservation holds. Returns the value for `rd`:
    /// 0 on success, 1 on failure. Any `sc.w` clears the reservation.
    pub fn store_conditional(&mut self, vaddr: u32, value: u32) -> Result<u32, Trap> {
        let (paddr, _) = self.atomic_target(vaddr, Access::Write)?;
        let ok = self.hart.reservation.take() == Some(paddr);
        if ok {
            self.write_phys(paddr, &value.to_le_bytes());
        }
        Ok(u32::from(!ok))
    }

    /// An AMO: read the word, write `op(old)`, return the old value.
    pub fn amo(&mut self, vaddr: u32, op: impl FnOnce(u32) -> u32) -> Result<u32, Trap> {
        let (paddr, off) = self.atomic_target(vaddr, Access::Write)?;
        let old = u32::from_le_bytes(self.ram.read::<4>(off));
        self.write_phys(paddr, &op(old).to_le_bytes());
        Ok(old)
    }

    // ----- instruction fetch -------------------------------------------------

    /// The RAM offset of the instruction at `pc`, for an engine that decodes
    /// straight from RAM. Fetching from outside RAM is an access fault.
    #[inline]
    pub fn fetch_offset(&mut self, pc: u32) -> Result<u32, Trap> {
        if let Some(off) = self.tlb.lookup(Access::Fetch, pc, 2) {
            return Ok(off);
        }
        match self.translate_to_ram(pc, Access::Fetch)? {
            (_, Some(off)) => Ok(off),
            (_, None) => Err(access_fault(Access::Fetch, pc)),
        }
    }

    /// Fetch the instruction bits at `pc` (16 or 32 bits, zero-extended),
    /// also when a 32-bit instruction straddles two pages. Every byte of each
    /// 2-byte parcel is checked to be RAM, so a fetch that runs off the end of
    /// RAM is an instruction access fault, never a host panic. A fault in the
    /// second half reports the address of that half.
    pub fn fetch_word(&mut self, pc: u32) -> Result<u32, Trap> {
        let low = self.fetch_parcel(pc)?;
        if avm_isa::inst_len(low) == 2 {
            return Ok(u32::from(low));
        }
        let high = self.fetch_parcel(pc.wrapping_add(2))?;
        Ok(u32::from(low) | u32::from(high) << 16)
    }

    /// The 16-bit parcel at `pc`: both bytes must be RAM. A parcel that
    /// straddles a page (only an odd `pc` does) is an access fault.
    fn fetch_parcel(&mut self, pc: u32) -> Result<u16, Trap> {
        let off = self.fetch_offset(pc)?;
        let in_page = pc & (PAGE_SIZE - 1) <= PAGE_SIZE - 2;
        match self.ram.offset_of(RAM_BASE.wrapping_add(off), 2) {
            Some(off) if in_page => Ok(u16::from_le_bytes(self.ram.read::<2>(off))),
            _ => Err(access_fault(Access::Fetch, pc)),
        }
    }

    /// Note that an engine holds decoded code from the RAM page of `off`: from
    /// now on a write there takes the slow path and invalidates it.
    pub fn mark_code(&mut self, off: u32) {
        // A marked page has no write entry in the TLB: marking dropped them
        // and `translate_to_ram` fills none for a flagged page. So a second
        // mark skips the scan of the whole write side, which engines pay
        // for every block they translate (~5% of a one-shot JIT run).
        if self.ram.page_flags(off) & PAGE_CODE != 0 {
            return;
        }
        self.ram.mark_code(off);
        self.tlb.drop_writes_to(off);
    }

    // ----- CSRs --------------------------------------------------------------

    /// Read a CSR for an instruction at the current privilege (`write` says
    /// whether the same instruction will also write it).
    pub fn csr_read(&mut self, csr: u16, write: bool) -> Option<u32> {
        let c: &Csrs = &self.hart.csr;
        c.may_access(csr, self.hart.privilege, write).then(|| c.read(csr, self.hart.instret))
    }

    /// Write a CSR already checked by [`Machine::csr_read`].
    pub fn csr_write(&mut self, csr: u16, value: u32) {
        if self.hart.csr.write(csr, value, self.hart.instret) == WriteEffect::FlushTlb {
            self.tlb.flush();
        }
    }
}

fn is_console(paddr: u32, len: u32) -> bool {
    paddr >= CONSOLE_BASE && u64::from(paddr) + u64::from(len) <= u64::from(CONSOLE_BASE + CONSOLE_SIZE)
}

/// Page-table memory seen by the walker: RAM only (a PTE anywhere else is an
/// access fault). A/D write-backs go through [`Ram::write`] so that a page
/// table sharing a page with code still invalidates it.
struct PhysPtes<'a>(&'a mut Machine);

impl PteMemory for PhysPtes<'_> {
    fn read_pte(&mut self, paddr: u64) -> Option<u32> {
        let paddr = u32::try_from(paddr).ok()?;
        let off = self.0.ram.offset_of(paddr, 4)?;
        Some(u32::from_le_bytes(self.0.ram.read::<4>(off)))
    }

    fn write_pte(&mut self, paddr: u64, pte: u32) {
        if let Some(off) = u32::try_from(paddr).ok().and_then(|p| self.0.ram.offset_of(p, 4)) {
            if self.0.ram.write(off, &pte.to_le_bytes()) & PAGE_CODE != 0 {
                self.0.stop_block = true;
            }
        }
    }
}

impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine").field("hart", &self.hart).field("ram", &self.ram).finish_non_exhaustive()
    }
}

/// Physical address of RAM byte 0, re-exported for engines.
pub const RAM_START: u32 = RAM_BASE;
