//! What the runtime needs from the chain state, and what it produces.
//!
//! The runtime does not own state: the block executor hands it something
//! that implements [`World`] (the chain's journaled state) for one call. The
//! trait is the host-call interface seen from the state side: balances,
//! storage, code and nested checkpoints. Keeping it a trait keeps the
//! runtime independent of how state is stored.

use std::sync::Arc;

use avm_abi::Address;

/// The chain state as the runtime sees it.
pub trait World {
    /// A journal position to commit or revert to.
    type Checkpoint;

    /// Native balance.
    fn balance(&self, who: &Address) -> u128;
    /// Move native value; false (and no change) if `from` has too little.
    fn transfer(&mut self, from: &Address, to: &Address, amount: u128) -> bool;
    /// A storage value of `owner` (`None` if absent).
    fn storage_get(&self, owner: &Address, key: &[u8]) -> Option<Vec<u8>>;
    /// Set a storage value (empty deletes).
    fn storage_set(&mut self, owner: &Address, key: &[u8], value: &[u8]);
    /// The code of an account: its hash and the ELF bytes.
    fn code(&self, who: &Address) -> Option<([u8; 32], Arc<Vec<u8>>)>;
    /// Open a nested checkpoint.
    fn checkpoint(&mut self) -> Self::Checkpoint;
    /// Keep everything since the checkpoint.
    fn commit(&mut self, cp: Self::Checkpoint);
    /// Undo everything since the checkpoint.
    fn revert(&mut self, cp: Self::Checkpoint);
}

/// An event emitted by a contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    /// The contract that emitted it.
    pub address: Address,
    /// Topic 0 is the event id; then the indexed fields.
    pub topics: Vec<[u8; 32]>,
    /// The non-indexed fields, encoded.
    pub data: Vec<u8>,
}

/// How a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecStatus {
    /// Returned normally.
    Success,
    /// Reverted with a message.
    Revert(String),
    /// Ran out of gas.
    OutOfGas,
    /// Faulted (bad memory access, illegal instruction, bad pointer, ...).
    Fault(String),
}

impl ExecStatus {
    /// True for [`ExecStatus::Success`].
    pub fn is_success(&self) -> bool {
        matches!(self, ExecStatus::Success)
    }
}

/// Everything a call produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecOutcome {
    /// How it ended.
    pub status: ExecStatus,
    /// Return data (or the revert message's bytes).
    pub return_data: Vec<u8>,
    /// Events of every call that succeeded, in order.
    pub logs: Vec<Log>,
    /// Gas used: instructions plus host-call costs.
    pub gas_used: u64,
    /// Guest instructions retired (kernel and contracts).
    pub instructions: u64,
    /// Lines the contracts printed with `DEBUG`.
    pub debug: Vec<String>,
}
