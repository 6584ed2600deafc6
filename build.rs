//! Builds the guest programs (`guest/`: bare-metal programs, the contract SDK and the
//! contracts) and the guest kernel (`kernel/`), two separate cargo workspaces compiled
//! for `riscv32imac-unknown-none-elf`, so the host crates, tests and benches can load
//! them. `env!("AVM_KERNEL_ELF")` is the path of the built kernel.
//!
//! Contract: `env!("AVM_GUEST_DIR")` is the directory that holds the built ELF files,
//! one per guest binary, named after the binary (e.g. `$AVM_GUEST_DIR/sieve`). It is
//! `<target dir>/guest/riscv32imac-unknown-none-elf/release`, where `<target dir>` is the
//! host workspace's target directory (found from `OUT_DIR`), so guest builds are
//! shared by every host profile and survive `cargo clean -p avm`.
//!
//! With the `wasm-ref` feature it also builds `guest/workloads-wasm` (the bench
//! workloads as wasm32 modules, outside reference points for the benches) for
//! `wasm32-unknown-unknown` into `<target dir>/wasm`; `env!("AVM_WASM_DIR")` is the
//! directory holding one module per workload (e.g. `$AVM_WASM_DIR/sieve.wasm`). Without
//! the feature neither that target nor the modules are needed.
//!
//! The script installs the rustup targets if they are missing, runs the inner
//! `cargo build --release` with a clean environment (the outer cargo's RUSTFLAGS,
//! wrappers, jobserver and profile settings would break a cross build) and turns an
//! inner failure into a panic that shows the inner compiler output.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

const GUEST_TARGET: &str = "riscv32imac-unknown-none-elf";
/// The target of the wasm build of the workloads (feature `wasm-ref`).
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set by cargo"));
    println!("cargo:rerun-if-changed=build.rs");
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    ensure_target_installed(&rustc, GUEST_TARGET);

    let target_dir = host_target_dir(&manifest_dir);
    // The bare programs, the SDK and the contracts.
    let guest = build_guest_workspace(&manifest_dir, "guest", &target_dir.join("guest"), GUEST_TARGET);
    println!("cargo:rustc-env=AVM_GUEST_DIR={}", guest.display());
    // The kernel, a workspace of its own (it must not share avm-abi's
    // feature resolution with the contracts).
    let kernel = build_guest_workspace(&manifest_dir, "kernel", &target_dir.join("kernel"), GUEST_TARGET);
    println!("cargo:rustc-env=AVM_KERNEL_ELF={}", kernel.join("avm-kernel").display());
    // The workloads for wasm32, only when the benches will run them on wasmtime and wasmi.
    if env::var_os("CARGO_FEATURE_WASM_REF").is_some() {
        ensure_target_installed(&rustc, WASM_TARGET);
        let wasm = build_guest_workspace(&manifest_dir, "guest/workloads-wasm", &target_dir.join("wasm"), WASM_TARGET);
        println!("cargo:rustc-env=AVM_WASM_DIR={}", wasm.display());
    }
    // The ABI crate is shared by the host, the kernel and the SDK.
    rerun_if_guest_changed(&manifest_dir.join("abi"));
}

/// Build the guest workspace in `manifest_dir/dir` for `target` into `target_dir`;
/// returns the directory holding what it built (ELF files, or `.wasm` modules).
fn build_guest_workspace(manifest_dir: &Path, dir: &str, target_dir: &Path, target: &str) -> PathBuf {
    let guest_dir = manifest_dir.join(dir);
    rerun_if_guest_changed(&guest_dir);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));

    let mut cmd = Command::new(&cargo);
    cmd.arg("build")
        .arg("--release")
        .arg("--manifest-path")
        .arg(guest_dir.join("Cargo.toml"))
        .arg("--target")
        .arg(target)
        .current_dir(&guest_dir);
    clean_env(&mut cmd);
    cmd.env("CARGO_TARGET_DIR", target_dir);
    cmd.env("RUSTC", &rustc);

    let output = cmd.output().unwrap_or_else(|e| {
        panic!("aVM build.rs: could not run `{}` to build {dir}/: {e}", Path::new(&cargo).display())
    });
    if !output.status.success() {
        panic!(
            "aVM build.rs: building {dir}/ failed ({}).\n\
             command: cargo build --release --manifest-path {} --target {target}\n\
             CARGO_TARGET_DIR={}\n\
             --- inner cargo stderr ---\n{}\n--- inner cargo stdout ---\n{}",
            output.status,
            guest_dir.join("Cargo.toml").display(),
            target_dir.display(),
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout),
        );
    }
    target_dir.join(target).join("release")
}

