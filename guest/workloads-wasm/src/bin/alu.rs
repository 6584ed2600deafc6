//! Workload `alu` as a wasm module (see `guest/bare/src/bin/alu.rs`): `run` returns 1 if
//! the checksum is the pinned one.
#![no_std]
#![no_main]

use avm_workloads::alu;
use avm_workloads_wasm as _;
use core::hint::black_box;

/// `alu::run(ITERATIONS, SEED) == EXPECTED`.
#[no_mangle]
pub extern "C" fn run() -> u32 {
    u32::from(alu::run(black_box(alu::ITERATIONS), black_box(alu::SEED)) == alu::EXPECTED)
}
