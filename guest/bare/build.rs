//! Links every binary of this crate with `link.x` (RAM at 0x8000_0000, `.tohost` page),
//! or with `link-linux.x` when the `linux-user` feature builds the Rust programs as
//! Linux processes for `qemu-riscv32` (see the crate docs).
use std::{env, path::PathBuf};

fn main() {
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let script = if env::var_os("CARGO_FEATURE_LINUX_USER").is_some() { "link-linux.x" } else { "link.x" };
    println!("cargo:rustc-link-search={}", dir.display());
    println!("cargo:rustc-link-arg-bins=-T{script}");
    println!("cargo:rerun-if-changed=link.x");
    println!("cargo:rerun-if-changed=link-linux.x");
    println!("cargo:rerun-if-changed=build.rs");
}
