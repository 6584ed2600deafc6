//! Workload `keccak` as a wasm module (see `guest/bare/src/bin/keccak.rs`): `run` returns
//! 1 if the last digest is the pinned one.
#![no_std]
#![no_main]

use avm_workloads::keccak;
use avm_workloads_wasm as _;
use core::hint::black_box;

/// `keccak::run(ROUNDS) == EXPECTED`.
#[no_mangle]
pub extern "C" fn run() -> u32 {
    u32::from(keccak::run(black_box(keccak::ROUNDS)) == keccak::EXPECTED)
}
