# rv32a test cases; run by bin/rv32a.rs (physical memory, M-mode) and
# bin/rv32a_v.rs (Sv32, U-mode), as riscv-tests run each suite in its p and v environments.
# AMO case: memory = init, amo rd, src, (addr) -> rd == init, memory == result.
.macro TEST_AMO n, inst, init, src, result
    TEST \n
    la s0, amo_word
    li a1, \init
    sw a1, 0(s0)
    li a2, \src
    \inst a4, a2, (s0)
    CHECK a4, \init
    lw a5, 0(s0)
    CHECK a5, \result
.endm

RVTEST_CODE_BEGIN

    TEST_AMO 2,  amoswap.w, 0x12345678, 0xdeadbeef, 0xdeadbeef
    TEST_AMO 3,  amoadd.w,  0x7fffffff, 0x00000001, 0x80000000
    TEST_AMO 4,  amoadd.w,  0xffffffff, 0x00000002, 0x00000001
    TEST_AMO 5,  amoxor.w,  0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0
    TEST_AMO 6,  amoand.w,  0xff00ff00, 0x0ff00ff0, 0x0f000f00
    TEST_AMO 7,  amoor.w,   0xff00ff00, 0x0ff00ff0, 0xfff0fff0
    TEST_AMO 8,  amomin.w,  0x00000001, 0xffffffff, 0xffffffff
    TEST_AMO 9,  amomin.w,  0x80000000, 0x7fffffff, 0x80000000
    TEST_AMO 10, amomax.w,  0x00000001, 0xffffffff, 0x00000001
    TEST_AMO 11, amomax.w,  0x80000000, 0x7fffffff, 0x7fffffff
    TEST_AMO 12, amominu.w, 0x00000001, 0xffffffff, 0x00000001
    TEST_AMO 13, amominu.w, 0x80000000, 0x7fffffff, 0x7fffffff
    TEST_AMO 14, amomaxu.w, 0x00000001, 0xffffffff, 0xffffffff
    TEST_AMO 15, amomaxu.w, 0x80000000, 0x7fffffff, 0x80000000
    TEST_AMO 16, amomin.w,  0xfffffffe, 0xfffffffe, 0xfffffffe
    TEST_AMO 17, amoswap.w.aq, 1, 2, 2
    TEST_AMO 18, amoadd.w.rl, 1, 2, 3
    TEST_AMO 19, amoor.w.aqrl, 1, 2, 3

    TEST 20                     # rd = x0: memory still updated
    la s0, amo_word
    li a1, 5
    sw a1, 0(s0)
    li a2, 3
    amoadd.w x0, a2, (s0)
    CHECK x0, 0
    lw a5, 0(s0)
    CHECK a5, 8
    TEST 21                     # rd == rs2: old value wins
    li a1, 10
    sw a1, 0(s0)
    li a2, 7
    amoswap.w a2, a2, (s0)
    CHECK a2, 10
    lw a5, 0(s0)
    CHECK a5, 7

    # ---- lr / sc ----
    TEST 30                     # lr then sc succeeds (rd = 0) and stores
    la s0, amo_word
    li a1, 100
    sw a1, 0(s0)
    lr.w a4, (s0)
    CHECK a4, 100
    addi a4, a4, 1
    sc.w a5, a4, (s0)
    CHECK a5, 0
    lw a6, 0(s0)
    CHECK a6, 101
    TEST 31                     # a second sc has no reservation: fails (rd != 0), no store
    li a4, 555
    sc.w a5, a4, (s0)
    beqz a5, fail
    lw a6, 0(s0)
    CHECK a6, 101
    TEST 32                     # lr, sc elsewhere (fails or consumes), then sc fails
    lr.w a4, (s0)
    la s1, amo_word2
    sc.w a5, a4, (s1)
    li a4, 777
    sc.w a5, a4, (s0)
    beqz a5, fail
    lw a6, 0(s0)
    CHECK a6, 101
    TEST 33                     # lr.aq / sc.rl loop: an atomic increment
    li a3, 0
1:  lr.w.aq a4, (s0)
    addi a4, a4, 1
    sc.w.rl a5, a4, (s0)
    bnez a5, 1b
    lw a6, 0(s0)
    CHECK a6, 102
    TEST 34                     # sc.w with rd = x0 (success discarded, store done)
    lr.w a4, (s0)
    li a4, 200
    sc.w x0, a4, (s0)
    lw a6, 0(s0)
    CHECK a6, 200
    TEST 35                     # sc.w whose rd is its source register
    lr.w a4, (s0)
    li a4, 300
    sc.w a4, a4, (s0)
    CHECK a4, 0
    lw a6, 0(s0)
    CHECK a6, 300

    RVTEST_PASS

    .data
    .balign 16
amo_word:
    .word 0
amo_word2:
    .word 0
