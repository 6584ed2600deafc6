//! Misaligned loads and stores (aVM performs them, never traps): lw/lh/lhu/sw/sh at
//! every misalignment, and accesses that straddle a 4 KiB page boundary in physical
//! memory. The Sv32 cross-page case (two pages mapped to non-adjacent frames) is in `vm`.
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    r#"
RVTEST_CODE_BEGIN
    la s0, mdat                 # bytes 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff
    TEST 2
    lw a4, 1(s0)
    CHECK a4, 0x44332211
    TEST 3
    lw a4, 2(s0)
    CHECK a4, 0x55443322
    TEST 4
    lw a4, 3(s0)
    CHECK a4, 0x66554433
    TEST 5
    lh a4, 1(s0)
    CHECK a4, 0x2211
    TEST 6
    lh a4, 7(s0)
    CHECK a4, 0xffff8877
    TEST 7
    lhu a4, 7(s0)
    CHECK a4, 0x8877
    TEST 8
    lw a4, 13(s0)
    CHECK a4, 0x00ffeedd
    TEST 10
    li a1, 0xa1b2c3d4
    sw a1, 1(s0)
    lw a4, 0(s0)
    CHECK a4, 0xb2c3d400
    lw a4, 4(s0)
    CHECK a4, 0x776655a1
    TEST 11
    li a1, 0x1234
    sh a1, 3(s0)
    lw a4, 0(s0)
    CHECK a4, 0x34c3d400
    lw a4, 4(s0)
    CHECK a4, 0x77665512
    TEST 12
    li a1, 0xcafebabe
    sw a1, 6(s0)
    lw a4, 4(s0)
    CHECK a4, 0xbabe5512
    lw a4, 8(s0)
    CHECK a4, 0xbbaacafe

    # ---- straddling a 4 KiB boundary ----
    la s1, mpage + 4096
    li a1, 0x03020100
    sw a1, -4(s1)
    li a1, 0x07060504
    sw a1, 0(s1)
    TEST 20
    lw a4, -2(s1)
    CHECK a4, 0x05040302
    TEST 21
    lw a4, -1(s1)
    CHECK a4, 0x06050403
    TEST 22
    lh a4, -1(s1)
    CHECK a4, 0x0403
    TEST 23
    li a1, 0xdeadbeef
    sw a1, -3(s1)
    lw a4, -4(s1)
    CHECK a4, 0xadbeef00
    lw a4, 0(s1)
    CHECK a4, 0x070605de
    TEST 24
    li a1, 0x9988
    sh a1, -1(s1)
    lw a4, -4(s1)
    CHECK a4, 0x88beef00
    lw a4, 0(s1)
    CHECK a4, 0x07060599

    RVTEST_PASS

    .data
    .balign 16
mdat:
    .byte 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77
    .byte 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff
    .byte 0, 0, 0, 0
    .balign 4096
mpage:
    .space 8192
"#
);
