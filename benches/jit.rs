//! # JIT compile latency, metering cost and what fusion buys
//!
//! - `compile/<workload>`: Cranelift time for real guest blocks. The executable
//!   segment of each guest program in `AVM_GUEST_DIR` is cut into blocks by a
//!   linear sweep with the engines' own `decode_block`; an evenly spread sample of
//!   at most [`MAX_SAMPLE_BLOCKS`] of them is compiled again and again by one
//!   translator, warmed by one compile and not timed while it is created, as
//!   the engine's long-lived one is (a fresh translator's first compile also
//!   sizes its contexts: ~2x slower for a small block). Throughput is in guest instructions,
//!   and a table printed first gives µs per guest instruction by block length, so
//!   one sees whether the cost grows linearly with the length, and the median
//!   over blocks of µs per instruction.
//! - `compile-synthetic/{alu,mem}/N`: blocks of N (1..64) ALU instructions or N
//!   loads/stores, the two extremes of real code.
//! - `compile-baseline/<workload>`: the same real blocks through the baseline
//!   tier's one-pass translator (`avm_jit::baseline`), which the engine uses
//!   while a block waits for Cranelift; its median µs per instruction is
//!   printed first.
//! - `metering/<workload>`: a whole run on the JIT with a warm code cache, with
//!   metering on (the default: a compiled block is entered only if the budget
//!   covers it) and off (`JitConfig::metering = false`, a bench-only switch that
//!   skips the budget comparisons; the run ends at the program's own exit).
//! - `fusion/<workload>`: the same warm runs with the wide-multiply fusion on
//!   (the default: `mul` and `mulhu` on the same operands share one host
//!   multiply) and off (`JitConfig::fusion = false`); results are identical.
//!
//! `cargo bench --bench jit` (add `-- --quick`, or a filter such as `-- compile` or `-- fusion`).

mod support;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use avm::run::load_bare_metal;
use avm_interp::{decode_block, Op};
use avm_isa::{AluImmOp, AluOp, Inst, LoadOp, Reg, StoreOp};
use avm_jit::baseline;
use avm_jit::cranelift::Translator;
use avm_jit::{JitConfig, JitEngine};
use avm_mmu::{Engine, Exit, Machine};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use support::{record, Work};

const RAM_SIZE: u32 = 64 << 20;
const MAX_SAMPLE_BLOCKS: usize = 120;
const WORKLOADS: [&str; 4] = ["alu", "sieve", "keccak", "ecdsa"];
/// `PF_X`.
const PF_X: u32 = 1;

fn guest_elf(name: &str) -> Vec<u8> {
    let path = Path::new(env!("AVM_GUEST_DIR")).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read guest program {}: {e}", path.display()))
}

/// One block to compile: its ops and encoded bytes.
struct Sample {
    ops: Vec<Op>,
    bytes: Vec<u8>,
}

/// An evenly spread sample of the blocks of `name`'s executable segments.
fn guest_blocks(name: &str) -> Vec<Sample> {
    let elf = guest_elf(name);
    let (m, image) = load_bare_metal(&elf, RAM_SIZE).expect("guest ELF loads");
    let mut all = Vec::new();
    for seg in image.segments.iter().filter(|s| s.flags & PF_X != 0) {
        let start = seg.paddr - avm_mmu::RAM_BASE;
        let end = start + seg.data.len() as u32;
        let mut off = start;
        while off < end {
            match decode_block(&m, off) {
                Some(b) => {
                    let bytes = m.ram.bytes()[off as usize..(off + b.bytes) as usize].to_vec();
                    off += b.bytes;
                    all.push(Sample { ops: b.ops.to_vec(), bytes });
                }
                None => off += 2,
            }
        }
    }
    let step = all.len().div_ceil(MAX_SAMPLE_BLOCKS).max(1);
    all.into_iter().step_by(step).collect()
}

fn insns(samples: &[Sample]) -> u64 {
    samples.iter().map(|s| s.ops.len() as u64).sum()
}