/// Re-run when anything in `guest/` changes, except a `guest/target` left by building
/// the guest workspace by hand (it would make every host build re-run this script).
fn rerun_if_guest_changed(guest_dir: &Path) {
    println!("cargo:rerun-if-changed={}", guest_dir.display());
    let Ok(entries) = std::fs::read_dir(guest_dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// The host workspace's target directory: the nearest ancestor of `OUT_DIR` that cargo
/// marked with `CACHEDIR.TAG`, else `<manifest dir>/target`.
fn host_target_dir(manifest_dir: &Path) -> PathBuf {
    if let Some(out_dir) = env::var_os("OUT_DIR") {
        let out_dir = PathBuf::from(out_dir);
        if let Some(dir) = out_dir.ancestors().find(|a| a.join("CACHEDIR.TAG").is_file()) {
            return dir.to_path_buf();
        }
        // <target>/[<triple>/]<profile>/build/<pkg>-<hash>/out: the parent of the profile dir.
        if let Some(build) = out_dir.ancestors().find(|a| a.file_name().is_some_and(|n| n == "build")) {
            if let Some(target) = build.parent().and_then(Path::parent) {
                return target.to_path_buf();
            }
        }
    }
    manifest_dir.join("target")
}

/// Makes sure the standard library for `target` is available, installing it with rustup
/// if it is not.
fn ensure_target_installed(rustc: &OsString, target: &str) {
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(sysroot) = &sysroot {
        if sysroot.join("lib/rustlib").join(target).is_dir() {
            return;
        }
    }

    // The toolchain that compiles us, so rustup adds the target to that one.
    let toolchain = sysroot
        .as_deref()
        .filter(|s| s.parent().is_some_and(|p| p.ends_with("toolchains")))
        .and_then(|s| s.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .or_else(|| env::var("RUSTUP_TOOLCHAIN").ok());

    let mut list = Command::new("rustup");
    list.args(["target", "list", "--installed"]);
    if let Some(t) = &toolchain {
        list.args(["--toolchain", t]);
    }
    if let Ok(out) = list.output() {
        if out.status.success() && String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == target) {
            return;
        }
    }

    let mut add = Command::new("rustup");
    add.args(["target", "add", target]);
    if let Some(t) = &toolchain {
        add.args(["--toolchain", t]);
    }
    let hint = format!(
        "aVM needs the Rust standard library for {target} to build its guest code.\n\
         Install it with: rustup target add {target}{}",
        toolchain.as_ref().map(|t| format!(" --toolchain {t}")).unwrap_or_default()
    );
    match add.output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "aVM build.rs: `rustup target add {target}` failed ({}).\n{}\n{hint}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("aVM build.rs: could not run rustup ({e}).\n{hint}"),
    }
}

/// Removes what the outer cargo put in the environment of this build script that would
/// leak into the inner build: flags, wrappers, the jobserver, profile and target overrides,
/// and the build-script variables of this package.
fn clean_env(cmd: &mut Command) {
    const KEEP: &[&str] =
        &["CARGO_HOME", "CARGO_NET_OFFLINE", "CARGO_HTTP_PROXY", "CARGO_REGISTRIES_CRATES_IO_PROTOCOL"];
    const REMOVE: &[&str] = &[
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_LINKER",
        "RUSTDOC",
        "MAKEFLAGS",
        "MFLAGS",
        "OUT_DIR",
        "TARGET",
        "HOST",
        "NUM_JOBS",
        "OPT_LEVEL",
        "DEBUG",
        "PROFILE",
        "RUSTC_BOOTSTRAP",
        "__CARGO_FIX_PLZ",
        "CLIPPY_ARGS",
        "CLIPPY_CONF_DIR",
    ];
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let cargo_var = key.starts_with("CARGO_") && !KEEP.contains(&key);
        if cargo_var || key.starts_with("DEP_") || REMOVE.contains(&key) {
            cmd.env_remove(key);
        }
    }
}
