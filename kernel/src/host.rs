//! Host calls: `ecall` from S-mode into the host firmware.
//!
//! The number goes in `a7`, arguments in `a0..a3`; the host answers in
//! `a0..a3` and resumes after the `ecall`. Nothing else changes, so these
//! wrappers only tell the compiler that `a0..a3` are overwritten.

use avm_abi::host as call;

/// Kernel panic code: the boot record's magic number is wrong.
pub const PANIC_BAD_BOOT: u32 = 1;
/// Kernel panic code: Rust code panicked (a kernel bug).
pub const PANIC_RUST: u32 = 2;

/// Kernel panic code: a trap in S-mode (reported by the trap vector with
/// `scause`, `sepc`, `stval`).
#[allow(dead_code)]
pub const PANIC_TRAP: u32 = 3;

/// The four result registers of a host call.
pub type Reply = [u32; 4];

/// Make host call `number` with four arguments.
#[inline(always)]
pub fn call4(number: u32, a0: u32, a1: u32, a2: u32, a3: u32) -> Reply {
    let (r0, r1, r2, r3);
    // SAFETY: `ecall` from S-mode traps to the host, which by the ABI of
    // `avm_abi::host` writes only a0..a3 and memory the kernel handed it
    // (frames it owns, or user memory it checked), then resumes here.
    unsafe {
        core::arch::asm!(
            "ecall",
            inlateout("a0") a0 => r0,
            inlateout("a1") a1 => r1,
            inlateout("a2") a2 => r2,
            inlateout("a3") a3 => r3,
            in("a7") number,
            options(nostack),
        );
    }
    [r0, r1, r2, r3]
}

/// Wait for the host to start the next transaction's call.
pub fn next_call() {
    call4(call::NEXT_CALL, 0, 0, 0, 0);
}

/// Fill `count` frames at `paddr` with zeros.
pub fn zero_pages(paddr: u32, count: u32) {
    call4(call::ZERO_PAGES, paddr, count, 0, 0);
}

/// Report a kernel bug; the host ends the transaction and never resumes.
pub fn panic(code: u32, detail: u32) -> ! {
    loop {
        call4(call::KERNEL_PANIC, code, detail, 0, 0);
    }
}
