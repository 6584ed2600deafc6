//! Sv32 cases where aVM follows the spec and QEMU 7.2 differs; skipped on QEMU.
//! - an AMO to an unmapped page raises a store/AMO page fault, cause 15 (QEMU: 13).
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

    TEST 2                      # AMO to an unmapped page: store page fault
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  li s0, VA_L0 + 0x5000
    amoadd.w a4, a4, (s0)
    j fail
2:  CHECK_TRAP CAUSE_STORE_PAGE_FAULT, 1b + 4, VA_L0 + 0x5000
    csrw satp, zero
    sfence.vma
    RVTEST_PASS

    SV32_DATA
"#
);
