//! Workload `sieve` as a wasm module: `avm_workloads::sieve` (the code of the `native`
//! column; `guest/bare/src/bin/sieve.rs` keeps its own copy of the same algorithm).
//! `run` returns 1 if the prime count is the pinned one. The array is a zeroed static,
//! as in the guest program: 5 MB of linear memory (a wasm stack is 1 MiB).
#![no_std]
#![no_main]

use avm_workloads::sieve;
use avm_workloads_wasm as _;
use core::hint::black_box;

/// `COMPOSITE[i]` stands for the odd number `2 * i + 1`.
static mut COMPOSITE: [u8; sieve::ARRAY_LEN] = [0; sieve::ARRAY_LEN];

/// `sieve::run(COMPOSITE, ROUNDS) == EXPECTED`.
#[no_mangle]
pub extern "C" fn run() -> u32 {
    // SAFETY: a wasm instance runs one call at a time on one thread, and this is the
    // only place that takes a reference to the static, so the reference is unique.
    let composite = unsafe { &mut *core::ptr::addr_of_mut!(COMPOSITE) };
    u32::from(sieve::run(black_box(composite), black_box(sieve::ROUNDS)) == sieve::EXPECTED)
}
