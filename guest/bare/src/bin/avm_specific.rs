//! Spec choices of aVM where QEMU 7.2 (the third opinion) differs; skipped on QEMU.
//! - ebreak / c.ebreak: mtval = pc (QEMU writes 0);
//! - AMO to a non-RAM address: store/AMO access fault, cause 7 (QEMU: 5);
//! - misaligned AMO / SC: store/AMO address misaligned, cause 6 (QEMU: 4); LR: cause 4;
//! - csrrs/csrrc with rs1 != x0 holding zero is a write: illegal on a read-only CSR
//!   (QEMU treats it as a read);
//! - mepc/sepc bit 0 reads zero (QEMU keeps it);
//! - mstatus.MPP is WARL: writing the reserved value 2 leaves a legal value;
//! - a pmpcfg byte with the reserved R=0, W=1 is not taken: the entry's old byte
//!   stays (as newer QEMU does; QEMU 7.2 stores it), and bits 6:5 read as zero.
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    r#"
RVTEST_CODE_BEGIN

    TEST 2
    EXPECT_TRAP 2f
1:  ebreak
    j fail
2:  CHECK s8, CAUSE_BREAKPOINT
    CHECK_ADDR s9, 1b
    CHECK_ADDR s10, 1b
    TEST 3
    EXPECT_TRAP 2f
    .option push
    .option rvc
1:  c.ebreak
    c.nop
    .option pop
    j fail
2:  CHECK s8, CAUSE_BREAKPOINT
    CHECK_ADDR s9, 1b
    CHECK_ADDR s10, 1b

    li s0, UNMAPPED_ADDR
    TEST 10
    EXPECT_TRAP 2f
1:  amoadd.w a4, a4, (s0)
    j fail
2:  CHECK_TRAP CAUSE_STORE_ACCESS, 1b, UNMAPPED_ADDR
    TEST 11
    EXPECT_TRAP 2f
1:  amoswap.w a4, a4, (s0)
    j fail
2:  CHECK_TRAP CAUSE_STORE_ACCESS, 1b, UNMAPPED_ADDR
    TEST 12
    EXPECT_TRAP 2f
1:  sc.w a4, a4, (s0)
    j fail
2:  CHECK s8, CAUSE_STORE_ACCESS
    CHECK s10, UNMAPPED_ADDR

    la s0, amo_word
    TEST 20
    EXPECT_TRAP 2f
    addi a1, s0, 2
1:  amoadd.w a4, a4, (a1)
    j fail
2:  CHECK s8, CAUSE_MISALIGNED_STORE
    CHECK_ADDR s9, 1b
    CHECKR s10, a1
    TEST 21
    EXPECT_TRAP 2f
    addi a1, s0, 1
1:  amoswap.w a4, a4, (a1)
    j fail
2:  CHECK s8, CAUSE_MISALIGNED_STORE
    CHECKR s10, a1
    TEST 22
    EXPECT_TRAP 2f
    addi a1, s0, 3
1:  amomaxu.w a4, a4, (a1)
    j fail
2:  CHECK s8, CAUSE_MISALIGNED_STORE
    CHECKR s10, a1
    TEST 23
    lw a4, 0(s0)
    CHECK a4, 0x01020304        # none of the faulting AMOs wrote
    TEST 24
    EXPECT_TRAP 2f
    addi a1, s0, 2
1:  sc.w a4, a4, (a1)
    j fail
2:  CHECK s8, CAUSE_MISALIGNED_STORE
    CHECKR s10, a1
    TEST 25
    EXPECT_TRAP 2f
    addi a1, s0, 2
1:  lr.w a4, (a1)
    j fail
2:  CHECK s8, CAUSE_MISALIGNED_LOAD
    CHECKR s10, a1

    TEST 30
    li a1, 0
    EXPECT_TRAP 2f
1:  csrrs a4, mhartid, a1
    j fail
2:  CHECK_ILLEGAL 1b
    TEST 31
    EXPECT_TRAP 2f
1:  csrrc a4, cycle, a1
    j fail
2:  CHECK_ILLEGAL 1b

    TEST 40
    li a1, -1
    csrw mepc, a1
    csrr a4, mepc
    CHECK a4, 0xfffffffe
    csrw sepc, a1
    csrr a4, sepc
    CHECK a4, 0xfffffffe

    TEST 50                     # MPP = 2 (reserved) is never read back
    li a1, MSTATUS_MPP
    csrc mstatus, a1
    li a1, 0x1000
    csrs mstatus, a1
    csrr a4, mstatus
    li t5, MSTATUS_MPP
    and a4, a4, t5
    li t5, 0x1000
    beq a4, t5, fail
    csrw mstatus, zero

    TEST 60                     # pmpcfg: R = 0, W = 1 is reserved
    li a1, 0x07                 # entry 0: OFF, X W R
    csrw pmpcfg0, a1
    li a1, 0x02                 # W only: the old byte stays
    csrw pmpcfg0, a1
    csrr a4, pmpcfg0
    CHECK a4, 0x07
    li a1, 0x0600               # entry 0 cleared; entry 1 X W: reserved, stays 0
    csrw pmpcfg0, a1
    csrr a4, pmpcfg0
    CHECK a4, 0
    li a1, 0x61                 # reserved bits 6:5 read as zero
    csrw pmpcfg0, a1
    csrr a4, pmpcfg0
    CHECK a4, 0x01
    csrw pmpcfg0, zero
    RVTEST_PASS

    .data
    .balign 16
amo_word:
    .word 0x01020304
    .word 0
"#
);
