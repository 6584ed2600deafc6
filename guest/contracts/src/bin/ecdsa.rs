//! secp256k1 signature verification, as a contract: Keccak-256 of the
//! message (sha3), then k256's ECDSA verification of a 64-byte `r || s`
//! signature against a 33-byte compressed public key. A malformed or wrong
//! signature or key is `false`, not a revert.
#![no_std]
#![no_main]

use avm_sdk::{contract, Bytes};
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{Signature, VerifyingKey};
use sha3::{Digest, Keccak256};

contract! {
    fn verify(message: Bytes, signature: Bytes, pubkey: Bytes) -> bool {
        let hash = Keccak256::digest(&message.0);
        let Ok(sig) = Signature::from_slice(&signature.0) else { return false };
        let Ok(key) = VerifyingKey::from_sec1_bytes(&pubkey.0) else { return false };
        key.verify_prehash(&hash, &sig).is_ok()
    }

    fn keccak(message: Bytes) -> [u8; 32] {
        Keccak256::digest(&message.0).into()
    }
}
