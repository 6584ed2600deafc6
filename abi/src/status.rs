//! Status codes of syscalls and host calls, and how a call ends.
//!
//! A host service returns [`OK`] or an error code in `a0`. A contract's
//! nested call returns an [`Outcome`] code. A task that misbehaves ends in a
//! [`Fault`], which the host reports as a failed receipt with a reason.

/// Success.
pub const OK: u32 = 0;
/// A pointer or length did not describe the caller's memory.
pub const E_FAULT: u32 = 1;
/// A size limit of [`crate::layout`] was exceeded.
pub const E_TOO_LARGE: u32 = 2;
/// Not enough balance for a transfer or a call's value.
pub const E_INSUFFICIENT_BALANCE: u32 = 3;
/// A state change was attempted in a read-only (view) call.
pub const E_STATIC: u32 = 4;
/// The called address has no code.
pub const E_NO_CODE: u32 = 5;
/// The call-depth limit ([`crate::layout::MAX_CALL_DEPTH`]) was reached.
pub const E_DEPTH: u32 = 6;
/// An argument had a value outside its range (e.g. too many topics).
pub const E_BAD_ARGUMENT: u32 = 7;
/// The host call is not known.
pub const E_UNKNOWN_CALL: u32 = 8;

/// A short description of an error code.
pub const fn describe(code: u32) -> &'static str {
    match code {
        OK => "ok",
        E_FAULT => "bad pointer or length",
        E_TOO_LARGE => "size limit exceeded",
        E_INSUFFICIENT_BALANCE => "insufficient balance",
        E_STATIC => "state change in a read-only call",
        E_NO_CODE => "no contract at this address",
        E_DEPTH => "call depth limit reached",
        E_BAD_ARGUMENT => "bad argument",
        E_UNKNOWN_CALL => "unknown call",
        _ => "unknown error",
    }
}

/// How a call ended: `CALL_EXIT`'s first argument, and the status a nested
/// `CALL` returns to its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Outcome {
    /// `RETURN`: effects kept, return data delivered.
    Return = 0,
    /// `REVERT`: effects undone, the message delivered as return data.
    Revert = 1,
    /// The callee faulted (page fault, illegal instruction, bad pointer...):
    /// effects undone.
    Fault = 2,
    /// The call never started (no code, depth limit, insufficient balance).
    Rejected = 3,
}

impl Outcome {
    /// The outcome with this code.
    pub const fn from_code(code: u32) -> Option<Outcome> {
        match code {
            0 => Some(Outcome::Return),
            1 => Some(Outcome::Revert),
            2 => Some(Outcome::Fault),
            3 => Some(Outcome::Rejected),
            _ => None,
        }
    }
}

/// Why the kernel ended a task as a fault (`CALL_EXIT` with
/// [`Outcome::Fault`], code in `a1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Fault {
    /// A trap in U-mode the kernel does not service: `a2` = `scause`,
    /// `a3` = `stval`.
    Trap = 1,
    /// A syscall argument pointed outside the task's memory: `a2` = syscall
    /// number, `a3` = the pointer.
    BadPointer = 2,
    /// An unknown syscall number (`a2`).
    BadSyscall = 3,
    /// The heap, the stack or the kernel's frame pool ran out: `a3` = the
    /// address that needed a page.
    OutOfMemory = 4,
    /// The stack grew into its guard page: `a3` = the address.
    StackOverflow = 5,
    /// The contract's code could not be loaded (`a2` = status code).
    BadCode = 6,
}

impl Fault {
    /// The fault with this code.
    pub const fn from_code(code: u32) -> Option<Fault> {
        match code {
            1 => Some(Fault::Trap),
            2 => Some(Fault::BadPointer),
            3 => Some(Fault::BadSyscall),
            4 => Some(Fault::OutOfMemory),
            5 => Some(Fault::StackOverflow),
            6 => Some(Fault::BadCode),
            _ => None,
        }
    }
}
