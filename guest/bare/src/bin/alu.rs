//! Benchmark workload `alu` (see `avm_workloads::alu`): a tight integer loop of adds,
//! xors, shifts and multiplies, 10 M iterations (about 170 M instructions). Prints the
//! checksum and passes if it is the pinned one.
#![no_std]
#![no_main]

use avm_bare::println;
use avm_workloads::alu;
use core::hint::black_box;

fn main() -> u32 {
    let checksum = alu::run(black_box(alu::ITERATIONS), black_box(alu::SEED));
    println!("alu: {} iterations, checksum {:#010x}", alu::ITERATIONS, checksum);
    u32::from(checksum != alu::EXPECTED)
}

avm_bare::entry!(main);
