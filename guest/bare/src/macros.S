# Test harness for the assembly conformance programs, in the style of riscv-tests'
# riscv_test.h and test_macros.h, written with assembler macros (no C preprocessor).
#
# A program is
#     RVTEST_CODE_BEGIN
#     TEST 2                    # gp (x3) = number of the test case that follows
#     ... instructions ...
#     CHECK a0, 42              # jump to `fail` unless a0 == 42
#     ...
#     RVTEST_PASS
#
# `fail` writes (gp << 1) | 1 to tohost, `pass` writes 1. Registers reserved by the
# harness: gp (test number), t5/t6 (CHECK scratch), s7..s11 (trap records, see below),
# a0/a7 when a test uses GOTO_M.
#
# Traps. mtvec points to `mtrap_vector`, stvec to `strap_vector`. A test that expects a
# trap arms it with EXPECT_TRAP label: the next trap (in any mode, handled in M or, when
# delegated, in S) records
#     s7 = xstatus, s8 = xcause, s9 = xepc, s10 = xtval   (x = the mode that took it)
# disarms itself and resumes at `label` in M-mode. A trap that nobody expects fails the
# current test. GOTO_M label (from any mode) is an ecall with a7 = TRAP_MAGIC that the
# handlers turn into a jump to `label` in M-mode, recording nothing.

    .equ MSTATUS_SIE,  0x00000002
    .equ MSTATUS_MIE,  0x00000008
    .equ MSTATUS_SPIE, 0x00000020
    .equ MSTATUS_MPIE, 0x00000080
    .equ MSTATUS_SPP,  0x00000100
    .equ MSTATUS_MPP,  0x00001800
    .equ MSTATUS_MPP_S, 0x00000800
    .equ MSTATUS_MPRV, 0x00020000
    .equ MSTATUS_SUM,  0x00040000
    .equ MSTATUS_MXR,  0x00080000
    .equ MIP_SSIP, 0x2
    .equ MIP_MSIP, 0x8
    .equ MIP_STIP, 0x20
    .equ MIP_SEIP, 0x200
    .equ SATP_MODE_SV32, 0x80000000
    .equ PTE_V, 0x01
    .equ PTE_R, 0x02
    .equ PTE_W, 0x04
    .equ PTE_X, 0x08
    .equ PTE_U, 0x10
    .equ PTE_G, 0x20
    .equ PTE_A, 0x40
    .equ PTE_D, 0x80
    .equ CAUSE_MISALIGNED_FETCH, 0
    .equ CAUSE_FETCH_ACCESS, 1
    .equ CAUSE_ILLEGAL, 2
    .equ CAUSE_BREAKPOINT, 3
    .equ CAUSE_MISALIGNED_LOAD, 4
    .equ CAUSE_LOAD_ACCESS, 5
    .equ CAUSE_MISALIGNED_STORE, 6
    .equ CAUSE_STORE_ACCESS, 7
    .equ CAUSE_USER_ECALL, 8
    .equ CAUSE_SUPERVISOR_ECALL, 9
    .equ CAUSE_MACHINE_ECALL, 11
    .equ CAUSE_FETCH_PAGE_FAULT, 12
    .equ CAUSE_LOAD_PAGE_FAULT, 13
    .equ CAUSE_STORE_PAGE_FAULT, 15
    .equ TRAP_MAGIC, 0x4d4d4d21
    # Outside RAM on aVM and unmapped on QEMU's spike machine: accesses fault.
    .equ UNMAPPED_ADDR, 0x40000000

    .equ PRV_U, 0
    .equ PRV_S, 1
    .equ PRV_M, 3

# gp = test number of the following case.
.macro TEST n
    li gp, \n
.endm

# Fail unless `reg` == `val` (an immediate). Clobbers t6.
.macro CHECK reg, val
    li t6, \val
    beq \reg, t6, .Lcheck_ok\@
    j fail
.Lcheck_ok\@:
.endm

# Fail unless `reg` == the address of `label`. Clobbers t6.
.macro CHECK_ADDR reg, label
    la t6, \label
    beq \reg, t6, .Lcheck_ok\@
    j fail
.Lcheck_ok\@:
.endm

