//! Hostile: syscalls with wild pointers and lengths. The kernel must reject
//! every one before it reaches the host.
#![no_std]
#![no_main]

use avm_sdk::contract;
use avm_sdk::sys::syscall;

const INPUT: u32 = 2;
const STORAGE_SET: u32 = 5;
const EMIT: u32 = 6;

contract! {
    /// 0: the kernel's memory as an output buffer; 1: a null pointer;
    /// 2: an unmapped address; 3: a length that wraps around the address
    /// space; 4: writing into the contract's own code; 5: ten million topics.
    fn wild(kind: u8) {
        let code = wild as *const () as usize as u32;
        match kind {
            0 => { syscall(INPUT, 0x8000_0000, 16, 0, 0); }
            1 => { syscall(STORAGE_SET, 0, 4, 0, 4); }
            2 => { syscall(STORAGE_SET, 0x3000_0000, 4, 0x3000_0000, 4); }
            3 => { syscall(STORAGE_SET, 0x7ffe_f000, 0xffff_f000, 0, 0); }
            4 => { syscall(INPUT, code, 16, 0, 0); }
            _ => { syscall(EMIT, 0x7ffe_f000, 10_000_000, 0, 0); }
        }
    }
}
