//! Calls into Cranelift code, and chaining: after a region ends normally,
//! the next compiled block runs at once if the dispatcher would do nothing
//! else first (see the crate docs, "Chaining").

use avm_mmu::tlb::Access;
use avm_mmu::{Exit, Machine};

use super::JitEngine;
use crate::abi::{CodeRef, JitCtx, Status};
use crate::cranelift::Trampoline;

impl JitEngine {
    /// Run compiled code from `code` at `pc`, then, while the dispatcher
    /// would run another compiled block next without doing anything else
    /// first, chain straight into it (see [`Self::next_compiled`]).
    pub(super) fn run_compiled(&mut self, m: &mut Machine, mut code: CodeRef, mut pc: u32, limit: u64) -> Option<Exit> {
        if self.trampoline.is_none() {
            // The compile thread compiles it first thing (see `Worker`), so
            // in background mode this finds it ready.
            match Trampoline::shared() {
                Ok(t) => self.trampoline = Some(t),
                Err(e) => {
                    self.compile_error.get_or_insert(e);
                }
            }
        }
        let Some((enter, chains)) = self.trampoline.as_ref().map(|t| (t.func(), t.chains())) else {
            // Cranelift compiled the region but not the trampoline: never
            // seen, and interpreting is always correct.
            self.stats.blocks_run_interpreted += 1;
            return self.interp.run_block(m, limit);
        };
        self.ctx.ram = m.ram.host_ptr();
        self.ctx.succ = self.succ.as_ptr();
        self.ctx.chain = chains;
        self.ctx.limit = if self.config.metering { limit } else { u64::MAX };
        // The crosscheck compares after every block: no chaining there.
        let chaining = !self.config.crosscheck;
        loop {
            self.stats.compiled_calls += 1;
            let start = m.hart.instret;
            // The function computes every pc from its first block's.
            self.ctx.pc = pc.wrapping_sub(code.rel as u32);
            self.ctx.entry = code.entry;
            let ctx: *mut JitCtx = &mut *self.ctx;
            // As the interpreter's `run_ops`: a fresh block has not stopped.
            m.stop_block = false;
            // SAFETY: `code.func` was compiled by `self.translator` or the
            // compile thread (both free their code only when the engine is
            // dropped) with the region signature, which is what the
            // trampoline `enter` calls; the trampoline and the chain stubs
            // are compiled once per process and never freed. Compiled code
            // accesses the machine only through the offsets of `Machine`'s
            // fields, RAM through the TLB, whose entries always point inside
            // RAM, and the successor cache through `ctx.succ`, set above to
            // `self.succ` (a fixed-size table, only read while code runs);
            // the machine and context pointers come from exclusive
            // references that are not used until it returns.
            let status = unsafe { enter(m, ctx, code.func) };
            self.stats.insts_run_compiled += m.hart.instret - start;
            let chained = std::mem::take(&mut self.ctx.chained);
            self.stats.compiled_calls += chained;
            self.stats.tail_calls += chained;
            match Status::from_code(status) {
                Some(Status::End) if chaining => match self.next_compiled(m, limit) {
                    Some(next) => {
                        code = next;
                        pc = m.hart.pc;
                    }
                    None => return None,
                },
                Some(Status::End) => return None,
                Some(Status::Trap) => return self.ctx.trap.take().and_then(|trap| m.raise(trap)),
                Some(Status::Miss) => return self.side_exit(m, limit),
                Some(Status::Exit) => return self.ctx.exit.take(),
                // `Continue` comes only from helpers, never from a call.
                Some(Status::Continue) | None => return None,
            }
        }
    }

    /// After a compiled block ended normally: the compiled code the
    /// dispatcher would run next, if it would do nothing else first. The
    /// same tests in the same order as [`Self::boundary`] + [`Self::step`],
    /// all without side effects: no pending device exit, budget left, no
    /// code invalidation to drain, no pending-and-enabled interrupt, a fetch
    /// TLB hit for the pc (a miss walks the page table: the dispatcher's
    /// job), compiled code for that RAM offset (successor cache), and a
    /// budget covering the whole block. `None` sends control back to the
    /// dispatcher, which then redoes these tests and acts on them.
    #[inline(always)]
    pub(super) fn next_compiled(&self, m: &Machine, limit: u64) -> Option<CodeRef> {
        let metering = self.config.metering;
        if m.pending_exit.is_some()
            || (metering && m.hart.instret >= limit)
            || m.ram.has_invalidated()
            || m.hart.csr.mip & m.hart.csr.mie != 0
        {
            return None;
        }
        let off = m.tlb.lookup(Access::Fetch, m.hart.pc, 2)?;
        let code = self.succ_get(off)?;
        (!metering || u64::from(code.len) <= limit - m.hart.instret).then_some(code)
    }
}
