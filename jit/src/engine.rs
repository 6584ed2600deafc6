//! [`JitEngine`]: the dispatcher that decides, block by block, whether to run
//! compiled code or the interpreter, and keeps both in step with the MMU.

use std::time::{Duration, Instant};

use avm_interp::{decode_block, Block, Interpreter};
use avm_mmu::memory::PAGE_SIZE;
use avm_mmu::tlb::Access;
use avm_mmu::{Engine, Exit, Machine};

use std::collections::{BTreeSet, HashMap};

use crate::baseline::{self, BaseCode, BaseFn, BaseSlot};
use crate::cache::{first_inst, Base, BlockMap, CodeCache, CodeRef, Entry, PageMap};
use crate::code::CodeMemory;
use crate::helpers::{
    succ_index, BlockFn, JitCtx, MissSite, SuccSlot, STATUS_END, STATUS_EXIT, STATUS_MISS, STATUS_TRAP, SUCC_SLOTS,
};
use crate::translate::{static_successors, CompileError, Compiled, Trampoline, Translator};
use crate::worker::{OwnedBlock, OwnedRegion, Worker};

/// Settings of the JIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JitConfig {
    /// A block is compiled once it has been interpreted this many times
    /// (0 = compile on first use).
    pub threshold: u32,
    /// Compile budget: at most this many blocks are ever compiled by one
    /// engine; beyond it cold code stays interpreted (JIT bombs).
    pub max_blocks: usize,
    /// Compile budget: at most this many bytes of machine code.
    pub max_code_bytes: u64,
    /// Run the interpreter in lockstep and stop at the first difference
    /// (see [`crate::crosscheck`]). Defaults to `AVM_CROSSCHECK=1`.
    pub crosscheck: bool,
    /// Compile on a background thread while the engine keeps interpreting
    /// (see [`crate::worker`]). Results never depend on it; the counters
    /// (and the speed) do. Off by default in the library, so that counters
    /// are reproducible; `avm exec` turns it on.
    pub background: bool,
    /// Exact metering (default on). Off only to measure what metering costs
    /// (`benches/jit.rs`): the budget is then not checked between blocks, so
    /// a run may overshoot its limit by up to a block (and loop chains).
    /// Never turn it off where the limit matters.
    pub metering: bool,
    /// Run warm blocks that have no Cranelift code yet through the
    /// baseline tier ([`crate::baseline`]) instead of the interpreter
    /// (default on; x86-64 hosts only).
    pub baseline: bool,
    /// A block gets baseline code once it has been interpreted this many
    /// times (0: on first use).
    pub baseline_threshold: u32,
    /// Baseline code held at most, in bytes: beyond it all baseline code is
    /// dropped and made again as blocks run (it is cheap to remake), so code
    /// that keeps rewriting itself cannot grow it without bound.
    pub max_baseline_bytes: usize,
}

/// Default [`JitConfig::threshold`]. Compiling a block costs roughly what
/// interpreting it a thousand times does (`benches/jit.rs`), so only blocks
/// that have proved hot are compiled. Measured end to end with `avm exec`
/// (best of five, regions and access groups in place): on ecdsa, threshold
/// 32 compiles for 79 ms and runs at ~1000 MIPS, 256 for 56 ms at ~1160
/// MIPS, 1024 for 40 ms at ~1140 MIPS, 4096 for 16 ms at ~930 MIPS; keccak
/// slows from ~2360 to ~1830 MIPS between 32 and 4096, sieve does not care.
/// Between 128 and 1024 the differences are within noise; loops with a few
/// hundred iterations or more still get compiled code.
pub const DEFAULT_THRESHOLD: u32 = 256;

/// Default [`JitConfig::baseline_threshold`]: a block that ran twice will
/// probably run again, and its baseline code costs about what interpreting
/// it a few times does. Code that runs once (start-up, a transaction's
/// straight-line body) stays interpreted.
pub const DEFAULT_BASELINE_THRESHOLD: u32 = 2;

impl Default for JitConfig {
    fn default() -> Self {
        JitConfig {
            threshold: DEFAULT_THRESHOLD,
            max_blocks: 8192,
            max_code_bytes: 32 << 20,
            crosscheck: std::env::var("AVM_CROSSCHECK").is_ok_and(|v| v == "1"),
            metering: true,
            background: false,
            baseline: true,
            baseline_threshold: DEFAULT_BASELINE_THRESHOLD,
            max_baseline_bytes: 16 << 20,
        }
    }
}

impl JitConfig {
    /// Only the baseline tier: every block gets baseline code on first use
    /// and Cranelift compiles nothing (the threshold is never reached in
    /// practice). For the tests that prove the tier equal to the
    /// interpreter, and for measuring it alone.
    pub fn baseline_only() -> JitConfig {
        JitConfig { threshold: u32::MAX, baseline: true, baseline_threshold: 0, ..JitConfig::default() }
    }
}

