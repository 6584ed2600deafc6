//! Hostile: unbounded recursion. The stack is bounded and guarded; running
//! into the guard ends the call as a stack overflow.
#![no_std]
#![no_main]

use avm_sdk::contract;

#[inline(never)]
fn dive(n: u32, pad: &mut [u8; 512]) -> u32 {
    pad[(n % 512) as usize] = n as u8;
    let mut next = [0u8; 512];
    next[0] = pad[0];
    core::hint::black_box(&mut next);
    if n == 0 {
        return u32::from(next[0]);
    }
    dive(n - 1, &mut next).wrapping_add(1)
}

contract! {
    /// Recurse `depth` times with 1 KiB frames.
    fn recurse(depth: u32) -> u32 {
        let mut pad = [0u8; 512];
        dive(depth, &mut pad)
    }
}
