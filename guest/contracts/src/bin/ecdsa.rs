//! secp256k1 signature verification, as a contract: Keccak-256 of the
//! message (sha3), then k256's ECDSA verification of a 64-byte `r || s`
//! signature against a 33-byte compressed public key. A malformed or wrong
//! signature or key is `false`, not a revert. The check is k256's, done in
//! variable time (`avm_contracts::secp256k1`): a signature is public, and
//! k256's constant-time combination costs about a third more instructions.
#![no_std]
#![no_main]

use avm_contracts::secp256k1::verify_prehash;
use avm_sdk::{contract, Bytes};
use k256::ecdsa::{Signature, VerifyingKey};
use sha3::{Digest, Keccak256};

contract! {
    fn verify(message: Bytes, signature: Bytes, pubkey: Bytes) -> bool {
        let hash: [u8; 32] = Keccak256::digest(&message.0).into();
        let Ok(sig) = Signature::from_slice(&signature.0) else { return false };
        let Ok(key) = VerifyingKey::from_sec1_bytes(&pubkey.0) else { return false };
        verify_prehash(&key, &hash, &sig)
    }

    fn keccak(message: Bytes) -> [u8; 32] {
        Keccak256::digest(&message.0).into()
    }
}
