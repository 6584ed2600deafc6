//! The host's view of a contract's memory.
//!
//! Host services copy bytes in and out of the calling contract's memory
//! (call data, storage values, return data). The kernel has already checked
//! the pointers against the task's regions; the host still walks the page
//! table in `satp` itself, in software, and requires every page to be a
//! valid user page with the right permission. So even a buggy kernel cannot
//! make the host read or write anything but user pages, and a failure is an
//! error code for the kernel, never a panic. The walk has no side effects
//! (the kernel sets A and D in every entry it writes), so it cannot make the
//! engines' machine states differ.

use avm_abi::layout::{pte, PAGE_SIZE};
use avm_mmu::Machine;

/// The guest memory access failed (the host call returns `E_FAULT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadAddress(pub u32);

fn read_word(m: &Machine, paddr: u32) -> Option<u32> {
    let off = m.ram.offset_of(paddr, 4)?;
    Some(u32::from_le_bytes(m.ram.read::<4>(off)))
}

/// Translate the user address `va` through the current `satp`; `write`
/// asks for a writable page.
fn translate(m: &Machine, va: u32, write: bool) -> Option<u32> {
    let satp = m.hart.csr.satp;
    if satp & (1 << 31) == 0 {
        return None;
    }
    let root = (satp & 0x003f_ffff) << 12;
    let l1 = read_word(m, root.checked_add((va >> 22) * 4)?)?;
    if l1 & pte::V == 0 {
        return None;
    }
    let (leaf, page_mask) = if l1 & (pte::R | pte::X) != 0 {
        (l1, (1u32 << 22) - 1)
    } else {
        let table = (l1 >> 10) << 12;
        (read_word(m, table.checked_add(((va >> 12) & 0x3ff) * 4)?)?, PAGE_SIZE - 1)
    };
    let need = pte::V | pte::U | if write { pte::W } else { pte::R };
    if leaf & need != need {
        return None;
    }
    Some(((leaf >> 10) << 12 & !page_mask) | (va & page_mask))
}

/// Physical pieces of `[va, va + len)`, one per page.
fn pieces(m: &Machine, va: u32, len: u32, write: bool) -> Result<Vec<(u32, usize)>, BadAddress> {
    let mut out = Vec::new();
    let mut at = va;
    let mut left = len;
    while left > 0 {
        let chunk = left.min(PAGE_SIZE - (at & (PAGE_SIZE - 1)));
        let pa = translate(m, at, write).ok_or(BadAddress(at))?;
        m.ram.offset_of(pa, chunk).ok_or(BadAddress(at))?;
        out.push((pa, chunk as usize));
        at = at.checked_add(chunk).ok_or(BadAddress(at))?;
        left -= chunk;
    }
    Ok(out)
}

/// Read `len` bytes of user memory at `va`.
pub fn read_user(m: &Machine, va: u32, len: u32) -> Result<Vec<u8>, BadAddress> {
    let mut out = Vec::with_capacity(len as usize);
    for (pa, n) in pieces(m, va, len, false)? {
        let off = m.ram.offset_of(pa, n as u32).ok_or(BadAddress(va))? as usize;
        out.extend_from_slice(&m.ram.bytes()[off..off + n]);
    }
    Ok(out)
}

/// Write `data` to user memory at `va` (all pages are checked first, so a
/// bad page leaves memory untouched).
pub fn write_user(m: &mut Machine, va: u32, data: &[u8]) -> Result<(), BadAddress> {
    let len = u32::try_from(data.len()).map_err(|_| BadAddress(va))?;
    let mut at = 0;
    for (pa, n) in pieces(m, va, len, true)? {
        m.write_phys_bytes(pa, &data[at..at + n]).map_err(|_| BadAddress(va))?;
        at += n;
    }
    Ok(())
}

/// Write bytes at a physical address the kernel handed over (its own
/// frames), checking that the range is RAM.
///
/// Pages that already hold exactly these bytes are not written. The result
/// is the same, but an engine that caches decoded or compiled code keeps it:
/// the kernel's frame allocator is deterministic, so a contract called again
/// lands in the frames that already hold its code, and rewriting them would
/// invalidate every block decoded from them on every call.
pub fn write_frames(m: &mut Machine, pa: u32, data: &[u8]) -> Result<(), BadAddress> {
    let len = u32::try_from(data.len()).map_err(|_| BadAddress(pa))?;
    let off = m.ram.offset_of(pa, len).ok_or(BadAddress(pa))? as usize;
    let mut at = 0;
    while at < data.len() {
        let n = (data.len() - at).min(PAGE_SIZE as usize - (off + at) % PAGE_SIZE as usize);
        let chunk = &data[at..at + n];
        if m.ram.bytes()[off + at..off + at + n] != *chunk {
            m.write_phys_bytes(pa + at as u32, chunk).map_err(|_| BadAddress(pa))?;
        }
        at += n;
    }
    Ok(())
}
