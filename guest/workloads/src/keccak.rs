//! Keccak-256 (the Ethereum hash, via the `sha3` crate) of a 1 KiB buffer, many times.
//! Each round writes the previous digest into the head of the buffer, so no round can be
//! skipped or hoisted. 1 KiB is 8 `Keccak-f[1600]` permutations per hash (rate 136 bytes);
//! on RV32 each 64-bit lane operation becomes a pair of 32-bit ones.

use sha3::{Digest, Keccak256};

/// Bytes hashed per round.
pub const BUFFER_LEN: usize = 1024;
/// Hashes of the benchmark run.
pub const ROUNDS: u32 = 1_200;
/// `run(ROUNDS)`.
pub const EXPECTED: [u8; 32] = [
    0x27, 0x64, 0x2d, 0x73, 0x9c, 0xd9, 0x37, 0xf0, 0x84, 0x4b, 0x08, 0xad, 0xc5, 0x52, 0xd4, 0xa9, 0x79, 0xc0, 0x07,
    0x13, 0x65, 0x4d, 0xd1, 0x82, 0x10, 0x6f, 0xaf, 0xf7, 0x8d, 0xdb, 0x8a, 0x74,
];

/// Hashes a deterministic 1 KiB buffer `rounds` times, chaining each digest into the
/// next buffer, and returns the last digest.
pub fn run(rounds: u32) -> [u8; 32] {
    let mut buf = [0u8; BUFFER_LEN];
    for (i, b) in buf.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(7);
    }
    let mut digest = [0u8; 32];
    for _ in 0..rounds {
        buf[..32].copy_from_slice(&digest);
        digest = Keccak256::digest(buf).into();
    }
    digest
}

#[cfg(test)]
mod tests {
    use sha3::{Digest, Keccak256};

    #[test]
    fn keccak256_of_empty_input() {
        // The well-known Keccak-256 of "" (Ethereum's empty code hash).
        let d: [u8; 32] = Keccak256::digest(b"").into();
        assert_eq!(d[..4], [0xc5, 0xd2, 0x46, 0x01]);
        assert_eq!(d[28..], [0x5d, 0x85, 0xa4, 0x70]);
    }

    #[test]
    fn digest_is_pinned() {
        assert_eq!(super::run(super::ROUNDS), super::EXPECTED);
    }
}
