//! Random body items. Each item is a short, self-contained construct: one
//! ALU instruction, a load, a forward branch whose target is placed a few
//! items later, a counted loop, a self-modifying store, a trap...

use avm_isa::asm::encode;
use avm_isa::asm::encode_compressed;
use avm_isa::csr as c;
use avm_isa::{AluImmOp, AluOp, AmoOp, BranchOp, CsrOp, Inst, LoadOp, Reg, StoreOp};
use avm_mmu::csr::mstatus;

use super::{nop, Deferred, Gen, GP, S0, S1, S11, SP};
use crate::rng::Entropy;

/// `mstatus` bits the body may set and clear (not MPP: the handlers need it).
const MSTATUS_BITS: [u32; 11] = [
    mstatus::SIE,
    mstatus::MIE,
    mstatus::SPIE,
    mstatus::MPIE,
    mstatus::SPP,
    mstatus::MPRV,
    mstatus::SUM,
    mstatus::MXR,
    mstatus::TVM,
    mstatus::TW,
    mstatus::TSR,
];

/// CSRs the body may write with any value.
const FREE_CSRS: [u16; 24] = [
    c::MSCRATCH,
    c::SSCRATCH,
    c::MTVAL,
    c::STVAL,
    c::MCAUSE,
    c::SCAUSE,
    c::MEPC,
    c::SEPC,
    c::MCYCLE,
    c::MCYCLEH,
    c::MINSTRET,
    c::MINSTRETH,
    c::MCOUNTEREN,
    c::SCOUNTEREN,
    c::PMPCFG0,
    c::PMPCFG1,
    c::PMPADDR0,
    c::PMPADDR3,
    c::PMPADDR4,
    c::MCOUNTINHIBIT,
    c::TSELECT,
    c::TDATA1,
    c::MSTATUSH,
    c::MISA,
];

/// CSRs the body may only change through a 5-bit immediate (which cannot
/// reach the bits the handlers depend on, like `medeleg` bit 9).
const IMM_CSRS: [u16; 8] = [c::MEDELEG, c::MIDELEG, c::MIE, c::MIP, c::SIE, c::SIP, c::MSTATUS, c::SSTATUS];

/// Read-only or nonexistent CSRs: writing them is an illegal instruction.
const BAD_CSRS: [u16; 6] = [c::CYCLE, c::INSTRET, c::MHARTID, c::MVENDORID, 0x7c0, 0x5a5];

