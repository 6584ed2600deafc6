//! # Contract workloads and the chain, one group per workload
//!
//! What a user of the chain waits for: real contract calls through the runtime (kernel
//! boot snapshot, U-mode contract, host calls, gas), and whole blocks of signed
//! transactions. Every group has the engines side by side, so each ratio comes from one
//! run:
//!
//! - `erc20_transfer`, `dex_swap`, `ecdsa_verify`: one call ([`avm::runtime::Vm::execute`]
//!   with in-memory state, no signature), each on
//!   - `interp-cold` / `jit-cold`: the first transaction of a freshly booted VM (booted
//!     outside the timing): an empty decode cache, an empty JIT code cache. A new node,
//!     or a contract nobody called before;
//!   - `interp-warm` / `jit-warm`: one VM that has already run the workload many times,
//!     as a node does from its second block on;
//!   - `native` (`ecdsa_verify` only): the same keccak-256 + secp256k1 check in plain
//!     Rust on the host (`k256` with its precomputed tables and 64-bit limbs).
//! - `block_1000_mixed`: [`avm::chain::Chain::produce_block`] on 1,000 signed mixed
//!   transactions (see `support::fixtures::MIX`): parallel sender recovery, validation,
//!   execution, receipts, state and receipts roots; in memory (`interp-memory`,
//!   `jit-memory`) and committed to the redb store (`jit-store`). The chain lives across
//!   iterations (a warm node); each iteration signs its block outside the timing.
//! - `signature_recovery`: recovering the senders of 1,000 transactions on one core
//!   (`1-core`) and with the chain's own split over all cores (`all-cores`,
//!   `avm_state::recover_senders_parallel`).
//!
//! Each function first runs once outside the timing; the run must succeed and both
//! engines must retire the same number of guest instructions. The guest instructions
//! and transactions of one iteration go to `avm.json` beside criterion's results for
//! `examples/bench_report.rs`.
//!
//! `cargo bench --bench chain` (a filter such as `-- erc20` runs one group).

#[path = "support/fixtures.rs"]
mod fixtures;
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use avm::engine::EngineKind;
use avm::runtime::{ExecStatus, Message, Vm};
use avm_state::{recover_senders_parallel, SignedTransaction, State};
use criterion::{Criterion, SamplingMode, Throughput};
use fixtures::{contracts, MixedBlocks, Signed, MIX};
use support::{flat_time, record, Work};

/// Transactions in the block workload.
const BLOCK_TXS: usize = 1000;

/// Runs `msg` once on a fresh VM of `kind` against a copy of `state`; its
/// instructions and wall time.
fn first_call(kind: EngineKind, state: &State, msg: &Message) -> (u64, Duration) {
    let mut vm = Vm::new(kind).expect("the VM boots");
    let mut state = state.clone();
    let start = Instant::now();
    let out = vm.execute(&mut state, msg);
    let wall = start.elapsed();
    assert_eq!(out.status, ExecStatus::Success, "the workload's call failed on {kind}");
    (out.instructions, wall)
}

/// One contract workload: cold and warm on each engine (and `native` if given).
fn bench_call(
    c: &mut Criterion,
    name: &str,
    state: &mut State,
    msgs: &[Message],
    warm_runs: usize,
    native: Option<&Signed>,
) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(1));
    let mut counts = Vec::new();
    for kind in EngineKind::ALL {
        // Cold: a fresh VM per iteration, booted outside the timing, on a fresh copy
        // of the state, so every iteration does the check run's work.
        let (insns, wall) = first_call(kind, state, &msgs[0]);
        counts.push((kind, insns));
        println!("{name}/{kind}-cold: {insns} guest instructions, first call {:.1} µs", wall.as_secs_f64() * 1e6);
        let function = format!("{kind}-cold");
        g.sample_size(20).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_millis(1));
        g.measurement_time(flat_time(wall, 20));
        g.bench_function(&function, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut vm = Vm::new(kind).expect("the VM boots");
                    let mut state = state.clone();
                    let start = Instant::now();
                    black_box(vm.execute(&mut state, &msgs[0]));
                    total += start.elapsed();
                }
                total
            })
        });
        record(name, &function, Work { guest_insns: insns, txs: 1, recoveries: 0 });

        // Warm: one VM, already run `warm_runs` times.
        let mut vm = Vm::new(kind).expect("the VM boots");
        let mut warm_insns = 0;
        for m in msgs.iter().cycle().take(warm_runs.max(msgs.len())) {
            let out = vm.execute(state, m);
            assert_eq!(out.status, ExecStatus::Success, "{name} failed on a warm {kind} VM");
            warm_insns = out.instructions;
        }
        let function = format!("{kind}-warm");
        g.sample_size(30).sampling_mode(SamplingMode::Auto).warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(2));
        let mut i = 0;
        g.bench_function(&function, |b| {
            b.iter(|| {
                i = (i + 1) % msgs.len();
                vm.execute(state, &msgs[i])
            })
        });
        record(name, &function, Work { guest_insns: warm_insns, txs: 1, recoveries: 0 });
    }
    if let [(a, x), (b, y)] = counts.as_slice() {
        assert_eq!(x, y, "{name}: {a} and {b} retired different instruction counts");
    }
    if let Some(signed) = native {
        assert!(signed.verify_native(), "the native verification failed");
        g.sample_size(30).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
        g.bench_function("native", |b| b.iter(|| black_box(signed).verify_native()));
        record(name, "native", Work { guest_insns: 0, txs: 1, recoveries: 0 });
    }
    g.finish();
}

