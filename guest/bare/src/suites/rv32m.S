# rv32m test cases; run by bin/rv32m.rs (physical memory, M-mode) and
# bin/rv32m_v.rs (Sv32, U-mode), as riscv-tests run each suite in its p and v environments.
RVTEST_CODE_BEGIN

    TEST_RR 2,  mul, 0x00000000, 0x00000000, 0x00000000
    TEST_RR 3,  mul, 0x00000f00, 0x00000030, 0x00000050
    TEST_RR 4,  mul, 0xfffffffe, 0x7fffffff, 0x00000002
    TEST_RR 5,  mul, 0x00000001, 0xffffffff, 0xffffffff
    TEST_RR 6,  mul, 0x00000000, 0x80000000, 0x80000000
    TEST_RR 7,  mul, 0x80000000, 0x80000000, 0xffffffff
    TEST_RR_SAME 8, mul, 169, 13
    TEST_RR_ZERODEST 9, mul, 3, 4

    TEST_RR 10, mulh, 0x40000000, 0x80000000, 0x80000000
    TEST_RR 11, mulh, 0x00000000, 0xffffffff, 0xffffffff
    TEST_RR 12, mulh, 0xffffffff, 0xffffffff, 0x00000001
    TEST_RR 13, mulh, 0xc0000000, 0x80000000, 0x7fffffff
    TEST_RR 14, mulh, 0x3fffffff, 0x7fffffff, 0x7fffffff
    TEST_RR 15, mulh, 0x00000000, 0x00000002, 0x00000003

    TEST_RR 20, mulhu, 0xfffffffe, 0xffffffff, 0xffffffff
    TEST_RR 21, mulhu, 0x00000001, 0x80000000, 0x00000002
    TEST_RR 22, mulhu, 0x40000000, 0x80000000, 0x80000000
    TEST_RR 23, mulhu, 0x00000000, 0x0000ffff, 0x0000ffff

    TEST_RR 30, mulhsu, 0xffffffff, 0xffffffff, 0xffffffff
    TEST_RR 31, mulhsu, 0x80000000, 0x80000000, 0xffffffff
    TEST_RR 32, mulhsu, 0x00000001, 0x00000002, 0x80000000
    TEST_RR 33, mulhsu, 0xffffffff, 0xffffffff, 0x00000001
    TEST_RR 34, mulhsu, 0x7ffffffe, 0x7fffffff, 0xffffffff
    TEST_RR_ZERODEST 35, mulhsu, 3, 4

    TEST_RR 40, div, 3, 20, 6
    TEST_RR 41, div, -3, -20, 6
    TEST_RR 42, div, -3, 20, -6
    TEST_RR 43, div, 3, -20, -6
    TEST_RR 44, div, 0x80000000, 0x80000000, 1
    TEST_RR 45, div, 0x80000000, 0x80000000, -1
    TEST_RR 46, div, -1, 0x80000000, 0
    TEST_RR 47, div, -1, 1, 0
    TEST_RR 48, div, -1, 0, 0

    TEST_RR 50, divu, 3, 20, 6
    TEST_RR 51, divu, 715827879, -20, 6
    TEST_RR 52, divu, 0, 20, -6
    TEST_RR 53, divu, 0, 0x80000000, 0xffffffff
    TEST_RR 54, divu, 0xffffffff, 0x80000000, 0
    TEST_RR 55, divu, 0xffffffff, 0, 0
    TEST_RR 56, divu, 0xffffffff, 0xffffffff, 1

    TEST_RR 60, rem, 2, 20, 6
    TEST_RR 61, rem, -2, -20, 6
    TEST_RR 62, rem, 2, 20, -6
    TEST_RR 63, rem, -2, -20, -6
    TEST_RR 64, rem, 0, 0x80000000, 1
    TEST_RR 65, rem, 0, 0x80000000, -1
    TEST_RR 66, rem, 0x80000000, 0x80000000, 0
    TEST_RR 67, rem, 1, 1, 0
    TEST_RR 68, rem, 0, 0, 0

    TEST_RR 70, remu, 2, 20, 6
    TEST_RR 71, remu, 2, -20, 6
    TEST_RR 72, remu, 20, 20, -6
    TEST_RR 73, remu, 0x80000000, 0x80000000, 0xffffffff
    TEST_RR 74, remu, 0x80000000, 0x80000000, 0
    TEST_RR 75, remu, 0xffffffff, 0xffffffff, 0
    TEST_RR 76, remu, 0, 0xffffffff, 1

    TEST_RR_ZERODEST 80, div, 20, 0
    TEST_RR_ZERODEST 81, rem, 0x80000000, -1
    TEST_RR_SAME 82, divu, 1, 0x12345678
    TEST_RR_SAME 83, remu, 0, 0x12345678

    RVTEST_PASS
