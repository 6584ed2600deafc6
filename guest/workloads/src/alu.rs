//! A tight integer loop: add, xor, shift (and shift-built rotates) and multiply on
//! three loop-carried values, with no memory traffic. About 17 RV32 instructions per
//! iteration (170 M for the benchmark run), so it measures raw dispatch and ALU cost of an engine.

/// Loop iterations of the benchmark run.
pub const ITERATIONS: u32 = 10_000_000;
/// Starting value of the first accumulator.
pub const SEED: u32 = 0x1234_5678;
/// `run(ITERATIONS, SEED)`.
pub const EXPECTED: u32 = 0x62130bbf;

/// Mixes `iterations` rounds of integer arithmetic into a 32-bit checksum.
pub fn run(iterations: u32, seed: u32) -> u32 {
    let mut a = seed;
    let mut b: u32 = 0x9e37_79b9;
    let mut c: u32 = 0x85eb_ca6b;
    for i in 0..iterations {
        a = a.wrapping_add(b ^ i);
        b ^= a.rotate_left(7);
        c = c.wrapping_mul(a | 1).wrapping_add(b >> 3);
        b = b.wrapping_sub(c >> 11);
        a ^= c << 5;
    }
    a ^ b ^ c
}

#[cfg(test)]
mod tests {
    #[test]
    fn checksum_is_pinned() {
        assert_eq!(super::run(super::ITERATIONS, super::SEED), super::EXPECTED);
    }
}
