//! Receipts: what a transaction did, and the receipts root.
//!
//! Encoding (integers big-endian): `tx_hash (32) ‖ block (8) ‖ index (4) ‖ status ‖
//! gas_used (8) ‖ instructions (8) ‖ count (4) ‖ logs ‖ len (4) ‖ return_data ‖
//! contract_address (0, or 1 ‖ 20 bytes)`. A status is one tag byte (0 success, 1 revert,
//! 2 out-of-gas, 3 fault), followed for revert and fault by a length-prefixed UTF-8 reason.
//! A log is `address (20) ‖ count (4) ‖ topics (32 each) ‖ len (4) ‖ data`.

use crate::address::{Address, Hash32};
use crate::codec::{DecodeError, Reader, Writer};
use crate::root::{leaf_hash, merkle_root};

/// Longest revert or fault reason kept in a receipt, in bytes.
pub const MAX_REASON: usize = 64 * 1024;

/// How a transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// It ran to completion; its changes are kept.
    Success,
    /// The contract reverted (with its message); changes undone, fee charged.
    Revert(String),
    /// Gas ran out; changes undone, fee charged.
    OutOfGas,
    /// The contract faulted (bad pointer, illegal instruction, ...); changes undone, fee charged.
    Fault(String),
}

impl Status {
    /// `success`, `revert`, `out-of-gas` or `fault`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Revert(_) => "revert",
            Status::OutOfGas => "out-of-gas",
            Status::Fault(_) => "fault",
        }
    }

    /// The revert message or fault description.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Status::Revert(r) | Status::Fault(r) => Some(r),
            Status::Success | Status::OutOfGas => None,
        }
    }

    /// Whether the transaction succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Status::Success)
    }
}

/// An event emitted by a contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// The emitting contract.
    pub address: Address,
    /// Indexed topics.
    pub topics: Vec<Hash32>,
    /// Unindexed data.
    pub data: Vec<u8>,
}

/// The outcome of one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The transaction's hash.
    pub tx_hash: Hash32,
    /// The block number.
    pub block: u64,
    /// The transaction's index in the block.
    pub index: u32,
    /// How it ended.
    pub status: Status,
    /// Gas charged.
    pub gas_used: u64,
    /// Instructions retired (kernel and contracts).
    pub instructions: u64,
    /// Events, in emission order (empty unless it succeeded).
    pub logs: Vec<Log>,
    /// Bytes returned by the call (or the revert data).
    pub return_data: Vec<u8>,
    /// The created contract, for a successful create.
    pub contract_address: Option<Address>,
}

impl Receipt {
    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.fixed(&self.tx_hash);
        w.u64(self.block);
        w.u32(self.index);
        match &self.status {
            Status::Success => w.u8(0),
            Status::Revert(r) => {
                w.u8(1);
                w.bytes(clamp_reason(r).as_bytes());
            }
            Status::OutOfGas => w.u8(2),
            Status::Fault(r) => {
                w.u8(3);
                w.bytes(clamp_reason(r).as_bytes());
            }
        }
        w.u64(self.gas_used);
        w.u64(self.instructions);
        w.count(self.logs.len());
        for log in &self.logs {
            w.fixed(&log.address.0);
            w.count(log.topics.len());
            for t in &log.topics {
                w.fixed(t);
            }
            w.bytes(&log.data);
        }
        w.bytes(&self.return_data);
        match &self.contract_address {
            None => w.u8(0),
            Some(a) => {
                w.u8(1);
                w.fixed(&a.0);
            }
        }
        w.finish()
    }

    /// Decodes [`Receipt::encode`]'s output; rejects anything else.
    pub fn decode(bytes: &[u8]) -> Result<Receipt, DecodeError> {
        let mut r = Reader::new(bytes);
        let tx_hash = r.array("tx hash")?;
        let block = r.u64("block")?;
        let index = r.u32("index")?;
        let status = match r.u8("status")? {
            0 => Status::Success,
            1 => Status::Revert(r.string(MAX_REASON, "revert reason")?),
            2 => Status::OutOfGas,
            3 => Status::Fault(r.string(MAX_REASON, "fault reason")?),
            tag => return Err(DecodeError::InvalidTag { what: "status", tag }),
        };
        let gas_used = r.u64("gas used")?;
        let instructions = r.u64("instructions")?;
        let n = r.count(usize::MAX, 28, "log count")?;
        let mut logs = Vec::with_capacity(n);
        for _ in 0..n {
            let address = Address(r.array("log address")?);
            let t = r.count(usize::MAX, 32, "topic count")?;
            let mut topics = Vec::with_capacity(t);
            for _ in 0..t {
                topics.push(r.array("topic")?);
            }
            let data = r.bytes(usize::MAX, "log data")?.to_vec();
            logs.push(Log { address, topics, data });
        }
        let return_data = r.bytes(usize::MAX, "return data")?.to_vec();
        let contract_address =
            if r.option_tag("contract address")? { Some(Address(r.array("contract address")?)) } else { None };
        r.finish()?;
        Ok(Receipt { tx_hash, block, index, status, gas_used, instructions, logs, return_data, contract_address })
    }
}

/// A reason cut to at most [`MAX_REASON`] bytes at a character boundary, so that every
/// receipt the executor builds also decodes.
fn clamp_reason(r: &str) -> &str {
    if r.len() <= MAX_REASON {
        return r;
    }
    let mut end = MAX_REASON;
    while !r.is_char_boundary(end) {
        end -= 1;
    }
    &r[..end]
}

/// The receipts root: the Merkle root (see [`crate::root`]) whose leaves are the encoded
/// receipts in block order.
pub fn receipts_root(receipts: &[Receipt]) -> Hash32 {
    merkle_root(receipts.iter().map(|r| leaf_hash(&r.encode())).collect())
}
