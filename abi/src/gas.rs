//! The gas schedule.
//!
//! Gas is what a transaction pays for: **one unit per retired instruction**,
//! kernel and contract alike (the machine counts them exactly, and both
//! engines stop at the same instruction when gas runs out), plus the costs
//! below for host calls, whose work happens outside the guest and so is not
//! counted as instructions. The figures are round numbers in proportion to
//! the host work (a storage write is a journal entry and, at block end, a
//! database write; an event is kept in the receipt forever).

/// Every transaction, before anything runs (signature check, nonce, fee).
pub const TX_BASE: u64 = 1_000;
/// Per byte of transaction data.
pub const TX_DATA_BYTE: u64 = 4;
/// Per byte of code stored by a deployment.
pub const DEPLOY_BYTE: u64 = 10;
/// Every host call, whatever it does.
pub const HOST_CALL: u64 = 10;
/// Per byte copied between the host and guest memory (input, return data,
/// context), rounded up to whole words.
pub const COPY_WORD: u64 = 1;
/// A storage read.
pub const STORAGE_READ: u64 = 100;
/// A storage write.
pub const STORAGE_WRITE: u64 = 500;
/// Per byte of key and value written to storage.
pub const STORAGE_WRITE_BYTE: u64 = 2;
/// An event.
pub const EVENT: u64 = 100;
/// Per byte of event topics and data.
pub const EVENT_BYTE: u64 = 2;
/// Reading a balance.
pub const BALANCE: u64 = 50;
/// A native transfer.
pub const TRANSFER: u64 = 300;
/// Entering a nested call (checkpoint, frame).
pub const CALL: u64 = 300;
/// Loading a contract's code image, per 4 KiB page.
pub const CODE_LOAD_PAGE: u64 = 32;
/// Zeroing a 4 KiB frame for the kernel.
pub const ZERO_PAGE: u64 = 8;

/// Words (4 bytes, rounded up) in `len` bytes: copy costs are per word.
pub const fn words(len: u64) -> u64 {
    len.div_ceil(4)
}
