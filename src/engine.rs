//! Choosing an execution engine.
//!
//! Both engines implement [`avm_mmu::Engine`] and must leave the machine in
//! identical state; the host picks one by name (`--engine=interp|jit`).
//! [`make_engine`] is the single factory every front end goes through, so
//! adding or replacing an engine is a change in one place.
//!
//! The host also wants two things the bare [`Engine`] trait does not offer:
//! a tracer (every executed instruction, for `--trace`) and the engine's own
//! work counters (for `--stats`). [`HostEngine`] adds them.

use std::fmt;
use std::str::FromStr;

use avm_interp::{Interpreter, Tracer};
use avm_mmu::Engine;

/// Which engine runs the guest. Parsed by name ([`FromStr`]); the command
/// line wraps that in its own clap parser, so this type needs no clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// The reference interpreter.
    Interp,
    /// The Cranelift basic-block JIT.
    Jit,
}

/// The engine used when none is named. One constant, so switching the
/// default to the JIT is a one-line change.
pub const DEFAULT_ENGINE: EngineKind = EngineKind::Jit;

impl EngineKind {
    /// Every engine, in the order `--help` lists them.
    pub const ALL: [EngineKind; 2] = [EngineKind::Interp, EngineKind::Jit];

    /// The name used on the command line and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            EngineKind::Interp => "interp",
            EngineKind::Jit => "jit",
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EngineKind {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<EngineKind, EngineError> {
        EngineKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| EngineError::UnknownEngine(s.to_owned()))
    }
}

/// Why an engine could not be created.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The name is not an engine.
    #[error("unknown engine `{0}` (expected `interp` or `jit`)")]
    UnknownEngine(String),
}

/// How the host wants the engine set up.
#[derive(Default)]
pub struct EngineOptions {
    /// Called before every executed instruction, if set.
    pub tracer: Option<Box<dyn Tracer>>,
    /// JIT: compile on the engine's own thread instead of a background
    /// thread (slower start, reproducible counters; results are the same).
    pub sync_compile: bool,
}

/// An [`Engine`] plus what the host needs around it.
pub trait HostEngine: Engine {
    /// Named work counters (blocks decoded, compiled, ...) for `--stats`.
    fn counters(&self) -> Vec<(&'static str, u64)>;

    /// Something the user should know about the run that did not change
    /// its result (the JIT could not compile some code, so it ran slower).
    fn warning(&self) -> Option<String> {
        None
    }
}

impl HostEngine for Interpreter {
    fn counters(&self) -> Vec<(&'static str, u64)> {
        let s = self.stats();
        vec![("blocks_decoded", s.blocks_decoded), ("blocks_executed", s.blocks_executed)]
    }
}

impl HostEngine for avm_jit::JitEngine {
    fn counters(&self) -> Vec<(&'static str, u64)> {
        let s = self.stats();
        vec![
            ("regions_compiled", s.regions_compiled),
            // The old name of `regions_compiled` (it counted blocks before
            // regions existed), kept for the scripts and tests that read it.
            ("blocks_compiled", s.regions_compiled),
            ("region_blocks", s.region_blocks),
            ("insts_compiled", s.insts_compiled),
            ("region_entries", s.region_entries),
            ("side_exits", s.side_exits),
            ("compiled_calls", s.compiled_calls),
            ("tail_calls", s.tail_calls),
            ("insts_run_compiled", s.insts_run_compiled),
            ("blocks_run_interpreted", s.blocks_run_interpreted),
            ("baseline_blocks", s.baseline_blocks),
            ("baseline_drops", s.baseline_drops),
            ("baseline_calls", s.baseline_calls),
            ("baseline_chained", s.baseline_chained),
            ("insts_run_baseline", s.insts_run_baseline),
            ("code_cache_hits", s.cache_hits),
            ("code_cache_misses", s.cache_misses),
            ("compile_budget_refusals", s.budget_refusals),
            ("compile_failures", s.compile_failures),
            ("compile_thread_restarts", s.worker_restarts),
            ("compile_time_us", u64::try_from(s.compile_time.as_micros()).unwrap_or(u64::MAX)),
            ("code_bytes", s.code_bytes),
        ]
    }

    fn warning(&self) -> Option<String> {
        let error = self.compile_error()?;
        let failures = self.stats().compile_failures;
        let (what, which) = match failures {
            0 => ("could not start".to_string(), "everything"),
            1 => ("failed to compile 1 region".to_string(), "that code"),
            n => (format!("failed to compile {n} regions"), "that code"),
        };
        Some(format!("the JIT {what} ({error}); {which} ran in the interpreter, with the same results"))
    }
}

/// Create an engine of the given kind.
pub fn make_engine(kind: EngineKind, options: EngineOptions) -> Result<Box<dyn HostEngine>, EngineError> {
    match kind {
        EngineKind::Interp => {
            let mut interp = Interpreter::new();
            interp.set_tracer(options.tracer);
            Ok(Box::new(interp))
        }
        EngineKind::Jit => {
            let config = avm_jit::JitConfig { background: !options.sync_compile, ..avm_jit::JitConfig::default() };
            let mut jit = avm_jit::JitEngine::new(config);
            jit.set_tracer(options.tracer);
            Ok(Box::new(jit))
        }
    }
}
