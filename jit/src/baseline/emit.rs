//! Emitting one block as x86-64: a fixed sequence per instruction, guest
//! registers in `m.hart.x`, loads and stores through the inline TLB hit
//! path (one check per access group), side exits for the rest.

use avm_isa::{AluOp, Cond as Test, Inst, LoadOp, Reg, StoreOp};
use avm_mmu::tlb::TLB_ENTRIES;

use super::stub::tlb_entry;
use super::x86::{Alu, Cond, Gpr, Label, Shift, R8, RAX, RCX, RDI, RDX, RSI, X86};
use crate::abi::layout::*;
use crate::abi::{MissSite, Status};
use crate::plan::group::Group;

/// The second operand of an ALU operation.
#[derive(Clone, Copy)]
enum Operand {
    /// The register `rcx`.
    Rcx,
    /// An immediate.
    Imm(i32),
}

/// The x86 condition of a comparison made with `cmp a, b` (branches and
/// `slt`/`sltu`).
fn cc(test: Test) -> Cond {
    match test {
        Test::Eq => Cond::E,
        Test::Ne => Cond::Ne,
        Test::Lt => Cond::L,
        Test::Ge => Cond::Ge,
        Test::Ltu => Cond::B,
        Test::Geu => Cond::Ae,
    }
}

/// Emits one block.
pub(super) struct Emitter {
    pub(super) a: X86,
    /// The side exits to emit after the block: (label, site).
    misses: Vec<(Label, MissSite)>,
    /// Instructions in the block.
    pub(super) n: u32,
    /// The access group of each instruction, if any ([`crate::plan::group::plan`]).
    member: Vec<Option<usize>>,
    /// The groups.
    groups: Vec<Group>,
    /// The host register holding each group's host address
    /// ([`group_registers`]).
    group_reg: Vec<Option<Gpr>>,
    /// A host register that still holds the guest register the previous
    /// instruction wrote (see [`Emitter::get`]).
    fwd: Option<(Reg, Gpr)>,
    /// What the current instruction wrote, and from which host register.
    written: Option<(Reg, Gpr)>,
}

/// The byte offset of guest register `r` in the machine.
fn x(r: Reg) -> i32 {
    OFF_X + 4 * r.idx() as i32
}

impl Emitter {
    pub(super) fn new(n: u32, member: Vec<Option<usize>>, groups: Vec<Group>, group_reg: Vec<Option<Gpr>>) -> Emitter {
        Emitter { a: X86::default(), misses: Vec::new(), n, member, groups, group_reg, fwd: None, written: None }
    }

    pub(super) fn finish(mut self) -> Option<Vec<u8>> {
        for (label, site) in std::mem::take(&mut self.misses) {
            self.a.bind(label);
            self.miss_now(site);
        }
        self.a.finish()
    }

    /// `dst = x[r]` (0 for `x0`).
    ///
    /// A register the previous instruction wrote is still in the host
    /// register it was stored from (`fwd`): it is taken from there rather
    /// than loaded back from `m.hart.x`, so a chain of dependent
    /// instructions does not wait on a store and a load per step (memory
    /// stays exact: every result is stored at once all the same). `fwd` is
    /// valid from the start of an instruction until something overwrites
    /// its host register: a `get` into it of another register, or an
    /// address check (`group_check` and `host_address` forget it after
    /// reading their base); the operand `get`s of an instruction come
    /// before anything else it computes.
    fn get(&mut self, dst: Gpr, r: Reg) {
        if r == Reg::ZERO {
            self.a.alu(Alu::Xor, dst, dst);
        } else if let Some((_, held)) = self.fwd.filter(|&(fr, _)| fr == r) {
            if held != dst {
                self.a.mov(dst, held);
            }
            return;
        } else {
            self.a.load(dst, RDI, x(r));
        }
        if self.fwd.is_some_and(|(_, held)| held == dst) {
            self.fwd = None;
        }
    }

    /// `x[r] = src` (nothing for `x0`).
    fn set(&mut self, r: Reg, src: Gpr) {
        if r != Reg::ZERO {
            self.a.store(RDI, x(r), src);
            self.written = Some((r, src));
        }
    }

