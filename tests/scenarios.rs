//! `avm test`: the scenarios shipped in `scenarios/` pass on both engines
//! (which must agree on every receipt, log and gas figure), a failing
//! expectation exits 1, and a malformed file exits 2 naming the step.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn avm_test(args: &[&str], files: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_avm")).arg("test").args(args).args(files).output().expect("run avm")
}

fn text(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn shipped() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// A scratch file for one test.
fn scratch(name: &str, body: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, body).expect("write scenario");
    path
}

#[test]
fn shipped_scenarios_pass_on_both_engines() {
    let files = shipped();
    for contract in ["simple", "storage", "multi_func", "call_program", "erc20", "dex", "ecdsa", "hostile"] {
        assert!(files.iter().any(|f| f.ends_with(format!("{contract}.toml"))), "no scenario for {contract}");
    }
    let out = avm_test(&["--engine=both"], &files);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains('✗'), "{stdout}");
    assert_eq!(stdout.matches("interp and jit agree").count(), files.len(), "{stdout}");
}

#[test]
fn json_results_are_machine_readable() {
    let files = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/erc20.toml")];
    let out = avm_test(&["--engine=both", "--json"], &files);
    assert!(out.status.success(), "{}", text(&out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(j["ok"], true);
    assert_eq!(j["files"].as_array().map(Vec::len), Some(2), "one entry per engine");
    let step2 = &j["files"][0]["steps"][1];
    assert_eq!(step2["ok"], true);
    assert_eq!(step2["got"]["returns"], true);
    assert_eq!(step2["got"]["events"][0]["event"], "Transfer");
    assert_eq!(step2["got"]["events"][0]["args"][2], "250");
    assert_eq!(j["differences"].as_array().map(Vec::len), Some(0));
}

const DEPLOY: &str = "[accounts]\nalice = 1000000000\n[[step]]\ndeploy = \"simple\"\nfrom = \"alice\"\nas = \"s\"\n";

#[test]
fn a_failing_expectation_exits_1() {
    let body = format!(
        "{DEPLOY}[[step]]\nview = \"s.add\"\nargs = [1, 2]\nexpect = {{ returns = 4 }}\n\
         [[step]]\ncall = \"s.add\"\nfrom = \"alice\"\nargs = [\"18446744073709551615\", 1]\nexpect = {{ status = \"success\" }}\n\
         [[step]]\nview = \"s.add\"\nargs = [1, 2]\nexpect = {{ returns = 3 }}\n"
    );
    let out = avm_test(&["--engine=both"], &[scratch("fails.toml", &body)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("returns: expected 4, got 3"), "{stdout}");
    assert!(stdout.contains("status: expected success, got revert (overflow)"), "{stdout}");
    assert!(stdout.contains("✓  4 view s.add(1, 2)"), "the steps after a failure still run: {stdout}");
}

#[test]
fn a_malformed_file_exits_2_naming_the_step() {
    let cases = [
        (
            format!("{DEPLOY}[[step]]\nview = \"s.add\"\nargs = [1, 2]\nexpct = {{ returns = 3 }}\n"),
            "step 2",
            "unknown field `expct`",
        ),
        (format!("{DEPLOY}[[step]]\nview = \"s.add\"\nargs = [1]\n"), "step 2", "expected 2 argument(s)"),
        (format!("{DEPLOY}[[step]]\nview = \"s.add\"\ncall = \"s.add\"\n"), "step 2", "exactly one of"),
        (format!("{DEPLOY}[[step]]\ncall = \"s.add\"\nargs = [1, 2]\n"), "step 2", "needs `from`"),
        (
            format!("{DEPLOY}[[step]]\nbalance = \"alice\"\nexpect = {{ status = \"success\" }}\n"),
            "step 2",
            "cannot expect `status`",
        ),
        (
            format!("{DEPLOY}[[step]]\nview = \"nobody.add\"\nargs = [1, 2]\n"),
            "step 2",
            "unknown account, alias or address `nobody`",
        ),
        (
            format!("{DEPLOY}[[step]]\nview = \"s.add\"\nargs = [1, 2]\nexpect = {{ status = \"fine\" }}\n"),
            "step 2",
            "not one of",
        ),
        ("[accounts]\nalice = \"lots\"\n".to_string(), "[accounts]", "not a decimal"),
        ("[[step]\n".to_string(), "not valid TOML", "line 1"),
    ];
    for (i, (body, place, message)) in cases.iter().enumerate() {
        let file = scratch(&format!("bad{i}.toml"), body);
        let out = avm_test(&[], std::slice::from_ref(&file));
        assert_eq!(out.status.code(), Some(2), "case {i}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let name = file.display().to_string();
        assert!(stderr.contains(&name) && stderr.contains(place) && stderr.contains(message), "case {i}: {stderr}");
    }
}
