//! `avm test`: declarative scenarios for contract authors.
//!
//! A scenario file (TOML) names funded accounts and lists steps; each step
//! deploys, calls, views, sends or reads a balance on a fresh in-memory
//! chain, and its `expect` table says what must happen. The format is
//! documented in `docs/scenarios.md`:
//!
//! ```toml
//! [accounts]
//! alice = "1000000000"
//! [[step]]
//! deploy = "erc20"
//! from = "alice"
//! args = ["Token", "TKN", 18, "1000000"]
//! as = "token"
//! expect = { status = "success" }
//! ```
//!
//! Files are read strictly: an unknown key, a step with no action or two,
//! a field the action does not use, or an argument that does not fit the
//! method's ABI type is an error naming the file and the step (exit 2).
//! Otherwise every step runs, every expectation is checked, and the exit
//! status is 0 iff all of them hold (else 1).
//!
//! With `--engine=both` each file runs once per engine, and the runs are
//! compared step by step (receipts, return data, logs, gas, instructions)
//! and by the final state root: the first difference fails the file.

use std::path::PathBuf;

use serde_json::{json, Value as Json};

mod compare;
mod format;
mod run;

use compare::*;
use format::*;
use run::*;

use super::{EngineChoice, Outcome, EXIT_BAD_INPUT, EXIT_FAILED_TX};

/// Gas limit of a deploy or call step without `gas_limit`.
pub const DEFAULT_GAS_LIMIT: u64 = super::txs::DEFAULT_GAS_LIMIT;

// ---------------------------------------------------------------------------
// The command.

