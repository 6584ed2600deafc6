//! The baseline tier inside the engine: its code memory, its own warm-up
//! count per block, the fast path that skips both maps, and the call into
//! baseline code (see [`crate::baseline`]).

use avm_interp::decode_block;
use avm_mmu::{Exit, Machine};

use super::JitEngine;
use crate::abi::{succ_index, BaseCode, BaseFn, BaseSlot, JitCtx, Status};
use crate::baseline;
use crate::cache::{Base, Entry};
use crate::code::CodeMemory;

/// The baseline tier's code memory, with the chain stub that all its
/// blocks jump to (see [`baseline`]) installed first.
pub(super) struct BaseMemory {
    pub(super) code: CodeMemory,
    /// The stub's address.
    pub(super) stub: usize,
}

impl BaseMemory {
    /// Memory with the stub in it; `None` where either cannot be had.
    pub(super) fn new() -> Option<BaseMemory> {
        let mut code = CodeMemory::new().ok()?;
        let stub = baseline::chain_stub()?;
        let stub = code.install(&stub, 16).ok()?.as_ptr() as usize;
        Some(BaseMemory { code, stub })
    }
}

/// At most this many baseline blocks run chained (see [`baseline`]) before
/// control returns to the engine: often enough for the periodic poll
/// (`POLL_INTERVAL`) to install arriving regions in time.
const BASE_CHAIN_MAX: u32 = 64;

/// At most this many runs of a *cold* block through
/// [`JitEngine::base_fast`] before the engine looks at its map entries
/// again: the runs are counted towards the Cranelift threshold in advance,
/// so a block may be promoted up to this many runs early. A block waiting
/// for its region has no such limit: the periodic poll
/// (`POLL_INTERVAL`) installs the region, and installing it empties the
/// block's slot.
const BASE_FAST_RUNS: u32 = 64;

impl JitEngine {
    /// Drop all baseline code, and its map (baseline code is per machine:
    /// it is cheap to make again).
    pub(super) fn drop_baseline(&mut self) {
        self.base_map.clear();
        self.base_fast.fill(BaseSlot::default());
        if let Some(memory) = self.base_code.take() {
            // SAFETY: the only pointers into it were in `base_map` and
            // `base_fast`, just cleared, and in `ctx.base_chain`, which is
            // set anew before each baseline call; no block is running (we
            // hold `&mut self`).
            unsafe { memory.code.free() };
        }
    }

    /// The baseline code for the block at RAM offset `off`, which has no
    /// Cranelift code to run: made now if the block is warm enough.
    #[inline]
    pub(super) fn baseline_for(&mut self, m: &mut Machine, off: u32) -> Option<BaseCode> {
        if !self.config.baseline {
            return None;
        }
        // Its own count, not the Cranelift tier's: that one is gone once a
        // block is queued or refused (a JIT bomb's blocks, past the compile
        // budget, must not all get baseline code for their one run).
        let code = match self.base_map.entry(off) {
            Base::Code(code) => *code,
            Base::Never => return None,
            Base::Cold(n) if *n < self.config.baseline_threshold => {
                *n += 1;
                return None;
            }
            Base::Cold(_) => self.translate_baseline(m, off)?,
        };
        // The next runs may skip both maps. A cold block's are counted
        // towards the Cranelift threshold now (if they do not all happen,
        // the block is promoted a little early, which only changes timing).
        // A block waiting for its region, or refused, keeps the slot until
        // the slot is emptied: when its code arrives (`announce`), its
        // region leaves the queue (`release_members`) or its page is
        // written.
        let runs = match self.map.entry(off) {
            // Hot, but the compile queue was full: ask again in a while.
            Entry::Cold(n) if *n >= self.config.threshold => BASE_FAST_RUNS,
            Entry::Cold(n) => {
                let runs = (self.config.threshold - *n).min(BASE_FAST_RUNS);
                *n += runs;
                runs
            }
            Entry::Pending | Entry::Member | Entry::Interp => u32::MAX,
            // Compiled, but too long for the budget left: no fast runs, so
            // that the next run (under a new limit) finds the compiled code.
            Entry::Hot(_) => 0,
        };
        self.base_fast[succ_index(off)] = BaseSlot::new(off, runs, code);
        Some(code)
    }

