//! Keccak Merkle commitments: the state root, and the roots over a block's lists.
//!
//! Two tree shapes, one hashing rule:
//!
//! - a leaf's hash is `keccak256(0x00 ‖ leaf bytes)`;
//! - an internal node's hash is `keccak256(0x01 ‖ left ‖ right)`;
//! - an empty tree's root is 32 zero bytes.
//!
//! The two prefixes keep a leaf from ever being read as an internal node (the second
//! preimage trick against plain Merkle trees).
//!
//! **Lists** (a block's receipts and transactions, in block order) use a plain binary
//! Merkle tree: leaves are paired left to right, level by level; a level with an odd count
//! promotes its last node unchanged; the root of one leaf is that leaf's hash.
//!
//! **The state** (accounts by address, and each account's storage by key) uses the binary
//! Merkle trie of [`crate::trie`]: each entry sits at the path `keccak256(key)`, so that
//! the root depends only on the content, never on the order of writes, and a block's new
//! root costs time in proportion to what the block changed rather than to the whole state.
//! [`State::root`] keeps the tries up to date incrementally; [`state_root`] computes the same
//! value from scratch, straight from the definition, as a reference.

use crate::account::{Account, State};
use crate::address::{keccak256, keccak256_parts, Address, Hash32};
use crate::trie::reference_root;

/// The root of an empty tree.
pub const EMPTY_ROOT: Hash32 = [0; 32];

/// A leaf's hash: keccak256(0x00 ‖ bytes).
pub fn leaf_hash(bytes: &[u8]) -> Hash32 {
    keccak256_parts(&[&[0x00], bytes])
}

/// An internal node's hash: keccak256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    keccak256_parts(&[&[0x01], left, right])
}

/// The root over leaf hashes (see the module docs for the tree rules).
pub fn merkle_root(mut level: Vec<Hash32>) -> Hash32 {
    if level.is_empty() {
        return EMPTY_ROOT;
    }
    while level.len() > 1 {
        let n = level.len();
        for i in 0..n / 2 {
            level[i] = node_hash(&level[2 * i], &level[2 * i + 1]);
        }
        if n % 2 == 1 {
            level[n / 2] = level[n - 1];
        }
        level.truncate(n.div_ceil(2));
    }
    level[0]
}

/// A storage slot's leaf hash: `keccak256(0x00 ‖ len(key) (4 BE) ‖ key ‖ len(value) (4 BE) ‖
/// value)`, at path `keccak256(key)`.
pub fn slot_leaf(key: &[u8], value: &[u8]) -> Hash32 {
    // Keys are at most 256 bytes and values at most 64 KiB, so the lengths fit u32.
    let kl = u32::try_from(key.len()).unwrap_or(u32::MAX).to_be_bytes();
    let vl = u32::try_from(value.len()).unwrap_or(u32::MAX).to_be_bytes();
    keccak256_parts(&[&[0x00], &kl, key, &vl, value])
}

/// The root of one account's storage, from scratch: the trie of its slots.
pub fn storage_root(state: &State, a: &Address) -> Hash32 {
    let entries: Vec<_> = state.storage_of(a).map(|(k, v)| (keccak256(k), slot_leaf(k, v))).collect();
    reference_root(&entries)
}

/// An account's leaf hash: `keccak256(0x00 ‖ address ‖ balance (16 BE) ‖ nonce (8 BE) ‖
/// code hash (or 32 zero bytes) ‖ storage root)`, at path `keccak256(address)`.
pub fn account_leaf(a: &Address, acc: &Account, storage_root: &Hash32) -> Hash32 {
    keccak256_parts(&[
        &[0x00],
        &a.0,
        &acc.balance.to_be_bytes(),
        &acc.nonce.to_be_bytes(),
        &acc.code_hash.unwrap_or([0; 32]),
        storage_root,
    ])
}

/// The state root, computed from scratch: the trie of every account's leaf. Code is
/// committed through each account's code hash, storage through its storage root. About two
/// keccaks per account and per storage slot; [`State::root`] gives the same value in time
/// proportional to the changes since its last call.
pub fn state_root(state: &State) -> Hash32 {
    let entries: Vec<_> =
        state.accounts().map(|(a, acc)| (keccak256(&a.0), account_leaf(a, acc, &storage_root(state, a)))).collect();
    reference_root(&entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_shapes() {
        let l: Vec<Hash32> = (0u8..5).map(|i| leaf_hash(&[i])).collect();
        assert_eq!(merkle_root(vec![]), EMPTY_ROOT);
        assert_eq!(merkle_root(vec![l[0]]), l[0]);
        assert_eq!(merkle_root(l[..2].to_vec()), node_hash(&l[0], &l[1]));
        // Three leaves: the third is promoted.
        assert_eq!(merkle_root(l[..3].to_vec()), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
        // Five leaves: ((01)(23))4.
        let left = node_hash(&node_hash(&l[0], &l[1]), &node_hash(&l[2], &l[3]));
        assert_eq!(merkle_root(l.clone()), node_hash(&left, &l[4]));
    }
}