/// Counters of the JIT's work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Regions (a hot block and the blocks it reaches) translated by
    /// Cranelift.
    pub blocks_compiled: u64,
    /// Guest blocks in those regions.
    pub region_blocks: u64,
    /// Guest instructions in those regions.
    pub insts_compiled: u64,
    /// Blocks that got code as a later block of a region compiled for
    /// another one (every block of a region is an entry), instead of a
    /// region of their own.
    pub region_entries: u64,
    /// Side exits: compiled or baseline code left a block for the
    /// interpreter before a load or store that missed the inline TLB, or
    /// (baseline) before an instruction it leaves to the interpreter.
    pub side_exits: u64,
    /// Blocks Cranelift failed to translate (interpreted instead).
    pub compile_failures: u64,
    /// Calls into compiled code (one call may run many blocks of its
    /// region, a whole loop), tail calls between regions included.
    pub compiled_calls: u64,
    /// Of those, the tail calls from one region straight into the next,
    /// through the chain stub (`translate::Trampoline`).
    pub tail_calls: u64,
    /// Instructions retired by compiled code (helpers included; the rest of
    /// a block after a side exit is interpreted and not counted here).
    pub insts_run_compiled: u64,
    /// Block executions in the interpreter (cold code, budget remainders,
    /// code beyond the compile budget).
    pub blocks_run_interpreted: u64,
    /// Blocks translated by the baseline tier.
    pub baseline_blocks: u64,
    /// Times all baseline code was dropped because it reached
    /// [`JitConfig::max_baseline_bytes`].
    pub baseline_drops: u64,
    /// Block executions in baseline code.
    pub baseline_calls: u64,
    /// Of those, blocks entered straight from the block before through the
    /// baseline chain stub, without returning to the engine.
    pub baseline_chained: u64,
    /// Instructions retired by baseline code (the rest of a block after a
    /// side exit is interpreted and not counted here).
    pub insts_run_baseline: u64,
    /// Hot blocks whose code was found in the content-keyed cache.
    pub cache_hits: u64,
    /// Hot blocks that had to be compiled.
    pub cache_misses: u64,
    /// Hot blocks left to the interpreter because the budget is spent.
    pub budget_refusals: u64,
    /// Compile threads that died and were replaced (see
    /// [`MAX_WORKER_RESTARTS`]). A compile error, a Cranelift panic
    /// included, is a result and does not count.
    pub worker_restarts: u64,
    /// Time spent in Cranelift.
    pub compile_time: Duration,
    /// Machine-code bytes produced.
    pub code_bytes: u64,
}

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
    pub(crate) interp: Interpreter,
    ctx: Box<JitCtx>,
    stats: JitStats,
    /// A tracer is installed: everything runs in the interpreter, which
    /// calls it before every instruction.
    tracing: bool,
    /// Successor cache: a direct-mapped copy of the `Hot` entries of `map`
    /// (RAM offset -> code), so the hot path between two compiled blocks is
    /// one indexing and a compare instead of a [`BlockMap`] lookup. Kept in
    /// step with `map`: cleared with it, dropped page by page with it.
    /// Compiled code reads it too ([`JitCtx::succ`]), to tail-call the
    /// next region without coming back here.
    succ: Box<[SuccSlot]>,
    /// (page, other page) for every two pages that an installed region
    /// spans, both ways round: a write to the first drops the map entries
    /// of the second too (see [`JitEngine::claim_pages`]). Per machine.
    linked: BTreeSet<(u32, u32)>,
    /// Baseline code by RAM offset. Per machine, like `map`.
    base_map: PageMap<Base>,
    /// Where baseline code lives (created with the first block); every
    /// [`BaseFn`] in `base_map` and `base_fast` points into it.
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
    /// At most [`MAX_BACKLOG`]. Per machine.
    backlog: Vec<(u32, u32)>,
}

/// The baseline tier's code memory, with the chain stub that all its
/// blocks jump to (see [`baseline`]) installed first.
struct BaseMemory {
    code: CodeMemory,
    /// The stub's address.
    stub: usize,
}

impl BaseMemory {
    /// Memory with the stub in it; `None` where either cannot be had.
    fn new() -> Option<BaseMemory> {
        let mut code = CodeMemory::new().ok()?;
        let stub = baseline::chain_stub()?;
        let stub = code.install(&stub, 16).ok()?.as_ptr() as usize;
        Some(BaseMemory { code, stub })
    }
}

/// At most this many baseline blocks run chained (see [`baseline`]) before
/// control returns to the engine: often enough for the periodic poll
/// ([`POLL_INTERVAL`]) to install arriving regions in time.
const BASE_CHAIN_MAX: u32 = 64;

/// At most this many runs of a *cold* block through
/// [`JitEngine::base_fast`] before the engine looks at its map entries
/// again: the runs are counted towards the Cranelift threshold in advance,
/// so a block may be promoted up to this many runs early. A block waiting
/// for its region has no such limit: the periodic poll
/// ([`POLL_INTERVAL`]) installs the region, and installing it empties the
/// block's slot.
const BASE_FAST_RUNS: u32 = 64;

