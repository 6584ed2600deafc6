//! Tiering to Cranelift: a block that reached the threshold is promoted
//! (its region found in the cache, compiled now, or queued on the compile
//! thread), and the queue, its backlog and the thread are looked after.

use std::time::Instant;

use avm_mmu::Machine;

use super::keys::{key_blocks, key_matches, region_entries, region_key};
use super::JitEngine;
use crate::abi::CodeRef;
use crate::cache::{first_inst, Entry};
use crate::cranelift::{CompileError, Compiled, Translator};
use crate::plan::region::{owned_region, OwnedRegion};
use crate::worker::Worker;

/// Regions queued on the compile thread at once. With one, the thread
/// idled from the end of each compile until the engine next looked (when a
/// waiting block ran again or another got hot); a second one queued keeps
/// it busy. Measured with `avm exec` (median of 15 interleaved runs): one
/// 3,350 / 1,610 MIPS on keccak / ecdsa, two 4,130 / 1,760, four 3,890 /
/// 1,720 (more regions that overlap, compiled twice).
pub const MAX_QUEUED_REGIONS: usize = 2;

/// At most this many hot blocks wait for a place in the compile queue
/// (`JitEngine::backlog`); a block that finds the backlog full asks again on
/// a later run.
const MAX_BACKLOG: usize = 64;

/// After this many compile threads died, the engine stops starting new
/// ones (see `JitEngine::replace_dead_worker`).
pub const MAX_WORKER_RESTARTS: u64 = 3;

/// What [`JitEngine::compile`] achieved for a hot block.
pub(super) enum Promotion {
    /// Code to run now, and the key of its region.
    Ready(CodeRef, Box<[u8]>),
    /// Queued on the compile thread.
    Queued,
    /// Interpret it (budget spent, or Cranelift failed).
    Refused,
}

impl JitEngine {
    /// Find or compile code for the hot block at RAM offset `off`; with a
    /// compile thread, queue it and interpret meanwhile.
    #[cold]
    pub(super) fn promote(&mut self, m: &mut Machine, off: u32) -> Option<CodeRef> {
        let entry = match self.compile(m, off) {
            Promotion::Ready(code, key) => {
                self.claim_pages(m, &key, off);
                self.enter_region_blocks(&key, off, code.func);
                Entry::Hot(code)
            }
            Promotion::Queued => Entry::Pending,
            Promotion::Refused => Entry::Interp,
        };
        *self.map.entry(off) = entry;
        match entry {
            Entry::Hot(code) => Some(code),
            _ => None,
        }
    }

    /// A pending block runs again: install whatever the worker finished,
    /// then use this block's code if it is among it.
    #[cold]
    pub(super) fn collect(&mut self, m: &mut Machine, off: u32) -> Option<CodeRef> {
        self.poll(m);
        match self.map.peek(off) {
            Some(Entry::Hot(code)) => Some(code),
            _ => None,
        }
    }

    /// True if [`MAX_QUEUED_REGIONS`] regions are still compiling (after
    /// installing what is done).
    pub(super) fn worker_busy(&mut self, m: &mut Machine) -> bool {
        if self.pending.len() < MAX_QUEUED_REGIONS {
            return false;
        }
        self.poll(m);
        self.pending.len() >= MAX_QUEUED_REGIONS
    }

    /// The hot block at RAM offset `off` found the compile queue full:
    /// count its asking in the backlog.
    pub(super) fn ask_later(&mut self, off: u32) {
        if let Some((_, asks)) = self.backlog.iter_mut().find(|(o, _)| *o == off) {
            *asks += 1;
        } else if self.backlog.len() < MAX_BACKLOG {
            self.backlog.push((off, 1));
        }
    }

