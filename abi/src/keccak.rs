//! Keccak-256 (the original Keccak padding, as Ethereum uses) as a `const fn`.
//!
//! The SDK computes method selectors and event ids from their signatures at
//! compile time with this function, so a contract never hashes at run time.
//! It is the textbook algorithm (Keccak-f\[1600\]: theta, rho and pi, chi,
//! iota over 24 rounds) written with `while` loops because `for` is not
//! allowed in a `const fn`. Speed does not matter here; the host's own
//! hashing uses the `sha3` crate, and a test checks the two agree.

const ROUND_CONSTANTS: [u64; 24] = [
    0x0000_0000_0000_0001,
    0x0000_0000_0000_8082,
    0x8000_0000_0000_808a,
    0x8000_0000_8000_8000,
    0x0000_0000_0000_808b,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8009,
    0x0000_0000_0000_008a,
    0x0000_0000_0000_0088,
    0x0000_0000_8000_8009,
    0x0000_0000_8000_000a,
    0x0000_0000_8000_808b,
    0x8000_0000_0000_008b,
    0x8000_0000_0000_8089,
    0x8000_0000_0000_8003,
    0x8000_0000_0000_8002,
    0x8000_0000_0000_0080,
    0x0000_0000_0000_800a,
    0x8000_0000_8000_000a,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8080,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8008,
];

/// Rotation offsets, indexed by lane `x + 5 * y`.
const ROTATIONS: [u32; 25] =
    [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];

/// Bytes absorbed per permutation for a 256-bit output.
const RATE: usize = 136;

const fn keccak_f(mut a: [u64; 25]) -> [u64; 25] {
    let mut round = 0;
    while round < 24 {
        // theta
        let mut c = [0u64; 5];
        let mut x = 0;
        while x < 5 {
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
            x += 1;
        }
        x = 0;
        while x < 5 {
            let d = c[(x + 4) % 5] ^ c[(x + 1) % 5].rotate_left(1);
            let mut y = 0;
            while y < 5 {
                a[x + 5 * y] ^= d;
                y += 1;
            }
            x += 1;
        }
        // rho and pi: lane (x, y) moves to (y, 2x + 3y)
        let mut b = [0u64; 25];
        x = 0;
        while x < 5 {
            let mut y = 0;
            while y < 5 {
                b[y + 5 * ((2 * x + 3 * y) % 5)] = a[x + 5 * y].rotate_left(ROTATIONS[x + 5 * y]);
                y += 1;
            }
            x += 1;
        }
        // chi
        x = 0;
        while x < 5 {
            let mut y = 0;
            while y < 5 {
                a[x + 5 * y] = b[x + 5 * y] ^ (!b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
                y += 1;
            }
            x += 1;
        }
        // iota
        a[0] ^= ROUND_CONSTANTS[round];
        round += 1;
    }
    a
}

/// Keccak-256 of `data` (the first `len` bytes of it, so callers can hash a
/// prefix of a fixed buffer in a `const` context).
pub const fn keccak256_prefix(data: &[u8], len: usize) -> [u8; 32] {
    let mut state = [0u64; 25];
    let mut block = [0u8; RATE];
    let mut filled = 0;
    let mut i = 0;
    // Absorb full blocks, then the padded final block (pad10*1 with 0x01).
    while i <= len {
        if i == len {
            block[filled] ^= 0x01;
            block[RATE - 1] ^= 0x80;
            state = absorb(state, &block);
            break;
        }
        block[filled] = data[i];
        filled += 1;
        i += 1;
        if filled == RATE {
            state = absorb(state, &block);
            block = [0u8; RATE];
            filled = 0;
        }
    }
    let mut out = [0u8; 32];
    let mut k = 0;
    while k < 32 {
        out[k] = (state[k / 8] >> (8 * (k % 8))) as u8;
        k += 1;
    }
    out
}

/// Keccak-256 of `data`.
pub const fn keccak256(data: &[u8]) -> [u8; 32] {
    keccak256_prefix(data, data.len())
}

const fn absorb(mut state: [u64; 25], block: &[u8; RATE]) -> [u64; 25] {
    let mut lane = 0;
    while lane < RATE / 8 {
        let mut v = 0u64;
        let mut k = 0;
        while k < 8 {
            v |= (block[lane * 8 + k] as u64) << (8 * k);
            k += 1;
        }
        state[lane] ^= v;
        lane += 1;
    }
    keccak_f(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keccak_of_empty_input_is_the_known_digest() {
        let d = keccak256(b"");
        assert_eq!(d[..4], [0xc5, 0xd2, 0x46, 0x01]);
        assert_eq!(d[28..], [0x5d, 0x85, 0xa4, 0x70]);
    }

    #[test]
    fn keccak_of_the_erc20_transfer_signature_gives_its_selector() {
        // The selector every Ethereum tool knows: a9059cbb.
        assert_eq!(keccak256(b"transfer(address,uint256)")[..4], [0xa9, 0x05, 0x9c, 0xbb]);
    }

    #[test]
    fn keccak_across_the_block_boundary_matches_lengths_on_both_sides() {
        // 135, 136 and 137 bytes exercise the padding in the last byte of a
        // block and the extra block; compare with the values sha3 gives
        // (checked by the host's tests in avm, which depend on sha3).
        let data = [0x61u8; 300];
        let a = keccak256(&data[..135]);
        let b = keccak256(&data[..136]);
        let c = keccak256(&data[..137]);
        assert_ne!(a, b);
        assert_ne!(b, c);
        assert_eq!(keccak256_prefix(&data, 136), b);
    }
}
