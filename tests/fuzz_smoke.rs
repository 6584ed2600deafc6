//! Smoke tests for the chain fuzz oracles (`avm::fuzzing`): each runs on
//! inputs from a fixed seed, so the stable `cargo test` keeps the oracles
//! (and what they check) working between fuzzing campaigns. The committed
//! seed corpora (`fuzz/seeds/<target>/`) run too.

use std::path::Path;
use std::process::Command;

use avm::fuzzing::{chain, scenario, syscall, tx, SplitMix64};

/// Inputs of every committed seed file of a target.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(target);
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).into_iter().flatten().filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).expect("seed file")).collect()
}

fn inputs(seed: u64, n: usize, max_len: usize) -> Vec<Vec<u8>> {
    let mut rng = SplitMix64(seed);
    (0..n)
        .map(|_| {
            let len = (rng.next_u64() as usize) % (max_len + 1);
            rng.bytes(len)
        })
        .collect()
}

#[test]
fn tx_decode_oracle_holds_on_random_and_damaged_transactions() {
    let mut all = seeds("tx_decode");
    all.extend(inputs(19, 400, 300));
    for (i, data) in all.iter().enumerate() {
        if let Err(e) = tx::check_tx_decode(data) {
            panic!("input {i} ({}): {e}", avm_state::to_hex(data));
        }
    }
}

#[test]
fn diff_chain_oracle_holds_on_random_transaction_sequences() {
    let mut all = seeds("diff_chain");
    all.extend(inputs(1919, 12, 600));
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for (i, data) in all.iter().enumerate() {
        match chain::run_diff_chain(data) {
            Ok(results) => {
                for r in results {
                    *seen.entry(r.map_or("left out", |r| r.status.as_str())).or_default() += 1;
                }
            }
            Err(e) => panic!("input {i} ({}): {e}", avm_state::to_hex(data)),
        }
    }
    // The cases exercise every ending, not one of them over and over.
    for status in ["success", "revert", "out-of-gas", "fault", "left out"] {
        assert!(seen.get(status).is_some_and(|n| *n > 0), "no transaction ended in {status}: {seen:?}");
    }
}

#[test]
fn diff_chain_generator_makes_mixed_sequences() {
    let mut statuses = std::collections::BTreeSet::new();
    for data in inputs(7, 40, 600) {
        let case = chain::generate(&data);
        assert!(case.txs.len() <= chain::MAX_TXS);
        statuses.insert(case.txs.iter().any(|t| t.tx.to.is_none()));
    }
    assert_eq!(statuses.len(), 2, "some cases deploy, some do not");
}

#[test]
fn syscall_oracle_holds_on_random_scripts() {
    let mut all = seeds("syscall");
    all.extend(inputs(1999, 60, 400));
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for (i, data) in all.iter().enumerate() {
        match syscall::run_syscall(data) {
            Ok(status) => *seen.entry(status.as_str()).or_default() += 1,
            Err(e) => panic!("input {i} ({}): {e}", avm_state::to_hex(data)),
        }
    }
    // Some scripts get through every syscall (or end with RETURN/REVERT);
    // others are stopped by the kernel.
    for status in ["success", "fault"] {
        assert!(seen.get(status).is_some_and(|n| *n > 0), "no script ended in {status}: {seen:?}");
    }
}

/// `avm test` on a few hundred generated scenario files, in one process:
/// every file gets a verdict, none a panic or an internal error.
#[test]
fn scenario_files_never_panic_avm_test() {
    let dir = std::env::temp_dir().join(format!("avm-fuzz-smoke-scenario-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut files = Vec::new();
    let mut all: Vec<Vec<u8>> = seeds("scenario").iter().map(|d| scenario::file_of(d)).collect();
    all.extend(inputs(2019, 300, 400).into_iter().map(|d| scenario::generate(&d).into_bytes()));
    for (i, text) in all.iter().enumerate() {
        let path = dir.join(format!("s{i:03}.toml"));
        std::fs::write(&path, text).expect("write scenario");
        files.push(path);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_avm"))
        .args(["test", "--engine", "interp", "--json"])
        .args(&files)
        .output()
        .expect("run avm test");
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(matches!(out.status.code(), Some(0..=2)), "avm test exited with {:?}\n{stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stdout.contains("internal error"), "{stdout}");
    // Not every file is rejected up front: a fair share run steps.
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("avm test --json prints JSON");
    let ran =
        report["files"].as_array().map_or(0, |f| f.iter().filter(|f| f["passed"] != "0" || f["failed"] != "0").count());
    let errors: Vec<String> =
        report["errors"].as_array().into_iter().flatten().map(|e| e["message"].to_string()).collect();
    assert!(ran >= 30, "only {ran} of {} files ran a step; errors:\n{}", files.len(), errors.join("\n"));
}

/// Rewrite the committed seed corpora (`fuzz/seeds/<target>/`):
/// `cargo test --release --test fuzz_smoke -- --ignored write_seed_corpora`.
#[test]
#[ignore]
fn write_seed_corpora() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let write = |target: &str, name: &str, data: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("seed dir");
        std::fs::write(dir.join(name), data).expect("seed file");
    };
    // tx_decode: the setup block's transactions, as signed (mode 0) and
    // unsigned (mode 2) encodings.
    for (i, stx) in chain::setup().txs.iter().filter(|t| t.tx.data.len() < 4096).take(8).enumerate() {
        write("tx_decode", &format!("signed-{i}"), &[&[0u8][..], &stx.encode()].concat());
        write("tx_decode", &format!("unsigned-{i}"), &[&[2u8][..], &stx.tx.encode()].concat());
    }
    write("tx_decode", "damaged", &SplitMix64(3).bytes(120));
    // scenario: the bundled scenarios as raw text (mode 0).
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<_> =
        std::fs::read_dir(scenarios).expect("scenarios/").filter_map(|e| e.ok()).map(|e| e.path()).collect();
    names.sort();
    for p in names {
        let text = std::fs::read(&p).expect("scenario");
        write("scenario", p.file_name().and_then(|n| n.to_str()).unwrap_or("s"), &[&[0u8][..], &text].concat());
    }
    write("scenario", "generated", &[&[200u8][..], &SplitMix64(5).bytes(300)].concat());
    // diff_chain and syscall: inputs from fixed seeds.
    for s in 0..6u64 {
        write("diff_chain", &format!("seed-{s}"), &SplitMix64(100 + s).bytes(400 + 100 * s as usize));
        write("syscall", &format!("seed-{s}"), &SplitMix64(200 + s).bytes(100 + 60 * s as usize));
    }
}
