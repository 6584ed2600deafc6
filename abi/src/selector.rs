//! Method selectors and event ids.
//!
//! Call data starts with a 4-byte **selector** naming the method: the first
//! four bytes of Keccak-256 of its *signature*, `name(T1,T2,...)` with the
//! argument types spelled as in Rust (`transfer(Address,u128)`). An event's
//! **id**, its first log topic, is the whole 32-byte hash of its signature.
//! This is Ethereum's scheme with Rust type names.
//!
//! The SDK builds signatures with `stringify!`, which may put spaces inside
//! types (`(u128, u128)`, `[u8 ; 32]`) and leaves a trailing comma before
//! `)`. [`normalize`] removes both, so `"f( u8 , (u8, bool), )"` and
//! `"f(u8,(u8,bool))"` have one selector. Everything here is a `const fn`:
//! the compiler computes selectors, the guest never hashes.

use crate::keccak::keccak256_prefix;

/// A 4-byte method selector (big-endian in call data, as printed).
pub type Selector = [u8; 4];

/// Longest signature accepted (longer ones are truncated by [`normalize`],
/// which a test of the SDK's macro would catch; real signatures are short).
pub const MAX_SIGNATURE: usize = 512;

/// The signature without whitespace and without a comma directly before a
/// closing bracket; returns the buffer and the length used.
pub const fn normalize(sig: &str) -> ([u8; MAX_SIGNATURE], usize) {
    let bytes = sig.as_bytes();
    let mut out = [0u8; MAX_SIGNATURE];
    let mut n = 0;
    let mut i = 0;
    while i < bytes.len() && n < MAX_SIGNATURE {
        let b = bytes[i];
        i += 1;
        if b == b' ' || b == b'\n' || b == b'\t' || b == b'\r' {
            continue;
        }
        if (b == b')' || b == b']') && n > 0 && out[n - 1] == b',' {
            n -= 1;
        }
        out[n] = b;
        n += 1;
    }
    (out, n)
}

/// The selector of a method signature such as `"transfer(Address,u128)"`.
pub const fn selector(sig: &str) -> Selector {
    let (buf, n) = normalize(sig);
    let h = keccak256_prefix(&buf, n);
    [h[0], h[1], h[2], h[3]]
}

/// The id (first topic) of an event signature such as
/// `"Transfer(Address,Address,u128)"`.
pub const fn event_id(sig: &str) -> [u8; 32] {
    let (buf, n) = normalize(sig);
    keccak256_prefix(&buf, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_trailing_commas_do_not_change_a_selector() {
        assert_eq!(selector("f( u8 , (u8, bool,), )"), selector("f(u8,(u8,bool))"));
        assert_eq!(selector("g([u8 ; 32],)"), selector("g([u8;32])"));
        assert_ne!(selector("f(u8)"), selector("f(u16)"));
    }

    #[test]
    fn selectors_are_computed_at_compile_time() {
        const SEL: Selector = selector("transfer(Address,u128)");
        assert_eq!(SEL, selector("transfer(Address, u128)"));
    }
}
