//! CSR addresses and names: the one list of control and status registers aVM
//! implements. The MMU gives them meaning; the disassembler prints their names.
//!
//! The top bits of a CSR address carry its rules (RISC-V privileged spec 2.1):
//! bits 11:10 are `0b11` for read-only registers and bits 9:8 give the lowest
//! privilege level that may access it.

macro_rules! csr_table {
    ($( $(#[$m:meta])* $name:ident = $addr:literal, $text:literal; )*) => {
        $( $(#[$m])* #[doc = concat!("`", $text, "`")] pub const $name: u16 = $addr; )*

        /// The name of a CSR address, if aVM implements it.
        pub fn name(addr: u16) -> Option<&'static str> {
            match addr { $( $addr => Some($text), )* _ => None }
        }

        /// Every implemented CSR address, in table order.
        pub const ALL: &[u16] = &[$($addr,)*];
    };
}

csr_table! {
    SSTATUS = 0x100, "sstatus";
    SIE = 0x104, "sie";
    STVEC = 0x105, "stvec";
    SCOUNTEREN = 0x106, "scounteren";
    SSCRATCH = 0x140, "sscratch";
    SEPC = 0x141, "sepc";
    SCAUSE = 0x142, "scause";
    STVAL = 0x143, "stval";
    SIP = 0x144, "sip";
    SATP = 0x180, "satp";
    MSTATUS = 0x300, "mstatus";
    MISA = 0x301, "misa";
    MEDELEG = 0x302, "medeleg";
    MIDELEG = 0x303, "mideleg";
    MIE = 0x304, "mie";
    MTVEC = 0x305, "mtvec";
    MCOUNTEREN = 0x306, "mcounteren";
    MSTATUSH = 0x310, "mstatush";
    MCOUNTINHIBIT = 0x320, "mcountinhibit";
    MSCRATCH = 0x340, "mscratch";
    MEPC = 0x341, "mepc";
    MCAUSE = 0x342, "mcause";
    MTVAL = 0x343, "mtval";
    MIP = 0x344, "mip";
    PMPCFG0 = 0x3a0, "pmpcfg0";
    PMPCFG1 = 0x3a1, "pmpcfg1";
    PMPCFG2 = 0x3a2, "pmpcfg2";
    PMPCFG3 = 0x3a3, "pmpcfg3";
    PMPADDR0 = 0x3b0, "pmpaddr0";
    PMPADDR1 = 0x3b1, "pmpaddr1";
    PMPADDR2 = 0x3b2, "pmpaddr2";
    PMPADDR3 = 0x3b3, "pmpaddr3";
    PMPADDR4 = 0x3b4, "pmpaddr4";
    PMPADDR5 = 0x3b5, "pmpaddr5";
    PMPADDR6 = 0x3b6, "pmpaddr6";
    PMPADDR7 = 0x3b7, "pmpaddr7";
    PMPADDR8 = 0x3b8, "pmpaddr8";
    PMPADDR9 = 0x3b9, "pmpaddr9";
    PMPADDR10 = 0x3ba, "pmpaddr10";
    PMPADDR11 = 0x3bb, "pmpaddr11";
    PMPADDR12 = 0x3bc, "pmpaddr12";
    PMPADDR13 = 0x3bd, "pmpaddr13";
    PMPADDR14 = 0x3be, "pmpaddr14";
    PMPADDR15 = 0x3bf, "pmpaddr15";
    TSELECT = 0x7a0, "tselect";
    TDATA1 = 0x7a1, "tdata1";
    TDATA2 = 0x7a2, "tdata2";
    TDATA3 = 0x7a3, "tdata3";
    TINFO = 0x7a4, "tinfo";
    MCYCLE = 0xb00, "mcycle";
    MINSTRET = 0xb02, "minstret";
    MCYCLEH = 0xb80, "mcycleh";
    MINSTRETH = 0xb82, "minstreth";
    CYCLE = 0xc00, "cycle";
    TIME = 0xc01, "time";
    INSTRET = 0xc02, "instret";
    CYCLEH = 0xc80, "cycleh";
    TIMEH = 0xc81, "timeh";
    INSTRETH = 0xc82, "instreth";
    MVENDORID = 0xf11, "mvendorid";
    MARCHID = 0xf12, "marchid";
    MIMPID = 0xf13, "mimpid";
    MHARTID = 0xf14, "mhartid";
}

/// True if writes to this CSR address are illegal (address bits 11:10 = 0b11).
pub const fn is_read_only(addr: u16) -> bool {
    (addr >> 10) & 3 == 3
}

/// True for a *plain* CSR: one whose only state is its own value. Reading it
/// has no side effect and does not depend on the instruction count, writing
/// it changes no translation, interrupt state or counter, and whether an
/// access is legal depends on the privilege level alone. These are the
/// trap-handling registers a kernel touches on every trap (`xscratch`,
/// `xepc`, `xcause`, `xtval`): nothing they hold is consulted until the next
/// trap or `xret`, so an instruction that accesses one need not end its basic
/// block (see [`crate::Inst::ends_block`]), and a trap entry or exit path runs
/// as one block instead of a block per CSR access.
pub const fn is_plain(addr: u16) -> bool {
    matches!(addr, SSCRATCH | SEPC | SCAUSE | STVAL | MSCRATCH | MEPC | MCAUSE | MTVAL)
}

/// Lowest privilege level (0 = U, 1 = S, 3 = M) allowed to access the CSR
/// (address bits 9:8).
pub const fn min_privilege(addr: u16) -> u8 {
    ((addr >> 8) & 3) as u8
}
