//! The console and exit of a program built with `linux-user`: Linux system calls
//! (RISC-V convention: number in a7, arguments in a0..a2, result in a0), which
//! `qemu-riscv32` performs on the host's behalf.

/// `write(fd, buf, len)`.
const SYS_WRITE: usize = 64;
/// `exit(code)`: the process ends with the low 8 bits of `code` as its status.
const SYS_EXIT: usize = 93;
/// Standard output.
const STDOUT: usize = 1;

/// Writes `bytes` to standard output, looping over short writes; gives up on an
/// error (there is nowhere to report it).
fn write_stdout(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let written: isize;
        // SAFETY: the `write` system call reads `bytes.len()` bytes from a valid slice
        // and changes no memory of this process; `ecall` clobbers only a0.
        unsafe {
            core::arch::asm!(
                "ecall",
                inlateout("a0") STDOUT => written,
                in("a1") bytes.as_ptr(),
                in("a2") bytes.len(),
                in("a7") SYS_WRITE,
                options(nostack, readonly),
            );
        }
        let Ok(n) = usize::try_from(written) else { return };
        if n == 0 {
            return;
        }
        bytes = bytes.get(n..).unwrap_or_default();
    }
}

/// Prints one byte on standard output.
pub fn putchar(byte: u8) {
    write_stdout(&[byte]);
}

/// Prints a string on standard output (one system call for the whole string).
pub fn puts(s: &str) {
    write_stdout(s.as_bytes());
}

/// Ends the process: code 0 = pass, otherwise the failing test number (its low 8
/// bits, as Linux keeps them).
pub fn exit(code: u32) -> ! {
    // SAFETY: `exit` does not return.
    unsafe {
        core::arch::asm!("ecall", in("a0") code, in("a7") SYS_EXIT, options(noreturn, nostack));
    }
}
