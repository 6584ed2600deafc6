//! Blocks and block headers.
//!
//! Header encoding (integers big-endian, 156 bytes): `number (8) ‖ parent_hash (32) ‖
//! state_root (32) ‖ receipts_root (32) ‖ tx_root (32) ‖ gas_used (8) ‖ gas_limit (8) ‖
//! tx_count (4)`. The block hash is keccak256 of that encoding: it commits to the parent
//! (hence the whole chain), the state after the block, the receipts and the transactions.

use crate::address::{keccak256, Hash32};
use crate::codec::{DecodeError, Reader, Writer};
use crate::root::{leaf_hash, merkle_root, EMPTY_ROOT};
use crate::tx::{SignedTransaction, TxError};

/// Encoded size of a header.
pub const HEADER_SIZE: usize = 8 + 32 * 4 + 8 + 8 + 4;

/// A block header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockHeader {
    /// Height: 0 for genesis.
    pub number: u64,
    /// Hash of the previous header (zero for genesis).
    pub parent_hash: Hash32,
    /// State root after the block.
    pub state_root: Hash32,
    /// Root over the block's receipts.
    pub receipts_root: Hash32,
    /// Root over the block's signed transactions.
    pub tx_root: Hash32,
    /// Gas used by all transactions.
    pub gas_used: u64,
    /// Most gas the block may use.
    pub gas_limit: u64,
    /// Number of transactions.
    pub tx_count: u32,
}

impl BlockHeader {
    /// The genesis header for an initial state.
    pub fn genesis(state_root: Hash32, gas_limit: u64) -> BlockHeader {
        BlockHeader {
            number: 0,
            parent_hash: [0; 32],
            state_root,
            receipts_root: EMPTY_ROOT,
            tx_root: EMPTY_ROOT,
            gas_used: 0,
            gas_limit,
            tx_count: 0,
        }
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(HEADER_SIZE);
        w.u64(self.number);
        w.fixed(&self.parent_hash);
        w.fixed(&self.state_root);
        w.fixed(&self.receipts_root);
        w.fixed(&self.tx_root);
        w.u64(self.gas_used);
        w.u64(self.gas_limit);
        w.u32(self.tx_count);
        w.finish()
    }

    /// Decodes [`BlockHeader::encode`]'s output; rejects anything else.
    pub fn decode(bytes: &[u8]) -> Result<BlockHeader, DecodeError> {
        let mut r = Reader::new(bytes);
        let h = BlockHeader {
            number: r.u64("block number")?,
            parent_hash: r.array("parent hash")?,
            state_root: r.array("state root")?,
            receipts_root: r.array("receipts root")?,
            tx_root: r.array("tx root")?,
            gas_used: r.u64("gas used")?,
            gas_limit: r.u64("gas limit")?,
            tx_count: r.u32("tx count")?,
        };
        r.finish()?;
        Ok(h)
    }

    /// The block hash: keccak256 of the encoding.
    pub fn hash(&self) -> Hash32 {
        keccak256(&self.encode())
    }
}

/// A block: its header and transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The transactions, in execution order.
    pub transactions: Vec<SignedTransaction>,
}

impl Block {
    /// The block hash (the header's hash).
    pub fn hash(&self) -> Hash32 {
        self.header.hash()
    }

    /// Encodes the transactions alone (the block body): count (4) ‖ each signed transaction.
    pub fn encode_body(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.count(self.transactions.len());
        for tx in &self.transactions {
            w.fixed(&tx.encode());
        }
        w.finish()
    }

    /// Decodes a body written by [`Block::encode_body`].
    pub fn decode_body(bytes: &[u8]) -> Result<Vec<SignedTransaction>, TxError> {
        let mut r = Reader::new(bytes);
        let n = r.count(usize::MAX, 8 + 8 + 8 + 1 + 16 + 4 + 65, "transaction count")?;
        let mut txs = Vec::with_capacity(n);
        for _ in 0..n {
            txs.push(SignedTransaction::decode_from(&mut r)?);
        }
        r.finish()?;
        Ok(txs)
    }
}

/// The transactions root: the Merkle root (see [`crate::root`]) whose leaves are the signed
/// transaction encodings in block order.
pub fn tx_root(txs: &[SignedTransaction]) -> Hash32 {
    merkle_root(txs.iter().map(|t| leaf_hash(&t.encode())).collect())
}
