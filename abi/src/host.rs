//! Host calls: what the kernel (S-mode) asks of the host firmware (M-mode).
//!
//! Like SBI on a real RISC-V board, the kernel executes `ecall` with the call
//! number in `a7` and arguments in `a0..a5`. In aVM's *firmware* mode an
//! `ecall` from S-mode is not taken by any guest trap handler: it stops the
//! engine, the host services it in Rust, writes the results into `a0..a3`,
//! steps `pc` past the `ecall` and resumes. Both engines stop at exactly the
//! same instruction, so the host sees the same sequence of calls.
//!
//! The numbers below `0x100` are the contract syscalls of [`crate::syscall`]
//! that the kernel forwards once it has checked their buffers (the host
//! reads and writes the contract's memory through the current page table).
//! The numbers from `0x100` up are the kernel's own.
//!
//! Every host call returns a [`crate::status`] code in `a0`.

/// `NEXT_CALL()`: the kernel is idle and waits for work. The host stops here
/// between transactions; when it resumes the kernel, a top-level call has
/// been entered (as by [`CALL_ENTER`]) and the kernel runs it.
pub const NEXT_CALL: u32 = 0x100;
/// `LOAD_CODE(dest, cap, segments, max_segments) -> a0 = status,
/// a1 = image bytes, a2 = entry point, a3 = segment count`: copy the code
/// image of the current call's contract to physical address `dest` (at most
/// `cap` bytes, page-aligned segments, zero-filled) and describe its segments
/// as [`crate::layout::Segment`] records at physical `segments`.
pub const LOAD_CODE: u32 = 0x101;
/// `CALL_ENTER(request) -> a0 = status`: the current contract asks to call
/// another; `request` is the user address of a checked
/// [`crate::layout::CallRequest`]. On success the host has pushed a call
/// frame (checkpoint, value transfer) and the kernel starts the callee.
pub const CALL_ENTER: u32 = 0x102;
/// `CALL_EXIT(outcome, a1, a2, a3)`: the current call ended. For
/// [`crate::status::Outcome::Return`] and `Revert`, `a1`/`a2` are the user
/// pointer and length of the return data or revert message (checked, in the
/// ending task's address space, still active). For `Fault`, `a1` is a
/// [`crate::status::Fault`] code and `a2`/`a3` its details. The host commits
/// or reverts the frame and pops it.
pub const CALL_EXIT: u32 = 0x103;
/// `ZERO_PAGES(paddr, count)`: fill `count` 4 KiB frames with zeros (cheaper
/// for the host than 1,024 guest stores per page).
pub const ZERO_PAGES: u32 = 0x104;
/// `KERNEL_PANIC(code, a1, a2)`: the kernel hit a bug it cannot recover from
/// (a trap in S-mode). The host fails the transaction with a fault.
pub const KERNEL_PANIC: u32 = 0x105;

/// A name for messages and traces.
pub const fn name(number: u32) -> &'static str {
    match number {
        NEXT_CALL => "NEXT_CALL",
        LOAD_CODE => "LOAD_CODE",
        CALL_ENTER => "CALL_ENTER",
        CALL_EXIT => "CALL_EXIT",
        ZERO_PAGES => "ZERO_PAGES",
        KERNEL_PANIC => "KERNEL_PANIC",
        n => crate::syscall::name(n),
    }
}
