//! The state's Merkle tries, kept up to date from what changed.
//!
//! [`State`](super::State) tells [`Roots`] every account and slot it writes
//! (including undoing a write on revert, and loading from the store); the
//! next [`Roots::root`] re-reads just those from the state and updates the
//! tries of [`crate::trie`]. Reading the current value, rather than logging
//! each change, makes reverts free: a slot written and reverted is simply
//! re-read with its old value.

use std::collections::{BTreeMap, BTreeSet};

use super::Account;
use crate::address::{keccak256, Address, Hash32};
use crate::root::{account_leaf, slot_leaf, EMPTY_ROOT};
use crate::trie::MerkleTrie;

/// The account trie, one storage trie per account with storage, and what
/// changed since the last root.
#[derive(Debug, Clone, Default)]
pub(crate) struct Roots {
    accounts: MerkleTrie,
    storage: BTreeMap<Address, MerkleTrie>,
    stale_accounts: BTreeSet<Address>,
    stale_slots: BTreeSet<(Address, Vec<u8>)>,
}

impl Roots {
    /// The account (balance, nonce, code hash, or existence) may have changed.
    pub(crate) fn touch_account(&mut self, a: &Address) {
        self.stale_accounts.insert(*a);
    }

    /// The slot may have changed.
    pub(crate) fn touch_slot(&mut self, a: &Address, key: &[u8]) {
        self.stale_slots.insert((*a, key.to_vec()));
    }

    /// Bring the tries up to date with `accounts` and `storage` and return
    /// the state root.
    pub(crate) fn root(
        &mut self,
        accounts: &BTreeMap<Address, Account>,
        storage: &BTreeMap<Address, BTreeMap<Vec<u8>, Vec<u8>>>,
    ) -> Hash32 {
        for (a, key) in std::mem::take(&mut self.stale_slots) {
            let path = keccak256(&key);
            match storage.get(&a).and_then(|slots| slots.get(&key)) {
                Some(value) => self.storage.entry(a).or_default().insert(path, slot_leaf(&key, value)),
                None => {
                    if let Some(trie) = self.storage.get_mut(&a) {
                        trie.remove(&path);
                        if trie.is_empty() {
                            self.storage.remove(&a);
                        }
                    }
                }
            }
            // The account's leaf holds its storage root.
            self.stale_accounts.insert(a);
        }
        for a in std::mem::take(&mut self.stale_accounts) {
            let path = keccak256(&a.0);
            match accounts.get(&a) {
                Some(acc) => {
                    let storage_root = self.storage.get_mut(&a).map_or(EMPTY_ROOT, MerkleTrie::root);
                    self.accounts.insert(path, account_leaf(&a, acc, &storage_root));
                }
                None => self.accounts.remove(&path),
            }
        }
        self.accounts.root()
    }
}
