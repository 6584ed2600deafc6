//! The HTIF console and exit of a bare-metal program (the default build): see the
//! crate docs for the protocol.

use core::ptr::{addr_of_mut, read_volatile, write_volatile};

extern "C" {
    /// Defined in `htif.S`, placed in `.tohost` by `link.x`.
    static mut tohost: u64;
}

fn tohost_ptr() -> *mut u32 {
    addr_of_mut!(tohost).cast::<u32>()
}

/// Writes one 64-bit HTIF command to `tohost` (low word, then high word) and waits
/// until the host has taken it (tohost reads 0 again).
fn htif_send(value: u64) {
    let p = tohost_ptr();
    // SAFETY: `tohost` is a valid, aligned 8-byte static owned by this program and the host.
    unsafe {
        write_volatile(p, value as u32);
        write_volatile(p.add(1), (value >> 32) as u32);
        while read_volatile(p) != 0 || read_volatile(p.add(1)) != 0 {}
    }
}

/// Prints one byte on the HTIF console (device 1, command 1).
pub fn putchar(byte: u8) {
    htif_send((1u64 << 56) | (1u64 << 48) | u64::from(byte));
}

/// Prints a string on the HTIF console.
pub fn puts(s: &str) {
    s.bytes().for_each(putchar);
}

/// Ends the program: code 0 = pass, otherwise the failing test number.
pub fn exit(code: u32) -> ! {
    let p = tohost_ptr();
    let value = (code << 1) | 1;
    // SAFETY: as in `htif_send`; the host stops the hart on the second write.
    unsafe {
        write_volatile(p, value);
        write_volatile(p.add(1), 0);
    }
    loop {
        core::hint::spin_loop();
    }
}