    /// `dst = ctx.pc + delta`: the address of the byte `delta` into the block.
    pub(super) fn pc_plus(&mut self, dst: Gpr, delta: u32) {
        self.a.load(dst, RSI, OFF_CTX_PC);
        if delta != 0 {
            self.a.alu_imm(Alu::Add, dst, delta as i32);
        }
    }

    /// A normal exit after `retired` instructions (`pc` already stored):
    /// on to the chain stub.
    pub(super) fn end(&mut self, retired: u32) {
        self.a.add64_mem_imm(RDI, OFF_INSTRET, retired as i32);
        self.a.jmp_mem(RSI, OFF_CTX_BASE_CHAIN);
    }

    /// The side exit of `site`, here.
    pub(super) fn miss_now(&mut self, site: MissSite) {
        self.a.store_imm(RSI, OFF_CTX_REST, site.pack() as i32);
        self.a.mov_imm(RAX, Status::Miss.code() as i32);
        self.a.ret();
    }

    /// Emit one instruction; false if this tier leaves it to the
    /// interpreter.
    pub(super) fn inst(&mut self, inst: Inst, site: MissSite, len: u32) -> bool {
        self.written = None;
        let emitted = self.inst_body(inst, site, len);
        // The next instruction may take this one's result from its host
        // register (see [`Emitter::get`]).
        self.fwd = self.written.take();
        emitted
    }

    fn inst_body(&mut self, inst: Inst, site: MissSite, len: u32) -> bool {
        let at = site.at as u32;
        match inst {
            Inst::Lui { rd, imm } => {
                if rd != Reg::ZERO {
                    self.a.store_imm(RDI, x(rd), imm as i32);
                }
            }
            Inst::Auipc { rd, imm } => {
                if rd != Reg::ZERO {
                    self.pc_plus(RAX, at.wrapping_add(imm));
                    self.set(rd, RAX);
                }
            }
            Inst::AluImm { op, rd, rs1, imm } => {
                if rd != Reg::ZERO {
                    self.get(RAX, rs1);
                    let result = self.alu(op.reg_form(), Operand::Imm(imm));
                    self.set(rd, result);
                }
            }
            Inst::Alu { op, rd, rs1, rs2 } => {
                if op.is_division() {
                    return false;
                }
                if rd != Reg::ZERO {
                    self.get(RAX, rs1);
                    self.get(RCX, rs2);
                    let result = self.alu(op, Operand::Rcx);
                    self.set(rd, result);
                }
            }
            Inst::Load { op, rd, rs1, offset } => {
                let (host, disp) = self.access(rs1, offset, op.width(), OFF_TLB_READ, site);
                match op {
                    LoadOp::Lb => self.a.load_i8(RDX, host, disp),
                    LoadOp::Lbu => self.a.load_u8(RDX, host, disp),
                    LoadOp::Lh => self.a.load_i16(RDX, host, disp),
                    LoadOp::Lhu => self.a.load_u16(RDX, host, disp),
                    LoadOp::Lw => self.a.load(RDX, host, disp),
                }
                self.set(rd, RDX);
            }
            Inst::Store { op, rs1, rs2, offset } => {
                let (host, disp) = self.access(rs1, offset, op.width(), OFF_TLB_WRITE, site);
                self.get(RDX, rs2);
                match op {
                    StoreOp::Sb => self.a.store8(host, disp, RDX),
                    StoreOp::Sh => self.a.store16(host, disp, RDX),
                    StoreOp::Sw => self.a.store(host, disp, RDX),
                }
            }
            Inst::Jal { rd, offset } => {
                if rd != Reg::ZERO {
                    self.pc_plus(RAX, at + len);
                    self.set(rd, RAX);
                }
                self.pc_plus(RAX, at.wrapping_add(offset as u32));
                self.a.store(RDI, OFF_PC, RAX);
                self.end(site.retired + 1);
            }
            Inst::Jalr { rd, rs1, offset } => {
                // The target first: `rd` may be `rs1`.
                self.get(RAX, rs1);
                self.a.alu_imm(Alu::Add, RAX, offset);
                self.a.alu_imm(Alu::And, RAX, !1);
                self.a.store(RDI, OFF_PC, RAX);
                if rd != Reg::ZERO {
                    self.pc_plus(RCX, at + len);
                    self.set(rd, RCX);
                }
                self.end(site.retired + 1);
            }
            Inst::Branch { op, rs1, rs2, offset } => {
                self.get(RAX, rs1);
                self.get(RCX, rs2);
                self.a.load(RDX, RSI, OFF_CTX_PC);
                self.a.lea(R8, RDX, at.wrapping_add(offset as u32) as i32);
                self.a.lea(RDX, RDX, (at + len) as i32);
                self.a.alu(Alu::Cmp, RAX, RCX);
                self.a.cmov(cc(op.cond()), RDX, R8);
                self.a.store(RDI, OFF_PC, RDX);
                self.end(site.retired + 1);
            }
            // Left to the interpreter (see `plan::lower::baseline_emits`).
            // Listed, not `_`: a new instruction is a decision here.
            Inst::Fence { .. }
            | Inst::Lr { .. }
            | Inst::Sc { .. }
            | Inst::Amo { .. }
            | Inst::FenceI
            | Inst::Ecall
            | Inst::Ebreak
            | Inst::Mret
            | Inst::Sret
            | Inst::Wfi
            | Inst::SfenceVma { .. }
            | Inst::Csr { .. }
            | Inst::Illegal { .. } => return false,
        }
        true
    }

