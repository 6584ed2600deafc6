//! The call's environment: who called, with how much, in which block, and
//! native balances.

use core::cell::UnsafeCell;

use avm_abi::layout::{Context, CONTEXT_DEPLOYING, CONTEXT_SIZE, CONTEXT_STATIC};
use avm_abi::status::OK;
use avm_abi::syscall as sc;
use avm_abi::Address;

use crate::sys::{addr, syscall};

/// The context record, read once per call (a task serves exactly one call).
struct Cached(UnsafeCell<Option<Context>>);

// SAFETY: a contract is single-threaded.
unsafe impl Sync for Cached {}

static CONTEXT: Cached = Cached(UnsafeCell::new(None));

/// The call's context record.
pub fn context() -> Context {
    // SAFETY: single-threaded; no reference to the cell outlives this call.
    let slot = unsafe { &mut *CONTEXT.0.get() };
    if let Some(c) = slot {
        return *c;
    }
    let mut buf = crate::buf::StackBuf::<{ CONTEXT_SIZE as usize }>::new();
    let (status, _) = syscall(sc::CONTEXT, addr(buf.as_mut_ptr()), 0, 0, 0);
    if status != avm_abi::status::OK {
        crate::rt::revert(avm_abi::status::describe(status));
    }
    // SAFETY: a CONTEXT that succeeded wrote the whole record.
    unsafe { buf.set_filled(CONTEXT_SIZE as usize) };
    let Ok(record) = buf.filled().try_into() else { crate::rt::revert("short context record") };
    let c = Context::from_bytes(record);
    *slot = Some(c);
    c
}

/// The account or contract that made this call.
pub fn caller() -> Address {
    context().caller
}

/// This contract's address.
pub fn self_address() -> Address {
    context().this
}

/// Native value sent with this call.
pub fn value() -> u128 {
    context().value
}

/// Number of the block this call runs in.
pub fn block_number() -> u64 {
    context().block_number
}

/// True while the contract's `init` runs as part of its deployment.
pub fn is_deploying() -> bool {
    context().flags & CONTEXT_DEPLOYING != 0
}

/// True in a read-only call (a `view`): state changes fail.
pub fn is_static() -> bool {
    context().flags & CONTEXT_STATIC != 0
}

/// Native balance of an account.
pub fn balance(who: &Address) -> u128 {
    let mut out = [0u8; 16];
    syscall(sc::BALANCE, addr(who.0.as_ptr()), addr(out.as_mut_ptr()), 0, 0);
    u128::from_le_bytes(out)
}

/// Why a native transfer failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransferError(pub u32);

impl TransferError {
    /// What the code means.
    pub fn describe(&self) -> &'static str {
        avm_abi::status::describe(self.0)
    }
}

/// Send native value from this contract to `to`.
pub fn transfer(to: &Address, amount: u128) -> Result<(), TransferError> {
    let bytes = amount.to_le_bytes();
    let (status, _) = syscall(sc::TRANSFER, addr(to.0.as_ptr()), addr(bytes.as_ptr()), 0, 0);
    if status == OK {
        Ok(())
    } else {
        Err(TransferError(status))
    }
}

/// Print to the host's debug log (shown by `avm` in verbose runs).
pub fn debug(message: &str) {
    syscall(sc::DEBUG, addr(message), message.len() as u32, 0, 0);
}