# Fail unless `a` == `b` (registers).
.macro CHECKR a, b
    beq \a, \b, .Lcheck_ok\@
    j fail
.Lcheck_ok\@:
.endm

# Fail unless the bits of `reg` under `mask` equal `val`. Clobbers t5, t6.
.macro CHECK_MASK reg, mask, val
    li t6, \mask
    and t6, \reg, t6
    li t5, \val
    beq t6, t5, .Lcheck_ok\@
    j fail
.Lcheck_ok\@:
.endm

# Branch cases: `inst` a1, a2 must (not) be taken.
.macro TEST_BR_TAKEN n, inst, val1, val2
    TEST \n
    li a1, \val1
    li a2, \val2
    \inst a1, a2, .Ltaken\@
    j fail
.Ltaken\@:
.endm

.macro TEST_BR_NOT n, inst, val1, val2
    TEST \n
    li a1, \val1
    li a2, \val2
    \inst a1, a2, .Lbad\@
    j .Lok\@
.Lbad\@:
    j fail
.Lok\@:
.endm

# Arm the trap recorder: the next trap resumes at `label` in M-mode.
.macro EXPECT_TRAP label
    la s11, \label
.endm

# After a recorded trap: check cause, epc (an address label) and tval (immediate).
.macro CHECK_TRAP cause, epc_label, tval
    CHECK s8, \cause
    CHECK_ADDR s9, \epc_label
    CHECK s10, \tval
.endm

# After a recorded trap: an illegal instruction at `epc_label` whose bits are in mtval.
# Clobbers t5, t6.
.macro CHECK_ILLEGAL epc_label
    CHECK s8, CAUSE_ILLEGAL
    CHECK_ADDR s9, \epc_label
    la t5, \epc_label
    lw t5, 0(t5)
    CHECKR s10, t5
.endm

# Run one instruction `insn...` that must raise illegal instruction (checked with mtval).
.macro TEST_ILLEGAL_INSN n, insn:vararg
    TEST \n
    EXPECT_TRAP .Lres\@
.Linsn\@:
    \insn
    j fail
.Lres\@:
    CHECK_ILLEGAL .Linsn\@
.endm

# Run one instruction that must not trap.
.macro TEST_LEGAL_INSN n, insn:vararg
    TEST \n
    \insn
.endm

# From M-mode: continue at `label` in privilege `mode` (PRV_U/PRV_S/PRV_M) via mret.
# Clobbers t0.
.macro GOTO_MODE mode, label
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    li t0, (\mode << 11)
    csrs mstatus, t0
    la t0, \label
    csrw mepc, t0
    mret
.endm

# From any mode: continue at `label` (its link address) in M-mode. Clobbers a0, a7.
.macro GOTO_M label
    lui a0, %hi(\label)
    addi a0, a0, %lo(\label)
    li a7, TRAP_MAGIC
    ecall
.endm

# Register-register and register-immediate ALU cases (riscv-tests TEST_RR_OP/TEST_IMM_OP).
.macro TEST_RR n, inst, result, val1, val2
    TEST \n
    li a1, \val1
    li a2, \val2
    \inst a4, a1, a2
    CHECK a4, \result
.endm

.macro TEST_RI n, inst, result, val1, imm
    TEST \n
    li a1, \val1
    \inst a4, a1, \imm
    CHECK a4, \result
.endm

# Source equals destination: rd = rs1 = rs2.
.macro TEST_RR_SAME n, inst, result, val
    TEST \n
    li a1, \val
    \inst a1, a1, a1
    CHECK a1, \result
.endm

# x0 as destination: the result is discarded.
.macro TEST_RR_ZERODEST n, inst, val1, val2
    TEST \n
    li a1, \val1
    li a2, \val2
    \inst x0, a1, a2
    CHECK x0, 0
.endm

.macro RVTEST_CODE_BEGIN
    .section .text.init, "ax", @progbits
    .option norvc
    .globl _start