    /// Translate the block at RAM offset `off` with the baseline tier.
    #[cold]
    pub(super) fn translate_baseline(&mut self, m: &mut Machine, off: u32) -> Option<BaseCode> {
        let block = decode_block(m, off);
        let Some((bytes, len)) = block.and_then(|b| Some((baseline::translate(&b.ops)?, b.ops.len() as u32))) else {
            *self.base_map.entry(off) = Base::Never;
            return None;
        };
        if self.base_code.as_ref().is_some_and(|b| b.code.used() + bytes.len() > self.config.max_baseline_bytes) {
            self.drop_baseline();
            self.stats.baseline_drops += 1;
        }
        if self.base_code.is_none() && !self.no_baseline {
            self.base_code = BaseMemory::new();
            self.no_baseline = self.base_code.is_none();
        }
        let Some(ptr) = self.base_code.as_mut().and_then(|b| b.code.install(&bytes, 16).ok()) else {
            *self.base_map.entry(off) = Base::Never;
            return None;
        };
        // SAFETY: `ptr` is the entry of a function `baseline::translate`
        // emitted with the `BaseFn` signature, installed whole; it lives as
        // long as `self.base_code`, which is freed only with `base_map`.
        let func = unsafe { std::mem::transmute::<*mut u8, BaseFn>(ptr.as_ptr()) };
        // A write to the block's page must now take the MMU's slow path,
        // which reports it so the code is dropped (as for a region).
        m.mark_code(off);
        let code = BaseCode { func, len };
        *self.base_map.entry(off) = Base::Code(code);
        self.stats.baseline_blocks += 1;
        Some(code)
    }

    /// Run the baseline code `base` of the block at `pc`.
    pub(super) fn run_baseline(&mut self, m: &mut Machine, base: BaseCode, pc: u32, limit: u64) -> Option<Exit> {
        // Baseline code exists only in `base_code`.
        let Some(stub) = self.base_code.as_ref().map(|b| b.stub) else {
            return self.interp.run_block(m, limit);
        };
        self.ctx.ram = m.ram.host_ptr();
        self.ctx.pc = pc;
        self.ctx.limit = if self.config.metering { limit } else { u64::MAX };
        self.ctx.base_fast = self.base_fast.as_ptr();
        self.ctx.base_chain = stub;
        // The crosscheck compares after every block: no chaining there.
        let chain = if self.config.crosscheck { 0 } else { BASE_CHAIN_MAX };
        self.ctx.base_chain_left = chain;
        // As the interpreter's `run_ops`: a fresh block has not stopped.
        m.stop_block = false;
        let start = m.hart.instret;
        let ctx: *mut JitCtx = &mut *self.ctx;
        // SAFETY: `base.func` was emitted by `baseline::translate` with the
        // `BaseFn` signature and lives in `self.base_code` (freed only with
        // the map it came from), like the chain stub at `ctx.base_chain`,
        // which jumps only to code of `ctx.base_fast` (set above to
        // `self.base_fast`, only read while code runs, apart from the run
        // counts). They access the machine only through the offsets of
        // `Machine`'s fields and RAM through the TLB, whose entries point
        // inside RAM (`ctx.ram`, set above); the pointers come from
        // exclusive references unused until it returns.
        let status = unsafe { (base.func)(m, ctx) };
        let chained = chain - self.ctx.base_chain_left;
        self.stats.baseline_calls += 1 + u64::from(chained);
        self.stats.baseline_chained += u64::from(chained);
        // The chained blocks count towards the next periodic poll.
        self.poll_countdown = self.poll_countdown.saturating_sub(chained).max(1);
        self.stats.insts_run_baseline += m.hart.instret - start;
        match Status::from_code(status) {
            Some(Status::Miss) => self.side_exit(m, limit),
            _ => None,
        }
    }

    /// The block at RAM offset `off` no longer runs through the baseline
    /// fast path: its next run goes through the maps.
    pub(super) fn leave_fast_path(&mut self, off: u32) {
        let slot = &mut self.base_fast[succ_index(off)];
        if slot.off == off {
            *slot = BaseSlot::default();
        }
    }
}
