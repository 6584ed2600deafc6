//! Syscalls: what a contract (U-mode) asks of the kernel (S-mode).
//!
//! A contract executes `ecall` with the number in `a7` and arguments in
//! `a0..a5`; results come back in `a0` (and `a1`). Most syscalls are *host
//! services* (storage, events, balances, input): the kernel checks every
//! pointer and length against the task's address space, then forwards the
//! call to the host with the same number ([`crate::host`] reuses it), and the
//! host copies bytes in or out of the contract's memory. A few are the
//! kernel's own business: ending the task ([`RETURN`], [`REVERT`]) and
//! calling another contract ([`CALL`]), which makes a new task.
//!
//! [`buffers`] is the table the kernel validates with: which argument
//! registers hold a pointer, where its length comes from, and whether the host
//! will read or write the memory. One table, so a new syscall cannot be added
//! without saying what memory it touches.

/// `INPUT_LEN() -> a0 = length of the call data`.
pub const INPUT_LEN: u32 = 1;
/// `INPUT(ptr, cap) -> a0 = bytes copied, a1 = length of the call data`:
/// copies the call data (selector included) to `ptr`, at most `cap` bytes
/// (so a large enough buffer needs no [`INPUT_LEN`] first).
pub const INPUT: u32 = 2;
/// `CONTEXT(ptr)`: writes a [`crate::layout::Context`] record
/// ([`crate::layout::CONTEXT_SIZE`] bytes) to `ptr`.
pub const CONTEXT: u32 = 3;
/// `STORAGE_GET(key, key_len, out, cap) -> a0 = value length (0 = absent)`:
/// copies at most `cap` bytes of the value.
pub const STORAGE_GET: u32 = 4;
/// `STORAGE_SET(key, key_len, value, value_len)`: an empty value deletes.
pub const STORAGE_SET: u32 = 5;
/// `EMIT(topics, n_topics, data, data_len)`: a log with `n_topics` 32-byte
/// topics (at most [`crate::layout::MAX_TOPICS`]) and data.
pub const EMIT: u32 = 6;
/// `BALANCE(address, out)`: writes the 16-byte little-endian balance of the
/// 20-byte address at `address`.
pub const BALANCE: u32 = 7;
/// `TRANSFER(address, amount) -> a0 = status`: sends the 16-byte amount from
/// this contract to the address.
pub const TRANSFER: u32 = 8;
/// `CALL(request) -> a0 = call status, a1 = return data length`: calls
/// another contract; `request` points at a [`crate::layout::CallRequest`]
/// record ([`crate::layout::CALL_REQUEST_SIZE`] bytes).
pub const CALL: u32 = 9;
/// `RETURN_DATA(ptr, cap) -> a0 = bytes copied`: the return data (or revert
/// message) of the last nested call.
pub const RETURN_DATA: u32 = 10;
/// `RETURN(ptr, len)`: end the call successfully with this return data.
pub const RETURN: u32 = 11;
/// `REVERT(ptr, len)`: end the call, undoing its effects, with this message.
pub const REVERT: u32 = 12;
/// `DEBUG(ptr, len)`: print bytes to the host's debug log (no effect on
/// state; costs gas like an event).
pub const DEBUG: u32 = 13;

/// Where a buffer's length comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Len {
    /// The value of argument register `a<n>`.
    Arg(u8),
    /// The value of `a<n>` times a constant (topics are 32 bytes each).
    ArgTimes(u8, u32),
    /// A fixed size.
    Fixed(u32),
}

/// One memory buffer a syscall passes: pointer in `a<ptr>`, its length, and
/// whether the host writes it (else it only reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buffer {
    /// Argument register holding the pointer.
    pub ptr: u8,
    /// How long the buffer is.
    pub len: Len,
    /// True if the host writes into it.
    pub write: bool,
}

const fn read(ptr: u8, len: Len) -> Buffer {
    Buffer { ptr, len, write: false }
}

const fn write(ptr: u8, len: Len) -> Buffer {
    Buffer { ptr, len, write: true }
}

/// The buffers of a syscall, or `None` for an unknown number. Kernel-handled
/// syscalls are listed too: the kernel validates their memory the same way.
pub const fn buffers(number: u32) -> Option<&'static [Buffer]> {
    use crate::layout::{CALL_REQUEST_SIZE, CONTEXT_SIZE};
    const NONE: &[Buffer] = &[];
    const OUT_ARG1: &[Buffer] = &[write(0, Len::Arg(1))];
    const CONTEXT_OUT: &[Buffer] = &[write(0, Len::Fixed(CONTEXT_SIZE))];
    const GET: &[Buffer] = &[read(0, Len::Arg(1)), write(2, Len::Arg(3))];
    const SET: &[Buffer] = &[read(0, Len::Arg(1)), read(2, Len::Arg(3))];
    const TOPICS_DATA: &[Buffer] = &[read(0, Len::ArgTimes(1, 32)), read(2, Len::Arg(3))];
    const ADDRESS_OUT: &[Buffer] = &[read(0, Len::Fixed(20)), write(1, Len::Fixed(16))];
    const ADDRESS_AMOUNT: &[Buffer] = &[read(0, Len::Fixed(20)), read(1, Len::Fixed(16))];
    const REQUEST: &[Buffer] = &[read(0, Len::Fixed(CALL_REQUEST_SIZE))];
    const IN_ARG1: &[Buffer] = &[read(0, Len::Arg(1))];
    Some(match number {
        INPUT_LEN => NONE,
        INPUT | RETURN_DATA => OUT_ARG1,
        CONTEXT => CONTEXT_OUT,
        STORAGE_GET => GET,
        STORAGE_SET => SET,
        EMIT => TOPICS_DATA,
        BALANCE => ADDRESS_OUT,
        TRANSFER => ADDRESS_AMOUNT,
        CALL => REQUEST,
        RETURN | REVERT | DEBUG => IN_ARG1,
        _ => return None,
    })
}

/// True for the syscalls the kernel forwards to the host unchanged (after
/// checking their buffers); the others it handles itself.
pub const fn is_host_service(number: u32) -> bool {
    matches!(
        number,
        INPUT_LEN | INPUT | CONTEXT | STORAGE_GET | STORAGE_SET | EMIT | BALANCE | TRANSFER | RETURN_DATA | DEBUG
    )
}

/// A name for messages ("bad pointer in STORAGE_SET").
pub const fn name(number: u32) -> &'static str {
    match number {
        INPUT_LEN => "INPUT_LEN",
        INPUT => "INPUT",
        CONTEXT => "CONTEXT",
        STORAGE_GET => "STORAGE_GET",
        STORAGE_SET => "STORAGE_SET",
        EMIT => "EMIT",
        BALANCE => "BALANCE",
        TRANSFER => "TRANSFER",
        CALL => "CALL",
        RETURN_DATA => "RETURN_DATA",
        RETURN => "RETURN",
        REVERT => "REVERT",
        DEBUG => "DEBUG",
        _ => "unknown",
    }
}