    /// `rax op rhs` (no division); returns the register holding the
    /// result. Register-immediate operations come here as their register
    /// form ([`AluImmOp::reg_form`](avm_isa::AluImmOp::reg_form)), as in
    /// the interpreter and the Cranelift tier, so each operation is emitted
    /// by one arm.
    fn alu(&mut self, op: AluOp, rhs: Operand) -> Gpr {
        let a = &mut self.a;
        let two = |a: &mut X86, op: Alu| match rhs {
            Operand::Rcx => a.alu(op, RAX, RCX),
            Operand::Imm(imm) => a.alu_imm(op, RAX, imm),
        };
        // x86 takes a 32-bit shift amount modulo 32, as RISC-V does.
        let shift = |a: &mut X86, op: Shift| match rhs {
            Operand::Rcx => a.shift_cl(op, RAX),
            Operand::Imm(imm) => a.shift_imm(op, RAX, (imm & 31) as u8),
        };
        // The multiplications have no immediate form: an immediate goes
        // through `rcx` (never needed: no `AluImmOp` is a multiplication).
        let to_rcx = |a: &mut X86| {
            if let Operand::Imm(imm) = rhs {
                a.mov_imm(RCX, imm);
            }
        };
        match op {
            AluOp::Add => two(a, Alu::Add),
            AluOp::Sub => two(a, Alu::Sub),
            AluOp::And => two(a, Alu::And),
            AluOp::Or => two(a, Alu::Or),
            AluOp::Xor => two(a, Alu::Xor),
            AluOp::Sll => shift(a, Shift::Shl),
            AluOp::Srl => shift(a, Shift::Shr),
            AluOp::Sra => shift(a, Shift::Sar),
            AluOp::Slt | AluOp::Sltu => {
                let less = if op == AluOp::Slt { Test::Lt } else { Test::Ltu };
                // `xor` before `cmp`: it clobbers the flags.
                a.alu(Alu::Xor, RDX, RDX);
                two(a, Alu::Cmp);
                a.setcc(cc(less), RDX);
                return RDX;
            }
            AluOp::Mul => {
                to_rcx(a);
                a.imul(RAX, RCX);
            }
            // The high words come from one 64-bit product of the operands
            // extended as the instruction says (32-bit loads zero-extend):
            // it never overflows 64 bits, whatever the signs.
            AluOp::Mulh => {
                to_rcx(a);
                a.movsxd(RAX, RAX);
                a.movsxd(RCX, RCX);
                a.imul64(RAX, RCX);
                a.shr64_imm(RAX, 32);
            }
            AluOp::Mulhsu => {
                to_rcx(a);
                a.movsxd(RAX, RAX);
                a.imul64(RAX, RCX);
                a.shr64_imm(RAX, 32);
            }
            AluOp::Mulhu => {
                to_rcx(a);
                a.imul64(RAX, RCX);
                a.shr64_imm(RAX, 32);
            }
            AluOp::Div | AluOp::Divu | AluOp::Rem | AluOp::Remu => unreachable!("division is the interpreter's"),
        }
        RAX
    }

