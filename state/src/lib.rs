//! # avm-state: the chain's data model, host side
//!
//! This crate holds everything the chain *remembers*: accounts, code, storage, signed
//! transactions, receipts, blocks, the roots that commit to them, and the store that keeps
//! them on disk. It knows nothing about the machine that executes contracts; the executor
//! in the root package drives it through the [`State`] API and the journal.
//!
//! ## The data model
//!
//! An [`Address`] is 20 bytes: for a person, the last 20 bytes of keccak-256 over the
//! uncompressed secp256k1 public key (the Ethereum rule, so any Ethereum tool agrees on the
//! address of a key); for a contract, a hash of its creator and the creator's nonce
//! ([`Address::contract`]). An [`Account`] holds a `u128` balance, a `u64` nonce and, for a
//! contract, the keccak-256 hash of its code. Code lives once per hash, shared by
//! [`Arc`](std::sync::Arc), so a JIT can key its translation cache by content and a
//! thousand copies of one token cost one blob. Storage is per account: byte-string keys of at
//! most 256 bytes mapping to byte-string values of at most 64 KiB; an empty value means
//! absent, so writing empty deletes. All of it lives in `BTreeMap`s: iteration order is the
//! key order, the same on every machine, and nothing that reaches a root, an encoding or
//! gas ever depends on hash-map order, time or floating point.
//!
//! ## The journal
//!
//! A transaction, and each nested call inside it, must be all-or-nothing. [`State::checkpoint`]
//! opens a checkpoint in O(1); every later write pushes an undo record with the previous
//! value; [`State::revert`] pops and applies them back to the checkpoint in O(changes);
//! [`State::commit`] of an inner checkpoint hands its records to the enclosing one, so
//! reverting an outer checkpoint undoes committed inner calls too. Writes made with no
//! checkpoint open (genesis, fees settled at block level) are not journaled at all. Apart
//! from the journal, the state marks each touched account, slot and code hash as *dirty*;
//! the store drains that set at each block ([`State::take_dirty`]) and writes only what
//! changed. See [`journal`].
//!
//! ## The encodings
//!
//! Transactions, receipts, headers and store rows have one canonical binary encoding each
//! ([`codec`]): big-endian fixed-width integers, `u32` length prefixes, one-byte tags. There
//! is exactly one encoding per value and one value per encoding, so hashes are well defined.
//! Decoding is for hostile bytes: truncation, trailing bytes, bad tags and oversize fields are
//! typed errors, and no length is trusted before it is checked against the bytes left.
//! Transactions are signed with recoverable secp256k1 signatures (k256) over
//! `keccak256("avm-tx" ‖ encode(tx))`, low-s only, with the chain id inside the signed bytes.
//!
//! ## The roots
//!
//! One hashing rule ([`root`]) commits to everything: leaves hashed with a `0x00` prefix,
//! internal nodes with `0x01`, the empty tree's root 32 zero bytes. The **state root** is a
//! binary Merkle trie ([`trie`]) with one leaf per account at path `keccak256(address)`,
//! `address ‖ balance ‖ nonce ‖ code hash ‖ storage root`, and each storage root is the same
//! kind of trie with one leaf per slot at path `keccak256(key)`, `len(key) ‖ key ‖
//! len(value) ‖ value`. The **receipts root** and the **tx root** are plain binary Merkle
//! trees with one leaf per encoded receipt or transaction in block order.
//!
//! Why a trie for the state: a block's state root must cost what the block changed, not
//! what the chain holds. The first version hashed sorted leaves from scratch (about two
//! keccaks per account and slot); at a thousand transfers per block each block adds a
//! thousand slots, so after a few hundred blocks the root alone took longer than executing
//! the block. [`State::root`] keeps the tries up to date from the accounts and slots
//! written since its last call (about `log2(n)` keccaks per change); [`state_root`]
//! computes the same value from scratch and the tests hold the two equal. Unlike Ethereum's
//! hexary Patricia trie there are no extension nodes: a lone entry sits as high as it can,
//! and a fork is only ever a plain two-way node.

//! ## The store
//!
//! [`Store`] keeps headers, bodies, receipts, accounts, code, storage and a small `meta`
//! table in one redb file. [`Store::commit_block`] writes a block, its receipts and the
//! dirty state in one write transaction with immediate durability: a crash at any point
//! leaves the previous block or the new one, never a mixture; the crash test kills a writer
//! with SIGKILL many times to check exactly that.

#![forbid(unsafe_code)]

mod account;
mod address;
mod block;
pub mod codec;
pub mod journal;
mod receipt;
pub mod root;
mod store;
pub mod trie;
mod tx;

pub use account::{Account, State, StateError, MAX_STORAGE_KEY, MAX_STORAGE_VALUE};
pub use address::{from_hex, from_hex_array, keccak256, keccak256_parts, to_hex, Address, Hash32, HexError};
pub use block::{tx_root, Block, BlockHeader, HEADER_SIZE};
pub use codec::DecodeError;
pub use journal::{Checkpoint, Dirty};
pub use receipt::{receipts_root, Log, Receipt, Status, MAX_REASON};
pub use root::{state_root, storage_root, EMPTY_ROOT};
pub use store::{Store, StoreError, DB_FILE};
pub use tx::{recover_senders_parallel, SignedTransaction, Transaction, TxError, GAS_PRICE, MAX_TX_DATA};

/// Re-exported so callers name the same k256 types as this crate.
pub use k256;
