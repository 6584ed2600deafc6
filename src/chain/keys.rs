//! Development keys: a secp256k1 key derived from a name.
//!
//! `avm init` and scenario files name accounts (`alice`, `bob`). Their keys
//! are derived deterministically, `keccak256("avm dev key: " ++ name)` as the
//! secret scalar, so a scenario is reproducible anywhere. These keys are
//! public knowledge: for development chains only.

use avm_state::k256::ecdsa::SigningKey;
use avm_state::{keccak256, Address};

/// The development key of `name`.
pub fn dev_key(name: &str) -> SigningKey {
    let mut seed = keccak256([b"avm dev key: ".as_slice(), name.as_bytes()].concat().as_slice());
    loop {
        // A hash is a valid scalar except with negligible probability; hash
        // again if not.
        if let Ok(key) = SigningKey::from_slice(&seed) {
            return key;
        }
        seed = keccak256(&seed);
    }
}

/// The address of a signing key.
pub fn address_of(key: &SigningKey) -> Address {
    Address::from_public_key(key.verifying_key())
}