    /// The host address of the access of `site` as a register and a
    /// displacement: its group's (checked at the group's first access), or
    /// its own check's in `rcx`.
    fn access(&mut self, rs1: Reg, offset: i32, width: u32, side: i32, site: MissSite) -> (Gpr, i32) {
        let i = site.retired as usize;
        let Some((g, host)) = self.member[i].and_then(|g| Some((g, self.group_reg[g]?))) else {
            self.host_address(rs1, offset, width, side, site);
            return (RCX, 0);
        };
        if self.groups[g].first == i {
            self.group_check(g, host, site);
        }
        (host, offset - self.groups[g].min)
    }

    /// `host` = the host address of `base + min` of group `g`, after the
    /// check the Cranelift translator makes (`Emitter::group_check` there):
    /// both ends of `[base + min, base + min + span)` hit the TLB on every
    /// side the group uses, all with one delta; else the side exit of
    /// `site`, the group's first access (nothing of it has run yet).
    fn group_check(&mut self, g: usize, host: Gpr, site: MissSite) {
        let Group { base, min, span, reads, writes, .. } = self.groups[g].clone();
        let sides: Vec<i32> = [(reads, OFF_TLB_READ), (writes, OFF_TLB_WRITE)]
            .into_iter()
            .filter_map(|(used, side)| used.then_some(side))
            .collect();
        let miss = self.a.label();
        self.misses.push((miss, site));
        self.get(RCX, base);
        // The check uses rax, rcx, rdx and r8.
        self.fwd = None;
        let a = &mut self.a;
        if min != 0 {
            a.alu_imm(Alu::Add, RCX, min);
        }
        // `host` holds the first side's delta of the low end meanwhile.
        a.lea(R8, RCX, span as i32 - 1);
        for (end, addr) in [RCX, R8].into_iter().enumerate() {
            tlb_entry(a, addr);
            a.mov(RDX, addr);
            a.alu_imm(Alu::And, RDX, !0xfff);
            for (k, &side) in sides.iter().enumerate() {
                a.alu_mem(Alu::Cmp, RDX, RAX, side + OFF_TAG);
                a.jcc(Cond::Ne, miss);
                if end == 0 && k == 0 {
                    a.load(host, RAX, side + OFF_DELTA);
                } else {
                    a.alu_mem(Alu::Cmp, host, RAX, side + OFF_DELTA);
                    a.jcc(Cond::Ne, miss);
                }
            }
        }
        // RAM offset = low end + delta (32-bit), host = RAM base + offset.
        a.alu(Alu::Add, RCX, host);
        a.add64_mem(RCX, RSI, OFF_CTX_RAM);
        a.mov64(host, RCX);
    }

    /// `rcx` = the host address of the `width`-byte access at `rs1 + offset`
    /// on TLB side `side`, or the side exit of `site`: the inline TLB hit
    /// path of `Machine::load`/`store`, as the Cranelift translator emits it
    /// (the entry of the address's page, a tag compared with the page of
    /// the access's *last* byte, so one test also catches a page crossing).
    fn host_address(&mut self, rs1: Reg, offset: i32, width: u32, side: i32, site: MissSite) {
        const _: () = assert!(TLB_ENTRIES.is_power_of_two() && TLB_ENTRIES > 1);
        self.get(RCX, rs1);
        // The check uses rax, rcx and rdx.
        self.fwd = None;
        let a = &mut self.a;
        if offset != 0 {
            a.alu_imm(Alu::Add, RCX, offset);
        }
        tlb_entry(a, RCX);
        // edx = page of the last byte.
        a.lea(RDX, RCX, width as i32 - 1);
        a.alu_imm(Alu::And, RDX, !0xfff);
        a.alu_mem(Alu::Cmp, RDX, RAX, side + OFF_TAG);
        let miss = a.label();
        a.jcc(Cond::Ne, miss);
        self.misses.push((miss, site));
        // RAM offset = address + delta (32-bit: the upper half is cleared),
        // host address = RAM base + offset.
        let a = &mut self.a;
        a.alu_mem(Alu::Add, RCX, RAX, side + OFF_DELTA);
        a.add64_mem(RCX, RSI, OFF_CTX_RAM);
    }
}
