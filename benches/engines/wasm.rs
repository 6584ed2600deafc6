//! Outside reference points for `benches/engines.rs` (feature `wasm-ref`): the same
//! workload compiled to a wasm32 module (`guest/workloads-wasm`, see `avm::wasm_ref`)
//! and run, in the workload's criterion group, on
//!
//! - `wasmtime`: one-shot, like `jit`: compile the module with Cranelift, instantiate it
//!   and call it, all timed (the engine is made outside the timing, as aVM's are);
//! - `wasmtime-warm`: the module compiled once outside the timing; a run instantiates
//!   it in a fresh store and calls it: compiled-code speed, like `jit-warm`;
//! - `wasmi`: one-shot, like `interp`: a fresh wasmi engine (outside the timing), then
//!   load and validate the module, instantiate and call it, functions translated to
//!   wasmi's bytecode on their first call (its default lazy translation).
//!
//! Every run gets fresh linear memory, as every aVM run gets a fresh machine (dropping
//! a wasm store is timed; aVM's machines are dropped outside the timing). Before
//! timing, each runs once and must return 1 (the workload's result is the pinned one);
//! anything else stops the bench with the error.

use std::time::{Duration, Instant};

use avm::wasm_ref::{module_bytes, Wasmi, Wasmtime};
use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup};

use crate::support::{record, Work};

/// The functions this module adds to a group, in the order they run.
pub const FUNCTIONS: [&str; 3] = ["wasmi", "wasmtime", "wasmtime-warm"];

/// Times `f` once; panics with its error if it fails (a wrong result must not be timed).
fn check_run<E: std::fmt::Display>(what: &str, f: impl FnOnce() -> Result<(), E>) -> Duration {
    let start = Instant::now();
    if let Err(e) = f() {
        panic!("{what}: the check run failed: {e}");
    }
    start.elapsed()
}

/// Adds `wasmi`, `wasmtime` and `wasmtime-warm` to `group` for `workload`; `time` sizes
/// criterion's measurement time from one run. Like `native`, they record no guest
/// instructions (none retire); the report shows a guest-equivalent speed.
pub fn bench(group: &mut BenchmarkGroup<'_, WallTime>, workload: &str, time: fn(Duration) -> Duration) {
    let wasm = module_bytes(workload).unwrap_or_else(|e| panic!("{workload}: {e}"));

    let wall = check_run(&format!("{workload}/wasmi"), || Wasmi::new().run_checked(&wasm, workload));
    println!("{workload}/wasmi: check run {:.3} s ({} bytes of wasm)", wall.as_secs_f64(), wasm.len());
    group.measurement_time(time(wall));
    group.bench_function("wasmi", |b| {
        b.iter_batched(
            Wasmi::new,
            |wasmi| (wasmi.run(&wasm).expect("passed its check run"), wasmi),
            BatchSize::PerIteration,
        );
    });
    record(workload, "wasmi", Work::default());

    let new_wasmtime = || Wasmtime::new().unwrap_or_else(|e| panic!("{workload}/wasmtime: {e}"));
    let wasmtime = new_wasmtime();
    let start = Instant::now();
    let module = wasmtime.compile(&wasm).unwrap_or_else(|e| panic!("{workload}/wasmtime: {e}"));
    let compile = start.elapsed();
    let wall = check_run(&format!("{workload}/wasmtime"), || {
        avm::wasm_ref::check("wasmtime", workload, wasmtime.run(&module)?)
    });
    println!(
        "{workload}/wasmtime: Cranelift compile {:.1} ms, check run {:.3} s",
        compile.as_secs_f64() * 1e3,
        wall.as_secs_f64()
    );
    group.measurement_time(time(compile + wall));
    group.bench_function("wasmtime", |b| {
        b.iter_batched(
            new_wasmtime,
            |wasmtime| {
                let module = wasmtime.compile(&wasm).expect("compiled for the check run");
                // Returned, so criterion drops the module and engine outside the timing.
                (wasmtime.run(&module).expect("passed its check run"), module, wasmtime)
            },
            BatchSize::PerIteration,
        );
    });
    record(workload, "wasmtime", Work::default());

    group.measurement_time(time(wall));
    group.bench_function("wasmtime-warm", |b| b.iter(|| wasmtime.run(&module).expect("passed its check run")));
    record(workload, "wasmtime-warm", Work::default());
}
