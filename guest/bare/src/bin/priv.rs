//! Privilege transitions, delegation and interrupts: mret/sret stacking (MPP/SPP,
//! MPIE/SPIE, MIE/SIE) and the mode they return to; trap entry stacking; medeleg
//! delegation of exceptions from U and S to S-mode (never from M); the supervisor
//! software interrupt (mip.SSIP) delegated through mideleg and taken in S-mode at
//! stvec with scause 0x80000001, gated by sie.SSIE and sstatus.SIE (always enabled when
//! running in U); the same interrupt not delegated, taken in M through a vectored mtvec
//! (base + 4 * cause) at the exact instruction boundary; wfi with an interrupt pending.
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    r#"
RVTEST_CODE_BEGIN

    # ---- mret stacking ----
    TEST 2                      # MPIE=1, MPP=M: mret -> MIE=1, MPIE=1, MPP=U
    li a1, MSTATUS_MPP | MSTATUS_MPIE
    csrs mstatus, a1
    la a1, 1f
    csrw mepc, a1
    mret
1:  csrr a4, mstatus
    CHECK_MASK a4, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MIE | MSTATUS_MPIE
    csrw mstatus, zero
    TEST 3                      # MPIE=0, MIE=1: mret -> MIE=0, MPIE=1
    li a1, MSTATUS_MPP | MSTATUS_MIE
    csrs mstatus, a1
    la a1, 1f
    csrw mepc, a1
    mret
1:  csrr a4, mstatus
    CHECK_MASK a4, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MPIE
    csrw mstatus, zero
    TEST 4                      # trap entry: MPIE = MIE, MIE = 0, MPP = M
    csrsi mstatus, MSTATUS_MIE
    EXPECT_TRAP 2f
1:  ecall
2:  CHECK_MASK s7, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MPIE | MSTATUS_MPP
    csrw mstatus, zero
    TEST 5                      # mret to S: ecall from S
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  ecall
2:  CHECK_TRAP CAUSE_SUPERVISOR_ECALL, 1b, 0

    # ---- sret stacking (in S) ----
    TEST 10                     # SPP=S, SPIE=1: sret -> S, SIE=1, SPIE=1, SPP=U
    GOTO_MODE PRV_S, 1f
1:  li a1, MSTATUS_SPP | MSTATUS_SPIE
    csrs sstatus, a1
    la a1, 2f
    csrw sepc, a1
    sret
2:  csrr a4, sstatus
    csrci sstatus, MSTATUS_SIE
    EXPECT_TRAP 3f
4:  ecall                       # still in S
3:  CHECK_TRAP CAUSE_SUPERVISOR_ECALL, 4b, 0
    CHECK_MASK a4, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, MSTATUS_SIE | MSTATUS_SPIE
    TEST 11                     # SPP=U: sret -> U
    GOTO_MODE PRV_S, 1f
1:  li a1, MSTATUS_SPP
    csrc sstatus, a1
    la a1, 2f
    csrw sepc, a1
    EXPECT_TRAP 3f
    sret
2:  ecall
3:  CHECK_TRAP CAUSE_USER_ECALL, 2b, 0
    TEST 12                     # SIE=1, SPIE=0: sret -> SIE=0, SPIE=1
    GOTO_MODE PRV_S, 1f
1:  li a1, MSTATUS_SPP | MSTATUS_SIE
    csrs sstatus, a1
    li a1, MSTATUS_SPIE
    csrc sstatus, a1
    la a1, 2f
    csrw sepc, a1
    sret
2:  csrr a4, sstatus
    GOTO_M 3f
3:  CHECK_MASK a4, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, MSTATUS_SPIE
    csrw mstatus, zero

    # ---- exception delegation ----
    li a1, (1 << CAUSE_ILLEGAL) | (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_USER_ECALL)
    csrw medeleg, a1
    TEST 20                     # illegal in U -> S: scause, sepc, stval, SPP = U
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  .word 0xfe000033
    j fail
2:  CHECK_TRAP CAUSE_ILLEGAL, 1b, 0xfe000033
    CHECK_MASK s7, MSTATUS_SPP, 0
    csrr a4, scause             # the S CSRs hold the trap, not the M ones
    CHECK a4, CAUSE_ILLEGAL
    csrr a4, mcause
    CHECK a4, CAUSE_SUPERVISOR_ECALL     # the harness's ecall that resumed in M
    TEST 21                     # ecall from U -> S
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  ecall
    j fail
2:  CHECK_TRAP CAUSE_USER_ECALL, 1b, 0
    csrr a4, scause
    CHECK a4, CAUSE_USER_ECALL
    TEST 22                     # illegal in S -> S, SPP = S, SPIE = old SIE
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  csrsi sstatus, MSTATUS_SIE
    .word 0xfe000033
    j fail
