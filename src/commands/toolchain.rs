//! `avm new` and `avm build`: the toolchain for contract authors.
//!
//! A contract is an ordinary Cargo crate built for
//! `riscv32imac-unknown-none-elf` on stable Rust. What makes it an aVM
//! contract is small and all in the template `avm new` writes:
//!
//! - a dependency on the SDK in this repository (`guest/sdk`, by path);
//! - a build script passing `-Tavm-contract.x`, the SDK's linker script
//!   (the SDK's own build script puts it on the linker's search path);
//! - `.cargo/config.toml` selecting the guest target;
//! - a release profile with `panic = "abort"` and LTO (small, fast code);
//! - an empty `[workspace]`, so the crate is its own workspace wherever it
//!   is created (also inside another workspace).
//!
//! `avm build` runs `cargo build --release` for the guest target, streams
//! cargo's output to stderr, loads the ELF exactly as the chain will (ABI
//! metadata included), lists its methods on stderr and prints the ELF's path
//! on stdout, so `avm deploy --from alice $(avm build)` works.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Failure, Outcome};

/// The guest target contracts are built for.
pub const GUEST_TARGET: &str = "riscv32imac-unknown-none-elf";

/// The SDK crate of this repository.
fn sdk_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("guest").join("sdk")
}

/// A Cargo package name we accept: letters, digits, `_` and `-`, starting
/// with a letter.
fn check_crate_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= 64
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!("`{name}` is not a valid crate name (letters, digits, `_` and `-`, starting with a letter)"))
    }
}

/// A TOML basic string holding `s`.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn cargo_toml(name: &str) -> String {
    let sdk = sdk_path();
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
# The aVM contract SDK (contract!/event! macros, storage, calls, ABI metadata).
avm-sdk = {{ path = {sdk} }}

# Contracts are small and fast with LTO; a panic becomes a revert.
[profile.release]
opt-level = 3
panic = "abort"
lto = true
codegen-units = 1
debug = false

[profile.dev]
panic = "abort"

# Its own workspace, wherever it lives.
[workspace]
"#,
        sdk = toml_string(&sdk.display().to_string())
    )
}

const BUILD_RS: &str = r#"//! Links the contract with the SDK's linker script (the SDK puts
//! `avm-contract.x` on the linker's search path).
fn main() {
    println!("cargo:rustc-link-arg-bins=-Tavm-contract.x");
    println!("cargo:rerun-if-changed=build.rs");
}
"#;

const CARGO_CONFIG: &str = r#"# aVM contracts are built for the guest target.
[build]
target = "riscv32imac-unknown-none-elf"
"#;

const GITIGNORE: &str = "/target\n";

const MAIN_RS: &str = r#"//! A small token with a counter: the shape of every aVM contract.
//!
//! `contract!` turns each `fn` into a method with a selector derived from
//! its signature, decodes the arguments, encodes the return value and
//! records both in the ABI metadata, so `avm call` and receipts can use
//! names and typed values. `init` runs once, at deployment.
#![no_std]
#![no_main]
#![allow(non_snake_case)]

use avm_sdk::storage::{Map, Value};
use avm_sdk::{caller, contract, event, require};
use avm_sdk::Address;

static SUPPLY: Value<u128> = Value::new(b"supply");
static BALANCES: Map<Address, u128> = Map::new(b"b");
static COUNT: Value<u64> = Value::new(b"count");

