//! Hostile: privileged instructions in U-mode. Each is an illegal
//! instruction, which the kernel turns into a failed call.
#![no_std]
#![no_main]

use avm_sdk::contract;

contract! {
    /// 0: read satp; 1: write sstatus; 2: sret; 3: mret; 4: wfi;
    /// 5: sfence.vma; 6: ebreak; 7: an all-zero (illegal) instruction.
    fn run(kind: u8) {
        // SAFETY: none of these can succeed in U-mode; the kernel ends the call.
        unsafe {
            match kind {
                0 => core::arch::asm!("csrr t0, satp", out("t0") _),
                1 => core::arch::asm!("csrw sstatus, zero"),
                2 => core::arch::asm!("sret"),
                3 => core::arch::asm!("mret"),
                4 => core::arch::asm!("wfi"),
                5 => core::arch::asm!("sfence.vma"),
                6 => core::arch::asm!("ebreak"),
                _ => core::arch::asm!(".word 0"),
            }
        }
    }
}
