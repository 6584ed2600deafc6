//! Differential tests: every engine against the reference interpreter on
//! random programs from `avm-testgen`.
//!
//! For each generated program, the reference interpreter runs it in one go;
//! every engine under test then runs it on a fresh machine in one go *and*,
//! again fresh, in random budget slices (so instruction limits land
//! mid-block). All must end in the same [`avm_testgen::Snapshot`]: registers,
//! pc, privilege, CSRs, instret, reservation, TLB, RAM, console and exit.
//!
//! Engines under test come in two lists: [`engines`] (cheap: the interpreter
//! and the tiering JIT) see 10,000 random programs per run, and
//! [`compiling_engines`] (the JIT at threshold 0, which pays Cranelift for
//! every block) see 1,000. The two property tests run in parallel.
//!
//! A failure prints the seed, the first differing field, the reference's last
//! steps and the program's disassembly. Reproduce a seed with
//! `cargo run --release -p avm-testgen --example stats -- --show SEED`.
//! `AVM_DIFF_CASES=N` changes the number of random programs (default 10,000).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::rc::Rc;

use avm_interp::{Interpreter, Tracer};
use avm_isa::disasm::Disasm;
use avm_isa::{Decoded, Inst};
use avm_jit::{JitConfig, JitEngine};
use avm_mmu::{Engine, Exit, Machine, Privilege};
use avm_testgen::{compare, generate_seeded, machine_for, run_engines, run_engines_sliced, run_to_end, Divergence};
use proptest::prelude::*;

/// Fresh instances of the engines compared with the reference on every
/// random program (cheap enough for 10,000 programs per run). Every one is a
/// JIT configuration: the reference is the interpreter, and comparing it
/// with another interpreter (one-shot or sliced) would only prove the
/// interpreter equal to itself.
fn engines() -> Vec<Box<dyn Engine>> {
    vec![
        // The JIT with its default tiering (most of these short programs stay
        // in the interpreter) ...
        Box::new(JitEngine::new(JitConfig::default())),
        // ... and with a low threshold, so that the generator's loops (16-40
        // iterations) switch from interpreted to compiled code mid-loop.
        Box::new(JitEngine::new(JitConfig { threshold: 8, ..JitConfig::default() })),
        // ... and compiling on a background thread, so code arrives at
        // whatever point the thread finishes (`avm exec`'s mode).
        Box::new(JitEngine::new(JitConfig { threshold: 8, background: true, ..JitConfig::default() })),
        // ... and the baseline tier alone, for every block from its first
        // run (it translates in about a microsecond).
        Box::new(JitEngine::new(JitConfig::baseline_only())),
    ]
}

/// Fresh instances of the engines that compile *every* block on first use.
/// Cranelift takes ~0.25 ms per block, ~15 ms per program, so these get
/// [`compiling_cases`] programs rather than [`cases`].
fn compiling_engines() -> Vec<Box<dyn Engine>> {
    vec![Box::new(JitEngine::new(JitConfig { threshold: 0, ..JitConfig::default() }))]
}

/// Every engine under test.
fn all_engines() -> Vec<Box<dyn Engine>> {
    let mut all = engines();
    all.extend(compiling_engines());
    all
}

/// Run `seed`'s program on the reference and on every engine `make` builds,
/// one-shot and sliced (fresh engines and machines each time). `Err` carries
/// a full failure report.
fn check_with(make: fn() -> Vec<Box<dyn Engine>>, seed: u64, limit: u64, slices: &[u64]) -> Result<(), String> {
    let program = generate_seeded(seed);
    let setup = || machine_for(&program);
    let report = |d: Box<Divergence>| failure_report(seed, limit, slices, &d);

    let mut reference = Interpreter::new();
    let mut whole = make();
    let mut runs: Vec<&mut dyn Engine> = vec![&mut reference];
    runs.extend(whole.iter_mut().map(|e| e.as_mut() as &mut dyn Engine));
    let expected = run_engines(setup, limit, &mut runs).map_err(report)?;

    let mut parts = make();
    let mut runs: Vec<&mut dyn Engine> = parts.iter_mut().map(|e| e.as_mut() as &mut dyn Engine).collect();
    let sliced = run_engines_sliced(setup, limit, slices, &mut runs).map_err(report)?;
    compare(&expected, &sliced).map_err(report)
}

/// [`check_with`] on every engine.
fn check(seed: u64, limit: u64, slices: &[u64]) -> Result<(), String> {
    check_with(all_engines, seed, limit, slices)
}

/// Keeps the last steps the reference executed.
struct LastSteps(Rc<RefCell<VecDeque<(u32, Decoded, Privilege)>>>);

const TRACE_STEPS: usize = 48;

impl Tracer for LastSteps {
    fn before(&mut self, m: &Machine, pc: u32, d: &Decoded) {
        let mut steps = self.0.borrow_mut();
        if steps.len() == TRACE_STEPS {
            steps.pop_front();
        }
        steps.push_back((pc, *d, m.hart.privilege));
    }
}

