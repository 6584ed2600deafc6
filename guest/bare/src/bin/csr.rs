//! Zicsr and the CSR rules: csrrw/csrrs/csrrc and their immediate forms (old value
//! returned, rd = x0, rs1 = x0 / uimm = 0 never writes); writes to read-only CSRs and
//! accesses from too-low privilege raise illegal instruction with mtval = the
//! instruction; unimplemented CSRs (0x7c0) are illegal; misa; mstatus WARL and WPRI
//! fields; sstatus as a view of mstatus; sie/sip as views of mie/mip masked by
//! mideleg; medeleg/mideleg read-only bits; mepc/sepc bit 0; counters and the
//! mcounteren/scounteren gates for cycle/instret(/h) from S and U.
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    r#"
RVTEST_CODE_BEGIN

    # ---- csrrw / csrrs / csrrc and immediates ----
    TEST 2
    li a1, 0x12345678
    csrw mscratch, a1
    li a2, 0xffff0000
    csrrw a4, mscratch, a2
    CHECK a4, 0x12345678
    csrr a4, mscratch
    CHECK a4, 0xffff0000
    TEST 3
    li a2, 0x0000ff00
    csrrs a4, mscratch, a2
    CHECK a4, 0xffff0000
    csrr a4, mscratch
    CHECK a4, 0xffffff00
    TEST 4
    li a2, 0x00ff0000
    csrrc a4, mscratch, a2
    CHECK a4, 0xffffff00
    csrr a4, mscratch
    CHECK a4, 0xff00ff00
    TEST 5
    csrrwi a4, mscratch, 0x1f
    CHECK a4, 0xff00ff00
    csrrsi a4, mscratch, 0x0
    CHECK a4, 0x1f
    csrrci a4, mscratch, 0x5
    CHECK a4, 0x1f
    csrrsi a4, mscratch, 0x10
    CHECK a4, 0x1a
    csrr a4, mscratch
    CHECK a4, 0x1a
    TEST 6                      # rd = x0 still writes; rd == rs1 reads the old value
    li a1, 77
    csrrw x0, mscratch, a1
    CHECK x0, 0
    csrr a4, mscratch
    CHECK a4, 77
    li a1, 88
    csrrw a1, mscratch, a1
    CHECK a1, 77
    csrr a4, sscratch
    li a1, 0x5a5a5a5a
    csrw sscratch, a1
    csrr a4, sscratch
    CHECK a4, 0x5a5a5a5a

    # ---- read-only CSRs: reading is legal, any write is illegal ----
    TEST 10
    csrr a4, mhartid
    CHECK a4, 0
    csrr a4, mvendorid
    csrr a4, marchid
    csrr a4, mimpid
    csrrsi a4, mhartid, 0       # uimm = 0: no write
    csrrci a4, mvendorid, 0
    csrrc a4, marchid, x0       # rs1 = x0: no write
    csrr a4, cycle
    csrr a4, instret
    csrr a4, cycleh
    csrr a4, instreth
    TEST_ILLEGAL_INSN 11, csrw mvendorid, a1
    TEST_ILLEGAL_INSN 12, csrrw x0, mhartid, x0
    # (csrrs rd, ro_csr, rs1 with rs1 != x0 holding 0 is in avm_specific: QEMU 7.2 allows it)
    li a1, 1
    TEST_ILLEGAL_INSN 14, csrrsi a4, mimpid, 1
    TEST_ILLEGAL_INSN 15, csrrwi x0, cycle, 0
    TEST_ILLEGAL_INSN 16, csrrci a4, instret, 1
    TEST_ILLEGAL_INSN 17, csrrs a4, cycleh, a1
    TEST 18                     # a failed write leaves rd untouched
    li a4, 1234
    EXPECT_TRAP 2f
1:  csrrw a4, mhartid, x0
    j fail
