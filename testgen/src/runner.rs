//! Running engines side by side: the differential oracle.
//!
//! Each engine gets its own fresh machine from a `setup` closure (build one
//! from a [`crate::Program`] with [`crate::machine_for`], or clone a prepared
//! one with [`Machine::try_clone`]), runs it to the end, and every
//! [`Snapshot`] is compared with the first engine's.
//!
//! *To the end* means: until a terminal exit (halt, trap loop, a firmware
//! trap or interrupt) or the instruction limit. `wfi` with nothing pending
//! exits to the host, which simply resumes, as a host with no interrupt to
//! deliver would; those exits are recorded in [`Outcome::resumed`].
//!
//! The sliced variant calls [`Engine::run`] repeatedly with increasing
//! absolute limits, so budgets run out at arbitrary instructions, mid-block for
//! a JIT. Its result must not differ from a single run: that is the exact
//! metering rule of the design.

use avm_mmu::{Engine, Exit, Machine};

use crate::snapshot::{compare, Divergence, Outcome, Snapshot};

/// Most `wfi` exits a run resumes after before giving up on it (the
/// instruction limit bounds them anyway, since each `wfi` retires).
const MAX_RESUMES: usize = 10_000;

/// Run `engine` on `m` until a terminal exit or `limit` (absolute `instret`).
///
/// `slices` are budget lengths: the engine is called with limits
/// `instret0 + s1`, `instret0 + s1 + s2`, ... (cycling through `slices`,
/// capped at `limit`) and resumed after each [`Exit::InstructionLimit`] that
/// is not the final one. Empty `slices` (or all zeros) means one call.
pub fn run_to_end(engine: &mut dyn Engine, m: &mut Machine, limit: u64, slices: &[u64]) -> Outcome {
    let mut resumed = Vec::new();
    let sliced = slices.iter().any(|&s| s > 0);
    let mut lengths = slices.iter().copied().filter(|&s| s > 0).cycle();
    let mut step_limit = limit;
    if sliced {
        step_limit = m.hart.instret.saturating_add(lengths.next().unwrap_or(limit)).min(limit);
    }
    loop {
        let exit = engine.run(m, step_limit);
        match exit {
            // An early InstructionLimit is an engine bug: stop and let the
            // comparison report it rather than spinning here.
            Exit::InstructionLimit if step_limit < limit && m.hart.instret >= step_limit => {
                step_limit = step_limit.saturating_add(lengths.next().unwrap_or(limit)).min(limit);
            }
            Exit::WaitForInterrupt if resumed.len() < MAX_RESUMES => {
                resumed.push((m.hart.instret, exit));
            }
            _ => return Outcome { exit, resumed },
        }
    }
}

/// Run each engine on a fresh machine from `setup` in one call (resuming only
/// after `wfi`) and compare every result with the first engine's.
///
/// Returns the first engine's snapshot when all agree.
///
/// # Panics
/// If `engines` is empty: there would be nothing to return.
pub fn run_engines(
    setup: impl Fn() -> Machine,
    limit: u64,
    engines: &mut [&mut dyn Engine],
) -> Result<Snapshot, Box<Divergence>> {
    run_engines_sliced(setup, limit, &[], engines)
}

/// [`run_engines`], but each engine runs in slices (see [`run_to_end`]).
///
/// # Panics
/// If `engines` is empty.
pub fn run_engines_sliced(
    setup: impl Fn() -> Machine,
    limit: u64,
    slices: &[u64],
    engines: &mut [&mut dyn Engine],
) -> Result<Snapshot, Box<Divergence>> {
    assert!(!engines.is_empty(), "run_engines needs at least one engine");
    let sliced = slices.iter().any(|&s| s > 0);
    let mut reference: Option<Snapshot> = None;
    for (i, engine) in engines.iter_mut().enumerate() {
        let mut m = setup();
        let outcome = run_to_end(*engine, &mut m, limit, slices);
        let label = format!("{}[{i}]{}", engine.name(), if sliced { " sliced" } else { "" });
        let snap = Snapshot::capture(label, &m, outcome);
        match &reference {
            None => reference = Some(snap),
            Some(r) => compare(r, &snap)?,
        }
    }
    Ok(reference.expect("at least one engine ran"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{generate_seeded, machine_for};
    use avm_interp::Interpreter;

    /// An engine that gets one register wrong: the oracle must notice.
    struct Broken(Interpreter);

    impl Engine for Broken {
        fn run(&mut self, m: &mut Machine, limit: u64) -> Exit {
            let exit = self.0.run(m, limit);
            m.hart.x[11] ^= 1;
            exit
        }
        fn name(&self) -> &'static str {
            "broken"
        }
    }

    /// An engine that stops one instruction early: metering must be exact.
    struct Early(Interpreter);

    impl Engine for Early {
        fn run(&mut self, m: &mut Machine, limit: u64) -> Exit {
            self.0.run(m, limit.saturating_sub(1).max(m.hart.instret))
        }
        fn name(&self) -> &'static str {
            "early"
        }
    }

    #[test]
    fn two_interpreters_agree_one_shot_and_sliced() {
        for seed in 0..50 {
            let p = generate_seeded(seed);
            let setup = || machine_for(&p);
            let (mut a, mut b) = (Interpreter::new(), Interpreter::new());
            let one = run_engines(setup, 3000, &mut [&mut a, &mut b]).unwrap_or_else(|d| panic!("seed {seed}: {d}"));
            let mut c = Interpreter::new();
            let sliced = run_engines_sliced(setup, 3000, &[1, 7, 3, 50], &mut [&mut c])
                .unwrap_or_else(|d| panic!("seed {seed}: {d}"));
            compare(&one, &sliced).unwrap_or_else(|d| panic!("seed {seed}: {d}"));
        }
    }

    #[test]
    fn a_wrong_register_is_named() {
        let p = generate_seeded(1);
        let (mut a, mut b) = (Interpreter::new(), Broken(Interpreter::new()));
        let d = run_engines(|| machine_for(&p), 500, &mut [&mut a, &mut b]).unwrap_err();
        assert_eq!(d.field, "x11 (a1)");
        assert_eq!(d.left, "interp[0]");
        assert_eq!(d.right, "broken[1]");
    }

    #[test]
    fn inexact_metering_is_caught_by_slicing() {
        let p = generate_seeded(2);
        let mut a = Interpreter::new();
        let reference = run_engines(|| machine_for(&p), 400, &mut [&mut a]).unwrap();
        let mut e = Early(Interpreter::new());
        let sliced = run_engines_sliced(|| machine_for(&p), 400, &[5], &mut [&mut e]).unwrap();
        assert!(compare(&reference, &sliced).is_err());
    }

    #[test]
    fn slices_reach_the_limit_exactly() {
        let p = generate_seeded(3);
        let mut m = machine_for(&p);
        // A limit of zero runs nothing.
        let out = run_to_end(&mut Interpreter::new(), &mut m, 0, &[3]);
        assert_eq!(out.exit, Exit::InstructionLimit);
        assert_eq!(m.hart.instret, 0);
    }
}
