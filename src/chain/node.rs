//! A chain: state, the VM, blocks, and optionally a store on disk.
//!
//! [`Chain`] is what `avm` commands and scenario tests drive. It holds the
//! world state, a booted [`Vm`] (whose JIT code cache therefore lives as long
//! as the chain), the head block and, for a persistent chain, the redb
//! [`Store`]. [`Chain::produce_block`] turns a list of signed transactions
//! into one block: signatures are recovered in parallel across cores, each
//! transaction is validated against the state as it stands after the ones
//! before it (an invalid one is left out, with its error), applied
//! ([`super::executor`]), and the block header commits to the state root and
//! the receipts root. With a store, the block, its receipts and the state
//! changes are written in one atomic transaction.

use std::path::Path;

use avm_state::{
    receipts_root, recover_senders_parallel, tx_root, Address, Block, BlockHeader, Receipt, SignedTransaction, State,
    Store, StoreError, TxError,
};

use super::executor::{apply_transaction, view, BlockEnv};
use crate::engine::EngineKind;
use crate::runtime::{ExecOutcome, Vm, VmError};

/// The dev chain's id.
pub const DEV_CHAIN_ID: u64 = 0xa5;
/// Gas limit of a block.
pub const BLOCK_GAS_LIMIT: u64 = 1_000_000_000;

