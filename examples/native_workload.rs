//! Runs one benchmark workload once, natively (the `native` column of
//! `benches/engines.rs`), and checks its result.
//!
//! It exists to count the host instructions the native build executes, which
//! the guest's `instret` can be set beside: how much of "JIT time / native
//! time" is the ISA (RV32 has no 64-bit registers, multiplies or rotates, so
//! the same Rust code needs more instructions) rather than the JIT. On a machine
//! without hardware counters:
//!
//! ```text
//! cargo build --release --example native_workload
//! valgrind --tool=lackey --basic-counts=yes target/release/examples/native_workload ecdsa
//! ```
//!
//! `none` runs nothing, which measures the process's own start-up.

use std::hint::black_box;
use std::process::ExitCode;

use avm_workloads::{alu, ecdsa, keccak, sieve};

fn main() -> ExitCode {
    let name = std::env::args().nth(1).unwrap_or_default();
    let ok = match name.as_str() {
        "alu" => alu::run(black_box(alu::ITERATIONS), black_box(alu::SEED)) == alu::EXPECTED,
        "sieve" => {
            let mut composite = vec![0u8; sieve::ARRAY_LEN];
            sieve::run(black_box(&mut composite), black_box(sieve::ROUNDS)) == sieve::EXPECTED
        }
        "keccak" => keccak::run(black_box(keccak::ROUNDS)) == keccak::EXPECTED,
        "ecdsa" => ecdsa::run(black_box(ecdsa::ROUNDS)) == ecdsa::EXPECTED,
        "none" => true,
        _ => {
            eprintln!("usage: native_workload <alu|sieve|keccak|ecdsa|none>");
            return ExitCode::from(2);
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        eprintln!("{name}: wrong result");
        ExitCode::FAILURE
    }
}
