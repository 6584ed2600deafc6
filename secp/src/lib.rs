//! # avm-secp256k1: ECDSA verification and key recovery in variable time
//!
//! Two places in aVM check secp256k1 signatures: the `ecdsa` contract, inside
//! the guest, and the host, which recovers the sender of every transaction.
//! Both only ever handle public data (signatures, hashes, public keys), so
//! both can use variable-time arithmetic, and both use this crate.
//!
//! k256's `verify_prehash` computes `u1·G + u2·Q` with its constant-time
//! linear combination: every window reads every table entry through masks,
//! and the tables are copied on each step. A signature check handles only
//! public data, so none of that is needed here. This module does the same
//! verification with the same arithmetic (k256's field, points and scalars)
//! but in variable time:
//!
//! - both scalars are split with the GLV endomorphism `λ·(x, y) = (β·x, y)`
//!   into halves of about 128 bits (`k = r1 + r2·λ`), so the four half
//!   products share 129 doublings instead of 256;
//! - each half is written in width-5 NAF (odd digits in -15..=15, at least
//!   four zeros after each nonzero digit), so one window in five adds a point
//!   from a table of the odd multiples `P, 3P, .., 15P`, indexed directly.
//!
//! The result is exactly k256's: the same checks on `r` and `s` (nonzero,
//! below the group order, `s` low), the same `x(R) mod n == r` test. The tests
//! compare it with k256 on many signatures, valid and not.
//!
//! [`recover_prehash`] recovers the public key from a signature and its
//! recovery id with the same linear combination: `Q = r⁻¹·(s·R − z·G)`,
//! where `R` is the curve point whose x-coordinate is `r`. k256's own
//! `recover_from_prehash` uses constant-time arithmetic and then verifies
//! the signature once more with the recovered key, which costs a second
//! scalar multiplication; the recovered key satisfies the signature equation
//! by construction, so this one does not.
#![no_std]
#![forbid(unsafe_code)]

use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use k256::elliptic_curve::bigint::{CheckedAdd, Encoding};
use k256::elliptic_curve::ops::{Invert, Reduce};
use k256::elliptic_curve::point::AffineCoordinates;
use k256::elliptic_curve::point::DecompressPoint;
use k256::elliptic_curve::scalar::IsHigh;
use k256::elliptic_curve::Curve;
use k256::elliptic_curve::PrimeField;
use k256::{AffinePoint, Secp256k1};
use k256::{FieldBytes, ProjectivePoint, Scalar, U256};

/// NAF width: digits are odd and below `2^(W-1)` in absolute value.
const W: u32 = 5;
/// Table size: the odd multiples `1, 3, .., 2^(W-1) - 1` of a point.
const TABLE: usize = 1 << (W - 2);
/// Most NAF digits of a number below 2^(32 * LIMBS).
const DIGITS: usize = 32 * LIMBS + 1;
/// Limbs of the numbers written in NAF (the GLV halves are ~129 bits, but
/// nothing below depends on that bound).
const LIMBS: usize = 9;

/// `-λ mod n`, `-b1`, `-b2`, `g1`, `g2`: the GLV constants of libsecp256k1
/// (and k256's `mul.rs`), big-endian.
const MINUS_LAMBDA: [u8; 32] = [
    0xac, 0x9c, 0x52, 0xb3, 0x3f, 0xa3, 0xcf, 0x1f, 0x5a, 0xd9, 0xe3, 0xfd, 0x77, 0xed, 0x9b, 0xa4, 0xa8, 0x80, 0xb9,
    0xfc, 0x8e, 0xc7, 0x39, 0xc2, 0xe0, 0xcf, 0xc8, 0x10, 0xb5, 0x12, 0x83, 0xcf,
];
const MINUS_B1: [u8; 32] = [
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe4, 0x43, 0x7e,
    0xd6, 0x01, 0x0e, 0x88, 0x28, 0x6f, 0x54, 0x7f, 0xa9, 0x0a, 0xbf, 0xe4, 0xc3,
];
const MINUS_B2: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x8a, 0x28, 0x0a,
    0xc5, 0x07, 0x74, 0x34, 0x6d, 0xd7, 0x65, 0xcd, 0xa8, 0x3d, 0xb1, 0x56, 0x2c,
];
const G1: [u8; 32] = [
    0x30, 0x86, 0xd2, 0x21, 0xa7, 0xd4, 0x6b, 0xcd, 0xe8, 0x6c, 0x90, 0xe4, 0x92, 0x84, 0xeb, 0x15, 0x3d, 0xaa, 0x8a,
    0x14, 0x71, 0xe8, 0xca, 0x7f, 0xe8, 0x93, 0x20, 0x9a, 0x45, 0xdb, 0xb0, 0x31,
];
const G2: [u8; 32] = [
    0xe4, 0x43, 0x7e, 0xd6, 0x01, 0x0e, 0x88, 0x28, 0x6f, 0x54, 0x7f, 0xa9, 0x0a, 0xbf, 0xe4, 0xc4, 0x22, 0x12, 0x08,
    0xac, 0x9d, 0xf5, 0x06, 0xc6, 0x15, 0x71, 0xb4, 0xae, 0x8a, 0xc4, 0x7f, 0x71,
];

