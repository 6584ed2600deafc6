//! rv32i in the virtual-memory environment: the same test cases as `rv32i.rs`
//! (`suites/rv32i.S`), run in U-mode under Sv32 with identity megapages, as the
//! riscv-tests "v" environment does. Every fetch, load and store goes through page
//! translation and the TLB.
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    ".set AVM_VM_ENV, 1",
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    include_str!("../suites/rv32i.S"),
);