impl<E: Entropy + ?Sized> Gen<'_, E> {
    /// One random body item.
    pub(super) fn item(&mut self) {
        const WEIGHTS: [u32; 21] = [18, 14, 4, 4, 10, 10, 12, 6, 2, 2, 2, 7, 5, 4, 2, 2, 1, 3, 2, 1, 2];
        match self.d.weighted(&WEIGHTS) {
            0 => self.alu(),
            1 => self.alu_imm(),
            2 => self.upper(),
            3 => {
                let (rd, v) = (self.rd(), self.d.value());
                self.a.li(rd, v);
            }
            4 => self.load(),
            5 => self.store(),
            6 => self.compressed(),
            7 => self.branch(),
            8 => self.compressed_skip(),
            9 => self.jal(),
            10 => self.jalr(),
            11 => self.csr_item(),
            12 => self.atomic(),
            13 => self.trap(),
            14 => self.smc(),
            15 => self.smc_loop(),
            16 => self.console(),
            17 => self.counted_loop(),
            18 => self.system(),
            19 => self.raw(),
            _ => self.interrupt(),
        }
    }

    /// Raise (or clear) the supervisor software interrupt: through `mip`
    /// from M-mode, through `sip` from S-mode when it is delegated. It is
    /// taken at once if enabled, which is the boundary engines must agree on.
    fn interrupt(&mut self) {
        let csr = if self.privilege == avm_mmu::Privilege::Machine { c::MIP } else { c::SIP };
        let op = if self.d.chance(80) { CsrOp::Rsi } else { CsrOp::Rci };
        let rd = self.rd();
        self.csr(op, rd, Reg::new(2), csr);
    }

    /// An item that falls through: allowed inside loop bodies.
    fn straight_item(&mut self) {
        match self.d.below(7) {
            0 | 1 => self.alu(),
            2 => self.alu_imm(),
            3 => self.load(),
            4 => self.store(),
            5 => self.compressed(),
            _ => self.atomic(),
        }
    }

    fn alu(&mut self) {
        if self.d.chance(20) {
            return self.wide_idiom();
        }
        let op = self.d.pick(AluOp::ALL);
        let (rd, rs1, rs2) = (self.rd(), self.rs(), self.rs());
        self.a.alu(op, rd, rs1, rs2);
    }

    /// The pairs RV32 code computes 64-bit arithmetic with, which the JIT
    /// fuses into one host operation: both halves of a product (`mul` and
    /// `mulhu`/`mulh`/`mulhsu` on the same registers, in either order,
    /// operands sometimes swapped) and an add with its carry (`add lo, a, b;
    /// sltu c, lo, a`). Sometimes the first instruction overwrites an
    /// operand of the second, which must then not be fused; the runner's
    /// budget slices land between the two as anywhere else.
    fn wide_idiom(&mut self) {
        let (a, b) = (self.rs(), self.rs());
        let (lo, hi) = (self.rd(), self.rd());
        // Usually distinct from the operands, as a compiler allocates them.
        let lo = if self.d.chance(80) && (lo == a || lo == b) { self.rd() } else { lo };
        if self.d.chance(75) {
            let high = self.d.pick(&[AluOp::Mulhu, AluOp::Mulhu, AluOp::Mulh, AluOp::Mulhsu]);
            let (a2, b2) = if self.d.chance(25) { (b, a) } else { (a, b) };
            if self.d.chance(50) {
                self.a.alu(AluOp::Mul, lo, a, b);
                self.a.alu(high, hi, a2, b2);
            } else {
                self.a.alu(high, hi, a, b);
                self.a.alu(AluOp::Mul, lo, a2, b2);
            }
        } else {
            self.a.alu(AluOp::Add, lo, a, b);
            let other = if self.d.chance(50) { a } else { b };
            self.a.alu(AluOp::Sltu, hi, lo, other);
        }
    }

    fn alu_imm(&mut self) {
        let op = self.d.pick(AluImmOp::ALL);
        let (rd, rs1) = (self.rd(), self.rs());
        let imm = self.imm12(op);
        self.a.alu_imm(op, rd, rs1, imm);
    }

    /// An immediate valid for `op`, often an edge value.
    fn imm12(&mut self, op: AluImmOp) -> i32 {
        if op.is_shift() {
            let any = self.d.range(0, 31);
            return self.d.pick(&[0, 1, 31, any]);
        }
        match self.d.below(3) {
            0 => self.d.pick(&[0, 1, -1, 2047, -2048, 0x7ff, -0x800]),
            1 => self.d.range(-16, 16),
            _ => self.d.range(-2048, 2047),
        }
    }

    fn upper(&mut self) {
        let rd = self.rd();
        let imm = self.d.value() & 0xffff_f000;
        let inst = if self.d.chance(50) { Inst::Lui { rd, imm } } else { Inst::Auipc { rd, imm } };
        self.a.inst(inst);
    }

    /// A base register and offset for a load or store: mostly inside the
    /// data area (through the alias mapping for `s1` when paging is on),
    /// often near its page boundary, sometimes wild.
    fn address(&mut self) -> (Reg, i32) {
        let base = [S0, S1, SP, GP, self.rs()][self.d.weighted(&[50, 25, 12, 3, 5])];
        let offset = match self.d.below(10) {
            0..=4 => self.d.range(-8, 8),
            5..=7 => self.d.range(-2048, 2047),
            _ => self.d.pick(&[0, 4, -4, 0x7fc, -0x800, 2, -2, 1, -1, 0xfff & 0x7ff]),
        };
        (base, offset)
    }

    fn load(&mut self) {
        let op = self.d.pick(LoadOp::ALL);
        let rd = self.rd();
        let (base, offset) = self.address();
        self.a.load(op, rd, base, offset);
    }

    fn store(&mut self) {
        let op = self.d.pick(StoreOp::ALL);
        let rs2 = self.rs();
        let (base, offset) = self.address();
        self.a.store(op, rs2, base, offset);
    }

    /// A compressed instruction of any of the common forms.
    fn compressed(&mut self) {
        let inst = self.compressed_inst();
        if encode_compressed(&inst).is_some() {
            self.a.compressed(inst);
        } else {
            // Not every random operand combination has a 16-bit form.
            self.a.inst(inst);
        }
    }

    fn compressed_inst(&mut self) -> Inst {
        let nonzero6 = |g: &mut Self| {
            let v = g.d.range(-32, 30);
            if v >= 0 {
                v + 1
            } else {
                v
            }
        };
        let creg = |g: &mut Self| Reg::new(8 + g.d.below(8));
        match self.d.below(16) {
            0 => {
                let rd = self.rd();
                let imm = nonzero6(self);
                Inst::AluImm { op: AluImmOp::Addi, rd, rs1: rd, imm }
            }
            1 => Inst::AluImm { op: AluImmOp::Addi, rd: self.rd(), rs1: Reg::ZERO, imm: self.d.range(-32, 31) },
            2 => {
                let mut rd = self.rd();
                if rd == Reg::ZERO {
                    rd = self.crd();
                }
                let v = nonzero6(self);
                Inst::Lui { rd, imm: (v << 12) as u32 }
            }
            3 | 4 => {
                let base = self.d.pick(&[S0, S1]);
                let offset = 4 * self.d.range(0, 31);
                if self.d.chance(50) {
                    Inst::Load { op: LoadOp::Lw, rd: self.crd(), rs1: base, offset }
                } else {
                    Inst::Store { op: StoreOp::Sw, rs1: base, rs2: creg(self), offset }
                }
            }
            5 | 6 => {
                let offset = 4 * self.d.range(0, 63);
                if self.d.chance(50) {
                    let mut rd = self.rd();
                    if rd == Reg::ZERO {
                        rd = self.crd();
                    }
                    Inst::Load { op: LoadOp::Lw, rd, rs1: SP, offset }
                } else {
                    Inst::Store { op: StoreOp::Sw, rs1: SP, rs2: self.rs(), offset }
                }
            }
            7 => {
                let mut rd = self.rd();
                if rd == Reg::ZERO {
                    rd = self.crd();
                }
                Inst::AluImm { op: AluImmOp::Slli, rd, rs1: rd, imm: self.d.range(1, 31) }
            }
            8 => {
                let rd = self.crd();
                let (op, imm) = match self.d.below(3) {
                    0 => (AluImmOp::Srli, self.d.range(1, 31)),
                    1 => (AluImmOp::Srai, self.d.range(1, 31)),
                    _ => (AluImmOp::Andi, self.d.range(-32, 31)),
                };
                Inst::AluImm { op, rd, rs1: rd, imm }
            }
            9 | 10 => {
                let mut rd = self.rd();
                if rd == Reg::ZERO {
                    rd = self.crd();
                }
                let rs2 = Reg::new(1 + self.d.below(31));
                let rs1 = if self.d.chance(50) { Reg::ZERO } else { rd };
                Inst::Alu { op: AluOp::Add, rd, rs1, rs2 }
            }
            11 | 12 => {
                let rd = self.crd();
                let op = self.d.pick(&[AluOp::Sub, AluOp::Xor, AluOp::Or, AluOp::And]);
                Inst::Alu { op, rd, rs1: rd, rs2: creg(self) }
            }
            13 => Inst::AluImm { op: AluImmOp::Addi, rd: self.crd(), rs1: SP, imm: 4 * self.d.range(1, 255) },
            14 => nop(),
            _ => Inst::Ebreak,
        }
    }

    /// A forward conditional branch over the next few items.
    fn branch(&mut self) {
        let op = self.d.pick(BranchOp::ALL);
        let rs1 = self.rs();
        let rs2 = if self.d.chance(15) { rs1 } else { self.rs() };
        let target = self.a.new_label();
        self.a.branch_label(op, rs1, rs2, target);
        let skip = self.d.range(1, 6) as u32;
        self.defer(skip, Deferred::Bind(target));
    }

    /// `c.beqz`/`c.bnez`/`c.j`/`c.jal` over a few compressed instructions
    /// (their distance is known up front, as the assembler has no 16-bit
    /// label fixups).
    fn compressed_skip(&mut self) {
        let n = self.d.range(1, 4);
        let offset = 2 + 2 * n;
        let jump = match self.d.below(4) {
            0 => Inst::Jal { rd: Reg::ZERO, offset },
            1 => Inst::Jal { rd: Reg::RA, offset },
            _ => {
                let op = self.d.pick(&[BranchOp::Beq, BranchOp::Bne]);
                Inst::Branch { op, rs1: Reg::new(8 + self.d.below(8)), rs2: Reg::ZERO, offset }
            }
        };
        self.a.compressed(jump);
        for _ in 0..n {
            let rd = self.crd();
            let imm = self.d.range(-32, 31);
            self.a.compressed(Inst::AluImm { op: AluImmOp::Addi, rd, rs1: Reg::ZERO, imm });
        }
    }

    fn jal(&mut self) {
        let other = self.rd();
        let rd = self.d.pick(&[Reg::ZERO, Reg::RA, other]);
        let target = self.a.new_label();
        self.a.jal_label(rd, target);
        let skip = self.d.range(1, 5) as u32;
        self.defer(skip, Deferred::Bind(target));
    }

    /// `jalr` (or `c.jr`/`c.jalr`) to a forward label through a register.
    fn jalr(&mut self) {
        let mut base = self.rd();
        if base == Reg::ZERO {
            base = self.crd();
        }
        let target = self.a.new_label();
        self.a.la(base, target);
        let other = self.rd();
        let rd = self.d.pick(&[Reg::ZERO, Reg::RA, base, other]);
        let inst = Inst::Jalr { rd, rs1: base, offset: 0 };
        if self.d.chance(40) && encode_compressed(&inst).is_some() {
            self.a.compressed(inst);
        } else {
            self.a.inst(inst);
        }
        let skip = self.d.range(1, 4) as u32;
        self.defer(skip, Deferred::Bind(target));
    }

    fn csr_item(&mut self) {
        match self.d.below(10) {
            // Reads of anything, including registers that do not exist.
            0..=2 => {
                let csr = if self.d.chance(90) { self.d.pick(c::ALL) } else { self.d.below(0x1000) as u16 };
                let rd = self.rd();
                let op = self.d.pick(&[CsrOp::Rs, CsrOp::Rc, CsrOp::Rsi, CsrOp::Rci]);
                self.csr(op, rd, Reg::ZERO, csr);
            }
            3..=5 => {
                let csr = self.d.pick(&FREE_CSRS);
                let op = self.d.pick(CsrOp::ALL);
                let rd = self.rd();
                let src = if op.is_imm() { Reg::new(self.d.below(32)) } else { self.rs() };
                self.csr(op, rd, src, csr);
            }
            6 | 7 => {
                let csr = self.d.pick(&IMM_CSRS);
                let op = self.d.pick(&[CsrOp::Rsi, CsrOp::Rci, CsrOp::Rsi]);
                let rd = self.rd();
                let any = self.d.below(32);
                let imm = Reg::new(self.d.pick(&[2, 8, 10, any]));
                self.csr(op, rd, imm, csr);
            }
            8 => {
                // Set or clear safe mstatus bits through a register.
                let mut bits = 0;
                for _ in 0..self.d.range(1, 3) {
                    bits |= self.d.pick(&MSTATUS_BITS);
                }
                let tmp = self.rd_nonzero();
                self.a.li(tmp, bits);
                let op = self.d.pick(&[CsrOp::Rs, CsrOp::Rc]);
                let csr = self.d.pick(&[c::MSTATUS, c::SSTATUS]);
                let rd = self.rd();
                self.csr(op, rd, tmp, csr);
            }
            _ => {
                if self.d.chance(50) {
                    // Translation on or off.
                    let tmp = self.rd_nonzero();
                    let v = if self.d.chance(60) { self.satp } else { 0 };
                    self.a.li(tmp, v);
                    let rd = self.rd();
                    self.csr(CsrOp::Rw, rd, tmp, c::SATP);
                } else {
                    let csr = self.d.pick(&BAD_CSRS);
                    let (rd, rs) = (self.rd(), self.rs());
                    self.csr(CsrOp::Rw, rd, rs, csr);
                }
            }
        }
    }

    /// A register the body may write, never `zero`.
    fn rd_nonzero(&mut self) -> Reg {
        let r = self.rd();
        if r == Reg::ZERO {
            self.crd()
        } else {
            r
        }
    }

    /// `lr.w`, `sc.w`, an LR/SC pair or an AMO, usually word-aligned.
    fn atomic(&mut self) {
        let addr = self.rd_nonzero();
        let base = self.d.pick(&[S0, S0, S1, SP]);
        let mut offset = 4 * self.d.range(-16, 16);
        if self.d.chance(8) {
            offset += self.d.range(1, 3);
        }
        self.a.addi(addr, base, offset);
        let aqrl = self.d.below(4) as u8;
        let mut rd = self.rd();
        if rd == addr {
            rd = Reg::ZERO;
        }
        let rs2 = self.rs();
        match self.d.below(5) {
            0 => self.a.inst(Inst::Lr { rd, rs1: addr, aqrl }),
            1 => self.a.inst(Inst::Sc { rd, rs1: addr, rs2, aqrl }),
            2 => {
                self.a.inst(Inst::Lr { rd, rs1: addr, aqrl });
                if self.d.chance(30) {
                    let (op, value) = (self.d.pick(StoreOp::ALL), self.rs());
                    self.a.store(op, value, addr, self.d.range(-4, 4));
                }
                let rd2 = self.rd();
                self.a.inst(Inst::Sc { rd: rd2, rs1: addr, rs2, aqrl });
            }
            _ => {
                let op = self.d.pick(AmoOp::ALL);
                self.a.inst(Inst::Amo { op, rd, rs1: addr, rs2, aqrl });
            }
        }
    }

    /// Something that traps on purpose.
    fn trap(&mut self) {
        match self.d.below(8) {
            0 | 1 => self.a.inst(Inst::Ecall),
            2 => self.a.inst(Inst::Ebreak),
            3 => self.a.compressed(Inst::Ebreak),
            4 => {
                // The all-zero halfword, and the all-ones word: both illegal.
                if self.d.chance(50) {
                    self.raw_half(0);
                } else {
                    self.raw_word(0xffff_ffff);
                }
            }
            5 => self.raw_word(0xc000_1073), // unimp = csrrw zero, cycle, zero
            6 => self.raw_word(0),
            _ => {
                // A privileged instruction that may be illegal in this mode.
                let inst = self.d.pick(&[
                    Inst::Mret,
                    Inst::Sret,
                    Inst::Wfi,
                    Inst::SfenceVma { rs1: Reg::ZERO, rs2: Reg::ZERO },
                ]);
                self.a.inst(inst);
            }
        }
    }

    /// Fences, `wfi`, `sfence.vma`.
    fn system(&mut self) {
        let inst = match self.d.below(5) {
            0 => Inst::Fence { pred: self.d.below(16) as u8, succ: self.d.below(16) as u8, fm: 0 },
            1 => Inst::Fence { pred: 3, succ: 3, fm: 8 },
            2 => Inst::FenceI,
            3 => Inst::Wfi,
            _ => Inst::SfenceVma { rs1: self.rs(), rs2: self.rs() },
        };
        self.a.inst(inst);
    }

    /// An arbitrary word: whatever it decodes to, the engines must agree.
    fn raw(&mut self) {
        if self.d.chance(20) {
            // Low bits 11 would make it the first half of a 32-bit word.
            let h = self.d.u32() as u16;
            self.raw_half(if h & 3 == 3 { h & !3 } else { h });
        } else {
            let w = self.d.u32();
            self.raw_word(w | 3);
        }
    }

    /// A simple instruction whose encoding a self-modifying store writes.
    fn smc_inst(&mut self) -> Inst {
        let rd = self.rd();
        let rs1 = self.rs();
        if self.d.chance(50) {
            let op = self.d.pick(&[AluImmOp::Addi, AluImmOp::Xori, AluImmOp::Ori, AluImmOp::Andi, AluImmOp::Slti]);
            Inst::AluImm { op, rd, rs1, imm: self.d.range(-2048, 2047) }
        } else {
            Inst::Alu { op: self.d.pick(AluOp::ALL), rd, rs1, rs2: self.rs() }
        }
    }

    /// Overwrite an instruction a few items ahead, with or without `fence.i`.
    fn smc(&mut self) {
        let value = self.rd_nonzero();
        let mut addr = self.rd_nonzero();
        if addr == value {
            addr = if value == Reg::new(10) { Reg::new(11) } else { Reg::new(10) };
        }
        let original = self.smc_inst();
        let word = match self.d.below(5) {
            // Two compressed instructions where one 32-bit one was.
            0 => {
                let (r1, r2) = (self.crd(), self.crd());
                let c1 = encode_compressed(&Inst::AluImm { op: AluImmOp::Addi, rd: r1, rs1: r1, imm: 1 });
                let c2 = encode_compressed(&Inst::AluImm { op: AluImmOp::Addi, rd: r2, rs1: Reg::ZERO, imm: 5 });
                u32::from(c1.unwrap_or(1)) | u32::from(c2.unwrap_or(1)) << 16
            }
            _ => {
                let new = self.smc_inst();
                encode(&new)
            }
        };
        self.a.li(value, word);
        let target = self.a.new_label();
        self.a.la(addr, target);
        // A halfword store leaves a hybrid (maybe illegal) instruction: fine.
        let op = if self.d.chance(85) { StoreOp::Sw } else { StoreOp::Sh };
        self.a.store(op, value, addr, 0);
        if self.d.chance(50) {
            self.a.inst(Inst::FenceI);
        }
        let skip = self.d.range(0, 4) as u32;
        if skip == 0 {
            // The very next instruction.
            self.a.bind(target);
            self.a.inst(original);
        } else {
            self.defer(skip, Deferred::SmcTarget(target, original));
        }
    }

    /// A loop that rewrites an instruction of its own body on every
    /// iteration: the case that catches stale translations.
    fn smc_loop(&mut self) {
        let value = self.rd_nonzero();
        self.avoid.push(value);
        let addr = self.rd_nonzero();
        self.avoid.push(addr);
        let step = self.rd_nonzero();
        self.avoid.push(step);
        let target = self.a.new_label();
        // Sometimes hot enough for a tiering JIT to compile it mid-loop.
        let iterations = if self.d.chance(25) { self.d.range(17, 30) } else { self.d.range(2, 6) };
        self.a.li(S11, iterations as u32);
        self.a.la(addr, target);
        // addi-style instructions: adding 1 << 20 bumps the immediate.
        let op = self.d.pick(&[AluImmOp::Addi, AluImmOp::Xori, AluImmOp::Ori]);
        let (rd, rs1) = (self.rd(), self.rs());
        let first = Inst::AluImm { op, rd, rs1, imm: self.d.range(-100, 100) };
        let (rd, rs1) = (self.rd(), self.rs());
        let next = Inst::AluImm { op, rd, rs1, imm: self.d.range(-100, 100) };
        self.a.li(value, encode(&next));
        self.a.li(step, 1 << 20);
        let top = self.a.here();
        self.a.bind(target);
        self.a.inst(first);
        for _ in 0..self.d.range(0, 3) {
            self.straight_item();
        }
        self.a.store(StoreOp::Sw, value, addr, 0);
        if self.d.chance(50) {
            self.a.inst(Inst::FenceI);
        }
        self.a.alu(AluOp::Add, value, value, step);
        self.a.addi(S11, S11, -1);
        self.a.bne_label(S11, Reg::ZERO, top);
        self.avoid.clear();
    }

    /// A short counted loop of straight-line items (hot code for a JIT).
    fn counted_loop(&mut self) {
        // Sometimes hot enough for a tiering JIT to compile it mid-loop.
        let iterations = if self.d.chance(30) { self.d.range(16, 40) } else { self.d.range(1, 12) };
        self.a.li(S11, iterations as u32);
        let top = self.a.here();
        for _ in 0..self.d.range(1, 5) {
            self.straight_item();
        }
        self.a.addi(S11, S11, -1);
        self.a.bne_label(S11, Reg::ZERO, top);
    }

    /// Write a byte to the console (or read its status register).
    fn console(&mut self) {
        let base = self.rd_nonzero();
        self.a.inst(Inst::Lui { rd: base, imm: avm_mmu::devices::CONSOLE_BASE });
        if self.d.chance(70) {
            let rs = self.rs();
            self.a.store(StoreOp::Sb, rs, base, 0);
        } else {
            let rd = self.rd();
            self.a.load(LoadOp::Lbu, rd, base, self.d.range(0, 7));
        }
    }
}
