//! A direct-mapped software TLB.
//!
//! Translating every access through a two-level page walk would cost two
//! memory reads per guest access. The TLB remembers the result per virtual
//! page, separately for reads, writes and instruction fetches (their
//! permissions differ), as a tag and a *RAM offset delta*: for a hit,
//! `ram_offset = vaddr + delta`. So the hit path is an index, a compare and an
//! add, which the JIT emits inline.
//!
//! Rules that keep it correct:
//! - an entry is filled only after a translation that *succeeded for that
//!   access kind*, and only for RAM (devices always take the slow path);
//! - the write side is filled only for plain pages (not code, not devices), so a
//!   store hit never needs a check, and only once the walker has set the
//!   PTE's D bit;
//! - everything is flushed on `sfence.vma`, `satp` writes, changes to or
//!   from M-mode and `mstatus` changes that affect translation (MPRV, MPP,
//!   SUM, MXR);
//! - a switch between U- and S-mode (a trap into the kernel, `sret` back)
//!   *parks* the entries of the mode being left and brings back the ones it
//!   parked when it last left the other mode ([`Tlb::switch_bank`]): U-mode
//!   never sees an entry filled in S-mode, nor S-mode one filled in U-mode,
//!   and a kernel that serves a system call does not make its task walk every
//!   page again. Parked entries are as valid as active ones (nothing that
//!   affects translation changed without a flush, which clears them too);
//! - the write entry of a page is dropped when that page becomes a code page,
//!   parked or not.
//!
//! Because both engines fill and flush the TLB through the same functions in
//! the same instruction order, its contents are part of the state they agree
//! on; it can never make them diverge.

/// Number of entries per access kind (a power of two).
pub const TLB_ENTRIES: usize = 4096;

/// One cached translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct TlbEntry {
    /// The page's base address `vaddr & !0xfff` for a valid entry;
    /// [`EMPTY_TAG`] when empty. The empty tag is not page-aligned, so no
    /// page can match it, and a hit test is one compare.
    pub tag: u32,
    /// Add to a virtual address in this page to get its RAM offset.
    pub delta: u32,
}

/// Tag of an empty entry.
pub const EMPTY_TAG: u32 = 1;

impl Default for TlbEntry {
    fn default() -> Self {
        TlbEntry { tag: EMPTY_TAG, delta: 0 }
    }
}

/// The three TLBs: data reads, data writes and instruction fetches.
///
/// Equality and hashing cover the entries only: `filled` is bookkeeping
/// for [`Tlb::flush`].
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Tlb {
    /// Entries for loads (and the read half of nothing else).
    pub read: [TlbEntry; TLB_ENTRIES],
    /// Entries for stores (plain pages only).
    pub write: [TlbEntry; TLB_ENTRIES],
    /// Entries for instruction fetch.
    pub fetch: [TlbEntry; TLB_ENTRIES],
    /// Entries filled since the last flush (`side * TLB_ENTRIES + index`),
    /// so a flush clears those instead of all `3 * TLB_ENTRIES`.
    filled: Vec<u16>,
    /// XOR of [`entry_hash`] over the valid entries, kept up to date by
    /// every change: [`Tlb::digest`].
    sum: u64,
    /// The entries of the other privilege mode (U or S), parked by
    /// [`Tlb::switch_bank`] as `(side * TLB_ENTRIES + index, entry)`.
    parked: Vec<(u16, TlbEntry)>,
    /// `sum` of the parked entries, which becomes `sum` again when they
    /// come back to the same places.
    parked_sum: u64,
    /// An empty buffer for the next [`Tlb::switch_bank`] (no allocation per
    /// switch).
    spare: Vec<(u16, TlbEntry)>,
}