fn failure_report(seed: u64, limit: u64, slices: &[u64], d: &Divergence) -> String {
    let program = generate_seeded(seed);
    let mut s = format!("seed {seed} limit {limit} slices {slices:?}\n{d}\n\nlast steps of the reference:\n");
    let steps = Rc::new(RefCell::new(VecDeque::new()));
    let mut traced = Interpreter::new();
    traced.set_tracer(Some(Box::new(LastSteps(steps.clone()))));
    let mut m = machine_for(&program);
    let outcome = run_to_end(&mut traced, &mut m, limit, &[]);
    for (pc, decoded, p) in steps.borrow().iter() {
        let _ = writeln!(s, "  {} {pc:08x}: {}", p.letter(), Disasm { decoded: *decoded, pc: *pc });
    }
    let _ = writeln!(s, "  -> {outcome:?}\n\nprogram:\n{}", program.disassembly());
    s
}

/// Random programs per run for [`engines`] (`AVM_DIFF_CASES`, default 10,000).
fn cases() -> u32 {
    std::env::var("AVM_DIFF_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000)
}

/// Random programs per run for [`compiling_engines`]: a tenth of [`cases`].
fn compiling_cases() -> u32 {
    (cases() / 10).max(1)
}

/// Limits: mostly enough to finish, sometimes small enough to stop early.
fn limits() -> impl Strategy<Value = u64> {
    prop_oneof![3 => 1500u64..2500, 1 => 0u64..300]
}

/// Budget slices for the sliced runs.
fn slice_lengths() -> impl Strategy<Value = Vec<u64>> {
    proptest::collection::vec(1u64..40, 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn engines_agree_on_random_programs(seed in any::<u64>(), limit in limits(), slices in slice_lengths()) {
        if let Err(report) = check_with(engines, seed, limit, &slices) {
            prop_assert!(false, "{}", report);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: compiling_cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn compiled_code_agrees_on_random_programs(seed in any::<u64>(), limit in limits(), slices in slice_lengths()) {
        if let Err(report) = check_with(compiling_engines, seed, limit, &slices) {
            prop_assert!(false, "{}", report);
        }
    }
}

#[test]
fn same_seed_same_program() {
    for seed in [0, 7, 0xdead_beef, u64::MAX] {
        assert_eq!(generate_seeded(seed), generate_seeded(seed));
    }
}

#[test]
fn generated_programs_halt_or_hit_the_limit() {
    for seed in 0..200 {
        let program = generate_seeded(seed);
        for mut engine in all_engines() {
            let mut m = machine_for(&program);
            let out = run_to_end(engine.as_mut(), &mut m, 50_000, &[]);
            assert!(
                matches!(out.exit, Exit::Halt { .. } | Exit::InstructionLimit | Exit::TrapLoop { .. }),
                "seed {seed} on {}: {out:?}",
                engine.name()
            );
        }
    }
}

#[test]
fn generated_code_decodes_except_deliberate_words() {
    for seed in 0..1000 {
        let program = generate_seeded(seed);
        let bad = program.unexpected_illegals();
        assert!(bad.is_empty(), "seed {seed}: undecodable words at {bad:x?}\n{}", program.disassembly());
        let raw = program.instructions().into_iter().filter(|(_, _, raw)| *raw).count();
        assert_eq!(raw, program.raw.len(), "seed {seed}: a raw word is not on an instruction boundary");
    }
}

#[test]
fn single_stepping_matches_one_run() {
    // A budget of one instruction per call: the strictest metering test.
    for seed in 0..100 {
        check(seed, 3000, &[1]).unwrap_or_else(|report| panic!("{report}"));
    }
}

#[test]
fn long_runs_agree() {
    for seed in 1000..1050 {
        check(seed, 100_000, &[977, 3]).unwrap_or_else(|report| panic!("{report}"));
    }
}

/// Run 100 programs on fresh machines with one set of engines that is kept
/// across them, comparing each with a fresh reference interpreter.
fn reuse_across_machines(mut reused: Vec<Box<dyn Engine>>) {
    for seed in 2000..2100 {
        let program = generate_seeded(seed);
        let setup = || machine_for(&program);
        let mut reference = Interpreter::new();
        let mut runs: Vec<&mut dyn Engine> = vec![&mut reference];
        runs.extend(reused.iter_mut().map(|e| e.as_mut() as &mut dyn Engine));
        if let Err(d) = run_engines(setup, 3000, &mut runs) {
            panic!("engines reused across machines: {}", failure_report(seed, 3000, &[], &d));
        }
    }
}

#[test]
fn one_jit_runs_many_machines() {
    // Compile once, run many (DESIGN.md): the JIT keeps its code cache across
    // machines and must still run each new machine exactly like a fresh
    // reference.
    reuse_across_machines(vec![
        Box::new(JitEngine::new(JitConfig::default())),
        Box::new(JitEngine::new(JitConfig { threshold: 0, ..JitConfig::default() })),
        Box::new(JitEngine::new(JitConfig { threshold: 2, background: true, ..JitConfig::default() })),
        Box::new(JitEngine::new(JitConfig::baseline_only())),
    ]);
}

#[test]
fn interpreter_reused_across_machines_runs_stale_blocks() {
    // Seed 2001 rewrites its own code; a second machine loaded with the
    // original image then runs the blocks decoded from the rewritten code.
    reuse_across_machines(vec![Box::new(Interpreter::new())]);
}

#[test]
fn the_generator_reaches_self_modifying_code() {
    // Guard against a generator change that silently stops emitting it.
    let smc = (0..200)
        .any(|seed| generate_seeded(seed).instructions().iter().any(|(_, d, _)| matches!(d.inst, Inst::FenceI)));
    assert!(smc);
}
