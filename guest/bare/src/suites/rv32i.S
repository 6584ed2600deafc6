# rv32i test cases; run by bin/rv32i.rs (physical memory, M-mode) and
# bin/rv32i_v.rs (Sv32, U-mode), as riscv-tests run each suite in its p and v environments.
RVTEST_CODE_BEGIN

    # ---- add / sub / overflow wraps ----
    TEST_RR 2, add, 0x00000000, 0x00000000, 0x00000000
    TEST_RR 3, add, 0x0000000a, 0x00000003, 0x00000007
    TEST_RR 4, add, 0x80000000, 0x7fffffff, 0x00000001
    TEST_RR 5, add, 0x00000000, 0xffffffff, 0x00000001
    TEST_RR 6, add, 0x7fffffff, 0x80000000, 0xffffffff
    TEST_RR 7, sub, 0x7fffffff, 0x80000000, 0x00000001
    TEST_RR 8, sub, 0xffffffff, 0x00000000, 0x00000001
    TEST_RR 9, sub, 0x80000000, 0x00000000, 0x80000000
    TEST_RR_SAME 10, add, 26, 13
    TEST_RR_SAME 11, sub, 0, 13
    TEST_RR_ZERODEST 12, add, 1, 2
    TEST_RR_ZERODEST 13, sub, 1, 2

    # ---- logic ----
    TEST_RR 14, xor, 0xf0f0f0f0, 0xff00ff00, 0x0ff00ff0
    TEST_RR 15, or,  0xfff0fff0, 0xff00ff00, 0x0ff00ff0
    TEST_RR 16, and, 0x0f000f00, 0xff00ff00, 0x0ff00ff0
    TEST_RR_SAME 17, xor, 0, 0x12345678
    TEST_RR_ZERODEST 18, or, 1, 2

    # ---- slt / sltu: signed vs unsigned ----
    TEST_RR 20, slt,  1, 0xffffffff, 0x00000001
    TEST_RR 21, sltu, 0, 0xffffffff, 0x00000001
    TEST_RR 22, slt,  0, 0x7fffffff, 0x80000000
    TEST_RR 23, sltu, 1, 0x7fffffff, 0x80000000
    TEST_RR 24, slt,  0, 5, 5
    TEST_RR 25, sltu, 1, 0, 1
    TEST_RR_ZERODEST 26, slt, 0, 1

    # ---- shifts by register: only the low 5 bits count ----
    TEST_RR 30, sll, 0x00000002, 0x00000001, 33
    TEST_RR 31, sll, 0x80000000, 0x00000001, 31
    TEST_RR 32, sll, 0x00000001, 0x00000001, 0xffffffe0
    TEST_RR 33, srl, 0x40000000, 0x80000000, 0xffffffe1
    TEST_RR 34, srl, 0x00000001, 0x80000000, 31
    TEST_RR 35, sra, 0xffffffff, 0x80000000, 63
    TEST_RR 36, sra, 0xc0000000, 0x80000000, 1
    TEST_RR 37, sra, 0x3fffffff, 0x7fffffff, 1
    TEST_RR 38, srl, 0x12345678, 0x12345678, 32

    # ---- immediates: sign-extended 12-bit, limits ----
    TEST_RI 40, addi, 0xfffff800, 0, -2048
    TEST_RI 41, addi, 0x000007ff, 0, 2047
    TEST_RI 42, addi, 0x80000000, 0x7fffffff, 1
    TEST_RI 43, slti, 1, 0xfffffffe, -1
    TEST_RI 44, slti, 0, 0, -1
    TEST_RI 45, sltiu, 1, 0, -1
    TEST_RI 46, sltiu, 0, 0xffffffff, -1
    TEST_RI 47, sltiu, 1, 0xfffffffe, -1
    TEST_RI 48, xori, 0xedcba987, 0x12345678, -1
    TEST_RI 49, ori, 0xfffff8ff, 0x000000ff, -1793
    TEST_RI 50, andi, 0x00000670, 0x12345678, 0x7f0
    TEST_RI 51, andi, 0x12345000, 0x12345678, -2048
    TEST_RI 52, slli, 0x80000000, 0x00000001, 31
    TEST_RI 53, srli, 0x00000001, 0x80000000, 31
    TEST_RI 54, srai, 0xffffffff, 0x80000000, 31
    TEST_RI 55, srai, 0x00000001, 0x40000000, 30
    TEST_RI 56, slli, 0x12345678, 0x12345678, 0

    # ---- x0: writes are discarded, reads are zero ----
    TEST 60
    addi x0, x0, 5
    CHECK x0, 0
    TEST 61
    li a1, 7
    add a4, x0, a1
    CHECK a4, 7
    TEST 62
    lui x0, 0x12345
    CHECK x0, 0
    TEST 63
    sub a4, x0, a1
    CHECK a4, -7

    # ---- lui / auipc ----
    TEST 70
    lui a4, 0xfffff
    CHECK a4, 0xfffff000
    TEST 71
    lui a4, 0x80000
    srai a4, a4, 12
    CHECK a4, 0xfff80000
    TEST 72
1:  auipc a4, 0
    CHECK_ADDR a4, 1b
    TEST 73
1:  auipc a4, 1
    la a5, 1b
    sub a4, a4, a5
    CHECK a4, 0x1000
    TEST 74
1:  auipc a4, 0xfffff
    la a5, 1b
    sub a4, a5, a4
    CHECK a4, 0x1000

    # ---- jal / jalr ----
    TEST 80
    jal a4, 1f
