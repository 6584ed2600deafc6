//! # Engines side by side, one group per workload
//!
//! Each workload is a real guest program from `guest/bare` (built by `build.rs` into
//! `AVM_GUEST_DIR`): `alu` (integer loop), `sieve` (memory-bound sieve), `keccak`
//! (Keccak-256 with the `sha3` crate) and `ecdsa` (secp256k1 verification with `k256`).
//! Its criterion group has one function per engine and a `native` baseline:
//!
//! - `interp`, `jit`: load the ELF into a fresh 64 MiB machine, make a fresh engine
//!   (both outside the timing), then time `Engine::run` to the HTIF exit. A JIT run
//!   therefore includes compiling every block it reaches: it is a one-shot run, the
//!   way a VM executes a transaction it has not seen. `jit` is `avm exec`'s JIT,
//!   which compiles on a background thread while it interprets; `jit-sync` compiles
//!   on the engine's own thread, so its time is run time plus all of Cranelift's.
//!   An engine that `make_engine` cannot build yet is skipped with a note.
//! - `jit-warm`: the same, but with one JIT engine kept across runs (warmed by two
//!   check runs), so its code cache is full: compiled-code speed without Cranelift time.
//! - `baseline`: the JIT's baseline tier alone (the one-pass template translator,
//!   Cranelift off), a fresh engine per run: the speed of the simplest JIT tier.
//! - `wasmi`, `wasmtime`, `wasmtime-warm` (feature `wasm-ref`, off by default):
//!   outside reference points, the same workload compiled to a wasm32 module and run
//!   on wasmi (an interpreter, one-shot like `interp`) and on wasmtime (Cranelift;
//!   one-shot with its compile time like `jit`, and precompiled like `jit-warm`); see
//!   `benches/engines/wasm.rs`. wasm has 64-bit integer operations, RV32 does not.
//! - `native`: the same workload function from `avm-workloads`, compiled for the host.
//!   `alu`, `keccak` and `ecdsa` are literally the code the guest runs; `sieve` is the
//!   same algorithm (the guest program keeps its own copy over a static array).
//!
//! Before timing, every engine runs each program once: the run must end in
//! `Exit::Halt { code: 0 }` (the program checks its own result against a pinned
//! value) and the bench prints the instructions retired, the console line and the
//! stack the guest used (a wasm module's check run must return 1, its pinned result). After criterion has finished, a table turns its mean times
//! into MIPS, speed-ups over the interpreter and ratios to native time, and each
//! function's guest instruction count goes to `avm.json` beside criterion's results
//! (`benches/support`) for `examples/bench_report.rs`.
//!
//! `cargo bench --bench engines` (add `-- --quick` for a faster, rougher pass, or a
//! filter such as `-- keccak`; `cargo bench --features wasm-ref --bench engines` adds
//! the wasm functions). Samples are few and flat (10 runs of one iteration) so the
//! whole bench takes a few minutes on the interpreter.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

mod support;
#[cfg(feature = "wasm-ref")]
#[path = "engines/wasm.rs"]
mod wasm;

use avm::engine::{make_engine, EngineKind, EngineOptions, HostEngine};
use avm::run::load_bare_metal;
use avm_jit::{JitConfig, JitEngine};
use avm_mmu::{Exit, Machine};
use avm_workloads::{alu, ecdsa, keccak, sieve};
use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput};
use support::{criterion_home, record, Work};

/// Guest RAM: the machine's default size.
const RAM_SIZE: u32 = 64 << 20;
/// Guest stack size reserved by `guest/bare/link.x`.
const STACK_SIZE: u32 = 0x1_0000;
/// No workload needs more than this; a run that reaches it is a broken engine.
const MAX_INSNS: u64 = 4_000_000_000;

/// One workload: its guest program and its native twin.
struct Workload {
    /// Criterion group name and guest binary name.
    name: &'static str,
    /// Runs the workload natively; true if the result is the pinned one.
    native: fn() -> bool,
}

const WORKLOADS: [Workload; 4] = [
    Workload { name: "alu", native: native_alu },
    Workload { name: "sieve", native: native_sieve },
    Workload { name: "keccak", native: native_keccak },
    Workload { name: "ecdsa", native: native_ecdsa },
];

fn native_alu() -> bool {
    alu::run(black_box(alu::ITERATIONS), black_box(alu::SEED)) == alu::EXPECTED
}

