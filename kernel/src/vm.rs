//! Sv32 address spaces: a root table, leaf tables (the usual three made with
//! the space, others on demand), and the
//! kernel's view of RAM in every space.
//!
//! Sv32 splits a virtual address into a 10-bit root index (4 MiB each), a
//! 10-bit leaf index (4 KiB each) and a 12-bit offset. A root entry is either
//! a pointer to a leaf table or, with R/W/X set, a 4 MiB megapage. The kernel
//! uses megapages for RAM (a handful of entries per space) and leaf tables
//! for the contract. Every entry the kernel writes has A and D already set,
//! so the walker never needs to write page tables back.

use avm_abi::layout::{self, pte, PAGE_SIZE};

use crate::frames::Frames;
use crate::Boot;

const MEGAPAGE: u32 = 1 << 22;

/// An address space: the physical address of its root table.
#[derive(Clone, Copy)]
pub struct AddressSpace {
    root: u32,
}

/// A page-table entry pointer at a physical address (the kernel's view of
/// RAM is one-to-one, with or without paging).
fn entry(table: u32, index: u32) -> *mut u32 {
    (table + index * 4) as *mut u32
}

fn read(table: u32, index: u32) -> u32 {
    // SAFETY: `table` is a page-table frame this kernel allocated from the
    // pool (inside RAM, mapped one-to-one) and index < 1024.
    unsafe { entry(table, index).read_volatile() }
}

fn write(table: u32, index: u32, value: u32) {
    // SAFETY: as in `read`; the frame belongs to the current call.
    unsafe { entry(table, index).write_volatile(value) }
}

/// Frames [`AddressSpace::new`] takes, zeroed with one host call: the root
/// table, the leaf tables of the code, heap and stack regions, and the
/// first stack and heap pages, which nearly every call touches.
pub const FIRST_FRAMES: u32 = 6;

impl AddressSpace {
    /// A new space with RAM mapped for the kernel, leaf tables for the
    /// user's code, heap and stack regions, and the top stack page and the
    /// first heap page mapped: a call that stays in them takes no page
    /// fault and makes one `ZERO_PAGES` host call instead of six.
    pub fn new(boot: &Boot, frames: &mut Frames) -> Option<AddressSpace> {
        let root = frames.alloc_zeroed(FIRST_FRAMES)?;
        for (i, va) in (1u32..).zip([layout::USER_CODE_START, layout::HEAP_START, layout::STACK_TOP - 1]) {
            let table = root + i * PAGE_SIZE;
            write(root, va >> 22, (table >> 12) << 10 | pte::V);
        }
        let space = AddressSpace { root };
        // Both leaf tables exist, so these never allocate.
        space.map(frames, page_of(layout::STACK_TOP - 1), root + 4 * PAGE_SIZE, pte::R | pte::W);
        space.map(frames, layout::HEAP_START, root + 5 * PAGE_SIZE, pte::R | pte::W);
        let mut pa = boot.ram_base & !(MEGAPAGE - 1);
        let end = boot.ram_base.wrapping_add(boot.ram_size);
        while pa < end && pa >= boot.ram_base & !(MEGAPAGE - 1) {
            let kernel = pte::V | pte::R | pte::W | pte::X | pte::G | pte::A | pte::D;
            write(root, pa >> 22, (pa >> 12) << 10 | kernel);
            pa = pa.wrapping_add(MEGAPAGE);
        }
        Some(space)
    }

    /// The `satp` value that selects this space (Sv32, ASID 0).
    pub fn satp(&self) -> u32 {
        1 << 31 | self.root >> 12
    }

    /// Map the user page at `va` to the frame at `pa` with `flags`
    /// (R/W/X; U, V, A and D are added). Returns false if a leaf table was
    /// needed and the pool is empty.
    pub fn map(&self, frames: &mut Frames, va: u32, pa: u32, flags: u32) -> bool {
        let vpn1 = va >> 22;
        let mut l1 = read(self.root, vpn1);
        if l1 & pte::V == 0 {
            let Some(table) = frames.alloc_zeroed(1) else {
                return false;
            };
            l1 = (table >> 12) << 10 | pte::V;
            write(self.root, vpn1, l1);
        }
        let table = (l1 >> 10) << 12;
        let leaf = flags & (pte::R | pte::W | pte::X) | pte::U | pte::V | pte::A | pte::D;
        write(table, (va >> 12) & 0x3ff, (pa >> 12) << 10 | leaf);
        true
    }

    /// The permission bits of the user page at `va`, if it is mapped.
    pub fn lookup(&self, va: u32) -> Option<u32> {
        let l1 = read(self.root, va >> 22);
        if l1 & pte::V == 0 || l1 & (pte::R | pte::W | pte::X) != 0 {
            return None;
        }
        let leaf = read((l1 >> 10) << 12, (va >> 12) & 0x3ff);
        (leaf & pte::V != 0).then_some(leaf & (pte::R | pte::W | pte::X | pte::U))
    }
}

/// Round down to a page boundary.
pub const fn page_of(va: u32) -> u32 {
    va & !(PAGE_SIZE - 1)
}
