//! Shared helpers of the bundled contracts: 256-bit-safe `a * b / c` and an
//! integer square root, as the DEX needs them, and ECDSA verification in
//! variable time for the ecdsa contract ([`secp256k1`]).
#![no_std]

pub use avm_secp256k1 as secp256k1;

/// `a * b / c` rounded down, computed without overflow in between; `None`
/// if `c` is zero or the result does not fit a `u128`.
pub fn mul_div(a: u128, b: u128, c: u128) -> Option<u128> {
    if c == 0 {
        return None;
    }
    if let Some(p) = a.checked_mul(b) {
        return Some(p / c);
    }
    let (hi, lo) = full_mul(a, b);
    if hi >= c {
        return None;
    }
    // Long division of the 256-bit (hi, lo) by c, one bit at a time.
    let (mut rem, mut quo) = (hi, 0u128);
    for i in (0..128).rev() {
        let carry = rem >> 127;
        rem = rem << 1 | (lo >> i) & 1;
        quo <<= 1;
        if carry == 1 || rem >= c {
            rem = rem.wrapping_sub(c);
            quo |= 1;
        }
    }
    Some(quo)
}

/// The 256-bit product of two `u128`s as (high, low) halves.
pub fn full_mul(a: u128, b: u128) -> (u128, u128) {
    const M: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & M);
    let (b1, b0) = (b >> 64, b & M);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 64) + (p01 & M) + (p10 & M);
    let lo = (p00 & M) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

/// `floor(sqrt(a * b))` for the full 256-bit product.
pub fn sqrt_of_product(a: u128, b: u128) -> u128 {
    let (hi, lo) = full_mul(a, b);
    // Bit-by-bit square root: the result has at most 128 bits.
    let mut root = 0u128;
    for bit in (0..128).rev() {
        let candidate = root | 1 << bit;
        let (sh, sl) = full_mul(candidate, candidate);
        if (sh, sl) <= (hi, lo) {
            root = candidate;
        }
    }
    root
}
