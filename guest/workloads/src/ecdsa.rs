//! secp256k1 ECDSA verification (the `k256` crate) of a fixed signature, as an Ethereum
//! node checks a transaction: Keccak-256 of the message, parse the compressed public key
//! (a field square root) and the signature, verify. The key pair and signature were made
//! natively from [`SECRET_KEY`]; a test re-signs and checks them, and the guest only
//! verifies. Every run also checks that a tampered message is rejected, so an engine
//! that mis-executes the curve arithmetic cannot pass by accident.

use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{Signature, VerifyingKey};
use sha3::{Digest, Keccak256};

/// Verifications of the benchmark run.
pub const ROUNDS: u32 = 20;
/// `run(ROUNDS)`: every verification passes, and so does the tampered-message check.
pub const EXPECTED: u32 = ROUNDS + 1;

/// The signed message.
pub const MESSAGE: &[u8] = b"aVM ecdsa workload: transfer 1000 wei from alice to bob, nonce 7";
/// The secret key the constants below come from (only the tests use it).
pub const SECRET_KEY: [u8; 32] = [
    0x3f, 0xeb, 0x37, 0x00, 0x07, 0x56, 0xf9, 0xda, 0x02, 0x40, 0x9a, 0x44, 0xfd, 0xef, 0x1b, 0xa2, 0x54, 0x49, 0xc2,
    0x5a, 0x71, 0xfc, 0xb1, 0xf0, 0x18, 0x0a, 0x53, 0xdd, 0x70, 0xb6, 0x78, 0x9d,
];
/// SEC1 compressed public key of [`SECRET_KEY`].
pub const PUBLIC_KEY: [u8; 33] = [
    0x03, 0x79, 0xa2, 0x74, 0x02, 0x61, 0xfe, 0x81, 0x61, 0x7e, 0x3f, 0xa3, 0x6f, 0x0b, 0xde, 0x72, 0x8c, 0xcc, 0x3d,
    0x8c, 0xa5, 0x9a, 0x30, 0xd7, 0xc1, 0x53, 0x04, 0x6e, 0x95, 0xa7, 0x6f, 0x15, 0x4a,
];
/// `r || s` (low-s) signature of Keccak-256([`MESSAGE`]) by [`SECRET_KEY`], RFC 6979 nonce.
pub const SIGNATURE: [u8; 64] = [
    0x79, 0xe0, 0x20, 0xec, 0x0c, 0x11, 0x62, 0x7d, 0x08, 0xdc, 0x59, 0xae, 0x93, 0x59, 0x69, 0x97, 0x3e, 0xf3, 0x68,
    0x9e, 0x31, 0x5a, 0x67, 0x48, 0xd2, 0x42, 0x7e, 0x55, 0x20, 0x23, 0x8f, 0x0f, 0x23, 0x50, 0xb8, 0x08, 0xbf, 0x2f,
    0xbe, 0xa3, 0xde, 0x24, 0x0a, 0x89, 0xf6, 0x8e, 0xc1, 0x54, 0x51, 0x40, 0x75, 0x4d, 0x33, 0x88, 0xfb, 0x82, 0xc7,
    0x42, 0xa6, 0xe6, 0x83, 0x30, 0x1a, 0x5c,
];

/// Hashes `message` with Keccak-256 and checks `signature` (`r || s`) against the SEC1
/// `public_key`. Any malformed input is simply "not valid".
pub fn verify(message: &[u8], public_key: &[u8], signature: &[u8]) -> bool {
    let hash = Keccak256::digest(message);
    let Ok(key) = VerifyingKey::from_sec1_bytes(public_key) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(signature) else {
        return false;
    };
    key.verify_prehash(&hash, &sig).is_ok()
}

/// Verifies the fixed signature `rounds` times, then checks once that a message with
/// one flipped bit fails. Returns the number of correct outcomes (`rounds + 1` when
/// everything is right).
pub fn run(rounds: u32) -> u32 {
    let mut correct = 0;
    for _ in 0..rounds {
        correct += u32::from(verify(MESSAGE, &PUBLIC_KEY, &SIGNATURE));
    }
    let mut tampered = [0u8; MESSAGE.len()];
    tampered.copy_from_slice(MESSAGE);
    tampered[0] ^= 1;
    correct += u32::from(!verify(&tampered, &PUBLIC_KEY, &SIGNATURE));
    correct
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::signature::hazmat::PrehashSigner;
    use k256::ecdsa::SigningKey;

    #[test]
    fn constants_come_from_the_secret_key() {
        let key = SigningKey::from_slice(&SECRET_KEY).unwrap();
        let public = key.verifying_key().to_encoded_point(true);
        let hash = Keccak256::digest(MESSAGE);
        let sig: Signature = key.sign_prehash(&hash).unwrap();
        assert_eq!(public.as_bytes(), PUBLIC_KEY);
        assert_eq!(sig.to_bytes()[..], SIGNATURE);
    }

    #[test]
    fn result_is_pinned() {
        assert_eq!(run(ROUNDS), EXPECTED);
    }
}
