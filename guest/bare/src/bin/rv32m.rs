//! RV32M conformance: mul/mulh/mulhsu/mulhu/div/divu/rem/remu with sign cases,
//! overflow (MIN / -1), division by zero, x0 as destination.
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    include_str!("../suites/rv32m.S")
);
