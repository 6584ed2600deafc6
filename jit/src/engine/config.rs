//! The engine's settings and work counters.

use std::time::Duration;

/// Settings of the JIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JitConfig {
    /// A block is compiled once it has been interpreted this many times
    /// (0 = compile on first use).
    pub threshold: u32,
    /// Compile budget: at most this many regions are ever compiled (or
    /// queued) by one engine; beyond it cold code stays interpreted or in
    /// the baseline tier (JIT bombs).
    pub max_regions: usize,
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
    /// Fuse the two halves of a wide multiply into one host multiply
    /// (default on; see [`Translator::set_fusion`](crate::cranelift::Translator::set_fusion)).
    /// Off only to measure what the fusion buys (`benches/jit.rs`); results
    /// are identical either way.
    pub fusion: bool,
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
            max_regions: 8192,
            max_code_bytes: 32 << 20,
            crosscheck: std::env::var("AVM_CROSSCHECK").is_ok_and(|v| v == "1"),
            metering: true,
            fusion: true,
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
    pub regions_compiled: u64,
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
    /// [`MAX_WORKER_RESTARTS`](super::MAX_WORKER_RESTARTS)). A compile error, a Cranelift panic
    /// included, is a result and does not count.
    pub worker_restarts: u64,
    /// Time spent in Cranelift.
    pub compile_time: Duration,
    /// Machine-code bytes produced.
    pub code_bytes: u64,
}
