//! Entering U-mode and coming back: the trap frame and the trap vector.
//!
//! [`enter_user`] looks like an ordinary function call to the Rust code
//! around it. It saves the kernel's callee-saved registers on the kernel
//! stack, remembers the stack pointer in the task's [`TrapFrame`], loads all
//! 31 user registers from the frame and executes `sret`. When the contract
//! traps, the vector at `trap_vector` finds the frame through `sscratch`,
//! stores the user registers and `sepc` into it, restores the kernel stack
//! and registers, and executes `ret`: `enter_user` "returns", and the kernel
//! reads `scause` and `stval` to see why. `sscratch` is zero while the kernel
//! runs, which is how the vector tells a trap from U-mode (expected) from a
//! trap in the kernel itself (a bug, reported to the host).

/// The user registers of a task while it is not running.
#[repr(C)]
pub struct TrapFrame {
    /// `x0..x31` (`x[0]` is unused).
    pub x: [u32; 32],
    /// Where the task resumes.
    pub pc: u32,
    /// The kernel stack pointer saved by `enter_user`.
    kernel_sp: u32,
}

impl TrapFrame {
    /// A frame that starts at `pc` with stack pointer `sp`, all else zero.
    pub fn new(pc: u32, sp: u32) -> TrapFrame {
        let mut x = [0; 32];
        x[2] = sp;
        TrapFrame { x, pc, kernel_sp: 0 }
    }

    /// Argument register `a<n>`.
    pub fn arg(&self, n: u8) -> u32 {
        self.x[10 + usize::from(n & 7)]
    }

    /// The syscall number (`a7`).
    pub fn number(&self) -> u32 {
        self.x[17]
    }

    /// Set the result registers `a0`, `a1`.
    pub fn reply(&mut self, a0: u32, a1: u32) {
        self.x[10] = a0;
        self.x[11] = a1;
    }
}

core::arch::global_asm!(
    ".section .text",
    ".globl enter_user",
    ".align 2",
    "enter_user:",
    "    addi sp, sp, -64",
    "    sw ra, 0(sp)",
    "    sw s0, 4(sp)",
    "    sw s1, 8(sp)",
    "    sw s2, 12(sp)",
    "    sw s3, 16(sp)",
    "    sw s4, 20(sp)",
    "    sw s5, 24(sp)",
    "    sw s6, 28(sp)",
    "    sw s7, 32(sp)",
    "    sw s8, 36(sp)",
    "    sw s9, 40(sp)",
    "    sw s10, 44(sp)",
    "    sw s11, 48(sp)",
    "    sw sp, 132(a0)",
    "    csrw sscratch, a0",
    "    lw t0, 128(a0)",
    "    csrw sepc, t0",
    "    li t0, 0x100",
    "    csrc sstatus, t0",
    "    lw x1, 4(a0)",
    "    lw x2, 8(a0)",
    "    lw x3, 12(a0)",
    "    lw x4, 16(a0)",
    "    lw x5, 20(a0)",
    "    lw x6, 24(a0)",
    "    lw x7, 28(a0)",
    "    lw x8, 32(a0)",
    "    lw x9, 36(a0)",
    "    lw x11, 44(a0)",
    "    lw x12, 48(a0)",
    "    lw x13, 52(a0)",
    "    lw x14, 56(a0)",
    "    lw x15, 60(a0)",
    "    lw x16, 64(a0)",
    "    lw x17, 68(a0)",
    "    lw x18, 72(a0)",
    "    lw x19, 76(a0)",
    "    lw x20, 80(a0)",
    "    lw x21, 84(a0)",
    "    lw x22, 88(a0)",
    "    lw x23, 92(a0)",
    "    lw x24, 96(a0)",
    "    lw x25, 100(a0)",
    "    lw x26, 104(a0)",
    "    lw x27, 108(a0)",
    "    lw x28, 112(a0)",
    "    lw x29, 116(a0)",
    "    lw x30, 120(a0)",
    "    lw x31, 124(a0)",
    "    lw x10, 40(a0)",
    "    sret",
    "",
    ".globl trap_vector",
    ".align 2",
    "trap_vector:",
    "    csrrw a0, sscratch, a0",
    "    beqz a0, 2f",
    "    sw x1, 4(a0)",
    "    sw x2, 8(a0)",
    "    sw x3, 12(a0)",
    "    sw x4, 16(a0)",
    "    sw x5, 20(a0)",
    "    sw x6, 24(a0)",
    "    sw x7, 28(a0)",
    "    sw x8, 32(a0)",
    "    sw x9, 36(a0)",
    "    sw x11, 44(a0)",
    "    sw x12, 48(a0)",
    "    sw x13, 52(a0)",
    "    sw x14, 56(a0)",
    "    sw x15, 60(a0)",
    "    sw x16, 64(a0)",
    "    sw x17, 68(a0)",
    "    sw x18, 72(a0)",
    "    sw x19, 76(a0)",
    "    sw x20, 80(a0)",
    "    sw x21, 84(a0)",
    "    sw x22, 88(a0)",
    "    sw x23, 92(a0)",
    "    sw x24, 96(a0)",
    "    sw x25, 100(a0)",
    "    sw x26, 104(a0)",
    "    sw x27, 108(a0)",
    "    sw x28, 112(a0)",
    "    sw x29, 116(a0)",
    "    sw x30, 120(a0)",
    "    sw x31, 124(a0)",
    "    csrrw t0, sscratch, zero",
    "    sw t0, 40(a0)",
    "    csrr t0, sepc",
    "    sw t0, 128(a0)",
    "    lw sp, 132(a0)",
    "    lw ra, 0(sp)",
    "    lw s0, 4(sp)",
    "    lw s1, 8(sp)",
    "    lw s2, 12(sp)",
    "    lw s3, 16(sp)",
    "    lw s4, 20(sp)",
    "    lw s5, 24(sp)",
    "    lw s6, 28(sp)",
    "    lw s7, 32(sp)",
    "    lw s8, 36(sp)",
    "    lw s9, 40(sp)",
    "    lw s10, 44(sp)",
    "    lw s11, 48(sp)",
    "    addi sp, sp, 64",
    "    ret",
    // A trap while the kernel runs: a kernel bug. Tell the host (which
    // never resumes the kernel after a KERNEL_PANIC).
    "2:  csrrw a0, sscratch, a0",
    "    li a0, 3",
    "    csrr a1, scause",
    "    csrr a2, sepc",
    "    csrr a3, stval",
    "    li a7, 0x105",
    "    ecall",
    "    j 2b",
);