/// While regions are compiling, the engine installs finished ones every
/// this many blocks (and whenever a waiting block goes through the maps).
const POLL_INTERVAL: u32 = 64;

/// What [`JitEngine::compile`] achieved for a hot block.
enum Promotion {
    /// Code to run now, and the key of its region.
    Ready(CodeRef, Box<[u8]>),
    /// Queued on the compile thread.
    Queued,
    /// Interpret it (budget spent, or Cranelift failed).
    Refused,
}

/// The cache key of a region: for every block, in region order (the entry
/// block first), its offset from the entry (i32), length (u32), straddler
/// flag (u8), page relative to the entry's (i8) and bytes.
fn region_key(region: &OwnedRegion) -> Box<[u8]> {
    let mut key = Vec::new();
    for b in &region.blocks {
        key.extend_from_slice(&b.rel.to_le_bytes());
        key.extend_from_slice(&(b.bytes.len() as u32).to_le_bytes());
        key.push(u8::from(b.straddler.is_some()));
        key.push(b.page as i8 as u8);
        key.extend_from_slice(&b.bytes);
    }
    key.into_boxed_slice()
}

/// The page of RAM offset `o` relative to the page of RAM offset `off`.
fn page_of(o: u32, off: u32) -> i32 {
    (o / PAGE_SIZE) as i32 - (off / PAGE_SIZE) as i32
}

/// The region of `blocks` (RAM offset, decoded block; the entry first) in
/// owned form, as compiled and keyed, with its entry at RAM offset `off`.
fn owned_region(ram: &[u8], off: u32, blocks: &[(u32, Block)]) -> OwnedRegion {
    let blocks = blocks
        .iter()
        .map(|(o, b)| {
            let end = (*o + b.bytes) as usize;
            // Cut 2 bytes short of the page end, before a 32-bit
            // instruction that crosses it (see `RegionBlock`).
            let straddles = end % PAGE_SIZE as usize == PAGE_SIZE as usize - 2
                && !b.ops.last().is_some_and(|op| op.inst.ends_block())
                && ram.get(end).is_some_and(|&low| avm_isa::inst_len(u16::from(low)) == 4);
            // Its bits, the upper half from the physically next page (a
            // guess that the compiled code checks; see `RegionBlock`).
            let half = |at: usize| ram.get(at..at + 2).map_or(0, |h| u32::from(u16::from_le_bytes([h[0], h[1]])));
            let straddler = straddles.then(|| half(end) | half(end + 2) << 16);
            OwnedBlock {
                rel: o.wrapping_sub(off) as i32,
                ops: b.ops.to_vec(),
                bytes: ram[*o as usize..end].to_vec(),
                page: page_of(*o, off),
                straddler,
            }
        })
        .collect();
    OwnedRegion { blocks }
}

/// One block of a region key (see [`region_key`]).
struct KeyBlock<'k> {
    rel: i32,
    bytes: &'k [u8],
    straddler: bool,
    page: i32,
}

/// The blocks of a key.
fn key_blocks(key: &[u8]) -> impl Iterator<Item = KeyBlock<'_>> {
    let mut rest = key;
    std::iter::from_fn(move || {
        let (head, tail) = rest.split_first_chunk::<10>()?;
        let rel = i32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let bytes = tail.get(..len)?;
        rest = &tail[len..];
        Some(KeyBlock { rel, bytes, straddler: head[8] != 0, page: i32::from(head[9] as i8) })
    })
}

/// True if RAM holds the region of `key` with its entry at offset `off`:
/// every block's bytes, in the page the key says. (A straddler is fetched
/// when it runs, so its bytes need not match.)
fn key_matches(key: &[u8], ram: &[u8], off: u32) -> bool {
    key_blocks(key).all(|b| {
        let start = off.wrapping_add(b.rel as u32);
        page_of(start, off) == b.page
            && ram.get(start as usize..(start as usize).saturating_add(b.bytes.len())) == Some(b.bytes)
    })
}

/// The RAM pages the region of `key` covers with its entry at `off`: the
/// entry's, and the other one of a region that spans two.
fn key_pages(key: &[u8], off: u32) -> (u32, Option<u32>) {
    let page = off / PAGE_SIZE;
    let other = key_blocks(key).find(|b| b.page != 0).map(|b| page.wrapping_add(b.page as u32));
    (page, other)
}

/// Instructions a block runs (what entering it needs from the budget): its
/// bytes decoded by length alone, plus a straddler.
fn block_len(bytes: &[u8], straddler: bool) -> u32 {
    let mut at = 0;
    let mut n = u32::from(straddler);
    while at + 1 < bytes.len() {
        at += avm_isa::inst_len(u16::from(bytes[at])) as usize;
        n += 1;
    }
    n
}