_start:
    li x1, 0
    li x2, 0
    li x3, 0
    li x4, 0
    li x5, 0
    li x6, 0
    li x7, 0
    li x8, 0
    li x9, 0
    li x10, 0
    li x11, 0
    li x12, 0
    li x13, 0
    li x14, 0
    li x15, 0
    li x16, 0
    li x17, 0
    li x18, 0
    li x19, 0
    li x20, 0
    li x21, 0
    li x22, 0
    li x23, 0
    li x24, 0
    li x25, 0
    li x26, 0
    li x27, 0
    li x28, 0
    li x29, 0
    li x30, 0
    li x31, 0
    la t0, mtrap_vector
    csrw mtvec, t0
    la t0, strap_vector
    csrw stvec, t0
    csrwi mie, 0
    csrwi mip, 0
    csrwi medeleg, 0
    csrwi mideleg, 0
    csrwi satp, 0
    csrwi mstatus, 0
    # PMP as riscv-tests: one NAPOT region covering everything, RWX, so S/U can run
    # on implementations that enforce PMP (aVM accepts and ignores PMP).
    li t0, -1
    csrw pmpaddr0, t0
    li t0, 0x1f
    csrw pmpcfg0, t0
    la sp, __stack_top
    j test_start

    .balign 4
mtrap_vector:
    csrw mscratch, t0
    li t0, TRAP_MAGIC
    bne a7, t0, .Lmtrap_record
    csrr t0, mcause
    addi t0, t0, -CAUSE_USER_ECALL
    beqz t0, .Lmtrap_goto
    addi t0, t0, -1
    beqz t0, .Lmtrap_goto
    addi t0, t0, -2
    beqz t0, .Lmtrap_goto
    j .Lmtrap_record
.Lmtrap_goto:
    csrw mepc, a0
    li a7, 0
    j .Lmtrap_resume
.Lmtrap_record:
    beqz s11, fail
    csrr s7, mstatus
    csrr s8, mcause
    csrr s9, mepc
    csrr s10, mtval
    csrw mepc, s11
    li s11, 0
.Lmtrap_resume:
    li t0, MSTATUS_MPP
    csrs mstatus, t0
    csrr t0, mscratch
    mret

    .balign 4
strap_vector:
    csrw sscratch, t0
    li t0, TRAP_MAGIC
    bne a7, t0, .Lstrap_record
    csrr t0, scause
    addi t0, t0, -CAUSE_USER_ECALL
    bnez t0, .Lstrap_record
    csrr t0, sscratch
    ecall                       # forward the GOTO_M request to M-mode
.Lstrap_record:
    beqz s11, fail
    csrr s7, sstatus
    csrr s8, scause
    csrr s9, sepc
    csrr s10, stval
    mv a0, s11
    li s11, 0
    li a7, TRAP_MAGIC
    csrr t0, sscratch
    ecall                       # resume at the armed label in M-mode

    .balign 4
    .globl fail
fail:
    fence
    bnez gp, 1f
    li gp, 0x3ff                # a failure outside any numbered test
1:  slli gp, gp, 1
    ori gp, gp, 1
    la t5, tohost
    sw gp, 0(t5)
    sw zero, 4(t5)
2:  j 2b

    .balign 4
    .globl pass
pass:
    fence
    li gp, 1
    la t5, tohost
    sw gp, 0(t5)
    sw zero, 4(t5)
1:  j 1b

test_start:
.ifdef AVM_VM_ENV
    # The "v" environment: identity-map the first 64 MiB of RAM with sixteen
    # 4 MiB user megapages (V R W X U A D), turn on Sv32 and drop to U-mode,
    # so the test cases run with every access translated.
    la t0, vm_root
    li t1, (0x80000000 >> 22) * 4
    add t0, t0, t1
    li t1, ((0x80000000 >> 12) << 10) | 0xdf
    li t2, (0x400000 >> 12) << 10
    li t3, 16
1:  sw t1, 0(t0)
    add t1, t1, t2
    addi t0, t0, 4
    addi t3, t3, -1
    bnez t3, 1b
    la t0, vm_root
    srli t0, t0, 12
    li t1, 1 << 31
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    li t0, MSTATUS_MPP
    csrc mstatus, t0            # MPP = U
    la t0, 2f
    csrw mepc, t0
    li t0, 0
    li t1, 0
    li t2, 0
    li t3, 0
    mret

    .pushsection .bss.vm_root, "aw", @nobits
    .balign 4096
vm_root:
    .skip 4096
    .popsection
2:
.endif
.endm

.macro RVTEST_PASS
    j pass
.endm
