//! The two caches of the JIT, above both tiers: compiled code by content,
//! and what the engine knows per machine by RAM offset.
//!
//! - [`CodeCache`]: compiled regions, keyed by their **content**: every
//!   block's offset from the entry, length, page and bytes (the region key,
//!   see `engine::keys`). It lives in the engine and outlives any one
//!   machine: the same contract code loaded into another frame, another
//!   transaction or another machine hits it. The key is compared in full on
//!   lookup, so a hash collision can never run the wrong code; since a
//!   region's instructions, lengths and exits are a function of its key and
//!   compiled code takes the pc as a parameter, equal keys mean
//!   interchangeable code. It also
//!   indexes every cached region's blocks by their first instruction, so a
//!   fresh machine finds the code for a block the first time it reaches it
//!   (see `JitEngine::warm_start`) instead of interpreting it up to the
//!   tiering threshold again in every run.
//! - [`BlockMap`]: per machine, RAM offset -> what the engine knows about the
//!   block that starts there (cold with an execution count, compiled, or not
//!   compilable), and a second [`PageMap`] of the same shape for the
//!   baseline tier's code. Organised like the interpreter's cache (a table
//!   per RAM page, a slot per 2-byte offset) so a lookup is two indexings,
//!   and dropped page by page when the MMU reports a write to a code page.

use std::collections::HashMap;
use std::sync::Arc;

use avm_mmu::memory::PAGE_SIZE;

use crate::abi::{BaseCode, CodeRef};

/// A block of a cached region: the region's key and the block's index.
type BlockOfRegion = (Arc<[u8]>, u32);

/// Compiled regions by content (their key).
#[derive(Default)]
pub struct CodeCache {
    map: HashMap<Arc<[u8]>, CodeRef>,
    /// First instruction (its raw bits, see [`first_inst`]) -> the keys of
    /// the cached regions with a block that starts with it, and that block's
    /// index in the region, in insertion order. Only looked up, never
    /// iterated as a whole.
    by_first_inst: HashMap<u32, Vec<BlockOfRegion>>,
    /// Machine-code bytes held.
    pub code_bytes: u64,
}

impl CodeCache {
    /// The compiled code of the region with exactly this key.
    pub fn get(&self, bytes: &[u8]) -> Option<CodeRef> {
        self.map.get(bytes).copied()
    }

    /// Remember compiled code for a region key, whose blocks
    /// start with the instructions `firsts` (in region order; `None` for a
    /// block that is only a page-straddling instruction).
    pub fn insert(&mut self, bytes: &[u8], code: CodeRef, code_size: u32, firsts: impl Iterator<Item = Option<u32>>) {
        let key: Arc<[u8]> = bytes.into();
        for (k, first) in firsts.enumerate() {
            if let Some(first) = first {
                self.by_first_inst.entry(first).or_default().push((Arc::clone(&key), k as u32));
            }
        }
        self.map.insert(key, code);
        self.code_bytes += u64::from(code_size);
    }

    /// The cached regions with a block that starts with instruction `first`:
    /// (region key, the block's index in it).
    pub fn regions_with_block(&self, first: u32) -> impl Iterator<Item = (&[u8], u32)> {
        self.by_first_inst.get(&first).into_iter().flatten().map(|(key, k)| (&key[..], *k))
    }

    /// Number of distinct compiled regions.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True if nothing is compiled.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The raw bits of the instruction at the start of `bytes` (16 or 32 bits,
/// told apart by the low two bits as the decoder does), if it is all there.
pub fn first_inst(bytes: &[u8]) -> Option<u32> {
    let low = u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?]);
    if avm_isa::inst_len(low) == 2 {
        return Some(u32::from(low));
    }
    let high = u16::from_le_bytes([*bytes.get(2)?, *bytes.get(3)?]);
    Some(u32::from(low) | u32::from(high) << 16)
}

/// What the engine knows about the block at one RAM offset.
#[derive(Clone, Copy, Debug)]
pub enum Entry {
    /// Interpreted so far, this many times.
    Cold(u32),
    /// Compiled.
    Hot(CodeRef),
    /// Hot, its region queued on the compile thread; interpreted meanwhile.
    Pending,
    /// A later block of a region queued for another block (see
    /// `JitEngine::compile`): it gets its code from that region, so it is
    /// not promoted on its own meanwhile; interpreted until then.
    Member,
    /// Never compiled here: the first instruction straddles the page end,
    /// translation failed, or the compile budget is spent.
    Interp,
}

impl Default for Entry {
    fn default() -> Self {
        Entry::Cold(0)
    }
}

/// What the engine knows about the baseline code of the block at one RAM
/// offset (see [`crate::baseline`]).
#[derive(Clone, Copy, Debug)]
pub enum Base {
    /// Not translated; run this many times without baseline code.
    Cold(u32),
    /// Translated.
    Code(BaseCode),
    /// Cannot be: the block does not decode here, or this host has no
    /// baseline tier.
    Never,
}

const SLOTS: usize = (PAGE_SIZE / 2) as usize;

struct Page<T> {
    /// Index + 1 into `entries` for each 2-byte slot; 0 = unknown.
    slots: Box<[u32; SLOTS]>,
    entries: Vec<T>,
}

impl Default for Base {
    fn default() -> Self {
        Base::Cold(0)
    }
}

/// Per-machine map from the RAM offset of a block to what the engine knows
/// about it: [`Entry`] for the Cranelift tier ([`BlockMap`]), [`Base`] for
/// the baseline. Organised like the interpreter's cache (a table per RAM
/// page, a slot per 2-byte offset) so a lookup is two indexings, and
/// dropped page by page when the MMU reports a write to a code page.
pub struct PageMap<T> {
    pages: Vec<Option<Box<Page<T>>>>,
}

/// The Cranelift tier's [`PageMap`].
pub type BlockMap = PageMap<Entry>;

impl<T> Default for PageMap<T> {
    fn default() -> Self {
        PageMap { pages: Vec::new() }
    }
}

impl<T: Copy + Default> PageMap<T> {
    /// The entry for the block at RAM offset `off`, created (as `T`'s
    /// default) if unknown.
    #[inline]
    pub fn entry(&mut self, off: u32) -> &mut T {
        let page = (off / PAGE_SIZE) as usize;
        let slot = ((off % PAGE_SIZE) / 2) as usize;
        if self.pages.len() <= page {
            self.pages.resize_with(page + 1, || None);
        }
        let p =
            self.pages[page].get_or_insert_with(|| Box::new(Page { slots: Box::new([0; SLOTS]), entries: Vec::new() }));
        let mut idx = p.slots[slot] as usize;
        if idx == 0 {
            p.entries.push(T::default());
            idx = p.entries.len();
            p.slots[slot] = idx as u32;
        }
        &mut p.entries[idx - 1]
    }

    /// The entry for the block at RAM offset `off`, if there is one.
    pub fn peek(&self, off: u32) -> Option<T> {
        let p = self.pages.get((off / PAGE_SIZE) as usize)?.as_ref()?;
        let idx = p.slots[((off % PAGE_SIZE) / 2) as usize] as usize;
        idx.checked_sub(1).map(|i| p.entries[i])
    }

    /// Forget every block of RAM page `page` (offset / 4096).
    pub fn invalidate_page(&mut self, page: u32) {
        if let Some(p) = self.pages.get_mut(page as usize) {
            *p = None;
        }
    }

    /// Forget everything (another machine).
    pub fn clear(&mut self) {
        self.pages.clear();
    }
}
