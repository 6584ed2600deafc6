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
//!
//! ## The `linux-user` feature: the same programs as Linux processes
//!
//! With `--features linux-user` the Rust programs (the workloads `alu`, `sieve`,
//! `keccak`, `ecdsa`) build as static RV32 Linux executables instead, so
//! `qemu-riscv32` (QEMU's user mode, a JIT of its own) can run the very same `main`
//! beside aVM (`examples/side_by_side`). Only the runtime pieces change: the console
//! is the `write` system call on stdout, `exit` is the `exit` system call
//! (`ecall` with a7 = 93, the code in a0) instead of `tohost`, the startup code
//! (`rt_linux.S`) keeps the stack the kernel (or QEMU) hands over in `sp`, and
//! `build.rs` links with `link-linux.x` (the same addresses, without the HTIF page
//! and the stack). The workload code, the profile and the code generation options are
//! those of the bare build. The assembly conformance programs need M-mode and are not
//! meant to be built this way.
#![no_std]

use core::fmt;

#[cfg(not(feature = "linux-user"))]
mod htif;
#[cfg(not(feature = "linux-user"))]
pub use htif::{exit, putchar, puts};

#[cfg(feature = "linux-user")]
mod linux;
#[cfg(feature = "linux-user")]
pub use linux::{exit, putchar, puts};

/// `core::fmt` sink for the console (HTIF, or stdout with `linux-user`): `write!(Console, ...)`.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        puts(s);
        Ok(())
    }
}

/// `println!` for the console.
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
#[cfg(not(feature = "linux-user"))]
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        core::arch::global_asm!(
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/htif.S")),
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/rt.S")),
        );
        $crate::__avm_bare_main!($main);
    };
}

/// Startup code for a Rust program built as a Linux process (`linux-user`): keeps the
/// stack the loader set up, zeroes `.bss` as the bare startup does, calls `main` and
/// passes its result to the `exit` system call.
#[cfg(feature = "linux-user")]
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        core::arch::global_asm!(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/rt_linux.S")));
        $crate::__avm_bare_main!($main);
    };
}

/// The `avm_bare_main` symbol both startup codes call. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __avm_bare_main {
    ($main:path) => {
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
