//! Counts the primes below 10,000,000 with a sieve of Eratosthenes over odd numbers
//! (a 5 MB static byte array) and prints the count on the HTIF console.
//! The sieve runs `ROUNDS` times (about 66 M instructions each, ~200 M in all): a
//! workload that takes well under a second in an interpreter at 400 MIPS.
#![no_std]
#![no_main]

use avm_bare::println;

const N: usize = 10_000_000;
/// How many times the whole sieve is run (each round starts from a cleared array).
const ROUNDS: u32 = 3;
/// `COMPOSITE[i]` stands for the odd number `2 * i + 1`.
static mut COMPOSITE: [u8; N / 2] = [0; N / 2];

fn count_primes() -> u32 {
    // SAFETY: single-threaded program; the only reference to the static.
    let composite = unsafe { &mut *core::ptr::addr_of_mut!(COMPOSITE) };
    composite.fill(0);
    let mut i = 1; // the number 3
    while (2 * i + 1) * (2 * i + 1) < N {
        if composite[i] == 0 {
            let p = 2 * i + 1;
            let mut j = (p * p) / 2;
            while j < N / 2 {
                composite[j] = 1;
                j += p;
            }
        }
        i += 1;
    }
    // 2 is prime; index 0 (the number 1) is not.
    1 + composite[1..].iter().filter(|&&c| c == 0).count() as u32
}

fn main() -> u32 {
    let mut count = 0;
    for _ in 0..ROUNDS {
        count = count_primes();
    }
    println!("sieve: {} primes below {}", count, N);
    if count == 664_579 {
        0
    } else {
        1
    }
}

avm_bare::entry!(main);
