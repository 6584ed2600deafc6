//! Workload `ecdsa` as a wasm module (see `guest/bare/src/bin/ecdsa.rs`): `run` returns 1
//! if every verification outcome is right.
#![no_std]
#![no_main]

use avm_workloads::ecdsa;
use avm_workloads_wasm as _;
use core::hint::black_box;

/// `ecdsa::run(ROUNDS) == EXPECTED`.
#[no_mangle]
pub extern "C" fn run() -> u32 {
    u32::from(ecdsa::run(black_box(ecdsa::ROUNDS)) == ecdsa::EXPECTED)
}