    /// Fill the compile queue from the backlog, the blocks that asked most
    /// first (on a tie, the earliest). Without this, a freed place waited
    /// for the next hot block to run through the maps, and the compile
    /// thread idled meanwhile.
    pub(super) fn queue_backlog(&mut self, m: &mut Machine) {
        while self.pending.len() < MAX_QUEUED_REGIONS {
            let most = self.backlog.iter().enumerate().rev().max_by_key(|(_, (_, asks))| *asks).map(|(i, _)| i);
            let Some(i) = most else { return };
            let (off, _) = self.backlog.remove(i);
            // Still hot and uncompiled (its page may have been written, or
            // it may have become part of a region meanwhile).
            if matches!(self.map.peek(off), Some(Entry::Cold(n)) if n >= self.config.threshold) {
                if let Some(code) = self.promote(m, off) {
                    self.announce(off, Entry::Hot(code));
                }
            }
        }
    }

    /// Install every region the worker has finished, and queue what the
    /// backlog holds in their place.
    pub(super) fn poll(&mut self, m: &mut Machine) {
        let queued = self.pending.len();
        self.install_finished(m);
        if self.pending.len() < queued {
            self.queue_backlog(m);
        }
    }

    /// Install every region the worker has finished.
    pub(super) fn install_finished(&mut self, m: &mut Machine) {
        while let Some(done) = self.worker.as_ref().and_then(Worker::try_recv) {
            self.stats.compile_time += done.time;
            let waiting = self.pending.remove(&done.key).unwrap_or_default();
            let code = self.finish(&done.key, done.result);
            for o in waiting {
                // Install only where the block is still pending (its page
                // may have been written and dropped meanwhile) and memory
                // still holds the bytes the code was compiled from.
                if !matches!(self.map.peek(o), Some(Entry::Pending)) {
                    continue;
                }
                let entry = match code {
                    Some(code) if key_matches(&done.key, m.ram.bytes(), o) => {
                        self.claim_pages(m, &done.key, o);
                        self.enter_region_blocks(&done.key, o, code.func);
                        Entry::Hot(code)
                    }
                    Some(_) => Entry::Cold(0),
                    None => Entry::Interp,
                };
                *self.map.entry(o) = entry;
                self.announce(o, entry);
                self.release_members(&done.key, o);
            }
        }
        if self.worker.as_ref().is_some_and(|w| !w.is_alive()) {
            self.replace_dead_worker();
        }
    }

    /// The compile thread died: not in a compile (errors and Cranelift
    /// panics come back as results), so something in the thread itself
    /// failed. The regions queued on it never arrive: their blocks go back
    /// to cold, to be promoted again, and the next compile starts a new
    /// thread; after [`MAX_WORKER_RESTARTS`] deaths, the engine compiles on
    /// its own thread. Before this, a dead thread left those blocks pending
    /// and every later region queued on nothing, so the engine interpreted
    /// everything from then on.
    #[cold]
    pub(super) fn replace_dead_worker(&mut self) {
        // Dropping the handle lets go of the finished thread.
        self.worker = None;
        for (key, offsets) in std::mem::take(&mut self.pending) {
            for o in offsets {
                if matches!(self.map.peek(o), Some(Entry::Pending)) {
                    *self.map.entry(o) = Entry::Cold(0);
                }
                self.release_members(&key, o);
            }
        }
        self.stats.worker_restarts += 1;
        self.worker_given_up = self.stats.worker_restarts >= MAX_WORKER_RESTARTS;
    }

