//! # Outside reference points: the bench workloads on wasmtime and wasmi
//!
//! Feature `wasm-ref` only. aVM's engines are measured against the host CPU (`native`
//! in `benches/engines.rs`), but a reader also wants to know how they compare with
//! other virtual machines running the same code. This module runs the workloads of
//! `guest/workloads` compiled to WebAssembly (`guest/workloads-wasm`, built by
//! `build.rs` for `wasm32-unknown-unknown` with the guest programs' release profile) on
//! two well-known engines:
//!
//! - [`Wasmtime`]: wasmtime with Cranelift, an optimising compiler that translates the
//!   whole module before it runs (the same Cranelift family aVM's JIT uses, so the
//!   comparison is about how each VM uses it). Its default configuration on x86_64:
//!   linear memory in a large reserved region with guard pages, so most bounds checks
//!   are free; no compile cache and one compile thread (the features are off).
//! - [`Wasmi`]: wasmi, an interpreter that translates each function to its own
//!   register-based bytecode the first time it is called (its default lazy translation).
//!
//! Each module exports `run: () -> i32`, which runs its workload with the guest
//! program's inputs and returns 1 if the result is the pinned one, 0 if not; [`check`]
//! turns anything but 1 into an error, so a broken run is never timed as if it had done
//! the work.
//!
//! **Mind the ISA.** WebAssembly has native 64-bit integer operations (`i64.*`), as
//! x86_64 does, and wasmtime maps them onto x86_64 registers; aVM's guest is RV32, where
//! a 64-bit operation is two or more 32-bit ones. wasm32's pointers are 32-bit, though,
//! so a crate that picks its arithmetic by pointer width (`k256`'s field) uses the same
//! 32-bit limbs as on RV32. Ratios of wasm engines to native are therefore not
//! ISA-neutral, and neither are ratios to aVM.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// The workloads, one module each (`<name>.wasm`).
pub const WORKLOADS: [&str; 4] = ["alu", "sieve", "keccak", "ecdsa"];

/// The export every module has: `run: () -> i32`.
pub const EXPORT: &str = "run";

/// Path of the module of `workload` built by `build.rs` (`guest/workloads-wasm`).
pub fn module_path(workload: &str) -> PathBuf {
    Path::new(env!("AVM_WASM_DIR")).join(workload).with_extension("wasm")
}

/// What can go wrong running a wasm workload.
#[derive(Debug, Error)]
pub enum WasmRefError {
    /// A module file could not be read (`build.rs` builds one per workload of
    /// [`WORKLOADS`] with the `wasm-ref` feature).
    #[error("cannot read the wasm module {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The engine refused or failed a step: compiling or validating the module,
    /// instantiating it, finding its export, or the call itself (a trap).
    #[error("{runtime}: {step} failed: {message}")]
    Runtime {
        /// `wasmtime` or `wasmi`.
        runtime: &'static str,
        /// What was being done.
        step: &'static str,
        /// The engine's error, as text (wasmtime's error type is not a `std::error::Error`).
        message: String,
    },
    /// The workload ran but its result is not the pinned one.
    #[error("{runtime}: workload `{workload}` returned {value}, not 1: its result is not the pinned one")]
    WrongResult {
        /// `wasmtime` or `wasmi`.
        runtime: &'static str,
        /// The workload.
        workload: String,
        /// What it returned.
        value: i32,
    },
}

/// Reads the module of `workload`.
pub fn module_bytes(workload: &str) -> Result<Vec<u8>, WasmRefError> {
    let path = module_path(workload);
    std::fs::read(&path).map_err(|source| WasmRefError::Read { path, source })
}

/// `Ok` if a workload's `run` returned 1 (its result is the pinned one).
pub fn check(runtime: &'static str, workload: &str, value: i32) -> Result<(), WasmRefError> {
    if value == 1 {
        Ok(())
    } else {
        Err(WasmRefError::WrongResult { runtime, workload: workload.to_owned(), value })
    }
}