/// A 64-bit mix of one valid entry and its position (splitmix64's
/// finaliser).
fn entry_hash(code: usize, e: TlbEntry) -> u64 {
    let mut z = (code as u64) << 48 ^ u64::from(e.tag) << 16 ^ u64::from(e.delta).rotate_left(29);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const _: () = assert!(3 * TLB_ENTRIES <= u16::MAX as usize + 1);

impl Default for Tlb {
    fn default() -> Self {
        Tlb {
            read: [TlbEntry::default(); TLB_ENTRIES],
            write: [TlbEntry::default(); TLB_ENTRIES],
            fetch: [TlbEntry::default(); TLB_ENTRIES],
            filled: Vec::new(),
            sum: 0,
            parked: Vec::new(),
            parked_sum: 0,
            spare: Vec::new(),
        }
    }
}

impl Tlb {
    fn entry_mut(&mut self, code: u16) -> &mut TlbEntry {
        let (side, index) = (usize::from(code) / TLB_ENTRIES, usize::from(code) % TLB_ENTRIES);
        match side {
            0 => &mut self.read[index],
            1 => &mut self.write[index],
            _ => &mut self.fetch[index],
        }
    }

    /// The entry with code `side * TLB_ENTRIES + index` (see `filled`).
    fn entry(&self, code: u16) -> &TlbEntry {
        let (side, index) = (usize::from(code) / TLB_ENTRIES, usize::from(code) % TLB_ENTRIES);
        match side {
            0 => &self.read[index],
            1 => &self.write[index],
            _ => &self.fetch[index],
        }
    }
}

/// Equal entries. Every valid entry is listed in its TLB's `filled` (a fill
/// of an empty entry records it; only a flush forgets it, and clears the
/// entry too), so comparing the entries the two lists name compares them
/// all: the crosscheck does this after every block. Parked entries are
/// compared as sets.
impl PartialEq for Tlb {
    fn eq(&self, other: &Tlb) -> bool {
        let parked = |t: &Tlb| {
            let mut p = t.parked.clone();
            p.sort_unstable_by_key(|&(code, _)| code);
            p
        };
        self.filled.iter().chain(&other.filled).all(|&code| self.entry(code) == other.entry(code))
            && (self.parked.is_empty() && other.parked.is_empty() || parked(self) == parked(other))
    }
}

impl Eq for Tlb {}

impl std::hash::Hash for Tlb {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.read.hash(state);
        self.write.hash(state);
        self.fetch.hash(state);
    }
}

/// Which TLB (and which permission) an access uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// A load (also `lr.w`).
    Read,
    /// A store, `sc.w` or AMO.
    Write,
    /// An instruction fetch.
    Fetch,
}

impl Tlb {
    /// Index of the entry for a virtual address.
    #[inline(always)]
    pub const fn index(vaddr: u32) -> usize {
        (vaddr >> 12) as usize & (TLB_ENTRIES - 1)
    }

    /// The tag a valid entry for this address holds.
    #[inline(always)]
    pub const fn tag(vaddr: u32) -> u32 {
        vaddr & !0xfff
    }

    /// The entries of one access kind.
    #[inline(always)]
    pub fn side(&self, access: Access) -> &[TlbEntry; TLB_ENTRIES] {
        match access {
            Access::Read => &self.read,
            Access::Write => &self.write,
            Access::Fetch => &self.fetch,
        }
    }

    /// Look up the RAM offset of `vaddr` for an access of `len` bytes that stays
    /// inside one page.
    #[inline(always)]
    pub fn lookup(&self, access: Access, vaddr: u32, len: u32) -> Option<u32> {
        let e = &self.side(access)[Self::index(vaddr)];
        (e.tag == Self::tag(vaddr) && (vaddr & 0xfff) + len <= 4096).then(|| vaddr.wrapping_add(e.delta))
    }

