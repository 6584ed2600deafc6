//! The Sv32 page-table walker (privileged spec 4.3).
//!
//! A 32-bit virtual address splits into `VPN[1]` (10 bits), `VPN[0]` (10 bits) and a
//! 12-bit offset. The walk reads at most two 4-byte PTEs: the root table at
//! `satp.PPN * 4096`, then, unless the first PTE is already a leaf (a 4 MiB
//! *megapage*), the second-level table. Physical addresses are 34 bits wide;
//! anything above 4 GiB is outside aVM's physical map and faults as an access
//! fault.
//!
//! A and D bits are set by the walker ("hardware" update), and only when the
//! access is permitted, as QEMU and most cores do: the A bit on any access,
//! D as well on a store or AMO.

use crate::csr::mstatus;
use crate::hart::Privilege;
use crate::tlb::Access;
use crate::trap::{Trap, TrapCause};

/// PTE bit: valid.
pub const PTE_V: u32 = 1 << 0;
/// PTE bit: readable.
pub const PTE_R: u32 = 1 << 1;
/// PTE bit: writable.
pub const PTE_W: u32 = 1 << 2;
/// PTE bit: executable.
pub const PTE_X: u32 = 1 << 3;
/// PTE bit: accessible from U-mode.
pub const PTE_U: u32 = 1 << 4;
/// PTE bit: global mapping.
pub const PTE_G: u32 = 1 << 5;
/// PTE bit: accessed.
pub const PTE_A: u32 = 1 << 6;
/// PTE bit: dirty.
pub const PTE_D: u32 = 1 << 7;

/// The page fault for an access kind.
pub const fn page_fault(access: Access, vaddr: u32) -> Trap {
    let cause = match access {
        Access::Read => TrapCause::LoadPageFault,
        Access::Write => TrapCause::StorePageFault,
        Access::Fetch => TrapCause::InstructionPageFault,
    };
    Trap::new(cause, vaddr)
}

/// The access fault for an access kind.
pub const fn access_fault(access: Access, vaddr: u32) -> Trap {
    let cause = match access {
        Access::Read => TrapCause::LoadAccessFault,
        Access::Write => TrapCause::StoreAccessFault,
        Access::Fetch => TrapCause::InstructionAccessFault,
    };
    Trap::new(cause, vaddr)
}

/// What the walker needs from physical memory: read and write a PTE.
pub trait PteMemory {
    /// Read the PTE at a physical address; `None` if nothing is there.
    fn read_pte(&mut self, paddr: u64) -> Option<u32>;
    /// Write back a PTE (after setting A/D).
    fn write_pte(&mut self, paddr: u64, pte: u32);
}

/// Inputs of one translation.
#[derive(Clone, Copy, Debug)]
pub struct WalkContext {
    /// `satp` (MODE must be Sv32 for a walk to happen).
    pub satp: u32,
    /// `mstatus` (SUM and MXR).
    pub mstatus: u32,
    /// Effective privilege of the access (MPRV already applied).
    pub privilege: Privilege,
}

/// Translate `vaddr` for `access`. Returns the physical address (possibly
/// above 4 GiB, which the caller rejects). Sets the leaf's A bit (and D for
/// a write) in memory if it is clear.
pub fn walk(mem: &mut impl PteMemory, ctx: WalkContext, vaddr: u32, access: Access) -> Result<u64, Trap> {
    let leaf = find_leaf(mem, ctx, vaddr, access)?;
    let needed = ad_bits(access);
    if leaf.pte & needed != needed {
        mem.write_pte(leaf.pte_addr, leaf.pte | needed);
    }
    Ok(leaf.paddr)
}

/// [`walk`] without side effects: the physical address, if the walk would
/// succeed *and* write nothing (the leaf already has A, and D for a write);
/// `None` otherwise, with nothing changed. Compiled code uses it to refill
/// its TLB in place of a side exit to the interpreter: a walk that must set
/// A or D, or that faults, is left to the interpreter, which does it
/// exactly. (The aVM kernel writes every PTE with A and D set.)
pub fn probe(mem: &mut impl PteMemory, ctx: WalkContext, vaddr: u32, access: Access) -> Option<u64> {
    let leaf = find_leaf(mem, ctx, vaddr, access).ok()?;
    let needed = ad_bits(access);
    (leaf.pte & needed == needed).then_some(leaf.paddr)
}

/// The PTE bits an access must find set in its leaf.
fn ad_bits(access: Access) -> u32 {
    PTE_A | if access == Access::Write { PTE_D } else { 0 }
}

/// A leaf PTE that permits an access, where it is, and the translation.
struct Leaf {
    pte_addr: u64,
    pte: u32,
    paddr: u64,
}

/// The two-level walk and every check of it but the A/D update.
fn find_leaf(mem: &mut impl PteMemory, ctx: WalkContext, vaddr: u32, access: Access) -> Result<Leaf, Trap> {
    let vpn = [(vaddr >> 12) & 0x3ff, vaddr >> 22];
    let mut table = u64::from(ctx.satp & 0x3f_ffff) << 12;
    let mut level = 1usize;
    loop {
        let pte_addr = table + u64::from(vpn[level]) * 4;
        let Some(pte) = mem.read_pte(pte_addr) else {
            return Err(access_fault(access, vaddr));
        };
        if pte & PTE_V == 0 || (pte & PTE_R == 0 && pte & PTE_W != 0) {
            return Err(page_fault(access, vaddr));
        }
        let ppn = u64::from(pte >> 10);
        if pte & (PTE_R | PTE_X) == 0 {
            // Pointer to the next level.
            if level == 0 {
                return Err(page_fault(access, vaddr));
            }
            level -= 1;
            table = ppn << 12;
            continue;
        }
        if !permitted(pte, ctx, access) {
            return Err(page_fault(access, vaddr));
        }
        // A megapage must be aligned: its PPN[0] field must be zero.
        if level == 1 && ppn & 0x3ff != 0 {
            return Err(page_fault(access, vaddr));
        }
        let page = if level == 1 { (ppn & !0x3ff) | u64::from(vpn[0]) } else { ppn };
        return Ok(Leaf { pte_addr, pte, paddr: (page << 12) | u64::from(vaddr & 0xfff) });
    }
}

/// The leaf permission check: R/W/X by access kind, U by privilege, SUM, MXR.
fn permitted(pte: u32, ctx: WalkContext, access: Access) -> bool {
    let user_page = pte & PTE_U != 0;
    let privilege_ok = match ctx.privilege {
        Privilege::User => user_page,
        // S-mode never executes user pages; it reads/writes them only with SUM.
        Privilege::Supervisor => !user_page || (access != Access::Fetch && ctx.mstatus & mstatus::SUM != 0),
        Privilege::Machine => true,
    };
    let kind_ok = match access {
        Access::Read => pte & PTE_R != 0 || (ctx.mstatus & mstatus::MXR != 0 && pte & PTE_X != 0),
        Access::Write => pte & PTE_W != 0,
        Access::Fetch => pte & PTE_X != 0,
    };
    privilege_ok && kind_ok
}