fn contract_calls(c: &mut Criterion) {
    let mut fx = contracts();
    bench_call(c, "erc20_transfer", &mut fx.state, &fx.transfers, 2000, None);
    bench_call(c, "dex_swap", &mut fx.state, &fx.swaps, 1000, None);
    bench_call(c, "ecdsa_verify", &mut fx.state, std::slice::from_ref(&fx.verify), 20, Some(&fx.signed));
}

/// A temporary data dir for a persistent chain, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("avm-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("a temporary directory");
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn blocks(c: &mut Criterion) -> Vec<SignedTransaction> {
    println!("block_1000_mixed: {MIX}");
    let mut g = c.benchmark_group("block_1000_mixed");
    g.throughput(Throughput::Elements(BLOCK_TXS as u64));
    g.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_millis(1));
    let mut spare = Vec::new();
    for (name, kind, store) in [
        ("interp-memory", EngineKind::Interp, false),
        ("jit-memory", EngineKind::Jit, false),
        ("jit-store", EngineKind::Jit, true),
    ] {
        let dir = store.then(|| TempDir::new(name));
        let (mut chain, mut builder) = MixedBlocks::chain(kind, dir.as_ref().map(|d| d.0.as_path()));
        // A first block warms the VM (and the JIT's code cache); the second is checked.
        chain.produce_block(builder.next(BLOCK_TXS)).expect("a warm-up block");
        let txs = builder.next(BLOCK_TXS);
        let start = Instant::now();
        let (header, included) = chain.produce_block(txs).expect("a block");
        let wall = start.elapsed();
        let receipts: Vec<_> = included.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(receipts.len(), BLOCK_TXS, "{name}: every transaction of the block is valid");
        let insns: u64 = receipts.iter().map(|r| r.instructions).sum();
        let ok = receipts.iter().filter(|r| r.status.is_success()).count();
        println!(
            "block_1000_mixed/{name}: {} transactions ({ok} succeeded), {insns} guest instructions, {} gas, {:.1} ms",
            header.tx_count,
            header.gas_used,
            wall.as_secs_f64() * 1e3
        );
        g.measurement_time(flat_time(wall, 10));
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let txs = builder.next(BLOCK_TXS);
                    let start = Instant::now();
                    black_box(chain.produce_block(txs).expect("a block"));
                    total += start.elapsed();
                }
                total
            })
        });
        record("block_1000_mixed", name, Work { guest_insns: insns, txs: BLOCK_TXS as u64, recoveries: 0 });
        spare = builder.next(BLOCK_TXS);
    }
    g.finish();
    spare
}

fn signature_recovery(c: &mut Criterion, txs: &[SignedTransaction]) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("signature_recovery: {} signatures, all-cores = {threads} threads", txs.len());
    let mut g = c.benchmark_group("signature_recovery");
    g.throughput(Throughput::Elements(txs.len() as u64));
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    g.bench_function("1-core", |b| {
        b.iter(|| txs.iter().map(SignedTransaction::recover_sender).filter(Result::is_ok).count())
    });
    g.bench_function("all-cores", |b| b.iter(|| recover_senders_parallel(txs)));
    g.finish();
    let work = Work { guest_insns: 0, txs: 0, recoveries: txs.len() as u64 };
    record("signature_recovery", "1-core", work);
    record("signature_recovery", "all-cores", work);
}

/// Whether a filter on the command line names none of `groups` (its set-up is skipped).
fn filtered_out(groups: &[&str]) -> bool {
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    !filters.is_empty() && !filters.iter().any(|f| groups.iter().any(|g| g.contains(f.as_str()) || f.contains(g)))
}

fn main() {
    let mut c = support::criterion();
    if !filtered_out(&["erc20_transfer", "dex_swap", "ecdsa_verify"]) {
        contract_calls(&mut c);
    }
    if !filtered_out(&["block_1000_mixed", "signature_recovery"]) {
        let spare = blocks(&mut c);
        signature_recovery(&mut c, &spare);
    }
    c.final_summary();
}
