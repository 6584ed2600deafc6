//! Runtime for aVM's bare-metal guest programs (M-mode, no kernel, no paging).
//!
//! A bare-metal program talks to the outside world through HTIF, the "host-target
//! interface" of Spike and riscv-tests: two 64-bit words, `tohost` and `fromhost`, that
//! the host watches. The upper byte of the value written to `tohost` selects a device,
//! the next byte a command, the low 48 bits are the payload:
//!
//! * device 0, command 0, payload with bit 0 set: exit with code `payload >> 1`
//!   (0 = pass, N = test N failed);
//! * device 1, command 1: print the byte in the payload (console putchar); the host
//!   clears `tohost` when it has consumed the byte.
//!
//! A 32-bit hart writes the 64-bit value as two words, low word first: the host runs
//! the command when the high word is written (QEMU's `spike` machine, Spike's fesvr and
//! aVM all agree on this order), so the same ELF prints and exits on all of them.
//! This crate provides that console and exit for Rust programs, a
//! panic handler, and [`entry!`], the startup code (stack, `.bss`, `main`). The assembly
//! conformance programs include `macros.S` instead (see `src/bin/*.rs`).
#![no_std]

use core::fmt;
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

/// `core::fmt` sink for the HTIF console: `write!(Console, ...)`.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        puts(s);
        Ok(())
    }
}

/// `println!` for the HTIF console.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::Console, $($arg)*);
    }};
}

/// Startup code for a Rust program: `avm_bare::entry!(main);` with `fn main() -> u32`
/// (0 = pass). Sets the stack pointer to `__stack_top`, zeroes `.bss`, calls `main` and
/// reports its result to `tohost`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        core::arch::global_asm!(
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/htif.S")),
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/rt.S")),
        );
        #[no_mangle]
        extern "C" fn avm_bare_main() -> u32 {
            let f: fn() -> u32 = $main;
            f()
        }
    };
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    println!("panic: {}", info);
    exit(0x7ff)
}