2:  CHECK a4, 1234

    # ---- unimplemented CSRs ----
    TEST_ILLEGAL_INSN 20, csrr a4, 0x7c0
    TEST_ILLEGAL_INSN 21, csrw 0x7c0, a1
    TEST_ILLEGAL_INSN 22, csrrs a4, 0x7c0, x0

    # ---- misa ----
    TEST 30
    csrr a4, misa
    beqz a4, fail
    CHECK_MASK a4, 0xc0000000, 0x40000000           # MXL = 1 (32-bit)
    CHECK_MASK a4, 0x00141105, 0x00141105           # A, C, I, M, S, U

    # ---- mstatus WARL / WPRI ----
    TEST 40                     # WPRI bits read zero after writing ones
    li a1, -1
    csrrw a2, mstatus, a1
    csrr a4, mstatus
    csrw mstatus, zero
    CHECK_MASK a4, 0x7f800015, 0
    CHECK_MASK a4, 0x0000012a, 0x0000012a   # SIE, MIE, SPIE, MPIE, SPP writable
    TEST 41                     # MPP = 3 and 1 and 0 are kept
    li a1, MSTATUS_MPP
    csrs mstatus, a1
    csrr a4, mstatus
    CHECK_MASK a4, MSTATUS_MPP, 0x1800
    csrc mstatus, a1
    li a1, 0x0800
    csrs mstatus, a1
    csrr a4, mstatus
    CHECK_MASK a4, MSTATUS_MPP, 0x0800
    csrc mstatus, a1
    csrr a4, mstatus
    CHECK_MASK a4, MSTATUS_MPP, 0
    TEST 42                     # SPP is one bit
    li a1, MSTATUS_SPP
    csrs mstatus, a1
    csrr a4, mstatus
    CHECK_MASK a4, MSTATUS_SPP, MSTATUS_SPP
    csrc mstatus, a1

    # ---- sstatus is a view of mstatus ----
    TEST 50
    csrw mstatus, zero
    li a1, MSTATUS_SUM | MSTATUS_SIE
    csrs sstatus, a1
    csrr a4, mstatus
    CHECK_MASK a4, MSTATUS_SUM | MSTATUS_SIE, MSTATUS_SUM | MSTATUS_SIE
    TEST 51
    li a1, MSTATUS_MXR | MSTATUS_SPIE | MSTATUS_SPP
    csrs mstatus, a1
    csrr a4, sstatus
    CHECK_MASK a4, MSTATUS_MXR | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_SIE, MSTATUS_MXR | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_SIE
    TEST 52                     # M-only fields are invisible in sstatus and not written through it
    li a1, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV
    csrs mstatus, a1
    csrr a4, sstatus
    CHECK_MASK a4, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV, 0
    csrw mstatus, zero
    li a1, -1
    csrw sstatus, a1
    csrr a4, mstatus
    CHECK_MASK a4, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV, 0
    CHECK_MASK a4, MSTATUS_MXR | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_SIE, MSTATUS_MXR | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_SIE
    csrw sstatus, zero
    csrr a4, mstatus
    CHECK_MASK a4, MSTATUS_MXR | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_SIE, 0
    csrw mstatus, zero

    # ---- sie / sip are views of mie / mip masked by mideleg ----
    TEST 60
    csrw mideleg, zero
    li a1, MIP_SSIP
    csrs mie, a1
    csrr a4, sie
    CHECK_MASK a4, MIP_SSIP, 0
    TEST 61
    csrs mideleg, a1
    csrr a4, sie
    CHECK_MASK a4, MIP_SSIP, MIP_SSIP
    TEST 62
    csrc sie, a1
    csrr a4, mie
    CHECK_MASK a4, MIP_SSIP, 0
    csrs sie, a1
    csrr a4, mie
    CHECK_MASK a4, MIP_SSIP, MIP_SSIP
    csrw mie, zero
    TEST 63                     # sip.SSIP: hidden unless delegated, writable when delegated
    csrw mideleg, zero
    li a1, MIP_SSIP
    csrs mip, a1
    csrr a4, sip
    CHECK_MASK a4, MIP_SSIP, 0
    csrs mideleg, a1
    csrr a4, sip
    CHECK_MASK a4, MIP_SSIP, MIP_SSIP
    csrc sip, a1
    csrr a4, mip
    CHECK_MASK a4, MIP_SSIP, 0
    csrw mideleg, zero
    csrw mip, zero

    # ---- delegation registers, xepc ----
    TEST 70                     # the usual exceptions are delegable (medeleg[11] is a
                                # "should be zero" in the spec; QEMU 7.2 keeps it: not checked)
    li a1, -1
    csrw medeleg, a1
    csrr a4, medeleg
    csrw medeleg, zero
    CHECK_MASK a4, 0xb1ff, 0xb1ff       # causes 0-8, 12, 13, 15 delegable
    TEST 71                     # M-level interrupts cannot be delegated
    csrw mideleg, a1
    csrr a4, mideleg
    csrw mideleg, zero
    CHECK_MASK a4, 0x888, 0
    CHECK_MASK a4, 0x222, 0x222
    # (mepc/sepc bit 0 reading zero is in avm_specific: QEMU 7.2 keeps it)
    TEST 73
    li a1, 0x80000101           # mtvec vectored mode reads back
    csrrw a2, mtvec, a1
    csrr a4, mtvec
    csrw mtvec, a2
    CHECK a4, 0x80000101

    # ---- counters ----
    TEST 80
    csrr a1, instret
    nop
    nop
    csrr a2, instret
    sub a4, a2, a1
    beqz a4, fail               # instret advances
    csrr a1, minstret
    csrr a2, mcycle

    # ---- privilege checks ----
    TEST 90                     # S-mode cannot touch M CSRs
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  csrr a4, mstatus
    j fail
