//! The fixed frame around the random body: prologue, trap handlers,
//! epilogue, data contents and Sv32 page tables.

use avm_isa::csr as c;
use avm_isa::{AluImmOp, CsrOp, Inst, LoadOp, Reg, StoreOp};
use avm_mmu::csr::mstatus;
use avm_mmu::sv32::{PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X};
use avm_mmu::{Privilege, RAM_BASE};

use super::{Gen, GP, S0, S1, S11, SP, T0, T1, TEMPS, TP};
use crate::program::{DATA_OFFSET, LEAF_PT_OFFSET, ROOT_PT_OFFSET, SAVE_OFFSET, TOHOST_OFFSET};
use crate::rng::Entropy;

/// Exceptions the prologue may delegate to S-mode: everything delegable
/// except `ecall` from S, which the S handler uses to reach M and halt.
const DELEGABLE: u32 = 0xb3ff & !(1 << 9);

/// Which handler: the CSRs and return instruction of its level.
#[derive(Clone, Copy)]
struct Level {
    cause: u16,
    epc: u16,
    tval: u16,
    ip: u16,
    status: u16,
    /// The status bits that make the handler return to its own level.
    same_level: u32,
    ret: Inst,
}

const M_LEVEL: Level = Level {
    cause: c::MCAUSE,
    epc: c::MEPC,
    tval: c::MTVAL,
    ip: c::MIP,
    status: c::MSTATUS,
    same_level: mstatus::MPP,
    ret: Inst::Mret,
};

const S_LEVEL: Level = Level {
    cause: c::SCAUSE,
    epc: c::SEPC,
    tval: c::STVAL,
    ip: c::SIP,
    status: c::SSTATUS,
    same_level: mstatus::SPP,
    ret: Inst::Sret,
};

