//! Conformance: every bare-metal test program in `guest/bare` (riscv-tests
//! style, built by `build.rs`) must pass on every engine, and all engines must
//! end in the same full machine state.
//!
//! The programs are checked against QEMU as a third opinion by
//! `guest/run-qemu.sh`; the `avm_specific*` programs pin down spec choices
//! where QEMU differs (see their sources).

mod common;

use avm::run::load_bare_metal;
use avm_interp::Interpreter;
use avm_mmu::{Engine, Exit, Machine};
use common::elf;

const LIMIT: u64 = 10_000_000;

/// Every engine that must agree, by name.
fn engines() -> Vec<(&'static str, Box<dyn Engine>)> {
    let mut v: Vec<(&'static str, Box<dyn Engine>)> = vec![("interp", Box::new(Interpreter::new()))];
    v.extend(jit_engines());
    v
}

fn jit_engines() -> Vec<(&'static str, Box<dyn Engine>)> {
    use avm_jit::{JitConfig, JitEngine, DEFAULT_THRESHOLD};
    vec![
        ("jit (threshold 0)", Box::new(JitEngine::new(JitConfig { threshold: 0, ..JitConfig::default() }))),
        ("jit", Box::new(JitEngine::new(JitConfig { threshold: DEFAULT_THRESHOLD, ..JitConfig::default() }))),
        ("jit (baseline only)", Box::new(JitEngine::new(JitConfig::baseline_only()))),
    ]
}

/// Everything that must be identical after a run.
#[derive(Debug, PartialEq)]
struct FinalState {
    exit: Exit,
    hart: avm_mmu::Hart,
    tlb: avm_mmu::Tlb,
    ram: u64,
    console: Vec<u8>,
}

fn run(name: &str, engine: &mut dyn Engine) -> FinalState {
    let (mut m, _image): (Machine, _) = load_bare_metal(&elf(name), 64 << 20).expect("program loads");
    let exit = engine.run(&mut m, LIMIT);
    FinalState { exit, hart: m.hart.clone(), tlb: m.tlb.clone(), ram: m.ram.digest(), console: m.console.clone() }
}

#[test]
fn every_conformance_program_passes_on_every_engine_with_identical_state() {
    for name in common::conformance() {
        let mut reference: Option<FinalState> = None;
        for (engine_name, mut engine) in engines() {
            let state = run(name, engine.as_mut());
            assert_eq!(
                state.exit,
                Exit::Halt { code: 0 },
                "{name} on {engine_name}: {:?} at pc {:#x}",
                state.exit,
                state.hart.pc
            );
            match &reference {
                None => reference = Some(state),
                Some(r) => assert!(*r == state, "{name}: {engine_name} differs from interp\n{r:#?}\n{state:#?}"),
            }
        }
    }
}

#[test]
fn conformance_programs_stop_exactly_at_every_small_instruction_limit() {
    // Stopping early must retire exactly `limit` instructions on every engine,
    // and resuming must reach the same end as an uninterrupted run.
    for name in ["rv32i", "vm", "priv"] {
        let full = run(name, &mut Interpreter::new());
        for limit in [1, 2, 3, 5, 17, 100, 333] {
            for (engine_name, mut engine) in engines() {
                let (mut m, _) = load_bare_metal(&elf(name), 64 << 20).expect("loads");
                assert_eq!(engine.run(&mut m, limit), Exit::InstructionLimit, "{name} on {engine_name}");
                assert_eq!(m.hart.instret, limit, "{name} on {engine_name}, limit {limit}");
                let exit = engine.run(&mut m, LIMIT);
                assert_eq!(exit, full.exit, "{name} on {engine_name}");
                assert_eq!(m.hart, full.hart, "{name} on {engine_name} resumed after {limit}");
                assert_eq!(m.ram.digest(), full.ram, "{name} on {engine_name}");
            }
        }
    }
}

#[test]
fn sieve_example_prints_the_prime_count_on_every_engine() {
    for (engine_name, mut engine) in engines() {
        let (mut m, _) = load_bare_metal(&elf("sieve"), 64 << 20).expect("sieve loads");
        let exit = engine.run(&mut m, 2_000_000_000);
        assert_eq!(exit, Exit::Halt { code: 0 }, "{engine_name}");
        let out = String::from_utf8_lossy(&m.console);
        assert!(out.contains("sieve: 664579 primes below 10000000"), "{engine_name}: console: {out}");
        assert_eq!(m.hart.instret, 168_398_033, "{engine_name}: the sieve's exact instruction count");
    }
}

#[test]
fn htif_console_program_prints_every_byte_odd_ones_included_on_every_engine() {
    // The program writes each byte low word first, as for QEMU and Spike.
    let mut expected = b"htif console: every byte\n".to_vec();
    expected.extend(0..=255u8);
    expected.extend_from_slice(b"\nhtif console: done\n");
    let mut reference: Option<FinalState> = None;
    for (engine_name, mut engine) in engines() {
        let state = run("htif_console", engine.as_mut());
        assert_eq!(state.exit, Exit::Halt { code: 0 }, "on {engine_name}");
        assert_eq!(state.console, expected, "on {engine_name}");
        match &reference {
            None => reference = Some(state),
            Some(r) => assert!(*r == state, "{engine_name} differs from interp"),
        }
    }
}