2:  j fail
1:  CHECK_ADDR a4, 2b
    TEST 81
    la t0, 1f
    jalr a4, 0(t0)
2:  j fail
1:  CHECK_ADDR a4, 2b
    TEST 82                     # jalr clears bit 0 of the target
    la t0, 1f
    addi t0, t0, 1
    jalr a4, 0(t0)
2:  j fail
1:  CHECK_ADDR a4, 2b
    TEST 83                     # offset added before clearing bit 0
    la t0, 1f
    addi t0, t0, 7
    jalr a4, -6(t0)
2:  j fail
1:  CHECK_ADDR a4, 2b
    TEST 84                     # rd == rs1: the target uses the old value
    la t0, 1f
    jalr t0, 0(t0)
2:  j fail
1:  CHECK_ADDR t0, 2b
    TEST 85                     # rd = x0: no link
    la t0, 1f
    jalr x0, 0(t0)
    j fail
1:  CHECK x0, 0
    TEST 86                     # backward jal
    li a5, 0
    j 2f
1:  addi a5, a5, 1
    j 3f
2:  jal x0, 1b
3:  CHECK a5, 1

    # ---- branches: both outcomes, both signs ----
    TEST_BR_TAKEN 90, beq, 0xffffffff, 0xffffffff
    TEST_BR_NOT   91, beq, 0, 1
    TEST_BR_TAKEN 92, bne, 0, 1
    TEST_BR_NOT   93, bne, 0x80000000, 0x80000000
    TEST_BR_TAKEN 94, blt, 0xffffffff, 1
    TEST_BR_NOT   95, blt, 1, 0xffffffff
    TEST_BR_NOT   96, blt, 5, 5
    TEST_BR_TAKEN 97, bge, 5, 5
    TEST_BR_TAKEN 98, bge, 1, 0x80000000
    TEST_BR_NOT   99, bge, 0x80000000, 0x7fffffff
    TEST_BR_TAKEN 100, bltu, 1, 0xffffffff
    TEST_BR_NOT   101, bltu, 0xffffffff, 1
    TEST_BR_NOT   102, bltu, 7, 7
    TEST_BR_TAKEN 103, bgeu, 0xffffffff, 1
    TEST_BR_TAKEN 104, bgeu, 7, 7
    TEST_BR_NOT   105, bgeu, 0x7fffffff, 0x80000000
    TEST 106                    # backward taken branch: a loop of 10
    li a1, 10
    li a2, 0
1:  addi a2, a2, 1
    addi a1, a1, -1
    bnez a1, 1b
    CHECK a2, 10

    # ---- loads: sign and zero extension ----
    la s0, tdat
    TEST 110
    lb a4, 0(s0)
    CHECK a4, 0xffffff80
    TEST 111
    lbu a4, 0(s0)
    CHECK a4, 0x80
    TEST 112
    lb a4, 1(s0)
    CHECK a4, 0x7f
    TEST 113
    lh a4, 2(s0)
    CHECK a4, 0xffff8001
    TEST 114
    lhu a4, 2(s0)
    CHECK a4, 0x8001
    TEST 115
    lh a4, 4(s0)
    CHECK a4, 0x7ffe
    TEST 116
    lw a4, 8(s0)
    CHECK a4, 0xdeadbeef
    TEST 117                    # negative offset
    addi s1, s0, 12
    lw a4, -4(s1)
    CHECK a4, 0xdeadbeef
    TEST 118
    lbu a4, -10(s1)
    CHECK a4, 0x01
    TEST 119                    # load into x0 is discarded
    lw x0, 8(s0)
    CHECK x0, 0

    # ---- stores ----
    la s0, tdst
    TEST 120
    li a1, 0x11223344
    sw a1, 0(s0)
    li a1, 0xaabbccdd
    sb a1, 1(s0)
    lw a4, 0(s0)
    CHECK a4, 0x1122dd44
    TEST 121
    li a1, 0x5566eeff
    sh a1, 2(s0)
    lw a4, 0(s0)
    CHECK a4, 0xeeffdd44
    TEST 122
    sw x0, 4(s0)
    li a1, -1
    sh a1, 6(s0)
    lw a4, 4(s0)
    CHECK a4, 0xffff0000
    TEST 123
    addi s1, s0, 16
    li a1, 0x0badf00d
    sw a1, -8(s1)
    lw a4, 8(s0)
    CHECK a4, 0x0badf00d
    TEST 124
    sb x0, 11(s0)
    lw a4, 8(s0)
    CHECK a4, 0x00adf00d

    # ---- fence, fence.i and self-modifying code ----
    TEST 130
    fence
    fence rw, rw
    fence.i
    TEST 131                    # patch `li a4, 1` into `li a4, 2`, fence.i, run it
    la s0, smc_insn
    li a4, 0
    jal ra, smc_insn            # first run: a4 = 1
    CHECK a4, 1
    lw a1, 0(s0)
    li a2, 0x00100000           # imm += 1
    add a1, a1, a2
    sw a1, 0(s0)
    fence.i
    jal ra, smc_insn
    CHECK a4, 2

    RVTEST_PASS

smc_insn:
    addi a4, x0, 1
    ret

    .data
    .balign 16
tdat:
    .byte 0x80, 0x7f
    .half 0x8001
    .half 0x7ffe
    .half 0x0000
    .word 0xdeadbeef
tdst:
    .space 16