fn native_sieve() -> bool {
    // The guest's array is a zeroed static; allocating it is part of the run here.
    let mut composite = vec![0u8; sieve::ARRAY_LEN];
    sieve::run(black_box(&mut composite), black_box(sieve::ROUNDS)) == sieve::EXPECTED
}

fn native_keccak() -> bool {
    keccak::run(black_box(keccak::ROUNDS)) == keccak::EXPECTED
}

fn native_ecdsa() -> bool {
    ecdsa::run(black_box(ecdsa::ROUNDS)) == ecdsa::EXPECTED
}

fn guest_elf(name: &str) -> Vec<u8> {
    let path = Path::new(env!("AVM_GUEST_DIR")).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read guest program {}: {e}", path.display()))
}

/// A fresh machine with `elf` loaded, and a fresh engine; `Err` if the engine is not
/// available in this build.
fn setup(kind: EngineKind, elf: &[u8]) -> Result<(Machine, Box<dyn HostEngine>), String> {
    setup_with(kind, elf, false)
}

/// [`setup`], choosing where the JIT compiles.
fn setup_with(kind: EngineKind, elf: &[u8], sync_compile: bool) -> Result<(Machine, Box<dyn HostEngine>), String> {
    let engine =
        make_engine(kind, EngineOptions { sync_compile, ..EngineOptions::default() }).map_err(|e| e.to_string())?;
    let (machine, _) = load_bare_metal(elf, RAM_SIZE).expect("guest ELF loads");
    Ok((machine, engine))
}

/// Bytes of the guest stack that were written: the stack is the top `STACK_SIZE`
/// bytes of the highest loaded segment (`link.x`), zero at load, so the lowest
/// non-zero word marks the deepest the program went.
fn stack_used(m: &mut Machine, elf: &[u8]) -> Option<u32> {
    let (_, image) = load_bare_metal(elf, RAM_SIZE).ok()?;
    let top = image.segments.iter().map(|s| s.paddr + s.memsz).max()?;
    let bottom = top.checked_sub(STACK_SIZE)?;
    (bottom..top).step_by(4).find(|&a| m.load::<4>(a).is_ok_and(|w| w != [0; 4])).map(|lowest| top - lowest)
}

/// What the check run of one engine found.
struct Check {
    kind: EngineKind,
    instret: u64,
    /// Wall time of the check run, to size criterion's measurement time.
    wall: Duration,
}

/// Formats an engine's work counters as `key=value ...`.
fn counters(engine: &dyn HostEngine) -> String {
    let pairs: Vec<String> = engine.counters().into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join(" ")
}

/// Runs `elf` once on `kind` outside the timing, checks it passes and prints what it
/// did. `None` if the engine is unavailable.
fn check_run(workload: &str, kind: EngineKind, elf: &[u8]) -> Option<Check> {
    let (mut m, mut engine) = match setup(kind, elf) {
        Ok(pair) => pair,
        Err(e) => {
            println!("{workload}/{kind}: skipped ({e})");
            return None;
        }
    };
    let start = Instant::now();
    let exit = engine.run(&mut m, MAX_INSNS);
    let wall = start.elapsed();
    let console = String::from_utf8_lossy(&m.console).trim_end().to_owned();
    assert_eq!(exit, Exit::Halt { code: 0 }, "{workload} on {kind} did not pass; console: {console}");
    let instret = m.hart.instret;
    let stack = stack_used(&mut m, elf).map_or("?".to_owned(), |b| format!("{:.1} KiB", f64::from(b) / 1024.0));
    println!(
        "{workload}/{kind}: {instret} instructions, check run {:.3} s ({:.0} MIPS), stack {stack} of {} KiB: {console}",
        wall.as_secs_f64(),
        instret as f64 / wall.as_secs_f64() / 1e6,
        STACK_SIZE / 1024
    );
    println!("{workload}/{kind}: counters {}", counters(engine.as_ref()));
    Some(Check { kind, instret, wall })
}

/// Flat sampling runs one iteration per sample: give criterion time for 10 of them
/// (plus slack) so it does not warn, and at least the usual 5 s.
fn measurement_time(one_run: Duration) -> Duration {
    (one_run * 12).max(Duration::from_secs(5))
}

