//! Prints every byte value, 0 and odd ones included, through the HTIF console
//! (device 1, command 1), written in the standard order: low word (the byte),
//! then high word (device and command). On QEMU's `spike` machine and on aVM the
//! command runs when the high word lands, so no odd byte can read as an exit.
//! The output is a header line, the 256 bytes 0..=255, and a closing line.
#![no_std]
#![no_main]

use avm_bare::{putchar, puts};

fn main() -> u32 {
    puts("htif console: every byte\n");
    for b in 0..=255u8 {
        putchar(b);
    }
    puts("\nhtif console: done\n");
    0
}

avm_bare::entry!(main);
