//! Addresses, keccak-256 and hex.
//!
//! An address is 20 bytes. An externally owned account's address is the Ethereum rule: the
//! last 20 bytes of keccak-256 over the 64-byte uncompressed public key (without its `0x04`
//! prefix), so a key made by any Ethereum tool has the address that tool shows. A contract's
//! address is derived from its creator and the creator's nonce, with a domain tag so that it
//! can never collide with the Ethereum `CREATE` address of the same pair by construction.

use std::fmt;
use std::str::FromStr;

use k256::ecdsa::VerifyingKey;
use sha3::{Digest, Keccak256};
use thiserror::Error;

/// A 32-byte hash (keccak-256 output, roots, tx and block hashes). Print with [`to_hex`].
pub type Hash32 = [u8; 32];

/// keccak-256 (the original Keccak padding, as Ethereum uses; not NIST SHA3-256).
pub fn keccak256(bytes: &[u8]) -> Hash32 {
    Keccak256::digest(bytes).into()
}

/// keccak-256 over the concatenation of `parts`, without building the concatenation.
pub fn keccak256_parts(parts: &[&[u8]]) -> Hash32 {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// `0x` followed by lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("0x");
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Why a hex string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HexError {
    /// The string does not start with `0x`.
    #[error("hex string must start with 0x")]
    MissingPrefix,
    /// An odd number of digits, or the wrong number for a fixed-size value.
    #[error("wrong hex length: {got} digits, expected {expected}")]
    BadLength {
        /// Digits found.
        got: usize,
        /// Digits expected (0 when any even count would do).
        expected: usize,
    },
    /// A character that is not a hex digit.
    #[error("invalid hex digit {0:?}")]
    BadDigit(char),
}

/// Parses `0x`-prefixed hex (either case) of any even length.
pub fn from_hex(s: &str) -> Result<Vec<u8>, HexError> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).ok_or(HexError::MissingPrefix)?;
    if !digits.len().is_multiple_of(2) {
        return Err(HexError::BadLength { got: digits.len(), expected: 0 });
    }
    fn nibble(c: u8) -> Result<u8, HexError> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(HexError::BadDigit(char::from(c))),
        }
    }
    digits.as_bytes().chunks_exact(2).map(|p| Ok((nibble(p[0])? << 4) | nibble(p[1])?)).collect()
}

/// Parses `0x` followed by exactly `2 * N` hex digits.
pub fn from_hex_array<const N: usize>(s: &str) -> Result<[u8; N], HexError> {
    let bytes = from_hex(s)?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| HexError::BadLength { got: bytes.len() * 2, expected: N * 2 })
}

/// A 20-byte account address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The all-zero address.
    pub const ZERO: Address = Address([0; 20]);

    /// The address of a secp256k1 public key: the last 20 bytes of keccak-256 over the
    /// uncompressed point without its `0x04` prefix (the Ethereum rule).
    pub fn from_public_key(key: &VerifyingKey) -> Address {
        let point = key.to_encoded_point(false);
        Address::from_uncompressed_key(point.as_bytes())
    }

    /// The address of a public key in its uncompressed SEC1 encoding,
    /// `0x04 ‖ x ‖ y` (65 bytes): keccak-256 of `x ‖ y`, last 20 bytes.
    pub fn from_uncompressed_key(sec1: &[u8]) -> Address {
        Address::from_hash(&keccak256(sec1.get(1..).unwrap_or_default()))
    }

    /// The address of a contract created by `sender` when its nonce was `nonce`: the last 20
    /// bytes of keccak-256(`b"avm-create"` ‖ sender ‖ nonce as 8 bytes big-endian).
    pub fn contract(sender: &Address, nonce: u64) -> Address {
        Address::from_hash(&keccak256_parts(&[b"avm-create", &sender.0, &nonce.to_be_bytes()]))
    }

    fn from_hash(hash: &Hash32) -> Address {
        let mut a = [0u8; 20];
        a.copy_from_slice(&hash[12..]);
        Address(a)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_hex(&self.0))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_hex(&self.0))
    }
}

impl FromStr for Address {
    type Err = HexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        from_hex_array(s).map(Address)
    }
}

impl From<[u8; 20]> for Address {
    fn from(bytes: [u8; 20]) -> Self {
        Address(bytes)
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::SigningKey;

    #[test]
    fn keccak_known_value() {
        assert_eq!(to_hex(&keccak256(b"")), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    }

    #[test]
    fn ethereum_address_of_key_one() {
        // The well-known address of private key 1.
        let mut sk = [0u8; 32];
        sk[31] = 1;
        let key = SigningKey::from_slice(&sk).unwrap();
        let a = Address::from_public_key(key.verifying_key());
        assert_eq!(a.to_string(), "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
    }

    #[test]
    fn parse_and_print() {
        let a: Address = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf".parse().unwrap();
        assert_eq!(format!("{a}"), "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
        assert_eq!(format!("{a:?}"), "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
        assert!("7e5f4552091a69125d5dfcb7b8c2659029395bdf".parse::<Address>().is_err());
        assert!("0x7e5f".parse::<Address>().is_err());
        assert!("0xzz5f4552091a69125d5dfcb7b8c2659029395bdf".parse::<Address>().is_err());
        assert_ne!(Address::contract(&a, 0), Address::contract(&a, 1));
    }
}
