//! The sieve of Eratosthenes over odd numbers, the same algorithm and sizes as
//! `guest/bare/src/bin/sieve.rs` (which keeps its own copy over a static array), so the
//! benches have a native baseline for the `sieve` guest program.

/// Count the primes below this number.
pub const N: usize = 10_000_000;
/// How many times the whole sieve runs (each round clears the array first).
pub const ROUNDS: u32 = 3;
/// Bytes of the array `count_primes` needs: one per odd number below [`N`].
pub const ARRAY_LEN: usize = N / 2;
/// The number of primes below [`N`].
pub const EXPECTED: u32 = 664_579;

/// Counts the primes below `2 * composite.len()`; `composite[i]` stands for `2 * i + 1`.
pub fn count_primes(composite: &mut [u8]) -> u32 {
    let half = composite.len();
    let n = 2 * half;
    composite.fill(0);
    let mut i = 1; // the number 3
    while (2 * i + 1) * (2 * i + 1) < n {
        if composite[i] == 0 {
            let p = 2 * i + 1;
            let mut j = (p * p) / 2;
            while j < half {
                composite[j] = 1;
                j += p;
            }
        }
        i += 1;
    }
    // 2 is prime; index 0 (the number 1) is not.
    1 + composite[1..].iter().filter(|&&c| c == 0).count() as u32
}

/// Runs the sieve `rounds` times over `composite` and returns the last count.
pub fn run(composite: &mut [u8], rounds: u32) -> u32 {
    let mut count = 0;
    for _ in 0..rounds {
        count = count_primes(composite);
    }
    count
}