    /// Remember that `vaddr`'s page maps to the RAM page at `ram_offset`.
    pub fn fill(&mut self, access: Access, vaddr: u32, ram_offset: u32) {
        let (side, n) = match access {
            Access::Read => (&mut self.read, 0),
            Access::Write => (&mut self.write, 1),
            Access::Fetch => (&mut self.fetch, 2),
        };
        let index = Self::index(vaddr);
        let code = n * TLB_ENTRIES + index;
        if side[index].tag == EMPTY_TAG {
            self.filled.push(code as u16);
        } else {
            self.sum ^= entry_hash(code, side[index]);
        }
        if self.filled.len() > 3 * TLB_ENTRIES {
            // Entries emptied by `drop_writes_to` and filled again are
            // listed twice; never let the list outgrow the TLB.
            self.filled.sort_unstable();
            self.filled.dedup();
        }
        let entry = TlbEntry { tag: Self::tag(vaddr), delta: (ram_offset & !0xfff).wrapping_sub(vaddr & !0xfff) };
        side[index] = entry;
        self.sum ^= entry_hash(code, entry);
    }

    /// Forget every translation. Only entries filled since the last flush
    /// can be valid, so only those are cleared (every entry once many are
    /// filled).
    pub fn flush(&mut self) {
        if self.filled.len() > TLB_ENTRIES / 4 {
            for e in self.read.iter_mut().chain(self.write.iter_mut()).chain(self.fetch.iter_mut()) {
                *e = TlbEntry::default();
            }
        } else {
            let filled = std::mem::take(&mut self.filled);
            for &code in &filled {
                *self.entry_mut(code) = TlbEntry::default();
            }
            // Keep the list's memory for the next fills.
            self.filled = filled;
        }
        self.filled.clear();
        self.sum = 0;
        self.parked.clear();
        self.parked_sum = 0;
    }

    /// A switch between U- and S-mode: park the active entries (those of the
    /// mode being left) and bring back the entries parked at the last switch
    /// (those of the mode being entered), so that each mode only ever hits
    /// entries it filled itself. Every other change of privilege flushes.
    pub fn switch_bank(&mut self) {
        let mut parking = std::mem::take(&mut self.spare);
        parking.clear();
        let mut filled = std::mem::take(&mut self.filled);
        for &code in &filled {
            let e = std::mem::take(self.entry_mut(code));
            // A code listed twice was emptied the first time.
            if e.tag != EMPTY_TAG {
                parking.push((code, e));
            }
        }
        filled.clear();
        self.sum = std::mem::replace(&mut self.parked_sum, self.sum);
        let back = std::mem::replace(&mut self.parked, parking);
        for &(code, e) in &back {
            *self.entry_mut(code) = e;
            filled.push(code);
        }
        self.filled = filled;
        self.spare = back;
    }

    /// A 64-bit digest of the valid entries, kept up to date incrementally:
    /// equal TLBs have equal digests, and different ones almost surely
    /// differ. The crosscheck compares it after every block, where even
    /// [`PartialEq`]'s walk over the filled entries is too slow.
    pub fn digest(&self) -> u64 {
        self.sum
    }