impl<E: Entropy + ?Sized> Gen<'_, E> {
    pub(crate) fn csr(&mut self, op: CsrOp, rd: Reg, rs1: Reg, csr: u16) {
        self.a.inst(Inst::Csr { op, rd, rs1, csr });
    }

    /// M-mode setup, ending with the jump (or `mret`) into the body.
    pub(super) fn prologue(&mut self) {
        let (m_handler, s_handler, body) = (self.m_handler, self.s_handler, self.body);
        self.a.la(T0, m_handler);
        self.a.csrw(c::MTVEC, T0);
        self.a.la(T0, s_handler);
        self.a.csrw(c::STVEC, T0);
        self.a.li(GP, RAM_BASE + SAVE_OFFSET);
        self.a.li(TP, 0);
        self.a.li(S0, RAM_BASE + DATA_OFFSET + 0x1000);
        self.a.li(SP, RAM_BASE + DATA_OFFSET + 0xf80);
        let alias = self.paging && (self.privilege != Privilege::Machine || self.d.chance(30));
        // Through the second-level table, virtual 0x5000 is the data page at 0x8000_5000.
        let s1 = if alias { 0x5000 } else { RAM_BASE + DATA_OFFSET + 0x800 };
        self.a.li(S1, s1);
        self.a.li(S11, 0);
        if self.d.chance(50) {
            let mut deleg = self.d.u32() & DELEGABLE;
            // A delegated instruction page fault from a handler that S-mode
            // cannot fetch (user pages) is a trap loop: allowed, but rarely.
            if !self.d.chance(10) {
                deleg &= !(1 << 12);
            }
            self.a.li(T0, deleg);
            self.a.csrw(c::MEDELEG, T0);
        }
        if self.d.chance(30) {
            self.csr(CsrOp::Rwi, Reg::ZERO, Reg::new(2), c::MIDELEG); // SSIP
        }
        if self.d.chance(40) {
            // Software interrupts: enable SSIE, and maybe the global enables
            // (MIE for M-mode, SIE for S-mode), and maybe raise one at once.
            self.csr(CsrOp::Rsi, Reg::ZERO, Reg::new(2), c::MIE);
            let enables = self.d.pick(&[0, 2, 8, 10]);
            self.csr(CsrOp::Rsi, Reg::ZERO, Reg::new(enables), c::MSTATUS);
            if self.d.chance(20) {
                self.csr(CsrOp::Rsi, Reg::ZERO, Reg::new(2), c::MIP);
            }
        }
        if self.d.chance(50) {
            let (m, s) = (self.d.below(8), self.d.below(8));
            self.csr(CsrOp::Rwi, Reg::ZERO, Reg::new(m), c::MCOUNTEREN);
            self.csr(CsrOp::Rwi, Reg::ZERO, Reg::new(s), c::SCOUNTEREN);
        }
        if self.paging {
            self.a.li(T0, self.satp);
            self.a.csrw(c::SATP, T0);
        }
        if self.d.chance(40) {
            let bits = self.d.pick(&[mstatus::SUM, mstatus::MXR, mstatus::SUM | mstatus::MXR]);
            self.a.li(T0, bits);
            self.csr(CsrOp::Rs, Reg::ZERO, T0, c::MSTATUS);
        }
        for &r in TEMPS.iter() {
            let v = self.d.value();
            self.a.li(Reg::new(r), v);
        }
        if self.privilege == Privilege::Machine {
            self.a.j(body);
            return;
        }
        self.a.li(T0, mstatus::MPP);
        self.csr(CsrOp::Rc, Reg::ZERO, T0, c::MSTATUS);
        if self.privilege == Privilege::Supervisor {
            self.a.li(T0, Privilege::Supervisor.bits() << mstatus::MPP_SHIFT);
            self.csr(CsrOp::Rs, Reg::ZERO, T0, c::MSTATUS);
        }
        self.a.la(T0, body);
        self.a.csrw(c::MEPC, T0);
        let v = self.d.value();
        self.a.li(T0, v);
        self.a.inst(Inst::Mret);
    }

    /// Both trap handlers.
    pub(super) fn handlers(&mut self) {
        let m = self.m_handler;
        self.a.bind(m);
        self.handler(M_LEVEL);
        let s = self.s_handler;
        self.a.bind(s);
        self.handler(S_LEVEL);
    }

    /// One trap handler (see the module docs of `gen`).
    fn handler(&mut self, level: Level) {
        let a = &mut self.a;
        let (ret, irq, fetch, halt, short) =
            (a.new_label(), a.new_label(), a.new_label(), a.new_label(), a.new_label());
        a.store(StoreOp::Sw, T0, GP, 0);
        a.store(StoreOp::Sw, T1, GP, 4);
        a.addi(TP, TP, 1);
        // Log entry (tp & 7) at gp + 8 + 12 * (tp & 7): cause, epc, tval.
        a.alu_imm(AluImmOp::Andi, T1, TP, 7);
        a.alu_imm(AluImmOp::Slli, T0, T1, 1);
        a.alu(avm_isa::AluOp::Add, T1, T1, T0);
        a.alu_imm(AluImmOp::Slli, T1, T1, 2);
        a.alu(avm_isa::AluOp::Add, T1, T1, GP);
        for (i, csr) in [level.cause, level.epc, level.tval].into_iter().enumerate() {
            a.csrr(T0, csr);
            a.store(StoreOp::Sw, T0, T1, 8 + 4 * i as i32);
        }
        a.li(T1, self.max_traps);
        a.bgeu_label(TP, T1, halt);
        a.csrr(T0, level.cause);
        a.blt_label(T0, Reg::ZERO, irq);
        // Causes 0, 1 and 12 are instruction-fetch faults: epc is not readable code.
        a.alu_imm(AluImmOp::Sltiu, T1, T0, 2);
        a.bne_label(T1, Reg::ZERO, fetch);
        a.addi(T1, T0, -12);
        a.beq_label(T1, Reg::ZERO, fetch);
        // Step over the faulting instruction: 4 bytes if its low bits are 11.
        a.csrr(T0, level.epc);
        a.load(LoadOp::Lhu, T1, T0, 0);
        a.alu_imm(AluImmOp::Andi, T1, T1, 3);
        a.addi(T1, T1, -3);
        a.addi(T0, T0, 2);
        a.bne_label(T1, Reg::ZERO, short);
        a.addi(T0, T0, 2);
        a.bind(short);
        a.csrw(level.epc, T0);
        a.bind(ret);
        a.load(LoadOp::Lw, T0, GP, 0);
        a.load(LoadOp::Lw, T1, GP, 4);
        a.inst(level.ret);
        // Interrupt: only the software interrupt (SSIP) can be pending; clear it.
        a.bind(irq);
        a.inst(Inst::Csr { op: CsrOp::Rci, rd: Reg::ZERO, rs1: Reg::new(2), csr: level.ip });
        a.j(ret);
        // Fetch fault: carry on at epc, but in this handler's own mode.
        a.bind(fetch);
        a.li(T0, level.same_level);
        a.inst(Inst::Csr { op: CsrOp::Rs, rd: Reg::ZERO, rs1: T0, csr: level.status });
        a.j(ret);
        a.bind(halt);
        if level.ret == Inst::Mret {
            // tohost = trap count << 1 | 1: exit with the trap count as code.
            a.alu_imm(AluImmOp::Slli, T0, TP, 1);
            a.alu_imm(AluImmOp::Ori, T0, T0, 1);
            a.li(T1, RAM_BASE + TOHOST_OFFSET);
            a.store(StoreOp::Sw, T0, T1, 0);
            // The high word makes HTIF run the command.
            a.store(StoreOp::Sw, Reg::ZERO, T1, 4);
        } else {
            // S-mode cannot be trusted to reach tohost: let M halt.
            a.inst(Inst::Ecall);
        }
        a.j(halt);
    }

    /// Max out the trap count and trap: every handler chain ends in a halt.
    pub(super) fn epilogue(&mut self) {
        let top = self.a.here();
        self.a.li(TP, self.max_traps);
        self.a.inst(Inst::Ecall);
        self.a.j(top);
    }

    /// Random contents for the data area.
    pub(super) fn fill_data(&mut self, data: &mut [u8]) {
        for chunk in data.chunks_mut(4) {
            let v = if self.d.chance(20) { self.d.value() } else { self.d.u32() };
            chunk.copy_from_slice(&v.to_le_bytes()[..chunk.len()]);
        }
    }

    /// The Sv32 tables: an identity megapage over RAM, one over the console,
    /// and virtual pages 0..16 mapped 4 KiB-wise onto the first 16 RAM pages
    /// with random permissions.
    pub(super) fn page_tables(&mut self, image: &mut [u8]) {
        let user = self.privilege == Privilege::User;
        let put = |image: &mut [u8], at: u32, pte: u32| {
            let at = at as usize;
            image[at..at + 4].copy_from_slice(&pte.to_le_bytes());
        };
        // Identity megapage over RAM: usually what the body's mode needs.
        let mut flags = PTE_V | PTE_R | PTE_W | PTE_X;
        if user != self.d.chance(5) {
            flags |= PTE_U;
        }
        if self.d.chance(5) {
            flags &= !self.d.pick(&[PTE_W, PTE_X, PTE_R | PTE_W]);
        }
        flags |= self.ad_bits();
        put(image, ROOT_PT_OFFSET + 4 * (RAM_BASE >> 22), (RAM_BASE >> 12) << 10 | flags);
        // Console megapage.
        let console = avm_mmu::devices::CONSOLE_BASE;
        let flags = PTE_V | PTE_R | PTE_W | PTE_A | PTE_D | if user { PTE_U } else { 0 };
        put(image, ROOT_PT_OFFSET + 4 * (console >> 22), (console >> 12) << 10 | flags);
        // Virtual megapage 0: a pointer to the second-level table.
        put(image, ROOT_PT_OFFSET, ((RAM_BASE + LEAF_PT_OFFSET) >> 12) << 10 | PTE_V);
        for i in 0..16u32 {
            let perms = [PTE_R, PTE_R | PTE_W, PTE_R | PTE_X, PTE_R | PTE_W | PTE_X, PTE_X, PTE_W, 0];
            let choices = if self.d.chance(30) { 7 } else { 4 };
            let mut flags = self.d.pick(&perms[..choices]);
            if self.d.chance(90) {
                flags |= PTE_V;
            }
            if user != self.d.chance(10) {
                flags |= PTE_U;
            }
            flags |= self.ad_bits();
            put(image, LEAF_PT_OFFSET + 4 * i, ((RAM_BASE >> 12) + i) << 10 | flags);
        }
    }

    /// A and D bits: often preset, sometimes left for the walker to set.
    fn ad_bits(&mut self) -> u32 {
        match self.d.below(4) {
            0 => 0,
            1 => PTE_A,
            _ => PTE_A | PTE_D,
        }
    }
}
