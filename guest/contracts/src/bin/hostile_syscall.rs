//! Hostile: raw syscalls with numbers, pointers and lengths chosen by the
//! caller. The `syscall` fuzz target (`avm::fuzzing::syscall`) drives it; the
//! kernel must check every one, and the call must end in a receipt.
#![no_std]
#![no_main]

use avm_sdk::sys::{addr, syscall};
use avm_sdk::{contract, Bytes};

/// Size of the scratch buffer that relative pointers point into.
const SCRATCH: usize = 4096;
/// Size of one record of a script.
const RECORD: usize = 24;

fn word(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

contract! {
    /// Runs `script` as a sequence of 24-byte records, each one syscall:
    /// `number, flags, a0, a1, a2, a3` (u32, little-endian). Bit `i` of
    /// `flags` makes `a<i>` an offset into a 4 KiB scratch buffer on the
    /// stack (a pointer the kernel should accept, if the length fits),
    /// which starts as a copy of the script itself, so the caller also
    /// chooses what the buffers hold (keys, topics, call requests).
    /// Returns the xor of every `a0` and `a1` the kernel gave back.
    fn run(script: Bytes) -> u32 {
        let script = script.0;
        let mut scratch = [0u8; SCRATCH];
        let n = script.len().min(SCRATCH);
        scratch[..n].copy_from_slice(&script[..n]);
        let base = addr(scratch.as_ptr());
        let mut acc = 0u32;
        for r in script.chunks_exact(RECORD) {
            let (number, flags) = (word(r, 0), word(r, 4));
            let mut a = [word(r, 8), word(r, 12), word(r, 16), word(r, 20)];
            for (i, v) in a.iter_mut().enumerate() {
                if flags & (1 << i) != 0 {
                    *v = base.wrapping_add(*v % SCRATCH as u32);
                }
            }
            let (r0, r1) = syscall(number, a[0], a[1], a[2], a[3]);
            acc ^= r0 ^ r1;
            core::hint::black_box(&mut scratch);
        }
        acc
    }
}
