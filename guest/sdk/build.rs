//! Puts the contract linker script `avm-contract.x` on the linker's search
//! path of every crate that depends on the SDK. A contract crate's own build
//! script adds `-Tavm-contract.x` (see `avm new`'s template).
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let src = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR")).join("avm-contract.x");
    fs::copy(&src, out.join("avm-contract.x")).expect("copy avm-contract.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=avm-contract.x");
    println!("cargo:rerun-if-changed=build.rs");
}
