//! Hostile: reads memory that is not its own: the kernel, the frame pool
//! (where other tasks' pages live) and unmapped addresses. Every one is a
//! page fault in U-mode. And a task that hands another task the address of
//! its own data learns nothing: the same virtual address in the other task's
//! space is the other task's memory.
#![no_std]
#![no_main]

use avm_sdk::call::call;
use avm_sdk::{contract, revert, selector, Address, Selector, Vec};

const PEEK: Selector = selector("peek(u32)");

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

    /// Put `secret` in this task's heap and on its stack, and ask `target`
    /// to `peek` at both addresses; returns what it saw.
    fn peek_other(target: Address, secret: u32) -> (u32, u32) {
        let mut on_heap = Vec::with_capacity(1);
        on_heap.push(secret);
        let on_stack = core::hint::black_box(secret);
        let heap_at = on_heap.as_ptr() as usize as u32;
        let stack_at = &on_stack as *const u32 as usize as u32;
        let seen = |at: u32| call::<u32>(&target, PEEK, &(at,), 0).unwrap_or_else(|e| revert(e.message()));
        let seen = (seen(heap_at), seen(stack_at));
        core::hint::black_box((&on_heap, &on_stack));
        seen
    }
}
