//! Physical memory: RAM, and per-page flags that divert some writes.
//!
//! RAM is an anonymous `mmap` ([`memmap2::MmapMut::map_anon`]): the kernel hands
//! out zeroed pages lazily on first touch, so a 64 MiB machine that uses 100 KiB
//! costs 100 KiB, and resetting it means dropping the mapping.
//!
//! Every 4 KiB physical page has a flag byte. A page is *plain* (0), holds
//! *code* that an engine has decoded or compiled, or holds a *device* register
//! (the HTIF mailbox). Only plain pages ever enter the TLB's write side, so the
//! fast store path needs no check at all; a store to a flagged page takes the
//! slow path, where a code page is reported to the engines for invalidation
//! (self-modifying code) and a device page is handed to the device.

use memmap2::MmapMut;

/// Physical address where RAM starts (as on Spike and QEMU's `virt`/`spike`).
pub const RAM_BASE: u32 = 0x8000_0000;
/// Bytes per page.
pub const PAGE_SIZE: u32 = 4096;

/// Page flag: an engine holds decoded or compiled code from this page.
pub const PAGE_CODE: u8 = 1;
/// Page flag: a device register lives in this page.
pub const PAGE_DEVICE: u8 = 2;

/// The machine's RAM.
pub struct Ram {
    map: MmapMut,
    flags: Vec<u8>,
    /// Pages whose code flag was cleared by a write since the engines last
    /// looked (see [`Ram::take_invalidated`]).
    invalidated: Vec<u32>,
}

impl Ram {
    /// Map `size` bytes of zeroed RAM. `size` must be a multiple of the page size.
    pub fn new(size: u32) -> std::io::Result<Ram> {
        let map = MmapMut::map_anon(size as usize)?;
        Ok(Ram { map, flags: vec![0; (size / PAGE_SIZE) as usize], invalidated: Vec::new() })
    }

    /// A copy of this RAM (contents and flags) in a new mapping.
    pub fn try_clone(&self) -> std::io::Result<Ram> {
        let mut map = MmapMut::map_anon(self.map.len())?;
        // Copy only pages that were ever written to keep untouched pages lazy.
        for (dst, src) in map.chunks_mut(PAGE_SIZE as usize).zip(self.map.chunks(PAGE_SIZE as usize)) {
            if src.iter().any(|&b| b != 0) {
                dst.copy_from_slice(src);
            }
        }
        Ok(Ram { map, flags: self.flags.clone(), invalidated: self.invalidated.clone() })
    }

    /// RAM size in bytes.
    pub fn size(&self) -> u32 {
        self.map.len() as u32
    }

    /// The RAM offset of physical address `paddr`, if `len` bytes there are RAM.
    #[inline]
    pub fn offset_of(&self, paddr: u32, len: u32) -> Option<u32> {
        let off = paddr.wrapping_sub(RAM_BASE);
        let end = u64::from(off) + u64::from(len);
        (end <= self.map.len() as u64).then_some(off)
    }

    /// All of RAM as bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Host pointer to the first RAM byte, for the JIT's inline fast path. The
    /// mapping never moves while the `Ram` lives.
    pub fn host_ptr(&mut self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    /// Read `N` bytes at RAM offset `off` (caller checked the range).
    #[inline(always)]
    pub fn read<const N: usize>(&self, off: u32) -> [u8; N] {
        let off = off as usize;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.map[off..off + N]);
        out
    }

    /// Write bytes at RAM offset `off` with no flag checks: only for pages the
    /// caller knows are plain (the TLB fast path) .
    #[inline(always)]
    pub fn write_plain(&mut self, off: u32, data: &[u8]) {
        let off = off as usize;
        self.map[off..off + data.len()].copy_from_slice(data);
    }

    /// Flags of the page holding RAM offset `off`.
    #[inline(always)]
    pub fn page_flags(&self, off: u32) -> u8 {
        self.flags[(off / PAGE_SIZE) as usize]
    }

    /// Write bytes at RAM offset `off` (range checked by the caller), noting
    /// any code page hit. Returns the union of the flags of the pages touched.
    pub fn write(&mut self, off: u32, data: &[u8]) -> u8 {
        let first = off / PAGE_SIZE;
        let last = (off + data.len().max(1) as u32 - 1) / PAGE_SIZE;
        let mut seen = 0;
        for page in first..=last {
            let f = &mut self.flags[page as usize];
            seen |= *f;
            if *f & PAGE_CODE != 0 {
                *f &= !PAGE_CODE;
                self.invalidated.push(page);
            }
        }
        self.write_plain(off, data);
        seen
    }

    /// Mark the page holding RAM offset `off` as holding code.
    pub fn mark_code(&mut self, off: u32) {
        self.flags[(off / PAGE_SIZE) as usize] |= PAGE_CODE;
    }

    /// Mark the page holding RAM offset `off` as holding a device register.
    pub fn mark_device(&mut self, off: u32) {
        self.flags[(off / PAGE_SIZE) as usize] |= PAGE_DEVICE;
    }

    /// Take the list of code pages (as RAM page numbers: offset / 4096) written
    /// since the last call. Engines drop their decoded/compiled blocks for them.
    pub fn take_invalidated(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.invalidated)
    }

    /// True if some code page was written since the last [`Ram::take_invalidated`].
    #[inline(always)]
    pub fn has_invalidated(&self) -> bool {
        !self.invalidated.is_empty()
    }

    /// A cheap, deterministic digest of RAM contents (FNV-1a over 64-bit words,
    /// skipping all-zero pages quickly) for comparing engines.
    pub fn digest(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for (i, page) in self.map.chunks(PAGE_SIZE as usize).enumerate() {
            if page.iter().all(|&b| b == 0) {
                continue;
            }
            h = (h ^ i as u64).wrapping_mul(0x0100_0000_01b3);
            for w in page.chunks_exact(8) {
                let v = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
                h = (h ^ v).wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }
}

impl std::fmt::Debug for Ram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ram({} KiB)", self.map.len() / 1024)
    }
}
