//! The speed of each execution tier alone on a bundled workload: the
//! interpreter, the JIT's baseline tier (every block translated on first
//! use, Cranelift off) and the whole JIT with a warm code cache, best of
//! three runs each, side by side in one process.
//!
//! `cargo run --release --example tier_speed -- ecdsa` (or alu, sieve,
//! keccak). Results are identical on every tier (the tests prove it); only
//! the time differs.

use std::time::{Duration, Instant};

use avm::run::load_bare_metal;
use avm_interp::Interpreter;
use avm_jit::{JitConfig, JitEngine};
use avm_mmu::{Engine, Exit};

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "ecdsa".into());
    let path = std::path::Path::new(env!("AVM_GUEST_DIR")).join(&name);
    let elf = match std::fs::read(&path) {
        Ok(elf) => elf,
        Err(e) => {
            eprintln!("tier_speed: cannot read {} ({e}); workloads: alu, sieve, keccak, ecdsa", path.display());
            std::process::exit(2);
        }
    };
    let mut interp = Interpreter::new();
    let mut baseline = JitEngine::new(JitConfig::baseline_only());
    let mut jit = JitEngine::new(JitConfig::default());
    let tiers: [(&str, &mut dyn Engine); 3] =
        [("interpreter", &mut interp), ("baseline tier alone", &mut baseline), ("JIT, warm cache", &mut jit)];
    for (label, engine) in tiers {
        let mut best = Duration::MAX;
        let mut instret = 0;
        // The first run warms the JIT's code cache; each run gets a fresh
        // machine, as a transaction would.
        for _ in 0..4 {
            let (mut m, _) = match load_bare_metal(&elf, 64 << 20) {
                Ok(loaded) => loaded,
                Err(e) => {
                    eprintln!("tier_speed: {name}: {e}");
                    std::process::exit(2);
                }
            };
            let start = Instant::now();
            let exit = engine.run(&mut m, u64::MAX);
            let elapsed = start.elapsed();
            if exit != (Exit::Halt { code: 0 }) {
                eprintln!("tier_speed: {name} on the {label}: {exit:?}");
                std::process::exit(1);
            }
            best = best.min(elapsed);
            instret = m.hart.instret;
        }
        println!(
            "{name}: {label:<20} {:>8.1} ms {:>6.0} MIPS",
            best.as_secs_f64() * 1e3,
            instret as f64 / best.as_secs_f64() / 1e6
        );
    }
}
