//! Benchmark workload `keccak` (see `avm_workloads::keccak`): Keccak-256 of a 1 KiB
//! buffer, chained 1,200 times with the `sha3` crate. Prints the start of the last
//! digest and passes if the digest is the pinned one.
#![no_std]
#![no_main]

use avm_bare::println;
use avm_workloads::keccak;
use core::hint::black_box;

fn main() -> u32 {
    let digest = keccak::run(black_box(keccak::ROUNDS));
    println!(
        "keccak: {} x keccak256({} bytes), last digest {:02x}{:02x}{:02x}{:02x}...",
        keccak::ROUNDS,
        keccak::BUFFER_LEN,
        digest[0],
        digest[1],
        digest[2],
        digest[3]
    );
    u32::from(digest != keccak::EXPECTED)
}

avm_bare::entry!(main);