    /// Drop write entries that point at the RAM page holding `ram_offset`.
    pub fn drop_writes_to(&mut self, ram_offset: u32) {
        let page = ram_offset & !0xfff;
        for (index, e) in self.write.iter_mut().enumerate() {
            if e.tag != EMPTY_TAG && e.tag.wrapping_add(e.delta) == page {
                self.sum ^= entry_hash(TLB_ENTRIES + index, *e);
                *e = TlbEntry::default();
            }
        }
        let write = TLB_ENTRIES as u16..2 * TLB_ENTRIES as u16;
        let parked_sum = &mut self.parked_sum;
        self.parked.retain(|&(code, e)| {
            let drop = write.contains(&code) && e.tag.wrapping_add(e.delta) == page;
            if drop {
                *parked_sum ^= entry_hash(usize::from(code), e);
            }
            !drop
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_forgets_every_fill_few_or_many() {
        for fills in [1u32, 7, TLB_ENTRIES as u32 / 4 + 1, 3 * TLB_ENTRIES as u32] {
            let mut tlb = Tlb::default();
            for k in 0..fills {
                let access = [Access::Read, Access::Write, Access::Fetch][k as usize % 3];
                // Refilling a slot with another page must not be forgotten either.
                tlb.fill(access, k.wrapping_mul(0x1000), 0x2000);
                tlb.fill(access, k.wrapping_mul(0x1000).wrapping_add(0x100_0000), 0x3000);
            }
            tlb.drop_writes_to(0x3000);
            assert_ne!(tlb, Tlb::default());
            tlb.flush();
            assert_eq!(tlb, Tlb::default(), "{fills} fills");
            assert!(tlb.lookup(Access::Read, 0, 4).is_none());
        }
    }

    #[test]
    fn equality_sees_every_entry() {
        let mut a = Tlb::default();
        let mut b = Tlb::default();
        assert_eq!(a, b);
        a.fill(Access::Write, 0x5000, 0x1000);
        assert_ne!(a, b, "filled on one side only");
        assert_ne!(b, a, "either order");
        b.fill(Access::Write, 0x5000, 0x2000);
        assert_ne!(a, b, "another delta");
        b.fill(Access::Write, 0x5000, 0x1000);
        assert_eq!(a, b);
        b.fill(Access::Fetch, 0x5000, 0x1000);
        assert_ne!(a, b, "another side");
        assert_ne!(a.digest(), b.digest());
        b.flush();
        a.drop_writes_to(0x1000);
        assert_eq!(a, b, "dropped and flushed entries are empty alike");
        assert_eq!(a.digest(), b.digest());
        assert_eq!(a.digest(), Tlb::default().digest());
        a.fill(Access::Read, 0x7000, 0x3000);
        b.fill(Access::Read, 0x7000, 0x4000);
        b.fill(Access::Read, 0x7000, 0x3000);
        assert_eq!(a.digest(), b.digest(), "a refill replaces the entry's share");
    }

    #[test]
    fn a_bank_switch_hides_the_other_modes_entries_until_it_returns() {
        let mut tlb = Tlb::default();
        tlb.fill(Access::Fetch, 0x1_0000, 0x5000);
        tlb.fill(Access::Write, 0x2_0000, 0x6000);
        let user = tlb.clone();
        tlb.switch_bank();
        assert_eq!(tlb.digest(), 0, "the kernel sees no user entry");
        assert!(tlb.lookup(Access::Fetch, 0x1_0000, 4).is_none());
        tlb.fill(Access::Read, 0x8000_0000, 0);
        let kernel_digest = tlb.digest();
        tlb.switch_bank();
        assert!(tlb.lookup(Access::Read, 0x8000_0000, 4).is_none(), "the task sees no kernel entry");
        assert_eq!(tlb.lookup(Access::Fetch, 0x1_0004, 4), Some(0x5004));
        assert_eq!(tlb.digest(), user.digest());
        tlb.drop_writes_to(0x6000);
        tlb.switch_bank();
        assert_eq!(tlb.digest(), kernel_digest);
        tlb.switch_bank();
        assert!(tlb.lookup(Access::Write, 0x2_0000, 4).is_none(), "a code page's write entry stays dropped");
        tlb.fill(Access::Write, 0x3_0000, 0x7000);
        tlb.switch_bank();
        tlb.drop_writes_to(0x7000);
        tlb.switch_bank();
        let mut fetch_only = Tlb::default();
        fetch_only.fill(Access::Fetch, 0x1_0000, 0x5000);
        assert_eq!(tlb.digest(), fetch_only.digest(), "a parked write entry is dropped, digest and all");
        tlb.switch_bank();
        tlb.flush();
        tlb.switch_bank();
        assert_eq!(tlb, Tlb::default(), "a flush clears parked entries too");
    }

    #[test]
    fn empty_entries_match_no_address() {
        let tlb = Tlb::default();
        for vaddr in [0, 1, 0xfff, 0x1000, 0xffff_f000, 0xffff_ffff] {
            for access in [Access::Read, Access::Write, Access::Fetch] {
                assert!(tlb.lookup(access, vaddr, 1).is_none());
            }
        }
    }
}
