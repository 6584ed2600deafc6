# HTIF mailbox (riscv-tests convention): two 8-byte aligned 64-bit words in their own
# section. Writing tohost with bit 0 set ends the program: 1 = pass, (N << 1) | 1 =
# test N failed. Device 1 command 1 (value 0x0101_0000_0000_00cc) prints byte cc.
    .pushsection .tohost, "aw", @progbits
    .balign 64
    .globl tohost
tohost:
    .dword 0
    .size tohost, 8
    .balign 64
    .globl fromhost
fromhost:
    .dword 0
    .size fromhost, 8
    .popsection