/// Verify `signature` over the 32-byte `prehash` with `key`, as k256's
/// `PrehashVerifier::verify_prehash` does, in variable time.
pub fn verify_prehash(key: &VerifyingKey, prehash: &[u8; 32], signature: &Signature) -> bool {
    if bool::from(signature.s().is_high()) {
        return false;
    }
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*prehash));
    let (r, s) = signature.split_scalars();
    let s: &Scalar = &s;
    let Some(s_inv) = Option::<Scalar>::from(s.invert_vartime()) else {
        return false;
    };
    let u1 = z * s_inv;
    let u2 = *r * s_inv;
    let q = ProjectivePoint::from(*key.as_affine());
    let point = lincomb(&ProjectivePoint::GENERATOR, &u1, &q, &u2);
    let x = point.to_affine().x();
    <Scalar as Reduce<U256>>::reduce_bytes(&x) == *r
}

/// The public key that made `signature` over the 32-byte `prehash`, given
/// the signature's recovery id; `None` if there is none (an `r` that is not
/// the x-coordinate of a curve point, a zero scalar, a high `s`).
pub fn recover_prehash(prehash: &[u8; 32], signature: &Signature, recovery_id: RecoveryId) -> Option<VerifyingKey> {
    if bool::from(signature.s().is_high()) {
        return None;
    }
    let (r, s) = signature.split_scalars();
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*prehash));
    // R's x-coordinate is r, or r + n when the recovery id says x was reduced.
    let mut x = r.to_repr();
    if recovery_id.is_x_reduced() {
        let restored = Option::<U256>::from(U256::from_be_slice(&x).checked_add(&Secp256k1::ORDER))?;
        x = FieldBytes::from(restored.to_be_bytes());
    }
    let big_r = Option::<AffinePoint>::from(AffinePoint::decompress(&x, u8::from(recovery_id.is_y_odd()).into()))?;
    let r_scalar: &Scalar = &r;
    let r_inv = Option::<Scalar>::from(r_scalar.invert_vartime())?;
    let u1 = -(r_inv * z);
    let u2 = r_inv * *s;
    let q = lincomb(&ProjectivePoint::GENERATOR, &u1, &ProjectivePoint::from(big_r), &u2);
    VerifyingKey::from_affine(q.to_affine()).ok()
}

/// `a·p + b·q`, in variable time.
pub fn lincomb(p: &ProjectivePoint, a: &Scalar, q: &ProjectivePoint, b: &Scalar) -> ProjectivePoint {
    let (a1, a2) = decompose(a);
    let (b1, b2) = decompose(b);
    let tp = odd_multiples(p);
    let tq = odd_multiples(q);
    let (tp_beta, tq_beta) = (tp.map(|t| t.endomorphism()), tq.map(|t| t.endomorphism()));
    let parts = [(naf(&a1), &tp), (naf(&a2), &tp_beta), (naf(&b1), &tq), (naf(&b2), &tq_beta)];
    let top = parts.iter().map(|(n, _)| n.len).max().unwrap_or(0);
    let mut acc = ProjectivePoint::IDENTITY;
    let mut started = false;
    for i in (0..top).rev() {
        if started {
            acc = acc.double();
        }
        for (naf, table) in &parts {
            let d = naf.digits[i];
            if d == 0 {
                continue;
            }
            let entry = &table[usize::from(d.unsigned_abs() / 2)];
            if (d < 0) != naf.negate {
                acc -= entry;
            } else {
                acc += entry;
            }
            started = true;
        }
    }
    acc
}

/// `P, 3P, 5P, .., 15P`.
fn odd_multiples(p: &ProjectivePoint) -> [ProjectivePoint; TABLE] {
    let twice = p.double();
    let mut t = [*p; TABLE];
    for i in 1..TABLE {
        t[i] = t[i - 1] + twice;
    }
    t
}

/// A number's width-W NAF, and whether the number stands for its negation.
struct Naf {
    digits: [i8; DIGITS],
    len: usize,
    negate: bool,
}

