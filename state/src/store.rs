//! The persistent store: one redb file, `chain.redb`, in a data directory.
//!
//! Tables (keys and values are byte strings in this crate's canonical encodings):
//!
//! | table      | key                        | value                       |
//! |------------|----------------------------|-----------------------------|
//! | `headers`  | block number (u64)         | encoded [`BlockHeader`]     |
//! | `bodies`   | block number (u64)         | encoded transactions        |
//! | `receipts` | tx hash (32)               | encoded [`Receipt`]         |
//! | `accounts` | address (20)               | encoded [`Account`]         |
//! | `code`     | code hash (32)             | code                        |
//! | `storage`  | address (20) ‖ key         | value                       |
//! | `meta`     | name (str)                 | bytes, for the CLI          |
//!
//! [`Store::commit_block`] writes a block, its receipts and every account, slot and code
//! the state marked dirty since the previous commit, in **one** write transaction with
//! immediate durability. redb commits by atomically switching to a new root after the
//! data is synced, so a crash at any instant leaves either the previous block or the new
//! one, never part of a block. The latest block is the last key of `headers`.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use thiserror::Error;

use crate::account::{Account, State};
use crate::address::{to_hex, Address, Hash32};
use crate::block::{Block, BlockHeader};
use crate::codec::DecodeError;
use crate::receipt::Receipt;

const HEADERS: TableDefinition<u64, &[u8]> = TableDefinition::new("headers");
const BODIES: TableDefinition<u64, &[u8]> = TableDefinition::new("bodies");
const RECEIPTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("receipts");
const ACCOUNTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("accounts");
const CODE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("code");
const STORAGE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("storage");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// The file name inside the data directory.
pub const DB_FILE: &str = "chain.redb";

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The data directory could not be created or read.
    #[error("data directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database reported an error (including a corrupt or foreign file).
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
    /// The file is not a valid chain database.
    #[error("corrupt chain database: {0}")]
    Corrupt(String),
    /// The block does not extend the latest one.
    #[error("block {got} is not the next block: expected {expected}")]
    NotNextBlock {
        /// The next block number.
        expected: u64,
        /// The block's.
        got: u64,
    },
    /// The block's parent hash is not the latest block's hash.
    #[error("block {number} has parent {got}, but the latest block's hash is {expected}")]
    ParentMismatch {
        /// The block number.
        number: u64,
        /// The latest block's hash (hex).
        expected: String,
        /// The block's parent hash (hex).
        got: String,
    },
    /// One receipt per transaction is required.
    #[error("block has {txs} transactions but {receipts} receipts")]
    ReceiptCount {
        /// Transactions in the block.
        txs: usize,
        /// Receipts given.
        receipts: usize,
    },
    /// The state has open checkpoints: its changes are not final.
    #[error("cannot commit a block while {0} checkpoints are open")]
    OpenCheckpoints(usize),
}

fn dberr<E: Into<redb::Error>>(e: E) -> StoreError {
    StoreError::Db(e.into())
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// Runs a read, turning a panic inside the database library on a damaged file into an
/// error: a corrupt data dir must never take the process down.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(StoreError::Corrupt(format!("{what}: the database file is damaged"))))
}

/// The chain database.
pub struct Store {
    db: Database,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens `dir/chain.redb`, creating the directory and the database if absent. A file
    /// that is not a redb database, or a damaged one, gives an error.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { path: dir.to_path_buf(), source })?;
        let path = dir.join(DB_FILE);
        // redb reports damage as errors; the guard turns any panic on a hostile file into
        // an error too, so a corrupt data dir never takes the process down.
        let opened = std::panic::catch_unwind(|| Database::create(&path))
            .map_err(|_| StoreError::Corrupt(format!("{} cannot be opened", path.display())))?;
        let db = opened.map_err(dberr)?;
        let store = Store { db, path };
        let txn = store.db.begin_write().map_err(dberr)?;
        {
            txn.open_table(HEADERS).map_err(dberr)?;
            txn.open_table(BODIES).map_err(dberr)?;
            txn.open_table(RECEIPTS).map_err(dberr)?;
            txn.open_table(ACCOUNTS).map_err(dberr)?;
            txn.open_table(CODE).map_err(dberr)?;
            txn.open_table(STORAGE).map_err(dberr)?;
            txn.open_table(META).map_err(dberr)?;
        }
        txn.commit().map_err(dberr)?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the whole state as of the latest committed block. The result has no dirty
    /// entries and no open checkpoints.
    pub fn load_state(&self) -> Result<State, StoreError> {
        guarded("load state", || self.load_state_inner())
    }

