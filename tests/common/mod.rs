//! The bundled bare-metal programs (built from `guest/bare` by `build.rs`),
//! shared by the integration tests that run them.

#![allow(dead_code)] // each test file uses a different part

pub mod chain;
pub mod contracts;

/// Conformance programs that follow the spec where QEMU does too. The `*_v`
/// programs run the same cases as their namesakes in U-mode under Sv32, as the
/// riscv-tests "v" environment does.
pub const PORTABLE: &[&str] = &[
    "rv32i",
    "rv32m",
    "rv32a",
    "rvc",
    "rv32i_v",
    "rv32m_v",
    "rv32a_v",
    "rvc_v",
    "csr",
    "traps",
    "priv",
    "misaligned",
    "vm",
    "debug",
    "pmp",
];

/// Conformance programs pinning spec choices where QEMU differs (see their sources).
pub const AVM_SPECIFIC: &[&str] = &["avm_specific", "avm_specific_vm", "counters"];

/// Programs that print through the HTIF console; their output is compared
/// with QEMU's by `tests/qemu.rs`.
pub const CONSOLE: &[&str] = &["htif_console", "sieve"];

/// Every conformance program.
pub fn conformance() -> impl Iterator<Item = &'static str> {
    PORTABLE.iter().chain(AVM_SPECIFIC).copied()
}

/// Path of a bundled program.
pub fn path(name: &str) -> String {
    format!("{}/{name}", env!("AVM_GUEST_DIR"))
}

/// The bytes of a bundled program.
pub fn elf(name: &str) -> Vec<u8> {
    let path = path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}
