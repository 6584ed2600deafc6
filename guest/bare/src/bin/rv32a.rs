//! RV32A conformance: lr.w/sc.w success and failure (sc without a reservation, sc after
//! an intervening sc, sc to another address), every AMO (swap, add, xor, and, or,
//! min/max signed, minu/maxu unsigned) returning the old value and storing the new one,
//! rd = x0, and the aq/rl variants.
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    include_str!("../suites/rv32a.S")
);
