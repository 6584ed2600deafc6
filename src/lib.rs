//! # avm: the host side of the machine
//!
//! The crates below this one describe a RISC-V computer: `avm-isa` says what
//! the instruction bits mean, `avm-mmu` is the hart, memory and trap model,
//! and the engines (`avm-interp`, `avm-jit`) make it run. What none of them
//! knows is where a program comes from, which engine should run it, when to
//! stop, and what to tell the person who asked. That is this package: the
//! *runtime glue* between a file on disk and an engine, and the `avm`
//! command line built on it.
//!
//! The pieces, in the order a run uses them:
//!
//! - [`elf`] reads a program. ELF files are guest input, so the loader is
//!   written by hand with every offset and size checked, and a bad file is a
//!   typed [`elf::ElfError`], never a panic. It also holds a tiny ELF writer
//!   for tests and fuzzers.
//! - [`engine`] picks an engine by name ([`engine::make_engine`]); both
//!   engines are interchangeable behind [`avm_mmu::Engine`].
//! - [`run`] loads the program into a fresh [`avm_mmu::Machine`], starts it in
//!   M-mode at its entry point and runs it, in slices so console output can
//!   stream, until it writes the HTIF `tohost` mailbox, runs out of
//!   instructions or gets stuck. The result is a [`run::RunReport`] whose
//!   [`run::Summary`] is the same for every engine.
//! - [`trace`] prints every executed instruction for `avm exec --trace`.
//! - [`digest`] hashes RAM so `avm exec --json` compares whole machines.
//! - `wasm_ref` (feature `wasm-ref`) runs the bench workloads compiled to wasm32
//!   on wasmtime and wasmi: outside reference points for the benches.
//!
//! This is *bare-metal* mode: the program owns the whole machine and handles
//! its own traps, as the riscv-tests and small benchmarks expect. The
//! blockchain runtime (a guest kernel in S-mode, contracts in U-mode, the
//! host as M-mode firmware) builds on the same pieces.
#![forbid(unsafe_code)]

pub mod chain;
pub mod digest;
pub mod elf;
pub mod engine;
pub mod fuzzing;
pub mod run;
pub mod runtime;
pub mod trace;
#[cfg(feature = "wasm-ref")]
pub mod wasm_ref;

pub use elf::{ElfError, ElfImage};
pub use engine::{make_engine, EngineError, EngineKind, EngineOptions, HostEngine, DEFAULT_ENGINE};
pub use run::{run_bare_metal, Outcome, RunError, RunOptions, RunReport, Summary};

/// Directory holding the bundled guest programs (set by the build script),
/// if this binary was built with them.
pub fn guest_dir() -> Option<&'static str> {
    option_env!("AVM_GUEST_DIR")
}
