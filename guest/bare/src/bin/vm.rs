//! Sv32 virtual memory: 4 KiB pages through a second-level table and 4 MiB megapages,
//! a misaligned megapage (page fault), load/store/fetch page faults (13/15/12) with
//! tval = the virtual address, write to a read-only page, A and D set by the walker
//! (A on a load, D on a store, neither on a faulting access), SUM, MXR, MPRV with
//! MPP = S and U in M-mode, U-mode fetch from a non-U page, U-mode code in a U mapping,
//! sfence.vma after a remap, and a misaligned load/store across two pages mapped to
//! non-adjacent frames.
//!
//! Layout: VA 0x8000_0000 is an identity megapage (S, RWX) for code and data;
//! VA 0x1000_0000 + 4 KiB * i is `pt_l0[i]`; VA 0x1040_0000 a RW megapage alias of
//! 0x8000_0000, 0x1080_0000 a U+RX alias (user code), 0x10c0_0000 a misaligned megapage.
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    include_str!("../sv32.S"),
    r#"
RVTEST_CODE_BEGIN

    SV32_SETUP

    # ---- 4 KiB and 4 MiB mappings ----
    TEST 2
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0
    lw a4, 0(s0)
    li a1, 0x12345678
    sw a1, 4(s0)
    GOTO_M 2f
2:  CHECK a4, 0xaaaa0000
    la a2, pg_a
    lw a4, 4(a2)
    CHECK a4, 0x12345678
    TEST 3
    GOTO_MODE PRV_S, 1f
1:  ALIAS s0, magic_word, VA_MEGA_RW
    lw a4, 0(s0)
    GOTO_M 2f
2:  CHECK a4, 0x600dcafe
    TEST 4                      # a megapage whose PPN[0] is not zero: page fault
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_MEGA_BAD + 0x10
3:  lw a4, 0(s0)
    j fail
2:  CHECK_TRAP CAUSE_LOAD_PAGE_FAULT, 3b, VA_MEGA_BAD + 0x10

    # ---- page faults ----
    TEST 10
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0 + 0x5000
    lw a4, 8(s0)
    j fail
2:  CHECK_TRAP CAUSE_LOAD_PAGE_FAULT, 1b + 4, VA_L0 + 0x5008
    TEST 11
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0 + 0x5000
    sb a4, 3(s0)
    j fail
2:  CHECK_TRAP CAUSE_STORE_PAGE_FAULT, 1b + 4, VA_L0 + 0x5003
    TEST 12
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0 + 0x5000
    jalr a5, 0x10(s0)
    j fail
2:  CHECK s8, CAUSE_FETCH_PAGE_FAULT
    CHECK s9, VA_L0 + 0x5010
    CHECK s10, VA_L0 + 0x5010
    # (AMO page fault = cause 15 is in avm_specific_vm: QEMU 7.2 reports cause 13)
    TEST 14                     # store to a read-only page
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0 + 0x6000
    lw a4, 0(s0)
    sw a4, 0(s0)
    j fail
2:  CHECK_TRAP CAUSE_STORE_PAGE_FAULT, 1b + 8, VA_L0 + 0x6000
    CHECK a4, 0xbbbb0000

    # ---- A and D ----
    TEST 20
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0 + 0x3000
    lw a4, 0(s0)
    GOTO_M 2f
2:  la a2, pt_l0
    lw a4, 12(a2)
    CHECK_MASK a4, PTE_A | PTE_D, PTE_A
    TEST 21
    GOTO_MODE PRV_S, 1f
1:  sfence.vma
    li s0, VA_L0 + 0x3000
    sw a4, 0(s0)
    GOTO_M 2f
2:  la a2, pt_l0
    lw a4, 12(a2)
    CHECK_MASK a4, PTE_A | PTE_D, PTE_A | PTE_D
    TEST 22                     # a faulting store (read-only page) sets neither
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0 + 0xa000
    sw a4, 0(s0)
    j fail
2:  CHECK s8, CAUSE_STORE_PAGE_FAULT
    la a2, pt_l0
    lw a4, 40(a2)
    CHECK_MASK a4, PTE_A | PTE_D, 0

    # ---- SUM ----
    TEST 30                     # S load from a U page faults with SUM = 0
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0 + 0x1000
    lw a4, 0(s0)
    j fail
2:  CHECK_TRAP CAUSE_LOAD_PAGE_FAULT, 1b + 4, VA_L0 + 0x1000
    TEST 31                     # ... and works with SUM = 1
    li a1, MSTATUS_SUM
    csrs mstatus, a1
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0 + 0x1000
    lw a4, 0(s0)
    sw a4, 4(s0)
    GOTO_M 2f
2:  CHECK a4, 0xbbbb0000
    TEST 32                     # S fetch from a U page faults even with SUM = 1
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  ALIAS s0, 3f, VA_MEGA_UX
    jr s0
