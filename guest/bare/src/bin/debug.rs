//! Debug trigger CSRs (Sdtrig), as the riscv-tests `rv32mi-p-breakpoint` program
//! probes them: `tselect`, `tdata1-3` and `tinfo` exist in M-mode and are illegal
//! from S-mode. A hart with no triggers (aVM) reads `tselect` as 0 and `tdata1`
//! as type 0 ("no trigger here") after any write, and `tinfo` has bit 0 set; a
//! hart with triggers (QEMU) passes once it shows a trigger type, as the
//! riscv-tests program does.
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    r#"
RVTEST_CODE_BEGIN

    # ---- M-mode only: the addresses 0x7a0.. are machine-level ----
    TEST 2
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  csrr a4, tselect
    j fail
2:  CHECK_ILLEGAL 1b
    TEST 3
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  csrw tdata1, zero
    j fail
2:  CHECK_ILLEGAL 1b

    # ---- every trigger CSR is accessible in M-mode ----
    TEST 4
    csrr a4, tinfo
    csrr a4, tdata2
    csrr a4, tdata3

    # ---- tselect 0 and what is there ----
    TEST 5
    csrw tselect, zero
    csrr a4, tselect
    CHECK a4, 0
    csrr a4, tdata1
    srli a4, a4, 28             # type: tdata1[31:28]
    bnez a4, pass               # a real trigger: the rest is for harts without
    TEST 6                      # type 0 reads back after any write
    li a1, -1
    csrw tdata1, a1
    csrr a4, tdata1
    srli a4, a4, 28
    CHECK a4, 0
    li a1, 0x20000044           # an mcontrol execute trigger: not available
    csrw tdata1, a1
    csrr a4, tdata1
    srli a4, a4, 28
    CHECK a4, 0
    TEST 7                      # tinfo: type 0 is the only type here
    csrr a4, tinfo
    CHECK_MASK a4, 1, 1
    TEST 8                      # tselect is WARL: an index with no trigger is not kept
    li a1, 5
    csrw tselect, a1
    csrr a4, tselect
    CHECK a4, 0

    RVTEST_PASS
"#
);
