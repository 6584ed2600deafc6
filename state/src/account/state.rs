//! The in-memory world state with its journal.

use std::collections::BTreeMap;
use std::sync::Arc;

use thiserror::Error;

use super::roots::Roots;
use super::Account;
use crate::address::{keccak256, Address, Hash32};
use crate::journal::{Checkpoint, Dirty, Entry, Journal};

/// Longest storage key, in bytes.
pub const MAX_STORAGE_KEY: usize = 256;
/// Longest storage value, in bytes.
pub const MAX_STORAGE_VALUE: usize = 64 * 1024;

/// Why a state change was refused. A refused change leaves the state as it was.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StateError {
    /// The account cannot pay.
    #[error("insufficient balance in {address}: need {need}, have {have}")]
    InsufficientBalance {
        /// The paying account.
        address: Address,
        /// The amount asked for.
        need: u128,
        /// Its balance.
        have: u128,
    },
    /// The balance would exceed `u128::MAX`.
    #[error("balance overflow in {address}")]
    BalanceOverflow {
        /// The receiving account.
        address: Address,
    },
    /// The nonce would exceed `u64::MAX`.
    #[error("nonce overflow in {address}")]
    NonceOverflow {
        /// The account.
        address: Address,
    },
    /// A storage key longer than [`MAX_STORAGE_KEY`].
    #[error("storage key too long: {len} bytes (max {MAX_STORAGE_KEY})")]
    StorageKeyTooLong {
        /// Its length.
        len: usize,
    },
    /// A storage value longer than [`MAX_STORAGE_VALUE`].
    #[error("storage value too long: {len} bytes (max {MAX_STORAGE_VALUE})")]
    StorageValueTooLong {
        /// Its length.
        len: usize,
    },
}

/// The world state: accounts, code by hash and per-account storage, all in sorted maps, with
/// a journal for nested checkpoints and dirty sets for the store.
///
/// An account exists once anything writes to it (a balance, nonce, code or storage write,
/// including a transfer of 0 to it); reads never create one. Equality compares the data only
/// (accounts, code, storage), not the journal or the dirty sets.
#[derive(Debug, Clone, Default)]
pub struct State {
    accounts: BTreeMap<Address, Account>,
    code: BTreeMap<Hash32, Arc<Vec<u8>>>,
    /// Per-account storage; an account's inner map is removed when its last slot is.
    storage: BTreeMap<Address, BTreeMap<Vec<u8>, Vec<u8>>>,
    journal: Journal,
    dirty: Dirty,
    /// The Merkle tries behind [`State::root`].
    roots: Roots,
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.accounts == other.accounts && self.code == other.code && self.storage == other.storage
    }
}

impl Eq for State {}

impl State {
    /// An empty state.
    pub fn new() -> State {
        State::default()
    }

    /// The account, if it exists.
    pub fn account(&self, a: &Address) -> Option<&Account> {
        self.accounts.get(a)
    }

    /// Whether the account exists.
    pub fn exists(&self, a: &Address) -> bool {
        self.accounts.contains_key(a)
    }

    /// The balance (0 for an account that does not exist).
    pub fn balance(&self, a: &Address) -> u128 {
        self.accounts.get(a).map_or(0, |acc| acc.balance)
    }

    /// The nonce (0 for an account that does not exist).
    pub fn nonce(&self, a: &Address) -> u64 {
        self.accounts.get(a).map_or(0, |acc| acc.nonce)
    }

    /// The account's code hash, for a contract.
    pub fn code_hash(&self, a: &Address) -> Option<Hash32> {
        self.accounts.get(a).and_then(|acc| acc.code_hash)
    }

    /// The account's code, for a contract.
    pub fn code(&self, a: &Address) -> Option<Arc<Vec<u8>>> {
        self.code_hash(a).and_then(|h| self.code_by_hash(&h))
    }

    /// Code by its keccak-256 hash.
    pub fn code_by_hash(&self, h: &Hash32) -> Option<Arc<Vec<u8>>> {
        self.code.get(h).cloned()
    }