/// wasmtime with Cranelift at its default optimisation level (`speed`).
pub struct Wasmtime {
    engine: wasmtime::Engine,
}

impl Wasmtime {
    const NAME: &'static str = "wasmtime";

    fn error(step: &'static str, e: &wasmtime::Error) -> WasmRefError {
        // `{:#}` prints the whole chain of causes.
        WasmRefError::Runtime { runtime: Self::NAME, step, message: format!("{e:#}") }
    }

    /// A fresh engine (no module compiled yet).
    pub fn new() -> Result<Self, WasmRefError> {
        let mut config = wasmtime::Config::new();
        config.strategy(wasmtime::Strategy::Cranelift).cranelift_opt_level(wasmtime::OptLevel::Speed);
        let engine = wasmtime::Engine::new(&config).map_err(|e| Self::error("creating the engine", &e))?;
        Ok(Self { engine })
    }

    /// Validates `wasm` and compiles every function with Cranelift.
    pub fn compile(&self, wasm: &[u8]) -> Result<wasmtime::Module, WasmRefError> {
        wasmtime::Module::new(&self.engine, wasm).map_err(|e| Self::error("compiling the module", &e))
    }

    /// Instantiates `module` in a fresh store (fresh linear memory) and calls its `run`;
    /// returns what it returned (1: the pinned result).
    pub fn run(&self, module: &wasmtime::Module) -> Result<i32, WasmRefError> {
        let mut store = wasmtime::Store::new(&self.engine, ());
        let instance = wasmtime::Instance::new(&mut store, module, &[])
            .map_err(|e| Self::error("instantiating the module", &e))?;
        let func = instance
            .get_typed_func::<(), i32>(&mut store, EXPORT)
            .map_err(|e| Self::error("finding the export `run`", &e))?;
        func.call(&mut store, ()).map_err(|e| Self::error("running the workload", &e))
    }

    /// One-shot: compile the module of `workload`, instantiate it and run it, checking
    /// the result.
    pub fn run_checked(&self, wasm: &[u8], workload: &str) -> Result<(), WasmRefError> {
        let module = self.compile(wasm)?;
        check(Self::NAME, workload, self.run(&module)?)
    }
}

/// wasmi with its default configuration (lazy translation: functions are validated when
/// the module is created and translated to wasmi's bytecode on their first call).
#[derive(Default)]
pub struct Wasmi {
    engine: wasmi::Engine,
}

impl Wasmi {
    const NAME: &'static str = "wasmi";

    fn error(step: &'static str, e: &wasmi::Error) -> WasmRefError {
        WasmRefError::Runtime { runtime: Self::NAME, step, message: e.to_string() }
    }

    /// A fresh engine (its translated-code store empty).
    pub fn new() -> Self {
        Self::default()
    }

    /// One run: parse and validate `wasm`, instantiate it in a fresh store and call its
    /// `run` (translating each function on its first call); returns what it returned
    /// (1: the pinned result).
    pub fn run(&self, wasm: &[u8]) -> Result<i32, WasmRefError> {
        let module = wasmi::Module::new(&self.engine, wasm).map_err(|e| Self::error("loading the module", &e))?;
        let mut store = wasmi::Store::new(&self.engine, ());
        let linker = wasmi::Linker::<()>::new(&self.engine);
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .map_err(|e| Self::error("instantiating the module", &e))?;
        let func = instance
            .get_typed_func::<(), i32>(&store, EXPORT)
            .map_err(|e| Self::error("finding the export `run`", &e))?;
        func.call(&mut store, ()).map_err(|e| Self::error("running the workload", &e))
    }

    /// [`Wasmi::run`] on the module of `workload`, checking the result.
    pub fn run_checked(&self, wasm: &[u8], workload: &str) -> Result<(), WasmRefError> {
        check(Self::NAME, workload, self.run(wasm)?)
    }
}