3:  j fail
2:  CHECK s8, CAUSE_FETCH_PAGE_FAULT
    CHECKR s9, s0
    CHECKR s10, s0
    li a1, MSTATUS_SUM
    csrc mstatus, a1

    # ---- MXR ----
    TEST 40                     # load from an execute-only page faults with MXR = 0
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0 + 0x4000
    lw a4, 0(s0)
    j fail
2:  CHECK_TRAP CAUSE_LOAD_PAGE_FAULT, 1b + 4, VA_L0 + 0x4000
    TEST 41
    li a1, MSTATUS_MXR
    csrs mstatus, a1
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0 + 0x4000
    lw a4, 0(s0)
    GOTO_M 2f
2:  CHECK a4, 0xaaaa0000
    li a1, MSTATUS_MXR
    csrc mstatus, a1

    # ---- U mode ----
    TEST 50                     # U fetch from a non-U page
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  nop
    j fail
2:  CHECK s8, CAUSE_FETCH_PAGE_FAULT
    CHECK_ADDR s9, 1b
    CHECK_ADDR s10, 1b
    TEST 51                     # U code in a U mapping: U data OK, then ecall
    ALIAS a1, 1f, VA_MEGA_UX
    csrw mepc, a1
    li a1, MSTATUS_MPP
    csrc mstatus, a1
    EXPECT_TRAP 2f
    mret
1:  li s0, VA_L0 + 0x1000
    lw a4, 0(s0)
    sw a4, 8(s0)
3:  ecall
2:  CHECK s8, CAUSE_USER_ECALL
    ALIAS a1, 3b, VA_MEGA_UX
    CHECKR s9, a1
    CHECK a4, 0xbbbb0000
    TEST 52                     # U load from an S page
    ALIAS a1, 1f, VA_MEGA_UX
    csrw mepc, a1
    li a1, MSTATUS_MPP
    csrc mstatus, a1
    EXPECT_TRAP 2f
    mret
1:  li s0, VA_L0
    lw a4, 0(s0)
    j fail
2:  CHECK s8, CAUSE_LOAD_PAGE_FAULT
    CHECK s10, VA_L0

    # ---- MPRV in M-mode ----
    TEST 60                     # MPRV=1, MPP=S: M loads go through Sv32
    li a1, MSTATUS_MPRV | MSTATUS_MPP_S
    csrs mstatus, a1
    li s0, VA_L0
    lw a4, 0(s0)
    li a1, MSTATUS_MPRV | MSTATUS_MPP
    csrc mstatus, a1
    CHECK a4, 0xaaaa0000
    TEST 61                     # MPRV=1, MPP=U: the S page faults
    li a1, MSTATUS_MPP
    csrc mstatus, a1
    li a1, MSTATUS_MPRV
    csrs mstatus, a1
    EXPECT_TRAP 2f
    li s0, VA_L0
1:  lw a4, 0(s0)
    j fail
2:  li a1, MSTATUS_MPRV | MSTATUS_MPP
    csrc mstatus, a1
    CHECK_TRAP CAUSE_LOAD_PAGE_FAULT, 1b, VA_L0
    TEST 62                     # MPRV=1, MPP=M: untranslated
    li a1, MSTATUS_MPRV | MSTATUS_MPP
    csrs mstatus, a1
    la s0, magic_word
    lw a4, 0(s0)
    li a1, MSTATUS_MPRV
    csrc mstatus, a1
    CHECK a4, 0x600dcafe

    # ---- sfence.vma after a remap ----
    TEST 70
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0
    lw a4, 0(s0)
    SET_PTE pt_l0, 0, pg_b, FLAGS_RWAD
    sfence.vma
    lw a5, 0(s0)
    SET_PTE pt_l0, 0, pg_a, FLAGS_RWAD
    sfence.vma s0, zero
    lw a6, 0(s0)
    GOTO_M 2f
2:  CHECK a4, 0xaaaa0000
    CHECK a5, 0xbbbb0000
    CHECK a6, 0xaaaa0000

    # ---- misaligned across two pages, non-adjacent frames ----
    TEST 80                     # VA 0x10007ffe..0x10008001 = pg_b[4094..] ++ pg_a[0..2]
    la a2, pg_b + 4092
    li a1, 0x44332211
    sw a1, 0(a2)
    la a2, pg_a
    li a1, 0xaaaa6655
    sw a1, 0(a2)
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0 + 0x7ffe
    lw a4, 0(s0)
    li a1, 0xddccbbaa
    sw a1, 1(s0)
    GOTO_M 2f
2:  CHECK a4, 0x66554433
    la a2, pg_b + 4092
    lw a4, 0(a2)
    CHECK a4, 0xaa332211
    la a2, pg_a
    lw a4, 0(a2)
    CHECK a4, 0xaaddccbb

    csrw satp, zero
    sfence.vma
    RVTEST_PASS

    SV32_DATA
"#
);