    /// Code for the hot block at `off`: from the cache, compiled now, or
    /// queued on the worker.
    pub(super) fn compile(&mut self, m: &Machine, off: u32) -> Promotion {
        let Some(region) = self.form_region(m, off) else { return Promotion::Refused };
        let owned = owned_region(m.ram.bytes(), off, &region);
        let key = region_key(&owned);
        if let Some(code) = self.code.get(&key) {
            self.stats.cache_hits += 1;
            return Promotion::Ready(code, key);
        }
        if let Some(waiting) = self.pending.get_mut(&key) {
            waiting.push(off);
            return Promotion::Queued;
        }
        if self.code.len() + self.pending.len() >= self.config.max_regions
            || self.code.code_bytes >= self.config.max_code_bytes
        {
            self.stats.budget_refusals += 1;
            return Promotion::Refused;
        }
        if self.worker.as_ref().is_some_and(|w| !w.is_alive()) {
            self.replace_dead_worker();
        }
        if self.compiles_in_background() {
            self.start_worker();
            if self.worker.is_some() {
                self.stats.cache_misses += 1;
                self.note_region(&owned);
                let members: Vec<u32> = owned.blocks[1..].iter().map(|b| off.wrapping_add(b.rel as u32)).collect();
                if self.worker.as_ref().is_some_and(|w| w.submit(key.clone(), owned)) {
                    // Its other blocks get their code from it (see
                    // `enter_region_blocks`): promoting one of them meanwhile
                    // would compile the same code again as a region of its
                    // own.
                    for o in members {
                        if matches!(self.map.peek(o), Some(Entry::Cold(_))) {
                            *self.map.entry(o) = Entry::Member;
                        }
                    }
                    self.pending.insert(key, vec![off]);
                    return Promotion::Queued;
                }
                return Promotion::Refused;
            }
        }
        if self.translator.is_none() && !self.no_translator {
            match Translator::new() {
                Ok(mut t) => {
                    self.translator_setup()(&mut t);
                    self.translator = Some(t);
                }
                Err(e) => {
                    self.compile_error.get_or_insert(e);
                    self.no_translator = true;
                }
            }
        }
        let Some(translator) = self.translator.as_mut() else { return Promotion::Refused };
        self.stats.cache_misses += 1;
        let start = Instant::now();
        let result = translator.compile_region(&owned.as_blocks());
        self.stats.compile_time += start.elapsed();
        self.note_region(&owned);
        match self.finish(&key, result) {
            Some(code) => Promotion::Ready(code, key),
            None => Promotion::Refused,
        }
    }

    /// Whether regions go to a compile thread (when one can be had).
    pub(super) fn compiles_in_background(&self) -> bool {
        self.config.background && !self.config.crosscheck && !self.no_translator && !self.worker_given_up
    }

    /// How every translator of this engine is set up.
    fn translator_setup(&self) -> impl FnOnce(&mut Translator) + Send + 'static {
        let (chaining, metering, fusion) = (!self.config.crosscheck, self.config.metering, self.config.fusion);
        move |t: &mut Translator| {
            // The crosscheck compares after every block: no loops inside.
            t.set_chaining(chaining);
            t.set_metering(metering);
            t.set_fusion(fusion);
        }
    }

    /// Start the compile thread if there is none. Called when the engine
    /// first runs, not when the first block gets hot: the thread's own
    /// start (the thread, the host ISA, the trampoline; 1-2 ms) then
    /// overlaps the program's first instructions instead of delaying the
    /// first region.
    pub(super) fn start_worker(&mut self) {
        if self.worker.is_some() || !self.compiles_in_background() {
            return;
        }
        self.worker = if self.may_spawn() { Worker::spawn(self.translator_setup()) } else { None };
        // No thread to be had: compile on this one (a failed spawn says
        // nothing about whether Cranelift works here).
        self.worker_given_up = self.worker.is_none();
    }

    /// Count a region sent to Cranelift.
    pub(super) fn note_region(&mut self, region: &OwnedRegion) {
        self.stats.region_blocks += region.blocks.len() as u64;
        self.stats.insts_compiled += region.blocks.iter().map(|b| b.ops.len() as u64).sum::<u64>();
    }

    /// Cache the result of a compile.
    pub(super) fn finish(&mut self, key: &[u8], result: Result<Compiled, CompileError>) -> Option<CodeRef> {
        match result {
            Ok(c) => {
                self.stats.regions_compiled += 1;
                let code = region_entries(key, c.func).next()?;
                self.code.insert(key, code, c.code_size, key_blocks(key).map(|b| first_inst(b.bytes)));
                Some(code)
            }
            Err(e) => {
                self.stats.compile_failures += 1;
                self.compile_error.get_or_insert(e);
                None
            }
        }
    }
}
