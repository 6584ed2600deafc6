//! # Benchmark workloads, one body for every engine
//!
//! A VM benchmark only means something next to a baseline: the same work done by the
//! interpreter, by the JIT and by the host CPU. This crate is that work, written once as
//! plain `no_std` Rust with no allocator, so it compiles both for
//! `riscv32imac-unknown-none-elf` (the bins `alu`, `keccak`, `ecdsa` in `guest/bare`
//! call it and report the result over HTIF, or, built with `guest/bare`'s `linux-user`
//! feature, through Linux system calls under `qemu-riscv32`) and for the host
//! (`benches/engines.rs` and `examples/native_workload.rs` call it directly for the
//! `native` column; `examples/side_by_side` sets all of them beside each other).
//!
//! Each module is one workload with fixed parameters (`ITERATIONS`/`ROUNDS`), a `run`
//! function that takes them as arguments (so a caller can hide them behind
//! `black_box`), and the expected result, pinned so a wrong engine cannot look fast:
//!
//! - [`alu`]: a tight integer loop of adds, xors, shifts and multiplies;
//! - [`sieve`]: the sieve of Eratosthenes of `guest/bare/src/bin/sieve.rs`, over a
//!   caller-provided array;
//! - [`keccak`]: Keccak-256 (the `sha3` crate) of a 1 KiB buffer, chained many times;
//! - [`ecdsa`]: secp256k1 ECDSA verification (the `k256` crate) of a fixed signature
//!   over a Keccak-256 message hash, as an Ethereum transaction check does.
//!
//! Sizes are chosen so the reference interpreter needs a fraction of a second for each.
//! The same source does not mean the same machine code: on the 64-bit host, `k256`
//! uses its 5×52-bit field backend, on RV32 the 10×26-bit one.
#![no_std]
#![forbid(unsafe_code)]

pub mod alu;
pub mod ecdsa;
pub mod keccak;
pub mod sieve;