/// The code of every block of the region of `key`, compiled as `func`:
/// each block is an entry of the function.
fn region_entries(key: &[u8], func: BlockFn) -> impl Iterator<Item = CodeRef> + '_ {
    key_blocks(key).enumerate().map(move |(k, b)| CodeRef {
        func,
        len: block_len(b.bytes, b.straddler),
        entry: k as u32,
        rel: b.rel,
    })
}

/// At most this many guest blocks in one region.
pub const MAX_REGION_BLOCKS: usize = 32;
/// At most this many guest instructions in one region (sixteen full-length
/// blocks). Compile time grows about linearly with the function, since
/// registers are reloaded at block starts and live ranges stay short. 512
/// merged keccak's round loop, which fills most of a page, into fewer
/// regions; 1024 keeps the field multiplication of the ecdsa workload (one
/// straight line of ~1,500 instructions) in two regions per page instead of
/// three or four: ~10% fewer calls into compiled code and ~5% faster warm
/// runs on keccak and ecdsa at the same compile time. 2048 (with 64 blocks)
/// gained nothing more and compiled 35% more.
pub const MAX_REGION_INSTS: usize = 1024;

/// Regions queued on the compile thread at once. With one, the thread
/// idled from the end of each compile until the engine next looked (when a
/// waiting block ran again or another got hot); a second one queued keeps
/// it busy. Measured with `avm exec` (median of 15 interleaved runs): one
/// 3,350 / 1,610 MIPS on keccak / ecdsa, two 4,130 / 1,760, four 3,890 /
/// 1,720 (more regions that overlap, compiled twice).
pub const MAX_QUEUED_REGIONS: usize = 2;

/// At most this many cached regions are tried when a fresh machine first
/// reaches a block (`JitEngine::warm_start`): code that repeats one first
/// instruction in many regions cannot make each first sight expensive.
const MAX_WARM_CANDIDATES: usize = 16;

/// At most this many hot blocks wait for a place in the compile queue
/// (`JitEngine::backlog`); a block that finds the backlog full asks again on
/// a later run.
const MAX_BACKLOG: usize = 64;

