//! The dispatcher: the interpreter's work between blocks, in its order,
//! then the choice of how the next block runs (Cranelift code, baseline
//! code, or the interpreter), and the return from a side exit.

use avm_mmu::{Exit, Machine};

use super::{JitEngine, POLL_INTERVAL};
use crate::abi::{succ_index, BaseSlot, CodeRef, MissSite, SuccSlot};
use crate::cache::Entry;

impl JitEngine {
    /// Work between blocks, in the interpreter's order: device exit, budget,
    /// code invalidation, interrupts.
    #[inline]
    pub(super) fn boundary(&mut self, m: &mut Machine, limit: u64) -> Option<Exit> {
        if let Some(exit) = m.take_pending_exit() {
            return Some(exit);
        }
        if self.config.metering && m.hart.instret >= limit {
            return Some(Exit::InstructionLimit);
        }
        if m.ram.has_invalidated() {
            for page in m.ram.take_invalidated() {
                self.interp.invalidate_page(page);
                let linked: Vec<u32> = self.linked.range((page, 0)..=(page, u32::MAX)).map(|&(_, p)| p).collect();
                for p in std::iter::once(page).chain(linked) {
                    self.map.invalidate_page(p);
                    self.base_map.invalidate_page(p);
                    self.succ_invalidate_page(p);
                }
            }
        }
        if m.hart.csr.mip & m.hart.csr.mie != 0 {
            return m.take_interrupt();
        }
        None
    }

    /// Drop the successor-cache entries of RAM page `page`.
    pub(super) fn succ_invalidate_page(&mut self, page: u32) {
        for slot in self.succ.iter_mut() {
            if slot.func.is_some() && slot.off / avm_mmu::memory::PAGE_SIZE == page {
                *slot = SuccSlot::default();
            }
        }
        for slot in self.base_fast.iter_mut() {
            if slot.func.is_some() && slot.off / avm_mmu::memory::PAGE_SIZE == page {
                *slot = BaseSlot::default();
            }
        }
    }

    /// The compiled code for the block at RAM offset `off`, if the
    /// successor cache holds it (then `map` says `Hot` with the same code).
    #[inline(always)]
    pub(super) fn succ_get(&self, off: u32) -> Option<CodeRef> {
        self.succ[succ_index(off)].code_for(off)
    }

    /// Run one block (compiled or interpreted). The caller ran [`Self::boundary`].
    #[inline]
    pub(super) fn step(&mut self, m: &mut Machine, limit: u64) -> Option<Exit> {
        let pc = m.hart.pc;
        let off = match m.fetch_offset(pc) {
            Ok(off) => off,
            Err(trap) => return m.raise(trap),
        };
        if !self.pending.is_empty() {
            self.poll_countdown -= 1;
            if self.poll_countdown == 0 {
                self.poll_countdown = POLL_INTERVAL;
                self.poll(m);
            }
        }
        let budget = if self.config.metering { limit.saturating_sub(m.hart.instret) } else { u64::MAX };
        let code = match self.succ_get(off) {
            Some(code) => Some(code),
            None => {
                let slot = &mut self.base_fast[succ_index(off)];
                if let Some(base) =
                    slot.code().filter(|b| slot.off == off && slot.runs > 0 && u64::from(b.len) <= budget)
                {
                    slot.runs -= 1;
                    return self.run_baseline(m, base, pc, limit);
                }
                self.lookup(m, off)
            }
        };
        match code {
            // Exact metering: enter only if the whole block fits the budget.
            Some(code) if u64::from(code.len) <= budget => self.run_compiled(m, code, pc, limit),
            _ => match self.baseline_for(m, off) {
                Some(base) if u64::from(base.len) <= budget => self.run_baseline(m, base, pc, limit),
                _ => {
                    self.stats.blocks_run_interpreted += 1;
                    // Re-translating the pc is free: the fetch TLB now holds it.
                    self.interp.run_block(m, limit)
                }
            },
        }
    }

    /// After [`Status::Miss`](crate::abi::Status::Miss) from compiled or baseline code: the
    /// interpreter runs exactly the rest of the guest block, starting with
    /// the instruction that left, so the next boundary is where it would
    /// have been.
    pub(super) fn side_exit(&mut self, m: &mut Machine, limit: u64) -> Option<Exit> {
        self.stats.side_exits += 1;
        let site = MissSite::unpack(self.ctx.rest);
        m.hart.pc = self.ctx.pc.wrapping_add(site.at as u32);
        m.hart.instret += u64::from(site.retired);
        let end = m.hart.instret + u64::from(site.rest);
        self.interp.run_block(m, end.min(limit))
    }

    /// The `BlockMap` side of [`Self::step`]: count a cold block, compile a
    /// hot one; remember compiled code in the successor cache.
    #[inline]
    pub(super) fn lookup(&mut self, m: &mut Machine, off: u32) -> Option<CodeRef> {
        // The common case first, counted through the one map lookup: a
        // cold block below the threshold that needs no cache probe.
        let entry = self.map.entry(off);
        if let Entry::Cold(n) = entry {
            if *n < self.config.threshold && (*n > 0 || self.code.is_empty()) {
                *n += 1;
                return None;
            }
        }
        let code = match *entry {
            Entry::Hot(code) => Some(code),
            Entry::Interp => None,
            Entry::Pending | Entry::Member => self.collect(m, off),
            Entry::Cold(n) if n >= self.config.threshold => {
                if self.worker_busy(m) {
                    // At most `MAX_QUEUED_REGIONS` in flight: blocks that
                    // get hot while those compile often belong to them, and
                    // queueing every one would compile the same code twice.
                    // This one stays at the threshold, in the backlog.
                    self.ask_later(off);
                    return None;
                }
                // Installing finished regions may have queued this very
                // block from the backlog, or given it code as part of a
                // region.
                match self.map.peek(off) {
                    Some(Entry::Cold(_)) => self.promote(m, off),
                    Some(Entry::Hot(code)) => Some(code),
                    _ => None,
                }
            }
            Entry::Cold(0) if !self.code.is_empty() => {
                let code = self.warm_start(m, off);
                if code.is_none() {
                    *self.map.entry(off) = Entry::Cold(1);
                }
                code
            }
            Entry::Cold(n) => {
                *self.map.entry(off) = Entry::Cold(n + 1);
                None
            }
        };
        if let Some(code) = code {
            self.succ[succ_index(off)] = SuccSlot::new(off, code);
        }
        code
    }

    /// The engine loop without crosscheck.
    pub(super) fn run_plain(&mut self, m: &mut Machine, limit: u64) -> Exit {
        loop {
            if let Some(exit) = self.boundary(m, limit) {
                return exit;
            }
            if let Some(exit) = self.step(m, limit) {
                return exit;
            }
        }
    }
}
