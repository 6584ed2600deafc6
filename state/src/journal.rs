//! The journal: undo records for nested checkpoints, and the dirty sets for the store.
//!
//! Every mutation of [`State`](crate::State) made while a checkpoint is open pushes one
//! undo record holding the *previous* value of what it changed. A checkpoint is just the
//! journal's length and depth at that moment, so taking one is O(1). Reverting pops and
//! applies undo records down to that length, newest first, so it costs O(changes).
//! Committing an inner checkpoint keeps its records: they now belong to the enclosing
//! checkpoint, which can still undo them. When the outermost checkpoint commits, nothing
//! can be undone any more and the records are dropped. With no checkpoint open, nothing is
//! journaled at all (block-level writes such as fees and genesis cost nothing extra).
//!
//! Independently of the journal, every mutation marks what it touched in [`Dirty`], which
//! the store drains at each block commit so that it writes only what changed. A revert does
//! not unmark anything: writing an unchanged value back is harmless, and the store writes
//! the *current* value (or deletes an absent one) for each dirty entry.

use std::collections::BTreeSet;

use crate::account::Account;
use crate::address::{Address, Hash32};

/// One undo record: the value before a change.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    /// The account as it was (`None`: it did not exist).
    Account(Address, Option<Account>),
    /// The storage slot as it was (`None`: absent).
    Storage(Address, Vec<u8>, Option<Vec<u8>>),
    /// This code was not known before.
    CodeInserted(Hash32),
}

/// A point to [`commit`](crate::State::commit) or [`revert`](crate::State::revert) to.
/// Checkpoints nest: close them innermost first. Closing an outer checkpoint also closes
/// every checkpoint opened after it.
#[must_use = "a checkpoint must be committed or reverted"]
#[derive(Debug, PartialEq, Eq)]
pub struct Checkpoint {
    depth: usize,
    len: usize,
}

impl Checkpoint {
    /// How many checkpoints were open before this one (0 for the outermost).
    pub fn depth(&self) -> usize {
        self.depth
    }
}

/// The undo log with its checkpoint depth.
#[derive(Debug, Clone, Default)]
pub(crate) struct Journal {
    entries: Vec<Entry>,
    depth: usize,
}

impl Journal {
    pub(crate) fn checkpoint(&mut self) -> Checkpoint {
        let cp = Checkpoint { depth: self.depth, len: self.entries.len() };
        self.depth += 1;
        cp
    }

    /// Whether mutations must be recorded (a checkpoint is open).
    pub(crate) fn active(&self) -> bool {
        self.depth > 0
    }

    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    pub(crate) fn record(&mut self, entry: Entry) {
        if self.active() {
            self.entries.push(entry);
        }
    }

    pub(crate) fn commit(&mut self, cp: Checkpoint) {
        self.depth = self.depth.min(cp.depth);
        if self.depth == 0 {
            self.entries.clear();
        }
    }

    /// Closes the checkpoint and hands back its undo records, newest first.
    pub(crate) fn revert(&mut self, cp: Checkpoint) -> impl Iterator<Item = Entry> + '_ {
        self.depth = self.depth.min(cp.depth);
        let from = cp.len.min(self.entries.len());
        self.entries.drain(from..).rev()
    }
}

/// What changed since the store last drained the state: the accounts, storage slots and
/// code to write. See [`State::take_dirty`](crate::State::take_dirty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dirty {
    /// Accounts created or changed.
    pub accounts: BTreeSet<Address>,
    /// Storage slots written (set or deleted).
    pub storage: BTreeSet<(Address, Vec<u8>)>,
    /// Code newly stored by hash.
    pub code: BTreeSet<Hash32>,
}

impl Dirty {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.storage.is_empty() && self.code.is_empty()
    }

    /// Adds everything in `other`.
    pub fn merge(&mut self, other: Dirty) {
        self.accounts.extend(other.accounts);
        self.storage.extend(other.storage);
        self.code.extend(other.code);
    }
}
