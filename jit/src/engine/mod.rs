//! [`JitEngine`]: the dispatcher that decides, block by block, whether to run
//! compiled code (a Cranelift region or a baseline block) or the
//! interpreter, and keeps all of them in step with the MMU. The top layer of
//! the JIT, split by topic:
//! - [`config`]: settings ([`JitConfig`]) and counters ([`JitStats`]);
//! - `keys`: region keys, the content a region is cached by;
//! - `dispatch`: the work between blocks and the choice of how each runs;
//! - `tiering`: promotion of hot blocks, the compile queue and thread;
//! - `baseline`: the baseline tier's code memory, fast path and calls;
//! - `regions`: installing regions (pages claimed, every block an entry,
//!   warm starts from the cache);
//! - `chaining`: calls into Cranelift code and chaining between regions.

mod baseline;
mod chaining;
pub mod config;
mod dispatch;
mod keys;
mod regions;
#[cfg(test)]
mod tests;
mod tiering;

use std::collections::{BTreeSet, HashMap};

use avm_interp::Interpreter;
use avm_mmu::{Engine, Exit, Machine};

pub use config::{JitConfig, JitStats, DEFAULT_BASELINE_THRESHOLD, DEFAULT_THRESHOLD};
pub use tiering::{MAX_QUEUED_REGIONS, MAX_WORKER_RESTARTS};

use self::baseline::BaseMemory;
use crate::abi::{BaseSlot, JitCtx, SuccSlot, SUCC_SLOTS};
use crate::cache::{Base, BlockMap, CodeCache, PageMap};
use crate::cranelift::{CompileError, Trampoline, Translator};
use crate::worker::Worker;

/// The Cranelift basic-block JIT, an [`Engine`].
pub struct JitEngine {
    config: JitConfig,
    /// Created on the first compile (many short runs never need one).
    translator: Option<Translator>,
    /// The entry into compiled code (the process's one), looked up when
    /// compiled code first runs.
    trampoline: Option<Trampoline>,
    /// Cranelift does not support this host (or its code memory cannot be
    /// mapped): everything is interpreted, which is slower but never
    /// different.
    no_translator: bool,
    /// The first compile that failed, for [`JitEngine::compile_error`].
    compile_error: Option<CompileError>,
    /// The compile thread, with [`JitConfig::background`] (created on the
    /// first compile).
    worker: Option<Worker>,
    /// Compile threads kept dying, or none could be started: compile on
    /// the engine's own thread.
    worker_given_up: bool,
    /// Tests: act as if no thread could be started.
    #[cfg(test)]
    refuse_threads: bool,
    /// Regions queued on the worker: key -> the RAM offsets waiting for it.
    pending: HashMap<Box<[u8]>, Vec<u32>>,
    code: CodeCache,
    map: BlockMap,
    machine_id: u64,
    interp: Interpreter,
    ctx: Box<JitCtx>,
    stats: JitStats,
    /// A tracer is installed: everything runs in the interpreter, which
    /// calls it before every instruction.
    tracing: bool,
    /// Successor cache: a direct-mapped copy of the `Hot` entries of `map`
    /// (RAM offset -> code), so the hot path between two compiled blocks is
    /// one indexing and a compare instead of a [`BlockMap`](crate::cache::BlockMap) lookup. Kept in
    /// step with `map`: cleared with it, dropped page by page with it.
    /// Compiled code reads it too ([`JitCtx::succ`](crate::abi::JitCtx::succ)), to tail-call the
    /// next region without coming back here.
    succ: Box<[SuccSlot]>,
    /// (page, other page) for every two pages that an installed region
    /// spans, both ways round: a write to the first drops the map entries
    /// of the second too (see [`JitEngine::claim_pages`]). Per machine.
    linked: BTreeSet<(u32, u32)>,
    /// Baseline code by RAM offset. Per machine, like `map`.
    base_map: PageMap<Base>,
    /// Where baseline code lives (created with the first block); every
    /// [`BaseFn`](crate::abi::BaseFn) in `base_map` and `base_fast` points into it.
    base_code: Option<BaseMemory>,
    /// The baseline tier cannot map code memory here: off.
    no_baseline: bool,
    /// Baseline fast path: a direct-mapped table (indexed like `succ`) of
    /// blocks with baseline code and how many more runs each may take
    /// without the two map lookups; those runs are counted towards the
    /// Cranelift threshold in advance (see [`JitEngine::baseline_for`]).
    base_fast: Box<[BaseSlot]>,
    /// Blocks left until the next periodic poll (see [`POLL_INTERVAL`]).
    poll_countdown: u32,
    /// Hot blocks (RAM offsets) that found the compile queue full, each
    /// with how many times it asked since: when a region arrives, the one
    /// that asked most is queued in its place (see [`JitEngine::poll`]).
    /// At most `tiering::MAX_BACKLOG`. Per machine.
    backlog: Vec<(u32, u32)>,
}