/// Compile every sample `iters` times with one warmed-up translator; the
/// time of the compiles.
fn compile_all(samples: &[Sample], iters: u64) -> Duration {
    let mut t = Translator::new().expect("host supported");
    if let Some(s) = samples.first() {
        black_box(t.compile(&s.ops, &s.bytes).expect("compiles"));
    }
    let start = Instant::now();
    for _ in 0..iters {
        for s in samples {
            black_box(t.compile(&s.ops, &s.bytes).expect("compiles"));
        }
    }
    let elapsed = start.elapsed();
    // SAFETY: nothing compiled here is ever called.
    unsafe { t.free() };
    elapsed
}

/// µs per guest instruction by block length, from one pass (3 repetitions, best).
fn print_by_length(name: &str, samples: &[Sample]) {
    let buckets = [(1, 4), (5, 16), (17, 32), (33, 64)];
    let mut line = format!("{name}: {} blocks, {} insns;", samples.len(), insns(samples));
    for (lo, hi) in buckets {
        let sel: Vec<&Sample> = samples.iter().filter(|s| (lo..=hi).contains(&s.ops.len())).collect();
        if sel.is_empty() {
            continue;
        }
        let n: u64 = sel.iter().map(|s| s.ops.len() as u64).sum();
        let mut t = Translator::new().expect("host supported");
        black_box(t.compile(&sel[0].ops, &sel[0].bytes).expect("compiles"));
        let best = (0..3)
            .map(|_| {
                let start = Instant::now();
                for s in &sel {
                    black_box(t.compile(&s.ops, &s.bytes).expect("compiles"));
                }
                start.elapsed()
            })
            .min()
            .unwrap_or_default();
        // SAFETY: nothing compiled here is ever called.
        unsafe { t.free() };
        line += &format!(" len {lo}-{hi}: {:.2} µs/insn ({} blocks)", best.as_secs_f64() * 1e6 / n as f64, sel.len());
    }
    line += &format!("; median block {:.2} µs/insn", median_per_insn(samples));
    println!("{line}");
}

/// The median over blocks of (compile time / instructions), each block's
/// time the best of three compiles (translator warmed up first).
fn median_per_insn(samples: &[Sample]) -> f64 {
    let mut t = Translator::new().expect("host supported");
    if let Some(s) = samples.first() {
        black_box(t.compile(&s.ops, &s.bytes).expect("compiles"));
    }
    let median = median_time_per_insn(samples, |s| {
        black_box(t.compile(&s.ops, &s.bytes).expect("compiles"));
    });
    // SAFETY: nothing compiled here is ever called.
    unsafe { t.free() };
    median
}

/// The median over blocks of µs per instruction of `work` on the block
/// (best of three runs per block).
fn median_time_per_insn(samples: &[Sample], mut work: impl FnMut(&Sample)) -> f64 {
    let mut per: Vec<f64> = samples
        .iter()
        .map(|s| {
            let best = (0..3)
                .map(|_| {
                    let start = Instant::now();
                    work(s);
                    start.elapsed()
                })
                .min()
                .unwrap_or_default();
            best.as_secs_f64() * 1e6 / s.ops.len() as f64
        })
        .collect();
    per.sort_by(f64::total_cmp);
    per.get(per.len() / 2).copied().unwrap_or(0.0)
}

