//! # The aVM kernel: contracts as U-mode tasks
//!
//! A smart contract is untrusted code. aVM runs it the way an operating
//! system runs a user program: in **U-mode**, in an address space of its
//! own, with a **kernel** in S-mode between it and everything else. The host
//! (the Rust program running aVM) plays the part of M-mode firmware, like
//! OpenSBI under Linux: it owns the chain state and answers the kernel's
//! `ecall`s. This file is the kernel's whole story; the modules are its parts.
//!
//! ## Boot
//!
//! The host loads this ELF at the start of RAM (`0x8000_0000`), writes a boot
//! record ([`avm_abi::layout::BootInfo`]: RAM size, the frame pool) on the
//! page after the kernel's `_end`, delegates every U-mode exception to S-mode
//! (`medeleg`) and starts the hart in S-mode at `_start` with `a0` pointing at
//! the record. The kernel points `stvec` at its trap vector, allows itself to
//! read user pages (`sstatus.SUM`, needed to read a call request) and asks the
//! host for work with the `NEXT_CALL` host call. Paging is off (`satp` = 0)
//! whenever no task runs.
//!
//! ## Transactions and the host's snapshot
//!
//! The host stops the machine at that first `NEXT_CALL` and keeps a copy of
//! the hart. Every transaction starts from that copy: same registers, same
//! `pc`, same kernel stack. So the kernel keeps **no state between calls in
//! memory**: the frame pool is rebuilt from the boot record at the start of
//! every transaction ([`frames::Frames::new`]). A transaction that runs out of
//! gas in the middle of the kernel therefore cannot leave anything behind.
//!
//! ## Address spaces ([`vm`])
//!
//! Each call gets an Sv32 address space: a root page table whose upper half
//! maps all of RAM one-to-one with 4 MiB supervisor-only megapages (so the
//! kernel reaches every frame at its physical address, and a contract
//! touching them takes a page fault), and whose lower half holds the
//! contract: its ELF segments at their link addresses with the segment's
//! permissions (R/X code, R data, R/W data), a heap and a stack that are
//! mapped a page at a time on first touch, and unmapped guard gaps around
//! them. See [`avm_abi::layout`] for the map.
//!
//! ## Frames ([`frames`])
//!
//! Physical memory after the kernel is a pool handed out by a bump pointer.
//! Calls nest strictly (a callee ends before its caller), so freeing is
//! resetting the pointer to where it stood when the call began: a task's
//! page tables, code, heap and stack are released in one store, and a
//! hundred thousand calls in a row use the same frames over and over.
//!
//! ## Tasks and the trap flow ([`task`], [`trap`])
//!
//! For each call the kernel builds the address space, asks the host to copy
//! the contract's code image into fresh frames (`LOAD_CODE`), maps the
//! segments and enters U-mode at the ELF entry with `sret`
//! ([`trap::enter_user`]). The contract runs until it traps: an `ecall` (a
//! syscall), a page fault, an illegal instruction. The trap vector saves the
//! user registers in the task's [`trap::TrapFrame`] and *returns from
//! `enter_user`* on the kernel stack, so the kernel is ordinary Rust: a loop
//! that enters the task, looks at `scause` and decides. A nested contract
//! call is a recursive call of the same function on the same kernel stack.
//!
//! ## Syscalls ([`syscall`])
//!
//! The syscall table is [`avm_abi::syscall`]. For every pointer argument the
//! table says how long the buffer is and whether the host will write it; the
//! kernel checks every page of it against the task's regions (a segment with
//! the right permission, or the heap or stack, mapping pages on demand)
//! before the call goes anywhere. A bad pointer is the contract's fault: the
//! call ends as a `Fault` and its effects are undone. Host services
//! (storage, events, balances, input) are then forwarded to the host with
//! the same number; `RETURN`, `REVERT` and `CALL` are the kernel's own.
//!
//! ## Faults
//!
//! Whatever a contract does (wild pointers, privileged instructions,
//! misaligned atomics, endless recursion into the stack guard, a heap bomb)
//! ends its call with `CALL_EXIT(Fault, ...)` and a reason; the kernel never
//! crashes because of it. A trap taken in S-mode would be a kernel bug: the
//! trap vector reports it to the host (`KERNEL_PANIC`), which fails the
//! transaction.
#![no_std]
#![no_main]

mod frames;
mod host;
mod syscall;
mod task;
mod trap;
mod vm;

use avm_abi::layout::{BootInfo, BOOT_MAGIC};

core::arch::global_asm!(
    ".section .text.entry",
    ".globl _start",
    "_start:",
    "    la sp, __stack_top",
    "    call kmain",
    "1:  j 1b",
);

/// What the kernel learns from the boot record.
#[derive(Clone, Copy)]
pub struct Boot {
    /// First frame of the pool.
    pub pool_start: u32,
    /// End (exclusive) of the pool.
    pub pool_end: u32,
    /// Physical RAM base.
    pub ram_base: u32,
    /// RAM size in bytes.
    pub ram_size: u32,
}

fn read_boot(record: *const u32) -> Boot {
    // SAFETY: the host wrote the record at this address before starting
    // the kernel (paging is off, so it is a physical address) and it is
    // BootInfo::SIZE bytes long; the fields are aligned u32s.
    let field = |offset: usize| unsafe { record.add(offset / 4).read_volatile() };
    if field(BootInfo::MAGIC) != BOOT_MAGIC {
        host::panic(host::PANIC_BAD_BOOT, field(BootInfo::MAGIC));
    }
    Boot {
        ram_base: field(BootInfo::RAM_BASE),
        ram_size: field(BootInfo::RAM_SIZE),
        pool_start: field(BootInfo::POOL_START),
        pool_end: field(BootInfo::POOL_END),
    }
}

/// The kernel's main loop: wait for a call, run it, repeat.
#[no_mangle]
extern "C" fn kmain(record: *const u32) -> ! {
    let boot = read_boot(record);
    trap::init();
    loop {
        host::next_call();
        let mut frames = frames::Frames::new(boot.pool_start, boot.pool_end);
        task::run_call(&boot, &mut frames, 0);
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    host::panic(host::PANIC_RUST, 0)
}
