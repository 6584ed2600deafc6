//! # Instruction counts under callgrind (iai-callgrind), stable under noise
//!
//! Wall-clock benches on a shared 2-core machine move by ±20% from run to run; the host
//! instructions an engine executes for the same guest work do not. This bench counts
//! them with valgrind's callgrind through [iai-callgrind](https://github.com/iai-callgrind/iai-callgrind)
//! 0.16 (the project since renamed `gungraun`; this bench uses the `iai-callgrind` crate
//! and its runner, `iai-callgrind-runner` 0.16.1). Only the benchmark function is counted;
//! set-up (loading the program, booting the kernel, warming a code cache) is not.
//!
//! - `bare`: the first 1,000,000 guest instructions of each bare workload (`alu`,
//!   `sieve`, `keccak`, `ecdsa`), on `interp`, on `jit` one-shot (a fresh engine that
//!   compiles on its own thread, so counts are reproducible, compile included) and on
//!   `jit_warm` (an engine whose code cache already holds the workload's hot code).
//! - `erc20`: one ERC-20 `transfer` through the runtime (kernel and contract, the same
//!   guest instructions as the `erc20_transfer` group of `benches/chain.rs`), on a freshly
//!   booted VM (`*_cold`) and on a VM that has run 500 transfers (`*_warm`), interp and
//!   jit.
//!
//! Host instructions per guest instruction is the engine's cost per guest instruction,
//! free of clock noise. Without valgrind or the runner the bench prints one line saying
//! how to install them and exits with success, so `cargo bench` runs everything else:
//!
//! ```text
//! apt-get install valgrind
//! cargo install iai-callgrind-runner --version 0.16.1
//! cargo bench --bench iai
//! ```

// The iai-callgrind macros generate undocumented modules, constants and functions.
#![allow(missing_docs)]

#[path = "support/fixtures.rs"]
mod fixtures;

use std::hint::black_box;
use std::path::Path;

use avm::engine::{make_engine, EngineKind, EngineOptions};
use avm::run::load_bare_metal;
use avm::runtime::{kernel_elf_path, Message, Vm};
use avm_interp::Interpreter;
use avm_jit::{JitConfig, JitEngine};
use avm_mmu::{Engine, Machine};
use avm_state::State;
use iai_callgrind::{library_benchmark, library_benchmark_group};

/// Guest instructions each bare benchmark runs.
const BARE_INSNS: u64 = 1_000_000;
/// The runner version the `iai-callgrind` crate needs.
const RUNNER: &str = "iai-callgrind-runner";

fn machine(name: &str) -> Machine {
    let path = Path::new(env!("AVM_GUEST_DIR")).join(name);
    let elf = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read guest program {}: {e}", path.display()));
    load_bare_metal(&elf, 64 << 20).expect("guest ELF loads").0
}

/// A JIT that compiles on the engine's own thread: the same work in every run.
fn sync_jit() -> JitEngine {
    JitEngine::new(JitConfig { background: false, ..JitConfig::default() })
}

fn warm_jit(name: &str) -> (JitEngine, Machine) {
    let mut jit = sync_jit();
    let mut m = machine(name);
    jit.run(&mut m, BARE_INSNS);
    (jit, machine(name))
}

#[library_benchmark]
#[bench::alu(machine("alu"))]
#[bench::sieve(machine("sieve"))]
#[bench::keccak(machine("keccak"))]
#[bench::ecdsa(machine("ecdsa"))]
fn interp(mut m: Machine) -> u64 {
    let mut engine = Interpreter::new();
    black_box(engine.run(&mut m, BARE_INSNS));
    m.hart.instret
}

#[library_benchmark]
#[bench::alu(machine("alu"))]
#[bench::sieve(machine("sieve"))]
#[bench::keccak(machine("keccak"))]
#[bench::ecdsa(machine("ecdsa"))]
fn jit(mut m: Machine) -> u64 {
    let mut engine = sync_jit();
    black_box(engine.run(&mut m, BARE_INSNS));
    m.hart.instret
}

#[library_benchmark]
#[bench::alu(warm_jit("alu"))]
#[bench::sieve(warm_jit("sieve"))]
#[bench::keccak(warm_jit("keccak"))]
#[bench::ecdsa(warm_jit("ecdsa"))]
fn jit_warm((mut engine, mut m): (JitEngine, Machine)) -> u64 {
    black_box(engine.run(&mut m, BARE_INSNS));
    m.hart.instret
}

library_benchmark_group!(name = bare; benchmarks = interp, jit, jit_warm);

/// A VM on `kind` (the JIT compiling synchronously), the contracts' state and one
/// transfer, after `warm` transfers.
fn erc20(kind: EngineKind, warm: usize) -> (Vm, State, Message) {
    let fx = fixtures::contracts();
    let kernel = std::fs::read(kernel_elf_path().expect("the kernel is built")).expect("the kernel ELF");
    let engine = make_engine(kind, EngineOptions { sync_compile: true, ..EngineOptions::default() }).expect("engine");
    let mut vm = Vm::boot(&kernel, engine).expect("the VM boots");
    let mut state = fx.state;
    for m in fx.transfers.iter().cycle().take(warm) {
        vm.execute(&mut state, m);
    }
    let msg = fx.transfers[0].clone();
    (vm, state, msg)
}

#[library_benchmark]
#[bench::interp_cold(erc20(EngineKind::Interp, 0))]
#[bench::interp_warm(erc20(EngineKind::Interp, 500))]
#[bench::jit_cold(erc20(EngineKind::Jit, 0))]
#[bench::jit_warm(erc20(EngineKind::Jit, 500))]
fn transfer((mut vm, mut state, msg): (Vm, State, Message)) -> u64 {
    black_box(vm.execute(&mut state, &msg)).instructions
}

library_benchmark_group!(name = erc20_group; benchmarks = transfer);

/// The generated `main` of iai-callgrind, wrapped so that [`main`] can first check that
/// the tools exist.
mod harness {
    use super::{bare, erc20_group};
    use iai_callgrind::{Callgrind, LibraryBenchmarkConfig};

    iai_callgrind::main!(
        config = LibraryBenchmarkConfig::default().tool(Callgrind::with_args(["--smc-check=all"]));
        library_benchmark_groups = bare, erc20_group
    );

    pub fn run() {
        main();
    }
}

/// `name` as an executable file in `$PATH`.
fn in_path(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
}

fn main() {
    // The runner starts this binary again under valgrind with `--iai-run ...`.
    let internal = std::env::args().nth(1).is_some_and(|a| a == "--iai-run");
    if !internal {
        let runner = option_env!("IAI_CALLGRIND_RUNNER").map_or_else(|| in_path(RUNNER), |p| Path::new(p).is_file());
        let missing: Vec<&str> = [("valgrind", in_path("valgrind")), (RUNNER, runner)]
            .into_iter()
            .filter_map(|(name, found)| (!found).then_some(name))
            .collect();
        if !missing.is_empty() {
            println!(
                "iai: skipped, {} not found (apt-get install valgrind; cargo install iai-callgrind-runner --version 0.16.1)",
                missing.join(" and ")
            );
            return;
        }
    }
    harness::run();
}