fn bench_compile(c: &mut Criterion) {
    let workloads: Vec<(&str, Vec<Sample>)> = WORKLOADS.iter().map(|&name| (name, guest_blocks(name))).collect();
    let mut group = c.benchmark_group("compile");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(2));
    for (name, samples) in &workloads {
        print_by_length(name, samples);
        group.throughput(Throughput::Elements(insns(samples)));
        group.bench_function(*name, |b| b.iter_custom(|iters| compile_all(samples, iters)));
        record("compile", name, Work { guest_insns: insns(samples), ..Work::default() });
    }
    group.finish();

    let mut group = c.benchmark_group("compile-baseline");
    group.sample_size(10).warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(1));
    for (name, samples) in &workloads {
        let median = median_time_per_insn(samples, |s| {
            black_box(baseline::translate(&s.ops));
        });
        println!("{name}: baseline tier, median block {median:.3} µs/insn");
        group.throughput(Throughput::Elements(insns(samples)));
        group.bench_function(*name, |b| {
            b.iter(|| {
                for s in samples {
                    black_box(baseline::translate(&s.ops));
                }
            })
        });
        record("compile-baseline", name, Work { guest_insns: insns(samples), ..Work::default() });
    }
    group.finish();

    let mut group = c.benchmark_group("compile-synthetic");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(1));
    let r = Reg::new;
    for kind in ["alu", "mem"] {
        for n in [1usize, 4, 16, 64] {
            let ops: Vec<Op> = (0..n)
                .map(|i| {
                    let i = i as u32;
                    let inst = match (kind, i % 3) {
                        ("alu", 0) => Inst::Alu { op: AluOp::Add, rd: r(5 + i % 8), rs1: r(6 + i % 7), rs2: r(7) },
                        ("alu", 1) => Inst::AluImm { op: AluImmOp::Xori, rd: r(6 + i % 8), rs1: r(5), imm: 7 },
                        ("alu", _) => Inst::Alu { op: AluOp::Mul, rd: r(7 + i % 8), rs1: r(5), rs2: r(6) },
                        (_, 0) => Inst::Load { op: LoadOp::Lw, rd: r(5 + i % 8), rs1: r(10), offset: 4 * i as i32 },
                        (_, 1) => Inst::Store { op: StoreOp::Sw, rs1: r(11), rs2: r(6 + i % 8), offset: 4 * i as i32 },
                        (_, _) => Inst::Load { op: LoadOp::Lbu, rd: r(7 + i % 8), rs1: r(12), offset: i as i32 },
                    };
                    Op { inst, len: 4 }
                })
                .collect();
            let samples = [Sample { bytes: vec![0; 4 * n], ops }];
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(kind, n), &samples, |b, s| {
                b.iter_custom(|iters| compile_all(s, iters))
            });
        }
    }
    group.finish();
}

fn run_once(engine: &mut JitEngine, elf: &[u8]) -> Machine {
    let (mut m, _) = load_bare_metal(elf, RAM_SIZE).expect("guest ELF loads");
    let exit = engine.run(&mut m, u64::MAX);
    assert_eq!(exit, Exit::Halt { code: 0 });
    m
}

fn bench_metering(c: &mut Criterion) {
    bench_switch(c, "metering", |metering| JitConfig { metering, ..JitConfig::default() });
}

fn bench_fusion(c: &mut Criterion) {
    bench_switch(c, "fusion", |fusion| JitConfig { fusion, ..JitConfig::default() });
}

/// Whole warm runs of every workload with a JIT switch on and off, side by
/// side in group `name` (functions `<workload>/on` and `<workload>/off`).
fn bench_switch(c: &mut Criterion, name: &str, config: impl Fn(bool) -> JitConfig) {
    let mut group = c.benchmark_group(name);
    group.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for workload in WORKLOADS {
        let elf = guest_elf(workload);
        for on in [true, false] {
            let mut engine = JitEngine::new(config(on));
            // Warm: every hot block compiled before timing.
            let instret = run_once(&mut engine, &elf).hart.instret;
            group.throughput(Throughput::Elements(instret));
            let label = if on { "on" } else { "off" };
            group.bench_function(BenchmarkId::new(workload, label), |b| {
                b.iter_batched(
                    || load_bare_metal(&elf, RAM_SIZE).expect("guest ELF loads").0,
                    |mut m| engine.run(&mut m, u64::MAX),
                    criterion::BatchSize::PerIteration,
                )
            });
            record(name, &format!("{workload}/{label}"), Work { guest_insns: instret, ..Work::default() });
        }
    }
    group.finish();
}

/// Whether a filter on the command line excludes a group whose name starts
/// with `group` (its setup is skipped too: the metering setup runs programs).
fn filtered_out(group: &str) -> bool {
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let named = |f: &String| ["compile", "metering", "fusion"].iter().any(|g| f.starts_with(g));
    filters.iter().any(named) && !filters.iter().any(|f| f.starts_with(group))
}

fn main() {
    let mut c = support::criterion();
    if !filtered_out("compile") {
        bench_compile(&mut c);
    }
    if !filtered_out("metering") {
        bench_metering(&mut c);
    }
    if !filtered_out("fusion") {
        bench_fusion(&mut c);
    }
    c.final_summary();
}