/// A scalar as a signed number of about 128 bits: `k` if it is low, else
/// `-(n - k)`.
fn naf(k: &Scalar) -> Naf {
    let negate = bool::from(k.is_high());
    let k = if negate { -*k } else { *k };
    let bytes = k.to_bytes();
    let mut limbs = [0u32; LIMBS];
    for (i, chunk) in bytes.rchunks(4).enumerate() {
        limbs[i] = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    let mut out = Naf { digits: [0; DIGITS], len: 0, negate };
    let mut i = 0;
    while limbs.iter().any(|&l| l != 0) {
        if limbs[0] & 1 == 1 {
            let mut d = (limbs[0] & ((1 << W) - 1)) as i32;
            if d >= 1 << (W - 1) {
                d -= 1 << W;
            }
            // k -= d: d's low W bits equal k's, so this clears them.
            if d > 0 {
                sub_small(&mut limbs, d as u32);
            } else {
                add_small(&mut limbs, d.unsigned_abs());
            }
            out.digits[i] = d as i8;
            out.len = i + 1;
        }
        shr1(&mut limbs);
        i += 1;
    }
    out
}

fn sub_small(limbs: &mut [u32; LIMBS], v: u32) {
    let mut borrow = v;
    for l in limbs.iter_mut() {
        let (r, b) = l.overflowing_sub(borrow);
        *l = r;
        if !b {
            return;
        }
        borrow = 1;
    }
}

fn add_small(limbs: &mut [u32; LIMBS], v: u32) {
    let mut carry = v;
    for l in limbs.iter_mut() {
        let (r, c) = l.overflowing_add(carry);
        *l = r;
        if !c {
            return;
        }
        carry = 1;
    }
}

fn shr1(limbs: &mut [u32; LIMBS]) {
    for i in 0..LIMBS {
        let high = if i + 1 < LIMBS { limbs[i + 1] << 31 } else { 0 };
        limbs[i] = limbs[i] >> 1 | high;
    }
}

fn scalar(bytes: &[u8; 32]) -> Scalar {
    <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*bytes))
}

/// `k = r1 + r2·λ (mod n)` with `r1`, `r2` about 128 bits in absolute
/// value (libsecp256k1's `scalar_split_lambda`).
fn decompose(k: &Scalar) -> (Scalar, Scalar) {
    let c1 = mul_shift_384(k, &G1) * scalar(&MINUS_B1);
    let c2 = mul_shift_384(k, &G2) * scalar(&MINUS_B2);
    let r2 = c1 + c2;
    let r1 = *k + r2 * scalar(&MINUS_LAMBDA);
    (r1, r2)
}

/// `round(k·g / 2^384)` of the full 512-bit product.
fn mul_shift_384(k: &Scalar, g: &[u8; 32]) -> Scalar {
    let a = words(&k.to_bytes());
    let b = words(g);
    let mut product = [0u32; 16];
    for i in 0..8 {
        let mut carry = 0u64;
        for j in 0..8 {
            let t = u64::from(a[i]) * u64::from(b[j]) + u64::from(product[i + j]) + carry;
            product[i + j] = t as u32;
            carry = t >> 32;
        }
        product[i + 8] = carry as u32;
    }
    let round = product[11] >> 31;
    let mut out = [0u8; 32];
    for (i, w) in product[12..].iter().enumerate() {
        out[32 - 4 * (i + 1)..32 - 4 * i].copy_from_slice(&w.to_be_bytes());
    }
    // The high 128 bits plus the rounding bit cannot reach n.
    let shifted = Option::<Scalar>::from(Scalar::from_repr(out.into())).unwrap_or(Scalar::ZERO);
    shifted + Scalar::from(u64::from(round))
}

/// Little-endian 32-bit words of a big-endian 256-bit number.
fn words(bytes: &[u8]) -> [u32; 8] {
    let mut w = [0u32; 8];
    for (i, chunk) in bytes.rchunks(4).enumerate() {
        w[i] = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    w
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use k256::ecdsa::SigningKey;
    use sha3::{Digest, Keccak256};

    fn keys_and_hashes(n: u8) -> impl Iterator<Item = (SigningKey, [u8; 32])> {
        (1..=n).map(|i| {
            let secret: [u8; 32] = Keccak256::digest([i, 0x5a]).into();
            let key = SigningKey::from_slice(&secret).expect("a hash is a valid key");
            (key, Keccak256::digest([i, 0xa5, i]).into())
        })
    }

    #[test]
    fn recovery_finds_the_signing_key_as_k256_does() {
        for (key, hash) in keys_and_hashes(64) {
            let (sig, id) = key.sign_prehash_recoverable(&hash).expect("sign");
            let (sig, id) = match sig.normalize_s() {
                Some(low) => (low, RecoveryId::new(!id.is_y_odd(), id.is_x_reduced())),
                None => (sig, id),
            };
            let ours = recover_prehash(&hash, &sig, id).expect("recovers");
            assert_eq!(&ours, key.verifying_key());
            assert_eq!(Some(ours), VerifyingKey::recover_from_prehash(&hash, &sig, id).ok());
            // The other parity gives another key (or none), never the signer.
            let flipped = RecoveryId::new(!id.is_y_odd(), id.is_x_reduced());
            assert_ne!(recover_prehash(&hash, &sig, flipped).as_ref(), Some(key.verifying_key()));
        }
    }

    #[test]
    fn verification_agrees_with_k256_on_good_and_tampered_signatures() {
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        for (key, hash) in keys_and_hashes(32) {
            let (sig, _) = key.sign_prehash_recoverable(&hash).expect("sign");
            let sig = sig.normalize_s().unwrap_or(sig);
            let vk = key.verifying_key();
            assert!(verify_prehash(vk, &hash, &sig));
            let mut bad = hash;
            bad[0] ^= 1;
            assert_eq!(verify_prehash(vk, &bad, &sig), vk.verify_prehash(&bad, &sig).is_ok());
            assert!(!verify_prehash(vk, &bad, &sig));
        }
    }
}
