//! Counter writes, as the riscv-tests `rv32mi-p-instret_overflow` program checks
//! them: a write to either half of `minstret` (or `mcycle`) replaces the value the
//! writing instruction would have counted, and the next instruction sees exactly
//! the value written. So `csrw minstret,-1; csrw minstreth,-1; nop` leaves
//! `minstret` and `minstreth` both 0 for the instructions after the `nop`, and a
//! low-half write never carries the writing instruction's increment into the high
//! half. `mcountinhibit` is WARL 0 on aVM (counters meter gas and never stop).
//!
//! aVM-specific: QEMU does not count instructions exactly (without `-icount` its
//! `minstret` follows host time), so these sequences only hold on an exact hart.
#![no_std]
#![no_main]

use avm_bare as _;

core::arch::global_asm!(
    include_str!("../htif.S"),
    include_str!("../macros.S"),
    r#"
RVTEST_CODE_BEGIN

    # ---- instret_overflow: all ones, then the wrap to 0 ----
    TEST 2
    li t0, -1
    csrw minstret, t0
    csrw minstreth, t0
    nop                         # sees 0xffffffff_ffffffff, wraps it
    csrr a4, minstret
    csrr a5, minstreth
    CHECK a4, 0
    CHECK a5, 0
    TEST 3                      # the instruction after the write sees the value
    li t0, -1
    csrw minstreth, t0
    csrw minstret, t0
    csrr a4, minstret
    CHECK a4, 0xffffffff
    TEST 4                      # a low write does not carry into the high half
    li t0, -1
    li t1, 5
    csrw minstreth, zero
    csrw minstret, t0           # the next instruction sees 0x00000000_ffffffff
    csrw minstret, t1           # ... and replaces it: no increment, no carry
    csrr a5, minstreth
    CHECK a5, 0
    TEST 5                      # a high write keeps the low half this instruction saw
    li t0, -1
    li t1, 7
    csrw minstret, t0
    csrw minstreth, t1          # sees low = 0xffffffff; writes high = 7
    csrr a4, minstret           # sees 0x7_ffffffff
    csrr a5, minstreth          # sees 0x8_00000000
    CHECK a4, 0xffffffff
    CHECK a5, 8
    TEST 6                      # instret follows minstret
    li t0, 100
    csrw minstret, t0
    csrr a4, instret
    CHECK a4, 100

    # ---- the same for mcycle ----
    TEST 10
    li t0, -1
    csrw mcycle, t0
    csrw mcycleh, t0
    nop
    csrr a4, mcycle
    csrr a5, mcycleh
    CHECK a4, 0
    CHECK a5, 0
    TEST 11
    li t0, -1
    li t1, 5
    csrw mcycleh, zero
    csrw mcycle, t0
    csrw mcycle, t1
    csrr a5, mcycleh
    CHECK a5, 0

    # ---- mcountinhibit: WARL 0 ----
    TEST 20
    li t0, -1
    csrw mcountinhibit, t0
    csrr a4, mcountinhibit
    CHECK a4, 0
    csrr a1, minstret
    nop
    csrr a2, minstret
    sub a4, a2, a1
    CHECK a4, 2                 # still counting

    RVTEST_PASS
"#
);
