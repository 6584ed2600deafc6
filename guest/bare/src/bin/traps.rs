//! Exceptions: every synchronous cause aVM can raise with the right mcause, mepc and
//! mtval: illegal instruction (mtval = the instruction bits, 32-bit and 16-bit forms,
//! the 0x0000 halfword, reserved compressed encodings, FP with F absent/off, xRET and
//! sfence.vma from too-low privilege), breakpoint (ebreak and c.ebreak; mtval = pc is in `avm_specific`),
//! ecall from U/S/M (causes 8/9/11), load/store/fetch access faults outside RAM (5/7/1,
//! mtval = address), LR access fault. All taken in
//! M-mode with nothing delegated. Misaligned AMOs, the AMO access-fault cause and the
//! ebreak mtval are checked in `avm_specific` (QEMU 7.2 differs from the spec there).
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    r#"
# An illegal instruction given as a .word (32-bit) whose trap must report it in mtval.
.macro TEST_ILLEGAL32 n, word
    TEST \n
    EXPECT_TRAP .Lres\@
.Linsn\@:
    .word \word
    j fail
.Lres\@:
    CHECK_TRAP CAUSE_ILLEGAL, .Linsn\@, \word
.endm

.macro TEST_ILLEGAL16 n, half
    TEST \n
    EXPECT_TRAP .Lres\@
.Linsn\@:
    .half \half
    .half 0x0001                # c.nop, keeps the stream 4-byte aligned
    j fail
.Lres\@:
    CHECK_TRAP CAUSE_ILLEGAL, .Linsn\@, \half
.endm

RVTEST_CODE_BEGIN

    # ---- illegal instructions, mtval = the instruction ----
    TEST_ILLEGAL32 2, 0xfe000033    # OP with funct7 = 0x7f
    TEST_ILLEGAL32 3, 0xc0001073    # unimp = csrrw x0, cycle, x0 (write to read-only)
    TEST_ILLEGAL32 4, 0x0000000b    # custom-0 opcode
    TEST_ILLEGAL32 5, 0x00002007    # flw: F absent (aVM) / mstatus.FS off (QEMU)
    TEST_ILLEGAL16 10, 0x0000       # the all-zero halfword
    TEST_ILLEGAL16 11, 0x0010       # c.addi4spn with imm 0
    TEST_ILLEGAL16 12, 0x4002       # c.lwsp with rd = x0
    TEST_ILLEGAL16 13, 0x8002       # c.jr with rs1 = x0
    TEST_ILLEGAL16 14, 0x6101       # c.addi16sp with imm 0
    TEST_ILLEGAL16 15, 0x6081       # c.lui with imm 0
    TEST_ILLEGAL16 16, 0x1082       # c.slli with shamt[5] = 1 (RV32)
    TEST_ILLEGAL16 17, 0x6000       # c.flw (F absent / off)

    # ---- ecall from M, S, U ----
    TEST 20
    EXPECT_TRAP 2f
1:  ecall
    j fail
2:  CHECK_TRAP CAUSE_MACHINE_ECALL, 1b, 0
    CHECK_MASK s7, MSTATUS_MPP, 0x1800
    TEST 21
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  ecall
    j fail
2:  CHECK_TRAP CAUSE_SUPERVISOR_ECALL, 1b, 0
    CHECK_MASK s7, MSTATUS_MPP, 0x0800
    TEST 22
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  ecall
    j fail
2:  CHECK_TRAP CAUSE_USER_ECALL, 1b, 0
    CHECK_MASK s7, MSTATUS_MPP, 0

    # ---- breakpoints: mepc = mtval = pc ----
    TEST 30
    EXPECT_TRAP 2f
1:  ebreak
    j fail
2:  CHECK s8, CAUSE_BREAKPOINT   # mtval = pc is checked in avm_specific (QEMU 7.2 writes 0)
    CHECK_ADDR s9, 1b
    TEST 31
    EXPECT_TRAP 2f
    .option push
    .option rvc
1:  c.ebreak
    c.nop
    .option pop
    j fail
2:  CHECK s8, CAUSE_BREAKPOINT
    CHECK_ADDR s9, 1b
    TEST 32
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  ebreak
    j fail
2:  CHECK s8, CAUSE_BREAKPOINT
    CHECK_ADDR s9, 1b

    # ---- access faults outside RAM ----
    li s0, UNMAPPED_ADDR
    TEST 40
    EXPECT_TRAP 2f
1:  lw a4, 0(s0)
    j fail
2:  CHECK_TRAP CAUSE_LOAD_ACCESS, 1b, UNMAPPED_ADDR
    TEST 41
    EXPECT_TRAP 2f
1:  lbu a4, 5(s0)
    j fail
2:  CHECK_TRAP CAUSE_LOAD_ACCESS, 1b, UNMAPPED_ADDR + 5
    TEST 42
    EXPECT_TRAP 2f
1:  sw a4, 8(s0)
    j fail
2:  CHECK_TRAP CAUSE_STORE_ACCESS, 1b, UNMAPPED_ADDR + 8
    TEST 43
    EXPECT_TRAP 2f
1:  sh a4, -2(s0)
    j fail
2:  CHECK_TRAP CAUSE_STORE_ACCESS, 1b, UNMAPPED_ADDR - 2
    # (AMO access fault = cause 7 is in avm_specific: QEMU 7.2 reports cause 5)
    TEST 45
    EXPECT_TRAP 2f
1:  lr.w a4, (s0)
    j fail
2:  CHECK_TRAP CAUSE_LOAD_ACCESS, 1b, UNMAPPED_ADDR
    TEST 46                     # fetch: mepc = mtval = the target
    EXPECT_TRAP 2f
    li a5, 0x12345
    jalr a5, 0(s0)
    j fail
2:  CHECK s8, CAUSE_FETCH_ACCESS
    CHECK s9, UNMAPPED_ADDR
    CHECK s10, UNMAPPED_ADDR
    CHECK_ADDR a5, 2b - 4       # the jalr itself completed: link written

    # (misaligned AMO/SC = cause 6 is in avm_specific: QEMU 7.2 reports cause 4)

    # ---- privileged instructions from too-low privilege ----
    TEST 60
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  mret
    j fail
2:  CHECK_TRAP CAUSE_ILLEGAL, 1b, 0x30200073
    TEST 61
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  sret
    j fail
2:  CHECK_TRAP CAUSE_ILLEGAL, 1b, 0x10200073
    TEST 62
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  mret
    j fail
2:  CHECK_TRAP CAUSE_ILLEGAL, 1b, 0x30200073
    TEST 63
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  sfence.vma
    j fail
2:  CHECK_TRAP CAUSE_ILLEGAL, 1b, 0x12000073

    RVTEST_PASS

    .data
    .balign 16
amo_word:
    .word 0x01020304
    .word 0
"#
);
