//! Hostile: reads memory that is not its own: the kernel, the frame pool
//! (where other tasks' pages live) and unmapped addresses. Every one is a
//! page fault in U-mode.
#![no_std]
#![no_main]

use avm_sdk::contract;

contract! {
    /// Read the word at `addr`.
    fn peek(addr: u32) -> u32 {
        // SAFETY: none; the kernel stops the task if the page is not its own.
        unsafe { (addr as *const u32).read_volatile() }
    }

    /// Write the word at `addr`.
    fn poke(addr: u32, value: u32) {
        // SAFETY: as for peek.
        unsafe { (addr as *mut u32).write_volatile(value) }
    }
}
