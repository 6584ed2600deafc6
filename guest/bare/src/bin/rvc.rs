//! RV32C conformance: every compressed form of RV32C without F/D, written with the
//! assembler's `c.` mnemonics: c.addi4spn, c.lw, c.sw, c.nop, c.addi, c.jal, c.li,
//! c.addi16sp, c.lui, c.srli, c.srai, c.andi, c.sub, c.xor, c.or, c.and, c.j, c.beqz,
//! c.bnez, c.slli, c.lwsp, c.swsp, c.jr, c.mv, c.jalr, c.add (c.ebreak is in `traps`).
//! Checks immediates at their limits and sign extension, link values pc + 2, and 32-bit
//! instructions at 2-byte aligned addresses.
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    include_str!("../suites/rvc.S")
);
