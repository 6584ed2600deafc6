//! The bare-metal conformance programs on the JIT: at threshold 0, the
//! default threshold and compiling in the background, in crosscheck mode (the interpreter runs in lockstep
//! block by block), whole and in small slices, ending identical to the
//! interpreter.

mod common;

use avm::run::load_bare_metal;
use avm_interp::Interpreter;
use avm_jit::{JitConfig, JitEngine, DEFAULT_THRESHOLD};
use avm_mmu::{Engine, Exit, Machine};

fn machine(name: &str) -> Machine {
    load_bare_metal(&common::elf(name), 64 << 20).expect("program loads").0
}

/// Registers, CSRs, TLB, console and exit (cheap: checked after every slice).
fn same_state(what: &str, a: &Machine, ea: Exit, b: &Machine, eb: Exit) {
    let diff = avm_jit::crosscheck::compare(a, b, Some(ea), Some(eb));
    assert!(diff.is_empty(), "{what}:\n{diff}");
}

/// Everything, RAM included.
fn same(what: &str, a: &Machine, ea: Exit, b: &Machine, eb: Exit) {
    same_state(what, a, ea, b, eb);
    assert_eq!(a.ram.digest(), b.ram.digest(), "{what}: RAM");
}

#[test]
fn conformance_programs_on_the_jit() {
    for name in common::conformance().chain(["sieve"]) {
        let limit = 2_000_000_000;
        let mut reference = machine(name);
        let expected = Interpreter::new().run(&mut reference, limit);
        assert_eq!(expected, Exit::Halt { code: 0 }, "{name} on interp");
        for threshold in [0, DEFAULT_THRESHOLD] {
            // The sieve is long: crosscheck only the short programs.
            let crosscheck = name != "sieve";
            let mut m = machine(name);
            let mut jit = JitEngine::new(JitConfig { threshold, crosscheck, ..JitConfig::default() });
            let exit = jit.run(&mut m, limit);
            same(&format!("{name}, threshold {threshold}"), &m, exit, &reference, expected);
            if threshold == 0 {
                assert!(jit.stats().insts_run_compiled > 0, "{name}: {:?}", jit.stats());
            }
        }
        // Compiling in the background (`avm exec`'s mode), at a threshold
        // low enough that code arrives while the program runs.
        let mut m = machine(name);
        // (The crosscheck would compile synchronously: off here.)
        let config = JitConfig { threshold: 4, background: true, crosscheck: false, ..JitConfig::default() };
        let mut jit = JitEngine::new(config);
        let exit = jit.run(&mut m, limit);
        same(&format!("{name}, background compile"), &m, exit, &reference, expected);
        // The baseline tier alone, crosschecked block by block.
        let mut m = machine(name);
        let mut jit = JitEngine::new(JitConfig { crosscheck: name != "sieve", ..JitConfig::baseline_only() });
        let exit = jit.run(&mut m, limit);
        same(&format!("{name}, baseline only"), &m, exit, &reference, expected);
        assert!(jit.stats().insts_run_baseline > 0, "{name}: {:?}", jit.stats());
    }
}

#[test]
fn conformance_programs_in_small_slices() {
    for name in ["rv32i", "rvc", "rv32i_v", "traps", "priv", "vm", "misaligned", "avm_specific_vm"] {
        // A threshold of `u32::MAX` is the baseline tier alone.
        for (threshold, step) in [(0, 3), (0, 17), (2, 7), (u32::MAX, 5)] {
            let mut a = machine(name);
            let mut b = machine(name);
            let mut interp = Interpreter::new();
            let config = match threshold {
                u32::MAX => JitConfig::baseline_only(),
                _ => JitConfig { threshold, ..JitConfig::default() },
            };
            let mut jit = JitEngine::new(JitConfig { crosscheck: false, ..config });
            let mut limit = 0;
            loop {
                limit += step;
                let ei = interp.run(&mut a, limit);
                let ej = jit.run(&mut b, limit);
                let what = format!("{name}, threshold {threshold}, limit {limit}");
                same_state(&what, &b, ej, &a, ei);
                if ei != Exit::InstructionLimit || limit > 10_000_000 {
                    same(&what, &b, ej, &a, ei);
                    break;
                }
            }
        }
    }
}