/// Why a chain operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The VM could not start.
    #[error(transparent)]
    Vm(#[from] VmError),
    /// The store failed.
    #[error("data store: {0}")]
    Store(#[from] StoreError),
    /// No chain in this data dir.
    #[error("no chain in {0} (run `avm init` first)")]
    NoChain(String),
    /// A chain exists already.
    #[error("a chain already exists in {0} (remove the directory to start over)")]
    Exists(String),
}

/// The outcome of one submitted transaction.
pub type Included = Result<Receipt, TxError>;

/// A chain with its state and VM.
pub struct Chain {
    /// World state after the head block.
    pub state: State,
    /// The VM that runs contracts.
    pub vm: Vm,
    /// The store, for a persistent chain.
    pub store: Option<Store>,
    /// The latest block's header.
    pub head: BlockHeader,
    /// Chain id transactions must carry.
    pub chain_id: u64,
    /// Price of a unit of gas ([`avm_state::GAS_PRICE`] unless set to 0 for a
    /// test chain with free gas).
    pub gas_price: u128,
}

impl Chain {
    /// A fresh in-memory chain whose genesis gives these balances.
    pub fn in_memory(engine: EngineKind, balances: &[(Address, u128)]) -> Result<Chain, ChainError> {
        let mut state = genesis_state(balances);
        let head = BlockHeader::genesis(state.root(), BLOCK_GAS_LIMIT);
        Ok(Chain {
            state,
            vm: Vm::new(engine)?,
            store: None,
            head,
            chain_id: DEV_CHAIN_ID,
            gas_price: avm_state::GAS_PRICE,
        })
    }

    /// Create a new persistent chain in `dir` with a genesis block.
    pub fn create(dir: &Path, engine: EngineKind, balances: &[(Address, u128)]) -> Result<Chain, ChainError> {
        Chain::create_with(dir, Vm::new(engine)?, balances)
    }

    /// [`Chain::create`] on a VM that is already booted (a VM carries no
    /// chain state between calls, only its engine's code caches).
    pub fn create_with(dir: &Path, vm: Vm, balances: &[(Address, u128)]) -> Result<Chain, ChainError> {
        let mut store = Store::open(dir)?;
        if store.latest_header()?.is_some() {
            return Err(ChainError::Exists(dir.display().to_string()));
        }
        let mut state = genesis_state(balances);
        let head = BlockHeader::genesis(state.root(), BLOCK_GAS_LIMIT);
        store.commit_block(&Block { header: head.clone(), transactions: Vec::new() }, &[], &mut state)?;
        Ok(Chain { state, vm, store: Some(store), head, chain_id: DEV_CHAIN_ID, gas_price: avm_state::GAS_PRICE })
    }

    /// Open the persistent chain in `dir`.
    pub fn open(dir: &Path, engine: EngineKind) -> Result<Chain, ChainError> {
        Chain::open_with(dir, Vm::new(engine)?)
    }

    /// [`Chain::open`] on a VM that is already booted.
    pub fn open_with(dir: &Path, vm: Vm) -> Result<Chain, ChainError> {
        if !dir.join(avm_state::DB_FILE).is_file() {
            return Err(ChainError::NoChain(dir.display().to_string()));
        }
        let store = Store::open(dir)?;
        let head = store.latest_header()?.ok_or_else(|| ChainError::NoChain(dir.display().to_string()))?;
        let state = store.load_state()?;
        Ok(Chain { state, vm, store: Some(store), head, chain_id: DEV_CHAIN_ID, gas_price: avm_state::GAS_PRICE })
    }

    /// Number of the block the next transactions go into.
    pub fn next_number(&self) -> u64 {
        self.head.number + 1
    }

    /// Execute `txs` as the next block and commit it (to the store, if any).
    /// Returns one result per transaction: a receipt, or why it was left out.
    pub fn produce_block(&mut self, txs: Vec<SignedTransaction>) -> Result<(BlockHeader, Vec<Included>), ChainError> {
        let senders = recover_senders_parallel(&txs);
        self.produce_block_recovered(txs, senders)
    }

    /// [`Chain::produce_block`] with the senders already recovered, one per
    /// transaction in order (as a node's transaction pool does when it admits
    /// a transaction): what is left of block production once signatures are
    /// checked. A sender that is `Err` leaves its transaction out with that
    /// error; a transaction past the end of the list has its sender
    /// recovered here.
    pub fn produce_block_recovered(
        &mut self,
        txs: Vec<SignedTransaction>,
        senders: Vec<Result<Address, TxError>>,
    ) -> Result<(BlockHeader, Vec<Included>), ChainError> {
        let number = self.next_number();
        let mut senders = senders.into_iter();
        let mut included = Vec::new();
        let mut receipts = Vec::new();
        let mut results = Vec::with_capacity(txs.len());
        let mut gas_used = 0u64;
        for stx in txs {
            let sender = senders.next().unwrap_or_else(|| stx.recover_sender());
            let checked = sender.and_then(|s| {
                stx.tx
                    .validate_at_price(&self.state, self.chain_id, &s, BLOCK_GAS_LIMIT - gas_used, self.gas_price)
                    .map(|()| s)
            });
            let sender = match checked {
                Ok(s) => s,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let mut receipt = apply_transaction(
                &mut self.vm,
                &mut self.state,
                &stx,
                sender,
                BlockEnv { number, gas_price: self.gas_price },
            );
            receipt.index = included.len() as u32;
            gas_used += receipt.gas_used;
            included.push(stx);
            receipts.push(receipt.clone());
            results.push(Ok(receipt));
        }
        let header = BlockHeader {
            number,
            parent_hash: self.head.hash(),
            state_root: self.state.root(),
            receipts_root: receipts_root(&receipts),
            tx_root: tx_root(&included),
            gas_used,
            gas_limit: BLOCK_GAS_LIMIT,
            tx_count: included.len() as u32,
        };
        if let Some(store) = &mut self.store {
            store.commit_block(
                &Block { header: header.clone(), transactions: included },
                &receipts,
                &mut self.state,
            )?;
        }
        self.head = header.clone();
        Ok((header, results))
    }

    /// A read-only call against the head state.
    pub fn view(&mut self, caller: Address, target: Address, input: Vec<u8>) -> ExecOutcome {
        let block = self.next_number();
        view(&mut self.vm, &mut self.state, caller, target, input, BLOCK_GAS_LIMIT, block)
    }
}

fn genesis_state(balances: &[(Address, u128)]) -> State {
    let mut state = State::new();
    for (a, b) in balances {
        state.set_balance(a, *b);
    }
    state
}