/// After this many compile threads died, the engine stops starting new
/// ones (see `JitEngine::replace_dead_worker`).
pub const MAX_WORKER_RESTARTS: u64 = 3;

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

    /// Drop all baseline code, and its map (baseline code is per machine:
    /// it is cheap to make again).
    fn drop_baseline(&mut self) {
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

    /// Work between blocks, in the interpreter's order: device exit, budget,
    /// code invalidation, interrupts.
    #[inline]
    pub(crate) fn boundary(&mut self, m: &mut Machine, limit: u64) -> Option<Exit> {
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
    fn succ_invalidate_page(&mut self, page: u32) {
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
    fn succ_get(&self, off: u32) -> Option<CodeRef> {
        self.succ[succ_index(off)].code_for(off)
    }

    /// Run one block (compiled or interpreted). The caller ran [`Self::boundary`].
    #[inline]
    pub(crate) fn step(&mut self, m: &mut Machine, limit: u64) -> Option<Exit> {
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

    /// The baseline code for the block at RAM offset `off`, which has no
    /// Cranelift code to run: made now if the block is warm enough.
    #[inline]
    fn baseline_for(&mut self, m: &mut Machine, off: u32) -> Option<BaseCode> {
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
    fn translate_baseline(&mut self, m: &mut Machine, off: u32) -> Option<BaseCode> {
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
    fn run_baseline(&mut self, m: &mut Machine, base: BaseCode, pc: u32, limit: u64) -> Option<Exit> {
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
        match status {
            STATUS_MISS => self.side_exit(m, limit),
            _ => None,
        }
    }

    /// After [`STATUS_MISS`] from compiled or baseline code: the
    /// interpreter runs exactly the rest of the guest block, starting with
    /// the instruction that left, so the next boundary is where it would
    /// have been.
    fn side_exit(&mut self, m: &mut Machine, limit: u64) -> Option<Exit> {
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
    fn lookup(&mut self, m: &mut Machine, off: u32) -> Option<CodeRef> {
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

    /// The first time this machine reaches the block at RAM offset `off`,
    /// with regions in the code cache: if a cached region has a block that
    /// starts with the same instruction, and memory around `off` holds that
    /// whole region (each block decoded anew and the key rebuilt, exactly as
    /// a compile would, each block in the page the key says), install it at
    /// once. Without this, every run on a fresh machine (every transaction)
    /// interpreted each block up to the tiering threshold before the cache
    /// was even asked: ~15% of a warm run of the ecdsa workload.
    #[cold]
    fn warm_start(&mut self, m: &mut Machine, off: u32) -> Option<CodeRef> {
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

    /// Find or compile code for the hot block at RAM offset `off`; with a
    /// compile thread, queue it and interpret meanwhile.
    #[cold]
    fn promote(&mut self, m: &mut Machine, off: u32) -> Option<CodeRef> {
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
    fn collect(&mut self, m: &mut Machine, off: u32) -> Option<CodeRef> {
        self.poll(m);
        match self.map.peek(off) {
            Some(Entry::Hot(code)) => Some(code),
            _ => None,
        }
    }

    /// True if [`MAX_QUEUED_REGIONS`] regions are still compiling (after
    /// installing what is done).
    fn worker_busy(&mut self, m: &mut Machine) -> bool {
        if self.pending.len() < MAX_QUEUED_REGIONS {
            return false;
        }
        self.poll(m);
        self.pending.len() >= MAX_QUEUED_REGIONS
    }

    /// The hot block at RAM offset `off` found the compile queue full:
    /// count its asking in the backlog.
    fn ask_later(&mut self, off: u32) {
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
    fn queue_backlog(&mut self, m: &mut Machine) {
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
    fn poll(&mut self, m: &mut Machine) {
        let queued = self.pending.len();
        self.install_finished(m);
        if self.pending.len() < queued {
            self.queue_backlog(m);
        }
    }

    /// Install every region the worker has finished.
    fn install_finished(&mut self, m: &mut Machine) {
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
    fn replace_dead_worker(&mut self) {
        // Dropping the handle joins the finished thread.
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

    /// The region of `key` is being installed with its entry at RAM offset
    /// `off`: a write to any page it covers must now take the MMU's slow
    /// path and invalidate it (the interpreter marks pages the same way, and
    /// marking a marked page changes nothing). A region over two pages also
    /// links them: the map entries of each page may enter blocks in the
    /// other, so a write to either drops the entries of both.
    fn claim_pages(&mut self, m: &mut Machine, key: &[u8], off: u32) {
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
    /// it as [`Entry::Member`] go back to cold, to be promoted on their own.
    fn release_members(&mut self, key: &[u8], off: u32) {
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
    /// its page is marked as code): its other blocks that have no code yet
    /// get theirs from the same function, entered at their own block. A
    /// block inside a compiled loop is then not compiled again as the start
    /// of a region of its own when it gets hot (after a call returns into
    /// it, say), which made ~30% of all compiled instructions on the keccak
    /// and ecdsa workloads.
    fn enter_region_blocks(&mut self, key: &[u8], off: u32, func: BlockFn) {
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
    /// instead of taking up to [`BASE_FAST_RUNS`] more baseline runs.
    fn announce(&mut self, off: u32, entry: Entry) {
        if let Entry::Hot(code) = entry {
            self.succ[succ_index(off)] = SuccSlot::new(off, code);
        }
        self.leave_fast_path(off);
    }

    /// The block at RAM offset `off` no longer runs through the baseline
    /// fast path: its next run goes through the maps.
    fn leave_fast_path(&mut self, off: u32) {
        let slot = &mut self.base_fast[succ_index(off)];
        if slot.off == off {
            *slot = BaseSlot::default();
        }
    }

    /// The region for the hot block at RAM offset `off`: that block first,
    /// then, breadth first, every block its static successors reach that
    /// has already run at least once (cold paths stay out), within
    /// [`MAX_REGION_BLOCKS`] and [`MAX_REGION_INSTS`] and within two adjacent
    /// pages: a loop that crosses a page end (keccak's round loop does)
    /// then stays in one function, its edges between the pages guarded by
    /// a fetch-TLB check (see `RegionBlock::page`). The crosscheck, which
    /// compares after every block, compiles single blocks.
    fn form_region(&mut self, m: &Machine, off: u32) -> Option<Vec<(u32, Block)>> {
        // The pages the region covers so far: at most two adjacent ones.
        let (mut lo, mut hi) = (off / PAGE_SIZE, off / PAGE_SIZE);
        let mut region = vec![(off, decode_block(m, off)?)];
        let max_blocks = if self.config.crosscheck { 1 } else { MAX_REGION_BLOCKS };
        let mut insts = region[0].1.ops.len();
        let mut k = 0;
        while k < region.len() && region.len() < max_blocks {
            let (start, ref block) = region[k];
            let targets: Vec<u32> = static_successors(&block.ops).map(|d| start.wrapping_add(d)).collect();
            for t in targets {
                let seen =
                    matches!(self.map.peek(t), Some(Entry::Cold(1..) | Entry::Hot(_) | Entry::Pending | Entry::Member));
                let p = t / PAGE_SIZE;
                let two_pages_at_most = p.max(hi) - p.min(lo) <= 1 && (t as usize) < m.ram.bytes().len();
                if !two_pages_at_most || !seen || region.iter().any(|(o, _)| *o == t) || region.len() >= max_blocks {
                    continue;
                }
                let Some(next) = decode_block(m, t) else { continue };
                if insts + next.ops.len() > MAX_REGION_INSTS {
                    continue;
                }
                insts += next.ops.len();
                (lo, hi) = (lo.min(p), hi.max(p));
                region.push((t, next));
            }
            k += 1;
        }
        Some(region)
    }

    /// Code for the hot block at `off`: from the cache, compiled now, or
    /// queued on the worker.
    fn compile(&mut self, m: &Machine, off: u32) -> Promotion {
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
        if self.code.len() + self.pending.len() >= self.config.max_blocks
            || self.code.code_bytes >= self.config.max_code_bytes
        {
            self.stats.budget_refusals += 1;
            return Promotion::Refused;
        }
        let (chaining, metering) = (!self.config.crosscheck, self.config.metering);
        let setup = move |t: &mut Translator| {
            // The crosscheck compares after every block: no loops inside.
            t.set_chaining(chaining);
            t.set_metering(metering);
        };
        if self.worker.as_ref().is_some_and(|w| !w.is_alive()) {
            self.replace_dead_worker();
        }
        if self.config.background && !self.config.crosscheck && !self.no_translator && !self.worker_given_up {
            if self.worker.is_none() {
                self.worker = if self.may_spawn() { Worker::spawn(setup) } else { None };
                // No thread to be had: compile on this one (a failed spawn
                // says nothing about whether Cranelift works here).
                self.worker_given_up = self.worker.is_none();
            }
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
                    setup(&mut t);
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

    /// Count a region sent to Cranelift.
    fn note_region(&mut self, region: &OwnedRegion) {
        self.stats.region_blocks += region.blocks.len() as u64;
        self.stats.insts_compiled += region.blocks.iter().map(|b| b.ops.len() as u64).sum::<u64>();
    }

    /// Cache the result of a compile.
    fn finish(&mut self, key: &[u8], result: Result<Compiled, CompileError>) -> Option<CodeRef> {
        match result {
            Ok(c) => {
                self.stats.blocks_compiled += 1;
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

    /// Run compiled code from `code` at `pc`, then, while the dispatcher
    /// would run another compiled block next without doing anything else
    /// first, chain straight into it (see [`Self::next_compiled`]).
    fn run_compiled(&mut self, m: &mut Machine, mut code: CodeRef, mut pc: u32, limit: u64) -> Option<Exit> {
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
            match status {
                STATUS_END if chaining => match self.next_compiled(m, limit) {
                    Some(next) => {
                        code = next;
                        pc = m.hart.pc;
                    }
                    None => return None,
                },
                STATUS_END => return None,
                STATUS_TRAP => return self.ctx.trap.take().and_then(|trap| m.raise(trap)),
                STATUS_MISS => return self.side_exit(m, limit),
                STATUS_EXIT => return self.ctx.exit.take(),
                _ => return None,
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
    fn next_compiled(&self, m: &Machine, limit: u64) -> Option<CodeRef> {
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

    /// The engine loop without crosscheck.
    fn run_plain(&mut self, m: &mut Machine, limit: u64) -> Exit {
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
            return crate::crosscheck::run(self, m, limit);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use avm_interp::Op;
    use avm_isa::{AluImmOp, Inst, Reg};

    /// A region of two blocks; the second lies 8 bytes before the entry,
    /// in the entry's page or (`page` -1) in the page before.
    fn region(page: i32) -> OwnedRegion {
        let addi =
            |rd| Op { inst: Inst::AluImm { op: AluImmOp::Addi, rd: Reg::new(rd), rs1: Reg::new(rd), imm: 1 }, len: 4 };
        let c_nop = Op { inst: Inst::AluImm { op: AluImmOp::Addi, rd: Reg::ZERO, rs1: Reg::ZERO, imm: 0 }, len: 2 };
        let block = |rel, ops, bytes, page, straddler| OwnedBlock { rel, ops, bytes, page, straddler };
        OwnedRegion {
            blocks: vec![
                block(0, vec![addi(5), c_nop], vec![0x93, 0x82, 0x12, 0x00, 0x01, 0x00], 0, Some(0x0000_0073)),
                block(-8, vec![addi(6)], vec![0x13, 0x03, 0x13, 0x00], page, None),
            ],
        }
    }

    #[test]
    fn a_key_names_its_blocks_and_checks_memory() {
        let key = region_key(&region(0));
        let blocks: Vec<(i32, &[u8], bool, i32)> =
            key_blocks(&key).map(|b| (b.rel, b.bytes, b.straddler, b.page)).collect();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[1], (-8, &[0x13, 0x03, 0x13, 0x00][..], false, 0));
        // Never called: only the bookkeeping around it is tested.
        // SAFETY: the contract is about calling it, which nothing does.
        let f = unsafe { BlockFn::from_code(std::ptr::NonNull::dangling()) };
        let lens: Vec<(u32, u32, i32)> = region_entries(&key, f).map(|c| (c.len, c.entry, c.rel)).collect();
        assert_eq!(lens, [(3, 0, 0), (1, 1, -8)], "a 4-byte and a 2-byte instruction and the straddler; one addi");
        let mut ram = vec![0u8; 64];
        ram[8..12].copy_from_slice(&[0x13, 0x03, 0x13, 0x00]);
        ram[16..22].copy_from_slice(&[0x93, 0x82, 0x12, 0x00, 0x01, 0x00]);
        assert!(key_matches(&key, &ram, 16));
        assert_eq!(key_pages(&key, 16), (0, None));
        assert!(!key_matches(&key, &ram, 18), "elsewhere");
        assert!(!key_matches(&key, &ram, 4), "block before RAM start");
        assert!(!key_matches(&key, &ram, 60), "past the end");
        ram[9] ^= 1;
        assert!(!key_matches(&key, &ram, 16), "rewritten code");
    }

    /// A compile thread that dies (here at once, in its set-up) is noticed:
    /// the block queued on it goes back to cold, a new thread compiles it,
    /// and the run ends as the interpreter's.
    #[test]
    fn a_dead_compile_thread_is_replaced() {
        let (mut m, reference) = counting_loop(100_000);

        let mut jit = JitEngine::new(JitConfig { threshold: 8, background: true, ..JitConfig::default() });
        jit.worker = Worker::spawn(|_| panic!("injected: the compile thread dies"));
        while jit.worker.as_ref().is_some_and(Worker::is_alive) {
            std::thread::yield_now();
        }
        assert_eq!(jit.run(&mut m, u64::MAX), Exit::WaitForInterrupt);
        assert_eq!(m.hart, reference.hart);
        assert_eq!(jit.stats().worker_restarts, 1);
        // The new thread's code arrives sooner or later.
        while !jit.pending.is_empty() {
            jit.poll(&mut m);
            std::thread::yield_now();
        }
        assert!(jit.stats().blocks_compiled > 0, "{:?}", jit.stats());
    }

    /// A machine that counts `a0` up to `n` in a one-block loop and then
    /// waits (`wfi`), and the same machine run to its end by the
    /// interpreter.
    fn counting_loop(n: u32) -> (Machine, Machine) {
        use avm_isa::asm::Asm;
        use avm_isa::BranchOp;
        use avm_mmu::{MachineConfig, RAM_BASE};
        let (a0, s0) = (Reg::new(10), Reg::new(8));
        let mut a = Asm::new(RAM_BASE);
        a.li(s0, n);
        let top = a.here();
        a.addi(a0, a0, 1);
        a.branch_label(BranchOp::Bne, a0, s0, top);
        a.inst(Inst::Wfi);
        let mut m = Machine::new(MachineConfig { ram_size: 1 << 20, ..MachineConfig::default() }).expect("machine");
        m.write_phys_bytes(RAM_BASE, &a.finish().expect("assembles")).expect("fits");
        let mut reference = m.try_clone().expect("clone");
        assert_eq!(Interpreter::new().run(&mut reference, u64::MAX), Exit::WaitForInterrupt);
        (m, reference)
    }

    /// Regression: with a compile thread, the later blocks of a region
    /// got hot while the region was still compiling (a loop's blocks get
    /// hot together) and were queued as regions of their own, compiling
    /// the same code again: ~30% of all compiled instructions of a one-shot
    /// ecdsa run. Now they wait for the region, whose code they share.
    #[test]
    fn blocks_of_a_region_being_compiled_wait_for_it() {
        use avm_isa::asm::Asm;
        use avm_isa::BranchOp;
        use avm_mmu::{MachineConfig, RAM_BASE};
        // A loop of three blocks: `top` (ends in the branch to `skip`),
        // the `addi a1` taken every other iteration, and `skip`.
        let (a0, a1, t1, s0) = (Reg::new(10), Reg::new(11), Reg::new(6), Reg::new(8));
        let mut a = Asm::new(RAM_BASE);
        a.li(s0, 100_000);
        let top = a.here();
        let skip = a.new_label();
        a.addi(a0, a0, 1);
        a.alu_imm(AluImmOp::Andi, t1, a0, 1);
        a.branch_label(BranchOp::Beq, t1, Reg::ZERO, skip);
        a.addi(a1, a1, 1);
        a.bind(skip);
        a.branch_label(BranchOp::Bne, a0, s0, top);
        a.inst(Inst::Wfi);
        let (top, skip) = (a.address_of(top).expect("bound"), a.address_of(skip).expect("bound"));
        let mut m = Machine::new(MachineConfig { ram_size: 1 << 20, ..MachineConfig::default() }).expect("machine");
        m.write_phys_bytes(RAM_BASE, &a.finish().expect("assembles")).expect("fits");
        let mut reference = m.try_clone().expect("clone");
        assert_eq!(Interpreter::new().run(&mut reference, u64::MAX), Exit::WaitForInterrupt);

        // `top` gets hot first; `skip` reaches the threshold a few
        // iterations later, long before its region can have compiled.
        let mut jit = JitEngine::new(JitConfig { threshold: 8, background: true, ..JitConfig::default() });
        let entry = |jit: &JitEngine, pc: u32| jit.map.peek(pc - RAM_BASE);
        assert_eq!(jit.run(&mut m, u64::MAX), Exit::WaitForInterrupt);
        assert_eq!(m.hart, reference.hart);
        while !jit.pending.is_empty() {
            jit.poll(&mut m);
            std::thread::yield_now();
        }
        let stats = jit.stats();
        assert_eq!((stats.blocks_compiled, stats.region_blocks), (1, 3), "{stats:?}");
        match (entry(&jit, top), entry(&jit, skip)) {
            (Some(Entry::Hot(a)), Some(Entry::Hot(b))) => assert_eq!(a.func, b.func, "one function"),
            other => panic!("{other:?}"),
        }
    }

    /// A compile that fails (here Cranelift panics) leaves its block to the
    /// interpreter, is counted, and its error is kept for the host to report.
    #[test]
    fn a_freed_compile_queue_place_goes_to_the_block_that_asked_most() {
        use avm_isa::asm::Asm;
        use avm_mmu::{MachineConfig, RAM_BASE};
        // Three blocks of one `addi` and a `wfi`, at offsets 0, 8 and 16.
        let a0 = Reg::new(10);
        let mut a = Asm::new(RAM_BASE);
        for _ in 0..3 {
            a.addi(a0, a0, 1);
            a.inst(Inst::Wfi);
        }
        let mut m = Machine::new(MachineConfig { ram_size: 1 << 20, ..MachineConfig::default() }).expect("machine");
        m.write_phys_bytes(RAM_BASE, &a.finish().expect("assembles")).expect("fits");
        let threshold = 4;
        let mut jit = JitEngine::new(JitConfig { threshold, background: true, ..JitConfig::default() });
        jit.attach(&m);
        for off in [0, 8, 16] {
            *jit.map.entry(off) = Entry::Cold(threshold);
        }
        // The queue is full of regions that never arrive.
        let stand_in = |k: u8| vec![k].into_boxed_slice();
        for k in 0..MAX_QUEUED_REGIONS as u8 {
            jit.pending.insert(stand_in(k), Vec::new());
        }
        for (off, asks) in [(0, 1), (8, 3), (16, 2)] {
            for _ in 0..asks {
                assert!(jit.lookup(&mut m, off).is_none());
            }
        }
        assert_eq!(jit.backlog, [(0, 1), (8, 3), (16, 2)]);
        assert!(jit.map.peek(8).is_some_and(|e| matches!(e, Entry::Cold(_))));
        // One place frees: the block that asked most is queued at once.
        jit.pending.remove(&stand_in(0));
        jit.queue_backlog(&mut m);
        assert!(matches!(jit.map.peek(8), Some(Entry::Pending)), "{:?}", jit.map.peek(8));
        assert_eq!(jit.backlog, [(0, 1), (16, 2)]);
        assert_eq!(jit.pending.len(), MAX_QUEUED_REGIONS);
    }

    #[test]
    fn a_failed_compile_is_counted_and_reported() {
        let (mut m, reference) = counting_loop(1000);

        let mut jit = JitEngine::new(JitConfig { threshold: 4, ..JitConfig::default() });
        let mut t = Translator::new().expect("host supported");
        t.fail_next_compile();
        jit.translator = Some(t);
        assert!(jit.compile_error().is_none());
        assert_eq!(jit.run(&mut m, u64::MAX), Exit::WaitForInterrupt);
        assert_eq!(m.hart, reference.hart);
        let stats = jit.stats();
        assert_eq!(stats.compile_failures, 1, "{stats:?}");
        assert!(matches!(jit.compile_error(), Some(CompileError::Panic(what)) if what.contains("injected")));
    }

    /// Regression: when the compile thread could not be started, the engine
    /// stopped compiling altogether instead of compiling on its own thread.
    #[test]
    fn no_compile_thread_means_compiling_on_the_engine_thread() {
        let (mut m, reference) = counting_loop(1000);

        let mut jit = JitEngine::new(JitConfig { threshold: 4, background: true, ..JitConfig::default() });
        jit.refuse_threads = true;
        assert_eq!(jit.run(&mut m, u64::MAX), Exit::WaitForInterrupt);
        assert_eq!(m.hart, reference.hart);
        let stats = jit.stats();
        assert!(jit.worker.is_none() && stats.blocks_compiled > 0 && stats.insts_run_compiled > 900, "{stats:?}");
    }

    /// A region over two pages matches only where its blocks fall into the
    /// same pages, and claims both.
    #[test]
    fn a_two_page_key_matches_only_with_the_same_page_split() {
        let key = region_key(&region(-1));
        let mut ram = vec![0u8; 3 * PAGE_SIZE as usize];
        let place = |ram: &mut Vec<u8>, entry: usize| {
            ram[entry - 8..entry - 4].copy_from_slice(&[0x13, 0x03, 0x13, 0x00]);
            ram[entry..entry + 6].copy_from_slice(&[0x93, 0x82, 0x12, 0x00, 0x01, 0x00]);
        };
        place(&mut ram, 0x1002);
        assert!(key_matches(&key, &ram, 0x1002));
        assert_eq!(key_pages(&key, 0x1002), (1, Some(0)));
        place(&mut ram, 0x1800);
        assert!(!key_matches(&key, &ram, 0x1800), "the same bytes, all in one page");
        assert!(key_matches(&region_key(&region(0)), &ram, 0x1800));
    }
}