2:  CHECK s8, CAUSE_ILLEGAL
    CHECK_MASK s7, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, MSTATUS_SPP | MSTATUS_SPIE
    csrw mstatus, zero
    TEST 23                     # ebreak in S -> S
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  ebreak
    j fail
2:  CHECK s8, CAUSE_BREAKPOINT
    CHECK_ADDR s9, 1b
    csrr a4, scause
    CHECK a4, CAUSE_BREAKPOINT
    TEST 24                     # illegal in M is never delegated
    li a1, 0x1234
    csrw scause, a1
    EXPECT_TRAP 2f
1:  .word 0xfe000033
    j fail
2:  CHECK_TRAP CAUSE_ILLEGAL, 1b, 0xfe000033
    csrr a4, mcause
    CHECK a4, CAUSE_ILLEGAL
    csrr a4, scause
    CHECK a4, 0x1234
    TEST 25                     # ecall from S is not delegated by bit 8
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  ecall
    j fail
2:  CHECK s8, CAUSE_SUPERVISOR_ECALL
    csrr a4, mcause
    CHECK a4, CAUSE_SUPERVISOR_ECALL
    csrw medeleg, zero

    # ---- delegated supervisor software interrupt ----
    li a1, MIP_SSIP
    csrw mideleg, a1
    csrw mie, a1
    TEST 30                     # S with SIE=1: taken at the first S instruction
    csrsi mstatus, MSTATUS_SIE
    csrsi mip, MIP_SSIP
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  nop
    j fail
2:  CHECK_TRAP 0x80000001, 1b, 0
    CHECK_MASK s7, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, MSTATUS_SPP | MSTATUS_SPIE
    csrr a4, scause
    CHECK a4, 0x80000001
    csrci mip, MIP_SSIP
    csrw mstatus, zero
    TEST 31                     # S with SIE=0: not taken
    csrsi mip, MIP_SSIP
    GOTO_MODE PRV_S, 1f
1:  nop
    nop
    csrr a4, sip
    GOTO_M 2f
2:  CHECK_MASK a4, MIP_SSIP, MIP_SSIP
    TEST 32                     # U: S interrupts are always enabled
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, 1f
1:  nop
    j fail
2:  CHECK_TRAP 0x80000001, 1b, 0
    CHECK_MASK s7, MSTATUS_SPP, 0
    csrci mip, MIP_SSIP
    TEST 33                     # S sets sip.SSIP itself, then enables SIE: taken after csrs
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  csrsi sip, MIP_SSIP
    nop
    csrsi sstatus, MSTATUS_SIE
3:  nop
    j fail
2:  CHECK_TRAP 0x80000001, 3b, 0
    csrci mip, MIP_SSIP
    TEST 34                     # sie.SSIE = 0: not taken even with SIE=1
    csrw mie, zero
    csrsi mip, MIP_SSIP
    csrsi mstatus, MSTATUS_SIE
    GOTO_MODE PRV_S, 1f
1:  nop
    GOTO_M 2f
2:  csrci mip, MIP_SSIP
    csrw mstatus, zero
    csrw mideleg, zero

    # ---- not delegated: to M through a vectored mtvec ----
    la a1, mvec_table + 1
    csrw mtvec, a1
    li a1, MIP_SSIP
    csrw mie, a1
    TEST 40                     # M with MIE=0: pending but not taken
    csrsi mip, MIP_SSIP
    nop
    TEST 41                     # wfi returns with an interrupt pending, even with MIE=0
    wfi
    TEST 42                     # setting MIE takes it right after the csrs, at base + 4
    EXPECT_TRAP 2f
    csrsi mstatus, MSTATUS_MIE
1:  nop
    j fail
2:  CHECK_TRAP 0x80000001, 1b, 0
    CHECK_MASK s7, MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP, MSTATUS_MPIE | MSTATUS_MPP
    csrr a4, mip
    CHECK_MASK a4, MIP_SSIP, 0  # the vector entry cleared it
    csrw mstatus, zero
    TEST 43                     # M interrupts are enabled in S regardless of MIE
    csrsi mip, MIP_SSIP
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  nop
    j fail
2:  CHECK_TRAP 0x80000001, 1b, 0
    CHECK_MASK s7, MSTATUS_MPP, 0x0800
    TEST 44                     # exceptions in vectored mode go to the base
    EXPECT_TRAP 2f
1:  ecall
    j fail
2:  CHECK_TRAP CAUSE_MACHINE_ECALL, 1b, 0
    la a1, mtrap_vector
    csrw mtvec, a1
    csrw mie, zero

    RVTEST_PASS

    .balign 64
mvec_table:
    j mtrap_vector              # 0: exceptions
    j mvec_ssi                  # 1: supervisor software interrupt
    j fail                      # 2
    j fail                      # 3
    j fail                      # 4
    j fail                      # 5
    j fail                      # 6
    j fail                      # 7
mvec_ssi:
    csrci mip, MIP_SSIP
    j mtrap_vector
"#
);
