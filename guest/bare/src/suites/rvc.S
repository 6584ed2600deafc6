# rvc test cases; run by bin/rvc.rs (physical memory, M-mode) and
# bin/rvc_v.rs (Sv32, U-mode), as riscv-tests run each suite in its p and v environments.
RVTEST_CODE_BEGIN
    .option rvc

    TEST 2
    li s0, 5
    c.addi s0, 7
    CHECK s0, 12
    TEST 3
    c.addi s0, -32
    CHECK s0, -20
    TEST 4
    c.li a1, -32
    CHECK a1, -32
    TEST 5
    c.li a1, 31
    CHECK a1, 31
    TEST 6
    c.lui a2, 0xfffff
    CHECK a2, 0xfffff000
    TEST 7
    c.lui a2, 0x1f
    CHECK a2, 0x0001f000
    TEST 8
    c.lui a2, 1
    CHECK a2, 0x1000
    TEST 9
    c.nop
    li a3, 0x80000000
    c.srli a3, 31
    CHECK a3, 1
    TEST 10
    li a3, 0x80000000
    c.srai a3, 31
    CHECK a3, 0xffffffff
    TEST 11
    li a3, 0x80000000
    c.srai a3, 1
    CHECK a3, 0xc0000000
    TEST 12
    li a4, 0x12345678
    c.andi a4, -1
    CHECK a4, 0x12345678
    TEST 13
    c.andi a4, 0x1f
    CHECK a4, 0x18
    TEST 14
    c.andi a4, -32
    CHECK a4, 0
    TEST 15
    li a4, 0x1234
    c.andi a4, -16
    CHECK a4, 0x1230
    TEST 16
    li s0, 10
    li s1, 3
    c.sub s0, s1
    CHECK s0, 7
    TEST 17
    li s0, 0
    li s1, 1
    c.sub s0, s1
    CHECK s0, 0xffffffff
    TEST 18
    li a0, 0xff00ff00
    li a5, 0x0ff00ff0
    c.xor a0, a5
    CHECK a0, 0xf0f0f0f0
    TEST 19
    li a0, 0xff00ff00
    c.or a0, a5
    CHECK a0, 0xfff0fff0
    TEST 20
    li a0, 0xff00ff00
    c.and a0, a5
    CHECK a0, 0x0f000f00
    TEST 21
    li t0, 1
    c.slli t0, 31
    CHECK t0, 0x80000000
    TEST 22
    li t0, 3
    c.slli t0, 1
    CHECK t0, 6
    TEST 23
    li t1, 42
    c.mv t2, t1
    CHECK t2, 42
    TEST 24
    li t1, 40
    li t2, 2
    c.add t1, t2
    CHECK t1, 42
    TEST 25
    li s1, 0x7fffffff
    c.add s1, s1
    CHECK s1, 0xfffffffe

    # ---- sp-relative forms ----
    TEST 30
    mv s1, sp
    c.addi16sp sp, -512
    sub t0, s1, sp
    CHECK t0, 512
    TEST 31
    c.addi16sp sp, 496
    sub t0, s1, sp
    CHECK t0, 16
    TEST 32
    c.addi16sp sp, 16
    CHECKR sp, s1
    c.addi16sp sp, -512         # room on the stack for the load/store cases
    c.addi16sp sp, -512
    TEST 33
    c.addi4spn a0, sp, 4
    addi t0, sp, 4
    CHECKR a0, t0
    TEST 34
    c.addi4spn a1, sp, 1020
    addi t0, sp, 1020
    CHECKR a1, t0
    TEST 35
    li t1, 0x13579bdf
    c.swsp t1, 252(sp)
    lw t2, 252(sp)
    CHECK t2, 0x13579bdf
    TEST 36
    li t1, 0x2468ace0
    sw t1, 0(sp)
    c.lwsp t2, 0(sp)
    CHECK t2, 0x2468ace0
    TEST 37
    c.lwsp t2, 252(sp)
    CHECK t2, 0x13579bdf
    TEST 38
    c.addi4spn s0, sp, 128
    li a2, 0xcafef00d
    c.sw a2, 124(s0)
    lw a3, 252(sp)
    CHECK a3, 0xcafef00d
    TEST 39
    li a2, 0x600dd00d
    sw a2, 4(s0)
    c.lw a3, 4(s0)
    CHECK a3, 0x600dd00d
    TEST 40
    c.lw a4, 124(s0)
    CHECK a4, 0xcafef00d
    TEST 41
    li a2, 0x11111111
    c.sw a2, 0(s0)
    c.lw a5, 0(s0)
    CHECK a5, 0x11111111
    c.addi16sp sp, 496
    c.addi16sp sp, 496
    c.addi16sp sp, 32
    CHECKR sp, s1

    # ---- control transfer ----
    TEST 50
    c.j 1f
    j fail
1:  TEST 51
    c.jal 1f
2:  j fail
1:  CHECK_ADDR ra, 2b
    TEST 52
    la t0, 1f
    c.jalr t0
2:  j fail
1:  CHECK_ADDR ra, 2b
    TEST 53
    la t0, 1f
    c.jr t0
    j fail
1:  TEST 54
    li s0, 0
    c.beqz s0, 1f
    j fail
1:  TEST 55
    li s0, 1
    c.beqz s0, fail_near
    TEST 56
    li s1, -1
    c.bnez s1, 1f
    j fail
1:  TEST 57
    li s1, 0
    c.bnez s1, fail_near
    TEST 58                     # backward c.bnez loop
    li s0, 5
    li t0, 0
1:  addi t0, t0, 1
    c.addi s0, -1
    c.bnez s0, 1b
    CHECK t0, 5
    TEST 59                     # c.jalr with rs1 == ra: the target is the old ra
    la ra, 1f
    c.jalr ra
2:  j fail
1:  CHECK_ADDR ra, 2b

    # ---- a 32-bit instruction at a 2-byte aligned address ----
    TEST 60
    .balign 4
    c.nop
    lui a4, 0x12345             # at 4n + 2
    addi a4, a4, 0x678
    CHECK a4, 0x12345678
    TEST 61
    .balign 4
    c.nop
1:  auipc a4, 0                 # auipc at 4n + 2 gives its own pc
    CHECK_ADDR a4, 1b
    TEST 62                     # jal (32-bit) at 4n + 2: link = pc + 4
    .balign 4
    c.nop
    jal a4, 1f
2:  j fail
1:  CHECK_ADDR a4, 2b

    RVTEST_PASS

fail_near:
    j fail