extern "C" {
    fn enter_user(frame: *mut TrapFrame);
    fn trap_vector();
}

/// Point `stvec` at the trap vector, mark "in the kernel" (`sscratch` = 0)
/// and let the kernel read user pages (`sstatus.SUM`).
pub fn init() {
    let vector = trap_vector as *const () as usize;
    // SAFETY: plain CSR writes in S-mode that configure trap entry.
    unsafe {
        core::arch::asm!("csrw stvec, {}", "csrw sscratch, zero", in(reg) vector);
        core::arch::asm!("csrs sstatus, {}", in(reg) 1usize << 18);
    }
}

/// Why the task stopped: `scause` and `stval`.
pub struct Cause {
    /// `scause`.
    pub cause: u32,
    /// `stval`.
    pub tval: u32,
}

/// Run the task of `frame` in U-mode until it traps.
pub fn run_user(frame: &mut TrapFrame) -> Cause {
    let (cause, tval): (u32, u32);
    // SAFETY: `enter_user` saves and restores every register the Rust ABI
    // expects a callee to preserve (ra, sp, s0-s11) and returns normally
    // when the task traps; the frame outlives the call.
    unsafe {
        enter_user(frame);
        core::arch::asm!("csrr {}, scause", "csrr {}, stval", out(reg) cause, out(reg) tval);
    }
    Cause { cause, tval }
}

/// Switch to the address space with this `satp` value.
pub fn switch_space(satp: u32) {
    // SAFETY: the new space maps the kernel exactly as every other space
    // does (all of RAM, one-to-one), so the code running now stays mapped.
    unsafe { core::arch::asm!("csrw satp, {}", "sfence.vma", in(reg) satp) };
}

/// Forget cached translations of one page after mapping it.
pub fn flush_page(va: u32) {
    // SAFETY: sfence.vma has no effect beyond the TLB.
    unsafe { core::arch::asm!("sfence.vma {}, zero", in(reg) va) };
}
