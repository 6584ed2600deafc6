//! PMP registers as the riscv-tests `rv32mi-p-pmpaddr` program and firmware probe
//! them (aVM: granularity G = 0, 16 entries): `pmpaddr` holds what is written
//! (all ones reads back as all ones: 4-byte grain); legal `pmpcfg` bytes hold;
//! a locked entry ignores writes to its `cfg` byte and `pmpaddr`, and a locked TOR
//! entry also to the previous `pmpaddr` (its bottom), while a locked NAPOT entry
//! does not. Locked entries here match no address the program uses. (The reserved
//! R=0/W=1 encoding is in `avm_specific`: QEMU 7.2 keeps it.)
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    r#"
RVTEST_CODE_BEGIN

    # ---- pmpaddr holds values; the granularity probe ----
    TEST 2
    csrw pmpcfg0, zero
    li a1, -1
    csrw pmpaddr0, a1
    csrr a4, pmpaddr0
    CHECK a4, 0xffffffff        # G = 0
    li a1, 0x12345
    csrw pmpaddr0, a1
    csrr a4, pmpaddr0
    CHECK a4, 0x12345
    csrw pmpaddr0, zero
    TEST 3
    li a1, 0xabcdef01
    csrw pmpaddr7, a1
    csrr a4, pmpaddr7
    CHECK a4, 0xabcdef01
    csrw pmpaddr7, zero

    # ---- pmpcfg: legal encodings hold (the reserved R=0/W=1 one: avm_specific) ----
    TEST 4
    li a1, 0x07                 # entry 0: OFF, X W R
    csrw pmpcfg0, a1
    csrr a4, pmpcfg0
    CHECK a4, 0x07
    li a1, 0x0301               # entry 0 R, entry 1 W R
    csrw pmpcfg0, a1
    csrr a4, pmpcfg0
    CHECK a4, 0x0301
    csrw pmpcfg0, zero
    csrr a4, pmpcfg0
    CHECK a4, 0

    # ---- locked entries ----
    TEST 5                      # entry 15: OFF, locked
    li a1, 0x100
    csrw pmpaddr15, a1
    li a1, 0x81000000           # L | R, OFF
    csrw pmpcfg3, a1
    csrr a4, pmpcfg3
    CHECK a4, 0x81000000
    li a1, 0x200
    csrw pmpaddr15, a1
    csrr a4, pmpaddr15
    CHECK a4, 0x100             # address locked
    csrw pmpcfg3, zero
    csrr a4, pmpcfg3
    CHECK a4, 0x81000000        # cfg locked; M-mode cannot unlock
    TEST 6                      # entry 14: TOR over 0x40..0x80 (unused), locked: pmpaddr13 locked too
    li a1, 0x10
    csrw pmpaddr13, a1
    li a1, 0x20
    csrw pmpaddr14, a1
    li a1, 0x81880000           # entry 15 as it is, entry 14 L | TOR, no permissions
    csrw pmpcfg3, a1
    csrr a4, pmpcfg3
    CHECK a4, 0x81880000
    li a1, 0x40
    csrw pmpaddr14, a1
    csrw pmpaddr13, a1
    csrr a4, pmpaddr14
    CHECK a4, 0x20
    csrr a4, pmpaddr13
    CHECK a4, 0x10              # the bottom of a locked TOR range
    csrw pmpaddr12, a1
    csrr a4, pmpaddr12
    CHECK a4, 0x40              # two below: writable
    csrw pmpaddr12, zero
    TEST 7                      # entry 11: locked NAPOT (8 bytes at 0): pmpaddr10 stays writable
    csrw pmpaddr11, zero
    li a1, 0x98000000           # L | NAPOT, no permissions
    csrw pmpcfg2, a1
    li a1, 0x80
    csrw pmpaddr10, a1
    csrr a4, pmpaddr10
    CHECK a4, 0x80
    csrw pmpaddr10, zero
    csrr a4, pmpcfg2
    CHECK a4, 0x98000000

    RVTEST_PASS
"#
);
