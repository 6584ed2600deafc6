//! The chain commands of `avm`, run as a user would: a dev chain in a
//! temporary data dir, a token deployed and used, receipts in text and JSON,
//! and every kind of bad input answered with a clear error and a non-zero
//! exit status, never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn avm(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_avm"))
        .args(args)
        .env("AVM_DATA_DIR", dir)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run avm")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn data_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("avm-cli-chain-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Fails with the command's output unless it exited with `code` and, for a
/// failure, printed an `error:` line and no panic.
fn expect(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "stdout:\n{}\nstderr:\n{}", stdout(o), stderr(o));
    assert!(!stderr(o).contains("panicked"), "the host panicked:\n{}", stderr(o));
    if code == 2 {
        assert!(stderr(o).starts_with("error: "), "no clear error:\n{}", stderr(o));
    }
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(stdout(o).trim()).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(o)))
}

#[test]
fn a_token_is_deployed_used_and_inspected_from_the_command_line() {
    let dir = data_dir("token");
    expect(&avm(&dir, &["init"]), 0);
    let deployed =
        avm(&dir, &["deploy", "--json", "--from", "alice", "erc20", "Token", "TKN", "18", "1000000", "--as", "token"]);
    expect(&deployed, 0);
    let r = json(&deployed);
    assert_eq!(r["status"], "success");
    assert!(r["contract_address"].as_str().is_some_and(|a| a.starts_with("0x") && a.len() == 42));

    let called = avm(&dir, &["call", "--json", "--from", "alice", "token", "transfer", "bob", "250"]);
    expect(&called, 0);
    let r = json(&called);
    assert_eq!(r["returns"], true);
    assert_eq!(r["block"], "2");
    assert_eq!(r["logs"][0]["event"], "Transfer");
    assert_eq!(r["logs"][0]["args"][2], "250");
    let tx_hash = r["tx_hash"].as_str().expect("tx hash").to_string();

    let viewed = avm(&dir, &["view", "--json", "token", "balanceOf", "bob"]);
    expect(&viewed, 0);
    assert_eq!(json(&viewed)["returns"], "250");
    assert_eq!(stdout(&avm(&dir, &["view", "token", "symbol"])).trim(), "\"TKN\"");

    // A failed transaction is mined, says why, and exits 1.
    let reverted = avm(&dir, &["call", "--from", "bob", "token", "transfer", "alice", "999999"]);
    expect(&reverted, 1);
    assert!(stdout(&reverted).contains("revert (insufficient balance)"));

    let receipt = avm(&dir, &["receipt", "--json", &tx_hash]);
    expect(&receipt, 0);
    assert_eq!(json(&receipt)["returns"], true, "the receipt decodes the return value again");
    let block = avm(&dir, &["block", "--json", "2"]);
    expect(&block, 0);
    assert_eq!(json(&block)["transactions"][0], tx_hash.as_str());

    expect(&avm(&dir, &["send", "--from", "alice", "carol", "77"]), 0);
    let balance = avm(&dir, &["balance", "carol"]);
    expect(&balance, 0);
    assert_eq!(stdout(&balance).trim(), "1000000000000000077");
    expect(&avm(&dir, &["key", "new", "dave"]), 0);
    assert!(stdout(&avm(&dir, &["key", "list"])).contains("dave"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_gets_a_clear_error_and_a_nonzero_exit() {
    let dir = data_dir("bad");
    // No chain yet.
    let o = avm(&dir, &["balance", "alice"]);
    expect(&o, 2);
    assert!(stderr(&o).contains("avm init"));
    expect(&avm(&dir, &["init"]), 0);
    assert!(stderr(&avm(&dir, &["init"])).contains("already exists"));
    expect(&avm(&dir, &["deploy", "--from", "alice", "erc20", "T", "T", "18", "1000", "--as", "token"]), 0);

    let cases: &[(&[&str], &str)] = &[
        (&["balance", "nobody"], "unknown account"),
        (&["call", "--from", "alice", "0x1234", "transfer", "bob", "1"], "unknown account"),
        (&["call", "--from", "alice", "bob", "transfer", "bob", "1"], "has no contract"),
        (&["call", "--from", "alice", "token", "transfr", "bob", "1"], "no method `transfr`"),
        (&["call", "--from", "alice", "token", "transfer", "bob"], "expected 2 argument"),
        (&["call", "--from", "alice", "token", "transfer", "bob", "-5"], "amount"),
        (&["call", "--from", "alice", "token", "transfer", "nobody", "5"], "neither a 0x address"),
        (&["call", "--from", "mallory", "token", "transfer", "bob", "5"], "no key named `mallory`"),
        (&["deploy", "--from", "alice", "erc20", "T", "T", "300", "1"], "does not fit in u8"),
        (&["deploy", "--from", "alice", "no_such_contract"], "neither a bundled contract"),
        (&["send", "--from", "alice", "bob", "99999999999999999999999999999"], "insufficient balance"),
        (&["receipt", "0x1234"], "32-byte"),
        (&["block", "99"], "no block 99"),
        (&["storage", "token", "0xzz"], "not hex"),
        (&["key", "new", "0xbad"], "not a valid name"),
    ];
    for (args, message) in cases {
        let o = avm(&dir, args);
        expect(&o, 2);
        assert!(stderr(&o).contains(message), "`avm {}`: expected `{message}` in:\n{}", args.join(" "), stderr(&o));
    }

    // A deployment of something that is not a contract ELF.
    let junk = dir.join("junk.elf");
    std::fs::write(&junk, b"\x7fELF this is not a contract").expect("write");
    let o = avm(&dir, &["deploy", "--from", "alice", junk.to_str().expect("utf-8 path")]);
    expect(&o, 2);

    // A corrupt data dir.
    std::fs::write(dir.join("chain.redb"), vec![0xa5u8; 8192]).expect("corrupt");
    let o = avm(&dir, &["balance", "alice"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn data_dir_is_global_before_or_after_the_command_and_beats_the_environment() {
    let (before, after, env) = (data_dir("global-before"), data_dir("global-after"), data_dir("global-env"));
    let arg = |d: &Path| d.to_str().expect("temp paths are UTF-8").to_owned();
    // `avm --data-dir X init`, with AVM_DATA_DIR pointing elsewhere.
    expect(&avm(&env, &["--data-dir", &arg(&before), "init"]), 0);
    expect(&avm(&env, &["init", "--data-dir", &arg(&after)]), 0);
    assert!(before.is_dir() && after.is_dir(), "both flag positions made their chain");
    assert!(!env.exists(), "the flag wins over AVM_DATA_DIR");
    let balance = avm(&env, &["--data-dir", &arg(&before), "balance", "--json", "alice"]);
    expect(&balance, 0);
    // The environment alone still works.
    let init = avm(&env, &["init"]);
    expect(&init, 0);
    assert!(env.is_dir());
    for d in [before, after, env] {
        let _ = std::fs::remove_dir_all(d);
    }
}