2:  CHECK_ILLEGAL 1b
    TEST 91
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  csrw mscratch, a1
    j fail
2:  CHECK_ILLEGAL 1b
    TEST 92                     # S-mode may use S CSRs
    GOTO_MODE PRV_S, 1f
1:  csrr a4, sstatus
    csrw sscratch, a4
    csrr a4, sie
    GOTO_M 2f
2:  TEST 93                     # U-mode cannot touch S CSRs
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  csrr a4, sstatus
    j fail
2:  CHECK_ILLEGAL 1b
    TEST 94
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  csrw sscratch, a4
    j fail
2:  CHECK_ILLEGAL 1b
    TEST 95                     # S-mode: a read-only S view is still read-only? (satp is RW)
    GOTO_MODE PRV_S, 1f
1:  csrr a4, satp
    GOTO_M 2f
2:

    # ---- counter enables ----
    TEST 100                    # mcounteren = 0: S cannot read cycle
    csrw mcounteren, zero
    csrw scounteren, zero
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  csrr a4, cycle
    j fail
2:  CHECK_ILLEGAL 1b
    TEST 101
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  csrr a4, instreth
    j fail
2:  CHECK_ILLEGAL 1b
    TEST 102                    # mcounteren CY|IR: S reads cycle, instret, cycleh, instreth
    li a1, 5
    csrw mcounteren, a1
    GOTO_MODE PRV_S, 1f
1:  csrr a4, cycle
    csrr a4, instret
    csrr a4, cycleh
    csrr a4, instreth
    GOTO_M 2f
2:  TEST 103                    # ... but U also needs scounteren
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  csrr a4, cycle
    j fail
2:  CHECK_ILLEGAL 1b
    TEST 104
    li a1, 5
    csrw scounteren, a1
    GOTO_MODE PRV_U, 1f
1:  csrr a4, cycle
    csrr a4, instret
    csrr a4, instreth
    GOTO_M 2f
2:  TEST 105                    # scounteren alone is not enough
    csrw mcounteren, zero
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  csrr a4, instret
    j fail
2:  CHECK_ILLEGAL 1b
    TEST 106                    # per-counter bits: IR set, CY clear
    li a1, 4
    csrw mcounteren, a1
    csrw scounteren, a1
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  csrr a4, instret
    csrr a4, cycle
    j fail
2:  CHECK s8, CAUSE_ILLEGAL
    CHECK_ADDR s9, 1b + 4
    TEST 107                    # S cannot read scounteren gated... S reads its own scounteren
    GOTO_MODE PRV_S, 1f
1:  csrr a4, scounteren
    GOTO_M 2f
2:  CHECK a4, 4
    TEST 108                    # S cannot read mcounteren
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  csrr a4, mcounteren
    j fail
2:  CHECK_ILLEGAL 1b

    RVTEST_PASS
"#
);