/// Run scenario files; exit 0 iff every expectation holds (and, with
/// `--engine=both`, the engines agree), 1 otherwise, 2 for a bad file.
pub fn run_files(files: &[PathBuf], engine: EngineChoice, json_out: bool) -> Outcome {
    let engines = engine.engines();
    let mut errors: Vec<FileError> = Vec::new();
    let mut files_json = Vec::new();
    let mut diffs_json = Vec::new();
    let (mut steps_total, mut steps_failed, mut files_failed) = (0usize, 0usize, 0usize);
    for path in files {
        let sc = match load(path) {
            Ok(sc) => sc,
            Err(e) => {
                if !json_out {
                    eprintln!("error: {}", e.text());
                }
                errors.push(e);
                continue;
            }
        };
        let mut runs: Vec<Run> = Vec::new();
        let mut file_ok = true;
        for &kind in &engines {
            let run = run_guarded(&sc, kind);
            let stop = run.error.is_some();
            runs.push(run);
            if stop {
                break;
            }
        }
        for run in &mut runs {
            let failed = run.steps.iter().filter(|s| !s.failures.is_empty()).count();
            steps_total += run.steps.len();
            steps_failed += failed;
            file_ok &= failed == 0;
            if json_out {
                files_json.push(json!({
                    "file": sc.file,
                    "engine": engine_name(run.engine),
                    "passed": (run.steps.len() - failed).to_string(),
                    "failed": failed.to_string(),
                    "steps": run.steps.iter().map(|s| json!({
                        "step": s.n.to_string(),
                        "action": s.label,
                        "ok": s.failures.is_empty(),
                        "expected": s.expected,
                        "got": s.got_json,
                        "failures": s.failures,
                    })).collect::<Vec<_>>(),
                }));
            } else {
                println!("{} [{}]", sc.file, engine_name(run.engine));
                for s in &run.steps {
                    let mark = if s.failures.is_empty() { "✓" } else { "✗" };
                    println!("  {mark} {:>2} {}: expected {}; got {}", s.n, s.label, s.expected, s.got);
                    for f in &s.failures {
                        println!("         {f}");
                    }
                }
                println!("  {} steps: {} passed, {failed} failed", run.steps.len(), run.steps.len() - failed);
            }
            if let Some(e) = run.error.take() {
                if !json_out {
                    eprintln!("error: {} [{}]", e.text(), engine_name(run.engine));
                }
                errors.push(e);
                file_ok = false;
            }
        }
        if !file_ok {
            files_failed += 1;
            continue;
        }
        if let [a, b] = runs.as_slice() {
            match first_difference(a, b) {
                Some((step, what)) => {
                    file_ok = false;
                    let at = step.map(|n| format!("step {n}")).unwrap_or_else(|| "end".into());
                    if json_out {
                        diffs_json
                            .push(json!({"file": sc.file, "step": step.map(|n| n.to_string()), "difference": what}));
                    } else {
                        println!("  ✗ the engines differ at {at}: {what} (interp vs jit)");
                    }
                }
                None if !json_out => {
                    println!("  ✓ interp and jit agree: receipts, return values, logs, gas and state root")
                }
                None => {}
            }
        }
        if !file_ok {
            files_failed += 1;
        }
    }
    let status = if !errors.is_empty() {
        EXIT_BAD_INPUT
    } else if files_failed > 0 {
        EXIT_FAILED_TX
    } else {
        0
    };
    if json_out {
        let errs: Vec<Json> = errors
            .iter()
            .map(|e| json!({"file": e.file, "step": e.step.map(|n| n.to_string()), "message": e.message}))
            .collect();
        println!(
            "{}",
            json!({
                "ok": status == 0,
                "files": files_json,
                "differences": diffs_json,
                "errors": errs,
                "steps": steps_total.to_string(),
                "failed": steps_failed.to_string(),
            })
        );
    } else {
        let verdict = if status == 0 { "ok" } else { "FAILED" };
        println!(
            "{verdict}: {} file(s), {steps_total} step run(s), {steps_failed} failed, {files_failed} file(s) failed, {} error(s)",
            files.len(),
            errors.len()
        );
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use avm::engine::EngineKind;
    use avm_state::{Receipt, Status};

    fn receipt(gas_used: u64) -> Receipt {
        Receipt {
            tx_hash: [1; 32],
            block: 1,
            index: 0,
            status: Status::Success,
            gas_used,
            instructions: 10,
            logs: Vec::new(),
            return_data: vec![1],
            contract_address: None,
        }
    }

    fn run(observed: Vec<Observed>) -> Run {
        Run { engine: EngineKind::Interp, steps: Vec::new(), observed, state_root: [0; 32], error: None }
    }

    #[test]
    fn the_first_difference_names_the_step_and_the_field() {
        let a = run(vec![Observed::Balance(5), Observed::Receipt(receipt(100))]);
        let b = run(vec![Observed::Balance(5), Observed::Receipt(receipt(101))]);
        assert_eq!(first_difference(&a, &b), Some((Some(2), "gas_used: 100 vs 101".to_string())));
        assert_eq!(first_difference(&a, &a), None);
        let mut c = run(vec![Observed::Balance(5), Observed::Receipt(receipt(100))]);
        c.state_root = [9; 32];
        assert!(matches!(first_difference(&a, &c), Some((None, d)) if d.starts_with("state root")));
    }

    #[test]
    fn the_example_of_the_format_parses() {
        let dir = std::env::temp_dir().join(format!("avm-scenario-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.toml");
        let body = "[accounts]\nalice = \"1000\"\nbob = 5\n[[step]]\nview = \"t.m\"\nargs = [1, \"x\", [true]]\n\
                    expect = { returns = [1, 2], events = [[\"E\", 1]] }\n[[step]]\nbalance = \"bob\"\nexpect = { equals = 5 }\n";
        std::fs::write(&path, body).unwrap();
        let sc = load(&path).unwrap_or_else(|e| panic!("{}", e.text()));
        assert_eq!(sc.accounts, vec![("alice".to_string(), 1000), ("bob".to_string(), 5)]);
        assert_eq!(sc.steps.len(), 2);
        assert_eq!(sc.steps[0].args.len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
