//! Regions in the engine: forming one for a hot block, installing one
//! (its pages claimed as code, every block an entry), and finding one in the
//! cache the first time a fresh machine reaches a block (warm start).

use avm_interp::{decode_block, Block};
use avm_mmu::memory::PAGE_SIZE;
use avm_mmu::Machine;

use super::keys::{key_blocks, key_matches, key_pages, region_entries, region_key};
use super::JitEngine;
use crate::abi::{succ_index, BlockFn, CodeRef, SuccSlot};
use crate::cache::{first_inst, Entry};
use crate::plan::region::{self, owned_region, page_of, MAX_REGION_BLOCKS};

/// At most this many cached regions are tried when a fresh machine first
/// reaches a block (`JitEngine::warm_start`): code that repeats one first
/// instruction in many regions cannot make each first sight expensive.
const MAX_WARM_CANDIDATES: usize = 16;

impl JitEngine {
    /// The first time this machine reaches the block at RAM offset `off`,
    /// with regions in the code cache: if a cached region has a block that
    /// starts with the same instruction, and memory around `off` holds that
    /// whole region (each block decoded anew and the key rebuilt, exactly as
    /// a compile would, each block in the page the key says), install it at
    /// once. Without this, every run on a fresh machine (every transaction)
    /// interpreted each block up to the tiering threshold before the cache
    /// was even asked: ~15% of a warm run of the ecdsa workload.
    #[cold]
    pub(super) fn warm_start(&mut self, m: &mut Machine, off: u32) -> Option<CodeRef> {
        let ram = m.ram.bytes();
        let first = first_inst(ram.get(off as usize..)?)?;
        let (base, key) = self.code.regions_with_block(first).take(MAX_WARM_CANDIDATES).find_map(|(key, k)| {
            let base = off.wrapping_sub(key_blocks(key).nth(k as usize)?.rel as u32);
            // The bytes first (cheap), then the decoding that a compile
            // would do.
            if !key_matches(key, ram, base) {
                return None;
            }
            let mut blocks = Vec::new();
            for b in key_blocks(key) {
                let start = base.wrapping_add(b.rel as u32);
                // In RAM, and in the page the key says (checked once more by
                // the key comparison, but `decode_block` needs it first).
                if start as usize >= ram.len() || page_of(start, base) != b.page {
                    return None;
                }
                blocks.push((start, decode_block(m, start)?));
            }
            (*region_key(&owned_region(ram, base, &blocks)) == *key).then(|| (base, Box::<[u8]>::from(key)))
        })?;
        let code = self.code.get(&key)?;
        self.stats.cache_hits += 1;
        self.claim_pages(m, &key, base);
        if matches!(self.map.peek(base), None | Some(Entry::Cold(_))) {
            *self.map.entry(base) = Entry::Hot(code);
        }
        self.enter_region_blocks(&key, base, code.func);
        match self.map.peek(off) {
            Some(Entry::Hot(code)) => Some(code),
            _ => None,
        }
    }

    /// The region of `key` is being installed with its entry at RAM offset
    /// `off`: a write to any page it covers must now take the MMU's slow
    /// path and invalidate it (the interpreter marks pages the same way, and
    /// marking a marked page changes nothing). A region over two pages also
    /// links them: the map entries of each page may enter blocks in the
    /// other, so a write to either drops the entries of both.
    pub(super) fn claim_pages(&mut self, m: &mut Machine, key: &[u8], off: u32) {
        let (page, other) = key_pages(key, off);
        m.mark_code(off);
        // Installed regions lie in RAM (their blocks were matched or decoded
        // there), so the other page is a RAM page; the filter only keeps a
        // broken invariant from indexing past RAM.
        let in_ram = |p: &u32| p.checked_mul(PAGE_SIZE).is_some_and(|o| (o as usize) < m.ram.bytes().len());
        if let Some(other) = other.filter(in_ram) {
            m.mark_code(other * PAGE_SIZE);
            self.linked.insert((page, other));
            self.linked.insert((other, page));
        }
    }

    /// The region of `key` with its entry at RAM offset `off` left the
    /// compile queue (installed or not): its later blocks still waiting on
    /// it as `Entry::Member` go back to cold, to be promoted on their own.
    pub(super) fn release_members(&mut self, key: &[u8], off: u32) {
        for b in key_blocks(key).skip(1) {
            let o = off.wrapping_add(b.rel as u32);
            if matches!(self.map.peek(o), Some(Entry::Member)) {
                *self.map.entry(o) = Entry::Cold(0);
                // Counted again from here on.
                self.leave_fast_path(o);
            }
        }
    }

    /// The region of `key`, compiled as `func`, was installed for its first
    /// block at RAM offset `off` (memory there holds the region's bytes, and
    /// its pages are marked as code): its other blocks that have no code yet
    /// get theirs from the same function, entered at their own block. A
    /// block inside a compiled loop is then not compiled again as the start
    /// of a region of its own when it gets hot (after a call returns into
    /// it, say), which made ~30% of all compiled instructions on the keccak
    /// and ecdsa workloads.
    pub(super) fn enter_region_blocks(&mut self, key: &[u8], off: u32, func: BlockFn) {
        for code in region_entries(key, func).skip(1) {
            let o = off.wrapping_add(code.rel as u32);
            if matches!(self.map.peek(o), None | Some(Entry::Cold(_) | Entry::Member)) {
                *self.map.entry(o) = Entry::Hot(code);
                self.announce(o, Entry::Hot(code));
                self.stats.region_entries += 1;
            }
        }
    }

    /// Code arrived for the block at RAM offset `off` (or it will have
    /// none): the successor cache gets it at once, and the baseline fast
    /// path stops taking the block, so its next run finds the new entry
    /// instead of taking up to `BASE_FAST_RUNS` more baseline runs.
    pub(super) fn announce(&mut self, off: u32, entry: Entry) {
        if let Entry::Hot(code) = entry {
            self.succ[succ_index(off)] = SuccSlot::new(off, code);
        }
        self.leave_fast_path(off);
    }

    /// The region for the hot block at RAM offset `off` (see
    /// [`region::form`]): the blocks its static successors reach that have
    /// already run at least once. The crosscheck, which compares after
    /// every block, compiles single blocks.
    ///
    /// Blocks of a region still on the compile thread (`Pending`, `Member`)
    /// are left out: they get their code from it shortly, and compiling
    /// them again here only lengthened the queue (~6% of the instructions
    /// compiled on the ecdsa workload, whose compile thread is busy to the
    /// end). Blocks that already have code stay in: a loop whose blocks
    /// were compiled from another entry stays whole in this function.
    pub(super) fn form_region(&self, m: &Machine, off: u32) -> Option<Vec<(u32, Block)>> {
        let max_blocks = if self.config.crosscheck { 1 } else { MAX_REGION_BLOCKS };
        let seen = |t| matches!(self.map.peek(t), Some(Entry::Cold(1..) | Entry::Hot(_)));
        region::form(m, off, max_blocks, seen)
    }
}