/// While regions are compiling, the engine installs finished ones every
/// this many blocks (and whenever a waiting block goes through the maps).
const POLL_INTERVAL: u32 = 64;

impl Default for JitEngine {
    fn default() -> Self {
        JitEngine::new(JitConfig::default())
    }
}

impl JitEngine {
    /// An engine with empty caches.
    pub fn new(config: JitConfig) -> JitEngine {
        JitEngine {
            config,
            translator: None,
            trampoline: None,
            no_translator: false,
            compile_error: None,
            worker: None,
            worker_given_up: false,
            #[cfg(test)]
            refuse_threads: false,
            pending: HashMap::new(),
            code: CodeCache::default(),
            map: BlockMap::default(),
            machine_id: 0,
            interp: Interpreter::new(),
            ctx: Box::default(),
            stats: JitStats::default(),
            tracing: false,
            succ: vec![SuccSlot::default(); SUCC_SLOTS].into_boxed_slice(),
            linked: BTreeSet::new(),
            base_map: PageMap::default(),
            base_code: None,
            no_baseline: false,
            base_fast: vec![BaseSlot::default(); SUCC_SLOTS].into_boxed_slice(),
            poll_countdown: POLL_INTERVAL,
            backlog: Vec::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &JitConfig {
        &self.config
    }

    /// Work counters.
    pub fn stats(&self) -> JitStats {
        JitStats { code_bytes: self.code.code_bytes, ..self.stats }
    }

    /// Whether a compile thread may be started: always, except in the
    /// test that plays a host without threads.
    fn may_spawn(&self) -> bool {
        #[cfg(test)]
        return !self.refuse_threads;
        #[cfg(not(test))]
        true
    }

    /// Why the first failed compile failed ([`JitStats::compile_failures`]
    /// counts them all), or why no translator or trampoline could be made.
    /// Guest code cannot cause either (a failure is a host problem or a
    /// Cranelift bug); the blocks concerned ran in the interpreter, so
    /// results are the same, but the host should say so.
    pub fn compile_error(&self) -> Option<&CompileError> {
        self.compile_error.as_ref()
    }

    /// Install a tracer (called before every instruction). While one is
    /// installed the engine runs everything in its interpreter: a per-step
    /// hook and compiled blocks do not mix, and the results are the same.
    pub fn set_tracer(&mut self, tracer: Option<Box<dyn avm_interp::Tracer>>) {
        self.tracing = tracer.is_some();
        self.interp.set_tracer(tracer);
    }

    /// Per-machine state belongs to one machine: when handed another, start
    /// over (compiled code is kept, it is keyed by content).
    fn attach(&mut self, m: &Machine) {
        if m.id() != self.machine_id {
            self.forget_offsets();
            // Queued regions still get cached, but their offsets meant the
            // old machine.
            self.pending.values_mut().for_each(Vec::clear);
            self.interp.clear_cache();
            self.machine_id = m.id();
        }
    }

    /// Forget what the engine knows by RAM offset (compiled code stays in
    /// the cache): the map, the successor cache that copies it, and the
    /// page links.
    fn forget_offsets(&mut self) {
        self.map.clear();
        self.backlog.clear();
        self.succ.fill(SuccSlot::default());
        self.linked.clear();
        self.drop_baseline();
    }
}

impl Engine for JitEngine {
    fn run(&mut self, m: &mut Machine, limit: u64) -> Exit {
        self.attach(m);
        if self.tracing {
            let exit = self.interp.run(m, limit);
            // The interpreter drained code invalidations on its own.
            self.forget_offsets();
            return exit;
        }
        if self.config.crosscheck {
            return crate::crosscheck::run(m, limit, |m, limit| {
                self.boundary(m, limit).or_else(|| self.step(m, limit))
            });
        }
        self.start_worker();
        self.run_plain(m, limit)
    }

    fn name(&self) -> &'static str {
        "jit"
    }
}

impl Drop for JitEngine {
    fn drop(&mut self) {
        self.drop_baseline();
        if let Some(t) = self.translator.take() {
            // SAFETY: every `BlockFn` lives in `self.code` / `self.map`, which
            // are dropped with the engine; no block is running (we hold
            // `&mut self`).
            unsafe { t.free() };
        }
    }
}
