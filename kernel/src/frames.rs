//! The frame pool: physical pages for page tables, code, heaps and stacks.
//!
//! A bump allocator. Calls nest like a stack, so a call releases everything
//! it allocated by moving the pointer back to its [`Frames::mark`]; there is
//! no free list to corrupt and no fragmentation, and memory use is bounded by
//! the deepest nesting, not by the number of calls.

use avm_abi::layout::PAGE_SIZE;

use crate::host;

/// The pool of free frames `[next, end)`.
pub struct Frames {
    next: u32,
    end: u32,
}

impl Frames {
    /// A pool of the frames in `[start, end)` (both page-aligned by the host).
    pub fn new(start: u32, end: u32) -> Frames {
        Frames { next: start, end }
    }

    /// The next frame [`Frames::alloc`] would return.
    pub fn next(&self) -> u32 {
        self.next
    }

    /// Bytes still free.
    pub fn available(&self) -> u32 {
        self.end - self.next
    }

    /// `count` contiguous frames (contents undefined), or `None` if the pool
    /// is exhausted.
    pub fn alloc(&mut self, count: u32) -> Option<u32> {
        let bytes = count.checked_mul(PAGE_SIZE)?;
        if bytes > self.available() {
            return None;
        }
        let at = self.next;
        self.next += bytes;
        Some(at)
    }

    /// `count` contiguous zeroed frames.
    pub fn alloc_zeroed(&mut self, count: u32) -> Option<u32> {
        let at = self.alloc(count)?;
        host::zero_pages(at, count);
        Some(at)
    }

    /// The current position, to release to later.
    pub fn mark(&self) -> u32 {
        self.next
    }

    /// Free everything allocated since `mark`.
    pub fn release(&mut self, mark: u32) {
        self.next = mark;
    }
}
