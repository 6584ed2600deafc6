//! Calling other contracts.
//!
//! [`call`] sends call data (a selector and encoded arguments) to another
//! contract, which runs as a new task in its own address space. If the callee
//! reverts or faults, only its effects are undone and the caller gets an
//! [`CallError`] it may handle or turn into its own revert.

use alloc::string::String;
use alloc::vec::Vec;

use avm_abi::codec::{Decode, Encode};
use avm_abi::layout::CallRequest;
use avm_abi::status::Outcome;
use avm_abi::syscall as sc;
use avm_abi::{Address, Selector};

use crate::sys::{addr, syscall};

/// Why a call to another contract did not return a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The callee reverted with this message.
    Reverted(String),
    /// The callee faulted (the message says how).
    Failed(String),
    /// The call never started (no code, depth limit, balance).
    Rejected(String),
    /// The callee returned bytes that are not the expected type.
    BadReturn,
}

impl CallError {
    /// The message, for passing a callee's failure on.
    pub fn message(&self) -> &str {
        match self {
            CallError::Reverted(m) | CallError::Failed(m) | CallError::Rejected(m) => m,
            CallError::BadReturn => "callee returned data of the wrong type",
        }
    }
}

/// The return data of the last nested call.
fn return_data(len: u32) -> Vec<u8> {
    let mut buf = Vec::with_capacity(len as usize);
    let (copied, _) = syscall(sc::RETURN_DATA, addr(buf.as_mut_ptr()), len, 0, 0);
    // SAFETY: the kernel wrote min(copied, len) bytes.
    unsafe { buf.set_len(copied.min(len) as usize) };
    buf
}

/// Call `method` (a selector, e.g. `const T: Selector =
/// selector("transfer(Address,u128)")`) on `target` with `args` (a tuple)
/// and `value` native tokens; decode the result as `R`.
pub fn call<R: Decode>(target: &Address, method: Selector, args: &impl Encode, value: u128) -> Result<R, CallError> {
    let mut input = Vec::with_capacity(64);
    input.extend_from_slice(&method);
    args.encode(&mut input);
    let req = CallRequest { target: *target, value, input_ptr: addr(input.as_ptr()), input_len: input.len() as u32, flags: 0 };
    let bytes = req.to_bytes();
    let (outcome, len) = syscall(sc::CALL, addr(bytes.as_ptr()), 0, 0, 0);
    let data = return_data(len);
    let text = || String::from_utf8_lossy(&data).into_owned();
    match Outcome::from_code(outcome) {
        Some(Outcome::Return) => R::decode_all(&data).map_err(|_| CallError::BadReturn),
        Some(Outcome::Revert) => Err(CallError::Reverted(text())),
        Some(Outcome::Fault) => Err(CallError::Failed(text())),
        _ => Err(CallError::Rejected(text())),
    }
}
