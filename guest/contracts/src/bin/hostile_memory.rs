//! Hostile: memory bombs. The heap is bounded, the frame pool is bounded,
//! and both end the call with a clear reason.
#![no_std]
#![no_main]

use avm_sdk::{contract, Vec};
use avm_abi_layout::*;

mod avm_abi_layout {
    pub const HEAP_START: u32 = 0x4000_0000;
    pub const HEAP_MAX: u32 = 1 << 20;
}

contract! {
    /// Grow a vector until the allocator gives up (a panic, so a revert).
    fn bomb() -> u32 {
        let mut v: Vec<Vec<u8>> = Vec::new();
        loop {
            v.push(Vec::with_capacity(64 << 10));
            core::hint::black_box(&v);
        }
    }

    /// Write past the end of the heap region directly (a page fault).
    fn past_heap() {
        let p = (HEAP_START + HEAP_MAX + 4096) as *mut u32;
        // SAFETY: none; the point is that the kernel stops it.
        unsafe { p.write_volatile(1) };
    }

    /// Touch every page of the heap (allowed: 256 pages).
    fn fill_heap() -> u32 {
        let mut pages = 0;
        let mut at = HEAP_START;
        while at < HEAP_START + HEAP_MAX {
            // SAFETY: inside the heap region, which the kernel maps on demand;
            // the allocator is not used by this method.
            unsafe { (at as *mut u32).write_volatile(at) };
            at += 4096;
            pages += 1;
        }
        pages
    }
}
