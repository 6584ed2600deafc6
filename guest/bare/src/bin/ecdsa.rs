//! Benchmark workload `ecdsa` (see `avm_workloads::ecdsa`): secp256k1 ECDSA verification
//! of a fixed signature over a Keccak-256 message hash with the `k256` crate, repeated
//! `ROUNDS` times, plus one tampered message that must be rejected. Passes if every
//! outcome is right.
#![no_std]
#![no_main]

use avm_bare::println;
use avm_workloads::ecdsa;
use core::hint::black_box;

fn main() -> u32 {
    let correct = ecdsa::run(black_box(ecdsa::ROUNDS));
    println!("ecdsa: {} secp256k1 verifications + 1 rejection, {}/{} correct", ecdsa::ROUNDS, correct, ecdsa::EXPECTED);
    u32::from(correct != ecdsa::EXPECTED)
}

avm_bare::entry!(main);