    /// A storage value; absent slots (never set, or set to empty) are `None`.
    pub fn storage_get(&self, a: &Address, key: &[u8]) -> Option<&[u8]> {
        self.storage.get(a)?.get(key).map(Vec::as_slice)
    }

    /// Accounts in address order.
    pub fn accounts(&self) -> impl Iterator<Item = (&Address, &Account)> + '_ {
        self.accounts.iter()
    }

    /// Number of accounts.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// An account's storage slots in key order.
    pub fn storage_of(&self, a: &Address) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.storage.get(a).into_iter().flat_map(|m| m.iter().map(|(k, v)| (k.as_slice(), v.as_slice())))
    }

    /// All code in hash order.
    pub fn codes(&self) -> impl Iterator<Item = (&Hash32, &Arc<Vec<u8>>)> + '_ {
        self.code.iter()
    }

    // ---- writes -------------------------------------------------------------------------

    /// The account for writing: journals its previous value and marks it dirty.
    fn account_mut(&mut self, a: &Address) -> &mut Account {
        if self.journal.active() {
            self.journal.record(Entry::Account(*a, self.accounts.get(a).copied()));
        }
        self.dirty.accounts.insert(*a);
        self.roots.touch_account(a);
        self.accounts.entry(*a).or_default()
    }

    /// Sets the balance.
    pub fn set_balance(&mut self, a: &Address, balance: u128) {
        self.account_mut(a).balance = balance;
    }

    /// Adds to the balance; fails on overflow.
    pub fn add_balance(&mut self, a: &Address, amount: u128) -> Result<(), StateError> {
        let new = self.balance(a).checked_add(amount).ok_or(StateError::BalanceOverflow { address: *a })?;
        self.set_balance(a, new);
        Ok(())
    }

    /// Takes from the balance; fails if it is too small.
    pub fn sub_balance(&mut self, a: &Address, amount: u128) -> Result<(), StateError> {
        let have = self.balance(a);
        let new =
            have.checked_sub(amount).ok_or(StateError::InsufficientBalance { address: *a, need: amount, have })?;
        self.set_balance(a, new);
        Ok(())
    }

    /// Moves `amount` from `from` to `to`. Either both balances change or neither does; a
    /// transfer to oneself only checks the balance. `to` exists afterwards.
    pub fn transfer(&mut self, from: &Address, to: &Address, amount: u128) -> Result<(), StateError> {
        let have = self.balance(from);
        let from_new =
            have.checked_sub(amount).ok_or(StateError::InsufficientBalance { address: *from, need: amount, have })?;
        if from == to {
            self.account_mut(to);
            return Ok(());
        }
        let to_new = self.balance(to).checked_add(amount).ok_or(StateError::BalanceOverflow { address: *to })?;
        self.set_balance(from, from_new);
        self.set_balance(to, to_new);
        Ok(())
    }

    /// Sets the nonce.
    pub fn set_nonce(&mut self, a: &Address, nonce: u64) {
        self.account_mut(a).nonce = nonce;
    }

    /// Adds one to the nonce; fails at `u64::MAX`.
    pub fn increment_nonce(&mut self, a: &Address) -> Result<(), StateError> {
        let n = self.nonce(a).checked_add(1).ok_or(StateError::NonceOverflow { address: *a })?;
        self.set_nonce(a, n);
        Ok(())
    }

    /// Stores `code` by its hash and makes it the account's code; returns the hash.
    pub fn set_code(&mut self, a: &Address, code: Vec<u8>) -> Hash32 {
        let h = keccak256(&code);
        if let std::collections::btree_map::Entry::Vacant(slot) = self.code.entry(h) {
            slot.insert(Arc::new(code));
            self.journal.record(Entry::CodeInserted(h));
            self.dirty.code.insert(h);
        }
        self.account_mut(a).code_hash = Some(h);
        h
    }

    /// Writes a storage slot; an empty value deletes it. The account exists afterwards.
    pub fn storage_set(&mut self, a: &Address, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        if key.len() > MAX_STORAGE_KEY {
            return Err(StateError::StorageKeyTooLong { len: key.len() });
        }
        if value.len() > MAX_STORAGE_VALUE {
            return Err(StateError::StorageValueTooLong { len: value.len() });
        }
        if !self.accounts.contains_key(a) {
            self.account_mut(a);
        }
        let new = if value.is_empty() { None } else { Some(value.to_vec()) };
        let old = self.put_slot(a, key, new);
        if self.journal.active() {
            self.journal.record(Entry::Storage(*a, key.to_vec(), old));
        }
        self.dirty.storage.insert((*a, key.to_vec()));
        self.roots.touch_slot(a, key);
        Ok(())
    }

    /// Sets or removes a slot, keeping no empty inner maps; returns the old value.
    fn put_slot(&mut self, a: &Address, key: &[u8], value: Option<Vec<u8>>) -> Option<Vec<u8>> {
        match value {
            Some(v) => self.storage.entry(*a).or_default().insert(key.to_vec(), v),
            None => {
                let slots = self.storage.get_mut(a)?;
                let old = slots.remove(key);
                if slots.is_empty() {
                    self.storage.remove(a);
                }
                old
            }
        }
    }

    /// The state root ([`crate::root`]), the same as [`crate::state_root`] gives, but
    /// computed from the accounts and slots written since the last call: about `log2(n)`
    /// keccaks per change instead of two per account and slot.
    pub fn root(&mut self) -> Hash32 {
        self.roots.root(&self.accounts, &self.storage)
    }

    // ---- journal ------------------------------------------------------------------------

    /// Opens a checkpoint. O(1).
    pub fn checkpoint(&mut self) -> Checkpoint {
        self.journal.checkpoint()
    }

    /// How many checkpoints are open.
    pub fn checkpoint_depth(&self) -> usize {
        self.journal.depth()
    }

    /// Keeps the changes since `cp`; an enclosing checkpoint can still undo them.
    pub fn commit(&mut self, cp: Checkpoint) {
        self.journal.commit(cp);
    }

    /// Undoes every change since `cp`, including those of inner checkpoints already
    /// committed. O(changes).
    pub fn revert(&mut self, cp: Checkpoint) {
        let mut journal = std::mem::take(&mut self.journal);
        for entry in journal.revert(cp) {
            match entry {
                Entry::Account(a, Some(acc)) => {
                    self.accounts.insert(a, acc);
                    self.roots.touch_account(&a);
                }
                Entry::Account(a, None) => {
                    self.accounts.remove(&a);
                    self.roots.touch_account(&a);
                }
                Entry::Storage(a, key, old) => {
                    self.put_slot(&a, &key, old);
                    self.roots.touch_slot(&a, &key);
                }
                Entry::CodeInserted(h) => {
                    self.code.remove(&h);
                }
            }
        }
        self.journal = journal;
    }

    // ---- store support ------------------------------------------------------------------

    /// Hands over (and clears) the set of accounts, slots and code changed since the last
    /// call, for the store to write.
    pub fn take_dirty(&mut self) -> Dirty {
        std::mem::take(&mut self.dirty)
    }

    /// Puts back dirty sets that could not be written (a failed store commit).
    pub fn restore_dirty(&mut self, dirty: Dirty) {
        self.dirty.merge(dirty);
    }

    /// Inserts a loaded account without journaling or marking it dirty.
    pub(crate) fn load_account(&mut self, a: Address, acc: Account) {
        self.roots.touch_account(&a);
        self.accounts.insert(a, acc);
    }

    /// Inserts loaded code without journaling or marking it dirty.
    pub(crate) fn load_code(&mut self, h: Hash32, code: Vec<u8>) {
        self.code.insert(h, Arc::new(code));
    }

    /// Inserts a loaded storage slot without journaling or marking it dirty.
    pub(crate) fn load_slot(&mut self, a: Address, key: Vec<u8>, value: Vec<u8>) {
        if !value.is_empty() {
            self.roots.touch_slot(&a, &key);
            self.storage.entry(a).or_default().insert(key, value);
        }
    }
}
