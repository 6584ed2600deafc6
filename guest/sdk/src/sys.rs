//! Raw syscalls: `ecall` with the number in `a7` (see `avm_abi::syscall`).
//! Safe wrappers live in the other modules; these take raw addresses.

/// Make syscall `number`; returns `a0`, `a1`.
#[inline(always)]
pub fn syscall(number: u32, a0: u32, a1: u32, a2: u32, a3: u32) -> (u32, u32) {
    let (r0, r1);
    // SAFETY: `ecall` from U-mode enters the kernel, which checks every
    // pointer argument against this task's memory, writes only the buffers
    // the syscall table names and `a0`/`a1`, and resumes after the ecall
    // (or ends the task). The buffers passed by the safe wrappers are live
    // Rust objects of the right length.
    unsafe {
        core::arch::asm!(
            "ecall",
            inlateout("a0") a0 => r0,
            inlateout("a1") a1 => r1,
            in("a2") a2,
            in("a3") a3,
            in("a7") number,
            options(nostack),
        );
    }
    (r0, r1)
}

/// A pointer as the 32-bit address the kernel expects.
#[inline(always)]
pub fn addr<T: ?Sized>(p: *const T) -> u32 {
    p as *const u8 as usize as u32
}
