//! `avm new` and `avm build`: a contract crate from the template builds for
//! the guest target, loads, deploys and runs, all through the `avm` binary
//! as a contract author would use it.

use std::path::Path;
use std::process::{Command, Output};

fn avm(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_avm"))
        .args(args)
        .current_dir(dir)
        // The crate builds into its own target directory, inside the temp dir.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("AVM_DATA_DIR")
        .output()
        .expect("run avm");
    assert!(
        out.status.success(),
        "avm {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn new_build_deploy_call() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("toolchain-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("temp dir");
    let dir = root.as_path();
    avm(dir, &["new", "demo_token"]);
    for f in ["Cargo.toml", "build.rs", ".cargo/config.toml", "src/main.rs", ".gitignore", "README.md"] {
        assert!(dir.join("demo_token").join(f).is_file(), "the template has no {f}");
    }

    // A second `new` refuses to overwrite.
    let again =
        Command::new(env!("CARGO_BIN_EXE_avm")).args(["new", "demo_token"]).current_dir(dir).output().expect("run avm");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    let built = avm(dir, &["build", "demo_token"]);
    let elf = stdout(&built).trim().to_string();
    assert!(elf.ends_with("riscv32imac-unknown-none-elf/release/demo_token"), "{elf}");
    assert!(Path::new(&elf).is_file());
    assert!(String::from_utf8_lossy(&built.stderr).contains("fn transfer(to: Address, amount: u128) -> bool"));

    let data = dir.join("chain");
    let data = data.to_str().expect("utf-8 path");
    avm(dir, &["init", "--data-dir", data]);
    let deployed =
        avm(dir, &["deploy", "--data-dir", data, "--json", "--from", "alice", &elf, "1000000", "--as", "demo"]);
    assert!(stdout(&deployed).contains("\"status\":\"success\""), "{}", stdout(&deployed));
    let call = avm(dir, &["call", "--data-dir", data, "--json", "--from", "alice", "demo", "transfer", "bob", "250"]);
    let receipt: serde_json::Value = serde_json::from_str(&stdout(&call)).expect("receipt JSON");
    assert_eq!(receipt["returns"], true);
    assert_eq!(receipt["logs"][0]["event"], "Transfer");
    assert_eq!(receipt["logs"][0]["args"][2], "250");
    let view = avm(dir, &["view", "--data-dir", data, "--json", "demo", "balanceOf", "bob"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&view)).expect("view JSON");
    assert_eq!(v["returns"], "250");
    let inc = avm(dir, &["call", "--data-dir", data, "--json", "--from", "bob", "demo", "increment"]);
    let r: serde_json::Value = serde_json::from_str(&stdout(&inc)).expect("receipt JSON");
    assert_eq!(r["returns"], "1");
    let _ = std::fs::remove_dir_all(&root);
}
