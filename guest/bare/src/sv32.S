# Sv32 page tables shared by the `vm` programs (see src/bin/vm.rs for the layout).

    .equ VA_L0, 0x10000000
    .equ VA_MEGA_RW, 0x10400000
    .equ VA_MEGA_UX, 0x10800000
    .equ VA_MEGA_BAD, 0x10c00000
    .equ FLAGS_RWAD, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D

# table[index] = PTE for the frame at `label` with `flags`. Clobbers t0, t1, t2.
.macro SET_PTE table, index, label, flags
    la t0, \label
    srli t0, t0, 12
    slli t0, t0, 10
    ori t0, t0, \flags
    la t1, \table
    li t2, \index * 4
    add t1, t1, t2
    sw t0, 0(t1)
.endm

# table[index] = leaf PTE for physical page number `ppn` with `flags`.
.macro SET_PTE_PPN table, index, ppn, flags
    li t0, (\ppn << 10) | \flags
    la t1, \table
    li t2, \index * 4
    add t1, t1, t2
    sw t0, 0(t1)
.endm

# reg = the link address of `label` seen through the megapage alias at `base`.
.macro ALIAS reg, label, base
    la \reg, \label
    li t0, 0x80000000 - \base
    sub \reg, \reg, t0
.endm

# Build the tables and enable Sv32 (in M-mode). Clobbers t0-t2, a1, a2.
.macro SV32_SETUP
    # ---- page tables, built in M-mode ----
    SET_PTE_PPN pt_root, 512, 0x80000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    SET_PTE pt_root, 64, pt_l0, PTE_V
    SET_PTE_PPN pt_root, 65, 0x80000, FLAGS_RWAD
    SET_PTE_PPN pt_root, 66, 0x80000, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A
    SET_PTE_PPN pt_root, 67, 0x80001, FLAGS_RWAD
    SET_PTE pt_l0, 0, pg_a, FLAGS_RWAD
    SET_PTE pt_l0, 1, pg_b, FLAGS_RWAD | PTE_U
    SET_PTE pt_l0, 3, pg_c, PTE_V | PTE_R | PTE_W
    SET_PTE pt_l0, 4, pg_a, PTE_V | PTE_X | PTE_A
    SET_PTE pt_l0, 6, pg_b, PTE_V | PTE_R | PTE_A
    SET_PTE pt_l0, 7, pg_b, FLAGS_RWAD
    SET_PTE pt_l0, 8, pg_a, FLAGS_RWAD
    SET_PTE pt_l0, 10, pg_c, PTE_V | PTE_R
    li a1, 0xaaaa0000
    la a2, pg_a
    sw a1, 0(a2)
    li a1, 0xbbbb0000
    la a2, pg_b
    sw a1, 0(a2)
    la t0, pt_root
    srli t0, t0, 12
    li t1, SATP_MODE_SV32
    or t0, t0, t1
    csrw satp, t0
    sfence.vma

.endm

# Tables, frames and the magic word, at the end of the program.
.macro SV32_DATA
    .data
    .balign 16
magic_word:
    .word 0x600dcafe
    .balign 4096
pt_root:
    .space 4096
pt_l0:
    .space 4096
pg_a:
    .space 4096
pg_b:
    .space 4096
pg_c:
    .space 4096
.endm