fn bench_workload(c: &mut Criterion, w: &Workload) -> Vec<Check> {
    let elf = guest_elf(w.name);
    let checks: Vec<Check> = EngineKind::ALL.into_iter().filter_map(|k| check_run(w.name, k, &elf)).collect();
    if let [first, rest @ ..] = checks.as_slice() {
        for other in rest {
            assert_eq!(
                other.instret, first.instret,
                "{}: {} and {} retired different instruction counts",
                w.name, first.kind, other.kind
            );
        }
    }
    assert!((w.native)(), "{}: the native run gave the wrong result", w.name);

    let mut group = c.benchmark_group(w.name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let work = Work { guest_insns: checks.first().map_or(0, |c| c.instret), txs: 0, recoveries: 0 };
    group.throughput(Throughput::Elements(work.guest_insns));
    for check in &checks {
        let kind = check.kind;
        record(w.name, kind.name(), work);
        group.measurement_time(measurement_time(check.wall));
        group.bench_function(kind.name(), |b| {
            b.iter_batched(
                || setup(kind, &elf).expect("engine was available for the check run"),
                |(mut m, mut engine)| {
                    let exit = engine.run(&mut m, MAX_INSNS);
                    (exit, m, engine)
                },
                BatchSize::PerIteration,
            );
        });
        if kind == EngineKind::Jit {
            group.bench_function(format!("{kind}-sync"), |b| {
                b.iter_batched(
                    || setup_with(kind, &elf, true).expect("engine was available for the check run"),
                    |(mut m, mut engine)| {
                        let exit = engine.run(&mut m, MAX_INSNS);
                        (exit, m, engine)
                    },
                    BatchSize::PerIteration,
                );
            });
            record(w.name, &format!("{kind}-sync"), work);
            bench_warm(&mut group, w.name, check, &elf);
            record(w.name, &format!("{kind}-warm"), work);
            bench_baseline(&mut group, w.name, check, &elf);
            record(w.name, "baseline", work);
        }
    }
    #[cfg(feature = "wasm-ref")]
    wasm::bench(&mut group, w.name, measurement_time);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("native", |b| b.iter(w.native));
    record(w.name, "native", Work::default());
    group.finish();
    checks
}

/// `jit-warm`: one engine kept across runs, so its code cache is already filled and a
/// run on a fresh machine measures compiled code (and cache lookups), not Cranelift.
fn bench_warm(group: &mut BenchmarkGroup<'_, WallTime>, workload: &str, check: &Check, elf: &[u8]) {
    let kind = check.kind;
    let (_, mut engine) = setup(kind, elf).expect("engine was available for the check run");
    let mut wall = Duration::ZERO;
    for _ in 0..2 {
        let (mut m, _) = load_bare_metal(elf, RAM_SIZE).expect("guest ELF loads");
        let start = Instant::now();
        let exit = engine.run(&mut m, MAX_INSNS);
        wall = start.elapsed();
        assert_eq!(exit, Exit::Halt { code: 0 }, "{workload} on a reused {kind} engine did not pass");
        assert_eq!(m.hart.instret, check.instret, "{workload}: a reused {kind} engine retired a different count");
    }
    println!(
        "{workload}/{kind}-warm: second run on a reused engine {:.3} s ({:.0} MIPS); counters {}",
        wall.as_secs_f64(),
        check.instret as f64 / wall.as_secs_f64() / 1e6,
        counters(engine.as_ref())
    );
    group.measurement_time(measurement_time(wall));
    group.bench_function(format!("{kind}-warm"), |b| {
        b.iter_batched(
            || load_bare_metal(elf, RAM_SIZE).expect("guest ELF loads").0,
            |mut m| {
                let exit = engine.run(&mut m, MAX_INSNS);
                (exit, m)
            },
            BatchSize::PerIteration,
        );
    });
}

/// `baseline`: the JIT's baseline tier alone (`JitConfig::baseline_only`: every block
/// translated by the one-pass template compiler on first use, Cranelift off), a fresh
/// engine per run: the speed of the simplest JIT tier, translation included.
fn bench_baseline(group: &mut BenchmarkGroup<'_, WallTime>, workload: &str, check: &Check, elf: &[u8]) {
    let fresh = || {
        let (m, _) = load_bare_metal(elf, RAM_SIZE).expect("guest ELF loads");
        (m, JitEngine::new(JitConfig::baseline_only()))
    };
    let (mut m, mut engine) = fresh();
    let start = Instant::now();
    let exit = avm_mmu::Engine::run(&mut engine, &mut m, MAX_INSNS);
    let wall = start.elapsed();
    assert_eq!(exit, Exit::Halt { code: 0 }, "{workload} on the baseline tier did not pass");
    assert_eq!(m.hart.instret, check.instret, "{workload}: the baseline tier retired a different count");
    println!(
        "{workload}/baseline: {:.3} s ({:.0} MIPS); counters {}",
        wall.as_secs_f64(),
        check.instret as f64 / wall.as_secs_f64() / 1e6,
        counters(&engine)
    );
    group.measurement_time(measurement_time(wall));
    group.bench_function("baseline", |b| {
        b.iter_batched(
            fresh,
            |(mut m, mut engine)| {
                let exit = avm_mmu::Engine::run(&mut engine, &mut m, MAX_INSNS);
                (exit, m, engine)
            },
            BatchSize::PerIteration,
        );
    });
}

/// Criterion's mean time in seconds for `group/function`, if this process measured it.
fn mean_seconds(home: &Path, group: &str, function: &str, since: SystemTime) -> Option<f64> {
    let path = home.join(group).join(function).join("new").join("estimates.json");
    let fresh = std::fs::metadata(&path).and_then(|m| m.modified()).is_ok_and(|t| t >= since);
    if !fresh {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    Some(json["mean"]["point_estimate"].as_f64()? / 1e9)
}

/// Functions that are not guest runs, in table order: the wasm reference points (with
/// `wasm-ref`) and `native`.
#[cfg(feature = "wasm-ref")]
const REFERENCES: [&str; 4] = [wasm::FUNCTIONS[0], wasm::FUNCTIONS[1], wasm::FUNCTIONS[2], "native"];
#[cfg(not(feature = "wasm-ref"))]
const REFERENCES: [&str; 1] = ["native"];

fn print_table(home: &Path, since: SystemTime, results: &[(&str, Vec<Check>)]) {
    let mut rows = Vec::new();
    for (name, checks) in results {
        let native = mean_seconds(home, name, "native", since);
        let interp = mean_seconds(home, name, EngineKind::Interp.name(), since);
        for check in checks {
            let mut functions = vec![check.kind.name().to_owned()];
            if check.kind == EngineKind::Jit {
                functions.push(format!("{}-sync", check.kind));
                functions.push(format!("{}-warm", check.kind));
                functions.push("baseline".to_owned());
            }
            for function in functions {
                let Some(t) = mean_seconds(home, name, &function, since) else { continue };
                let mips = check.instret as f64 / t / 1e6;
                let ratio = native.map_or("-".to_owned(), |n| format!("{:.1}x", t / n));
                let speedup = interp.map_or("-".to_owned(), |i| format!("{:.1}x", i / t));
                rows.push(format!(
                    "{name:<8} {function:<13} {:>12} {:>10.2} ms {:>8.0} {:>10} {:>10}",
                    check.instret,
                    t * 1e3,
                    mips,
                    speedup,
                    ratio
                ));
            }
        }
        // Outside reference points (not guest runs): MIPS is guest-equivalent, the
        // guest's instruction count over their time.
        let insns = checks.first().map_or(0, |c| c.instret);
        for function in REFERENCES {
            let Some(t) = mean_seconds(home, name, function, since) else { continue };
            let ratio = native.map_or("-".to_owned(), |n| format!("{:.1}x", t / n));
            let speedup = interp.map_or("-".to_owned(), |i| format!("{:.1}x", i / t));
            rows.push(format!(
                "{name:<8} {function:<13} {:>12} {:>10.2} ms {:>7.0}* {:>10} {:>10}",
                "-",
                t * 1e3,
                insns as f64 / t / 1e6,
                speedup,
                ratio
            ));
        }
    }
    if rows.is_empty() {
        return;
    }
    println!(
        "\nmean time per run (criterion), guest instructions retired, MIPS (*: guest-equivalent, the guest's count / time), interpreter time / time, time / native time"
    );
    println!(
        "{:<8} {:<13} {:>12} {:>13} {:>8} {:>10} {:>10}",
        "workload", "engine", "instret", "time", "MIPS", "vs interp", "vs native"
    );
    for row in rows {
        println!("{row}");
    }
}

fn main() {
    let home = criterion_home();
    let mut c = support::criterion();
    // A little slack: file times may be coarser than the clock.
    let since = SystemTime::now() - Duration::from_secs(2);
    let results: Vec<(&str, Vec<Check>)> = WORKLOADS.iter().map(|w| (w.name, bench_workload(&mut c, w))).collect();
    c.final_summary();
    print_table(&home, since, &results);
}
