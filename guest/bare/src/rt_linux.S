# Entry of Rust programs built as Linux processes (feature linux-user): the kernel (or
# qemu-riscv32) starts _start with sp on the process stack it built (argc, argv, envp,
# auxv; 16-byte aligned), so the program keeps that stack. It zeroes .bss like rt.S
# (the loader has already done so; the loop keeps the startup work the same), calls
# main and passes its result to exit (a7 = 93).
    .section .text.init, "ax", @progbits
    .globl _start
_start:
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sw zero, 0(t0)
    addi t0, t0, 4
    j 1b
2:  call avm_bare_main
    # a0 = exit code: 0 = pass
    li a7, 93
    ecall
3:  j 3b
