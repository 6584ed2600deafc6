//! RV32I conformance: every base instruction's meaning and edge cases: ALU ops with
//! overflow, shift amounts taken from the low 5 bits of a register, x0 as source and
//! destination, lui/auipc, jal/jalr link values and jalr clearing bit 0, branches taken
//! and not taken with both signs, loads with sign/zero extension, stores, fence and
//! fence.i with self-modifying code. All encodings 32-bit (`.option norvc`).
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    include_str!("../suites/rv32i.S")
);