    fn load_state_inner(&self) -> Result<State, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let mut state = State::new();
        for row in txn.open_table(ACCOUNTS).map_err(dberr)?.iter().map_err(dberr)? {
            let (k, v) = row.map_err(dberr)?;
            let addr = <[u8; 20]>::try_from(k.value()).map_err(|_| corrupt("account key", "not 20 bytes"))?;
            let acc = Account::decode(v.value()).map_err(|e| corrupt("account", e))?;
            state.load_account(Address(addr), acc);
        }
        for row in txn.open_table(CODE).map_err(dberr)?.iter().map_err(dberr)? {
            let (k, v) = row.map_err(dberr)?;
            let h = <[u8; 32]>::try_from(k.value()).map_err(|_| corrupt("code key", "not 32 bytes"))?;
            state.load_code(h, v.value().to_vec());
        }
        for row in txn.open_table(STORAGE).map_err(dberr)?.iter().map_err(dberr)? {
            let (k, v) = row.map_err(dberr)?;
            let k = k.value();
            let (addr, key) = k.split_first_chunk::<20>().ok_or_else(|| corrupt("storage key", "too short"))?;
            state.load_slot(Address(*addr), key.to_vec(), v.value().to_vec());
        }
        Ok(state)
    }

    /// The latest committed block's header, if any block was committed.
    pub fn latest_header(&self) -> Result<Option<BlockHeader>, StoreError> {
        guarded("latest header", || self.latest_header_inner())
    }

    fn latest_header_inner(&self) -> Result<Option<BlockHeader>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let table = txn.open_table(HEADERS).map_err(dberr)?;
        let last = table.last().map_err(dberr)?;
        last.map(|(_, v)| BlockHeader::decode(v.value()).map_err(|e| corrupt("header", e))).transpose()
    }

    /// Header of block `n`.
    pub fn header(&self, n: u64) -> Result<Option<BlockHeader>, StoreError> {
        guarded("header", || self.header_inner(n))
    }

    fn header_inner(&self, n: u64) -> Result<Option<BlockHeader>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let table = txn.open_table(HEADERS).map_err(dberr)?;
        let row = table.get(n).map_err(dberr)?;
        row.map(|v| BlockHeader::decode(v.value()).map_err(|e| corrupt("header", e))).transpose()
    }

    /// Block `n` with its transactions.
    pub fn block(&self, n: u64) -> Result<Option<Block>, StoreError> {
        guarded("block", || self.block_inner(n))
    }

    fn block_inner(&self, n: u64) -> Result<Option<Block>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let headers = txn.open_table(HEADERS).map_err(dberr)?;
        let Some(h) = headers.get(n).map_err(dberr)? else { return Ok(None) };
        let header = BlockHeader::decode(h.value()).map_err(|e| corrupt("header", e))?;
        let bodies = txn.open_table(BODIES).map_err(dberr)?;
        let body = bodies.get(n).map_err(dberr)?.ok_or_else(|| corrupt("block body", format!("block {n} missing")))?;
        let transactions = Block::decode_body(body.value()).map_err(|e| corrupt("block body", e))?;
        Ok(Some(Block { header, transactions }))
    }

    /// The receipt of a committed transaction.
    pub fn receipt(&self, tx_hash: &Hash32) -> Result<Option<Receipt>, StoreError> {
        guarded("receipt", || self.receipt_inner(tx_hash))
    }

    fn receipt_inner(&self, tx_hash: &Hash32) -> Result<Option<Receipt>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let table = txn.open_table(RECEIPTS).map_err(dberr)?;
        let row = table.get(tx_hash.as_slice()).map_err(dberr)?;
        row.map(|v| Receipt::decode(v.value()).map_err(|e: DecodeError| corrupt("receipt", e))).transpose()
    }

    /// Commits a block atomically: header, transactions, receipts and the state changes
    /// since the previous commit (see [`State::take_dirty`]). The block must extend the
    /// latest one (number + 1, parent hash), or be block 0 of an empty store. On error
    /// nothing is written and the state keeps its dirty sets.
    pub fn commit_block(&mut self, block: &Block, receipts: &[Receipt], state: &mut State) -> Result<(), StoreError> {
        if state.checkpoint_depth() > 0 {
            return Err(StoreError::OpenCheckpoints(state.checkpoint_depth()));
        }
        if receipts.len() != block.transactions.len() {
            return Err(StoreError::ReceiptCount { txs: block.transactions.len(), receipts: receipts.len() });
        }
        let number = block.header.number;
        match self.latest_header()? {
            None if number != 0 => return Err(StoreError::NotNextBlock { expected: 0, got: number }),
            None => {}
            Some(latest) => {
                let expected = latest.number.saturating_add(1);
                if number != expected {
                    return Err(StoreError::NotNextBlock { expected, got: number });
                }
                let parent = latest.hash();
                if block.header.parent_hash != parent {
                    return Err(StoreError::ParentMismatch {
                        number,
                        expected: to_hex(&parent),
                        got: to_hex(&block.header.parent_hash),
                    });
                }
            }
        }
        let dirty = state.take_dirty();
        let result = self.write_block(block, receipts, state, &dirty);
        if result.is_err() {
            state.restore_dirty(dirty);
        }
        result
    }

    fn write_block(
        &mut self,
        block: &Block,
        receipts: &[Receipt],
        state: &State,
        dirty: &crate::journal::Dirty,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(dberr)?;
        {
            let number = block.header.number;
            txn.open_table(HEADERS).map_err(dberr)?.insert(number, block.header.encode().as_slice()).map_err(dberr)?;
            txn.open_table(BODIES).map_err(dberr)?.insert(number, block.encode_body().as_slice()).map_err(dberr)?;
            let mut table = txn.open_table(RECEIPTS).map_err(dberr)?;
            for r in receipts {
                table.insert(r.tx_hash.as_slice(), r.encode().as_slice()).map_err(dberr)?;
            }
            let mut table = txn.open_table(ACCOUNTS).map_err(dberr)?;
            for a in &dirty.accounts {
                match state.account(a) {
                    Some(acc) => table.insert(a.0.as_slice(), acc.encode().as_slice()).map(drop),
                    None => table.remove(a.0.as_slice()).map(drop),
                }
                .map_err(dberr)?;
            }
            let mut table = txn.open_table(CODE).map_err(dberr)?;
            for h in &dirty.code {
                if let Some(code) = state.code_by_hash(h) {
                    table.insert(h.as_slice(), code.as_slice()).map_err(dberr)?;
                }
            }
            let mut table = txn.open_table(STORAGE).map_err(dberr)?;
            let mut row_key = Vec::with_capacity(20 + crate::account::MAX_STORAGE_KEY);
            for (a, key) in &dirty.storage {
                row_key.clear();
                row_key.extend_from_slice(&a.0);
                row_key.extend_from_slice(key);
                match state.storage_get(a, key) {
                    Some(v) => table.insert(row_key.as_slice(), v).map(drop),
                    None => table.remove(row_key.as_slice()).map(drop),
                }
                .map_err(dberr)?;
            }
        }
        txn.commit().map_err(dberr)?;
        Ok(())
    }

    /// A value from the `meta` table (names, aliases, ABI, ... for the CLI).
    pub fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let table = txn.open_table(META).map_err(dberr)?;
        let row = table.get(key).map_err(dberr)?;
        Ok(row.map(|v| v.value().to_vec()))
    }

    /// Sets a `meta` value, in its own transaction.
    pub fn meta_set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(dberr)?;
        txn.open_table(META).map_err(dberr)?.insert(key, value).map_err(dberr)?;
        txn.commit().map_err(dberr)?;
        Ok(())
    }

    /// Removes a `meta` value, in its own transaction.
    pub fn meta_remove(&self, key: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(dberr)?;
        txn.open_table(META).map_err(dberr)?.remove(key).map_err(dberr)?;
        txn.commit().map_err(dberr)?;
        Ok(())
    }

    /// Every `meta` entry whose name starts with `prefix`, in name order.
    pub fn meta_list(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let table = txn.open_table(META).map_err(dberr)?;
        let mut out = Vec::new();
        for row in table.range(prefix..).map_err(dberr)? {
            let (k, v) = row.map_err(dberr)?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push((k.value().to_string(), v.value().to_vec()));
        }
        Ok(out)
    }
}