event!(Transfer { #[indexed] from: Address, #[indexed] to: Address, amount: u128 });

contract! {
    /// Mint `supply` tokens to the deployer.
    fn init(supply: u128) {
        SUPPLY.set(&supply);
        BALANCES.set(&caller(), &supply);
        Transfer { from: Address::ZERO, to: caller(), amount: supply }.emit();
    }

    fn totalSupply() -> u128 {
        SUPPLY.get()
    }

    fn balanceOf(owner: Address) -> u128 {
        BALANCES.get(&owner)
    }

    /// Move `amount` of the caller's tokens to `to`; reverts if short.
    fn transfer(to: Address, amount: u128) -> bool {
        let from = caller();
        let have = BALANCES.get(&from);
        require(have >= amount, "insufficient balance");
        BALANCES.set(&from, &(have - amount));
        BALANCES.set(&to, &(BALANCES.get(&to) + amount));
        Transfer { from, to, amount }.emit();
        true
    }

    /// Add one to the counter and return it.
    fn increment() -> u64 {
        let n = COUNT.get() + 1;
        COUNT.set(&n);
        n
    }

    fn count() -> u64 {
        COUNT.get()
    }
}
"#;

fn readme(name: &str) -> String {
    format!(
        r#"# {name}

An aVM contract (see `docs/contracts.md` in the aVM repository).

```sh
avm build {name}                                # prints the ELF path
avm init                                        # a dev chain in ./.avm
avm deploy --from alice $(avm build {name}) 1000000 --as {name}
avm call --from alice {name} transfer bob 250
avm view {name} balanceOf bob
avm call --from alice {name} increment
```
"#
    )
}

/// `avm new NAME`: write a contract crate in the directory NAME.
pub fn new(name: &str) -> Outcome {
    let dir = PathBuf::from(name);
    let crate_name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    check_crate_name(&crate_name)?;
    if dir.exists() {
        return Err(format!("{} exists already; `avm new` never overwrites", dir.display()).into());
    }
    let files: [(&str, String); 6] = [
        ("Cargo.toml", cargo_toml(&crate_name)),
        ("build.rs", BUILD_RS.to_string()),
        (".cargo/config.toml", CARGO_CONFIG.to_string()),
        ("src/main.rs", MAIN_RS.to_string()),
        (".gitignore", GITIGNORE.to_string()),
        ("README.md", readme(&crate_name)),
    ];
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    println!("created contract crate `{crate_name}` in {}", dir.display());
    println!("build it with: avm build {}", dir.display());
    Ok(0)
}

/// Is the guest target installed for the toolchain used in `dir`? `None`
/// when rustup is not there to ask.
fn target_installed(dir: &Path) -> Option<bool> {
    let out = Command::new("rustup").args(["target", "list", "--installed"]).current_dir(dir).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == GUEST_TARGET))
}

/// `avm build [PATH]`: build the contract crate at PATH for aVM.
pub fn build(path: &Path) -> Outcome {
    let manifest = path.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(format!("{} has no Cargo.toml (create a contract with `avm new NAME`)", path.display()).into());
    }
    if target_installed(path) == Some(false) {
        return Err(format!(
            "the Rust target {GUEST_TARGET} is not installed; install it with:\n  rustup target add {GUEST_TARGET}"
        )
        .into());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--target",
            GUEST_TARGET,
            "--message-format=json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(&manifest)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut elfs: Vec<PathBuf> = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
                eprintln!("{line}");
                continue;
            };
            if msg["reason"] == "compiler-artifact" {
                if let Some(exe) = msg["executable"].as_str() {
                    elfs.push(PathBuf::from(exe));
                }
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo: {e}"))?;
    if !status.success() {
        let hint = if target_installed(path).is_none() {
            format!(" (if the target is missing: rustup target add {GUEST_TARGET})")
        } else {
            String::new()
        };
        return Err(Failure { message: format!("cargo build failed{hint}"), status: super::EXIT_FAILED_TX });
    }
    if elfs.is_empty() {
        return Err("cargo built no binary: a contract crate has a src/main.rs".to_string().into());
    }
    for elf in &elfs {
        let bytes = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
        let image = avm::runtime::CodeImage::from_elf(&bytes)
            .map_err(|e| format!("{} does not load as an aVM contract: {e}", elf.display()))?;
        eprintln!("{} ({} bytes), methods:", elf.display(), bytes.len());
        for m in &image.metadata.methods {
            let args: Vec<String> = m.args.iter().map(|(a, t)| format!("{a}: {t}")).collect();
            let ret = if m.returns == avm_abi::types::Type::Tuple(Vec::new()) {
                String::new()
            } else {
                format!(" -> {}", m.returns)
            };
            eprintln!("  fn {}({}){ret}", m.name, args.join(", "));
        }
        for e in &image.metadata.events {
            let fields: Vec<String> = e.fields.iter().map(|f| format!("{}: {}", f.name, f.ty)).collect();
            eprintln!("  event {}({})", e.name, fields.join(", "));
        }
        println!("{}", elf.display());
    }
    Ok(0)
}
