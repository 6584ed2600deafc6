//! The baseline tier: a template JIT that turns one guest block into x86-64
//! code in 0.05-0.07 µs per instruction (`cargo bench --bench jit --
//! compile-baseline`), for blocks that are warm but not yet compiled by
//! Cranelift.
//!
//! Cranelift costs about as much per block as a thousand interpreted runs
//! of it (`benches/jit.rs`). A short program, or the first moments of a
//! long one, therefore spends most of its time interpreting blocks on their
//! way to the tiering threshold, or waiting for the compile thread. This
//! tier fills that gap the way V8's Sparkplug or Wasmtime's Winch do: no IR,
//! no register allocation, each instruction a fixed sequence of host
//! instructions ([`x86`]), emitted in one pass on the engine's own thread.
//! Alone (`examples/tier_speed.rs`) it runs the workloads 3.5-7x faster
//! than the interpreter (no fetch, no dispatch, no operand decoding): ecdsa
//! at ~2,000 MIPS, keccak ~2,350, alu ~2,400 and the sieve's 3-instruction
//! blocks ~880, against ~280, ~330, ~400 and ~250 interpreted; Cranelift's
//! code is another 1.7-4.3x faster. A block leaves it as soon as its
//! Cranelift code is ready.
//!
//! ## The scheme, and why it cannot differ from the interpreter
//! - **Registers live in memory**: every instruction loads its operands
//!   from `m.hart.x` and stores its result there at once. So the machine
//!   state is exact after every instruction, and leaving at any point needs
//!   no write-back.
//! - **Same exit protocol as Cranelift's regions** ([`crate::helpers`]): a
//!   block that ends normally sets `pc`, adds its length to `instret` and
//!   returns `STATUS_END`; one that cannot go on returns `STATUS_MISS` with
//!   the instruction's [`MissSite`], and the engine runs the rest of the
//!   block in the interpreter, starting with that instruction.
//! - **Loads and stores** inline the TLB hit path exactly as the Cranelift
//!   translator does (same entry, same tag test covering the page end, same
//!   delta), with the same access groups ([`crate::group`]: one check for
//!   several accesses through one base register, the host address kept in
//!   a spare register); anything else (no translation cached, a page crossing, a
//!   device, a store to a code page) is a side exit, so this tier never
//!   raises a fault and never touches memory the slow way.
//! - **Only plain instructions are emitted**: RV32I/M arithmetic (not
//!   division, whose RISC-V corner cases stay in the interpreter), `lui`,
//!   `auipc`, loads, stores, branches and jumps. Anything else (CSRs,
//!   `ecall`, atomics, fences, division, ...) is a side exit *before* it:
//!   the interpreter executes it, with its single meaning.
//! - **pc is an input** (`ctx.pc`, the block's address), as in regions.
//!
//! Metering, interrupts and invalidation need nothing inside a block: the
//! engine enters a block only when the budget covers all of it and between
//! blocks does what the interpreter does between blocks, and the code of a
//! block is dropped with its page's map entries when the page is written.
//!
//! ## Chaining
//! A block that ends normally does not return: it jumps to the *chain stub*
//! ([`chain_stub`], `ctx.base_chain`), which runs the next block's baseline
//! code directly if the dispatcher would do nothing else first, and
//! returns `STATUS_END` otherwise. Between two blocks the dispatcher checks,
//! in order: a device exit, the budget, code invalidation, interrupts, the
//! fetch translation, Cranelift code, then the baseline fast path
//! ([`BaseSlot`]). A block that ended normally ran only what this tier
//! emits, which cannot request an exit, write a code page, change `mip`,
//! `mie` or the privilege (each of those is a side exit or an exception
//! run by the interpreter). So the stub tests the rest: the budget covers
//! the next block, its pc hits the fetch TLB, and its fast-path slot holds
//! that block with runs left; Cranelift code never coexists with runs left
//! (the engine empties a block's slot when its code arrives). It also
//! takes at most `ctx.base_chain_left` blocks, so that the engine still
//! gets to install arriving regions. Returning to Rust after every block
//! cost ~3 ns a block: chaining made the tier alone 1.85x faster on the
//! sieve's 3-instruction blocks (~470 to ~870 MIPS) and 1.1-1.25x on ecdsa.

pub mod x86;

use avm_interp::Op;
use avm_isa::{AluImmOp, AluOp, BranchOp, Inst, LoadOp, Reg, StoreOp};
use avm_mmu::tlb::TLB_ENTRIES;
use avm_mmu::Machine;

use crate::group::{self, Group};
use crate::helpers::{JitCtx, MissSite, STATUS_END, STATUS_MISS, SUCC_SLOTS};
use crate::layout::*;
use x86::{Alu, Cond, Gpr, Label, Shift, GROUP_REGS, R10, R11, R8, R9, RAX, RCX, RDI, RDX, RSI, X86};

/// Baseline code for one block: `(machine, context) -> status` in the
/// System V calling convention (arguments in `rdi` and `rsi`, whatever the
/// host OS's default), with `ctx.pc` the block's address.
#[cfg(target_arch = "x86_64")]
pub type BaseFn = unsafe extern "sysv64" fn(*mut Machine, *mut JitCtx) -> u32;
/// Never made on this host (see [`translate`]).
#[cfg(not(target_arch = "x86_64"))]
pub type BaseFn = unsafe extern "C" fn(*mut Machine, *mut JitCtx) -> u32;

/// The baseline code of a block and what entering it takes from the budget.
#[derive(Clone, Copy, Debug)]
pub struct BaseCode {
    /// The code.
    pub func: BaseFn,
    /// Instructions in the block.
    pub len: u32,
}

/// One slot of the engine's baseline fast path: a direct-mapped table,
/// indexed like the successor cache ([`crate::helpers::succ_index`]), of
/// blocks with baseline code and how many more runs each may take before the
/// engine looks at its map entries again. `repr(C)`, a power-of-two size:
/// the chain stub reads it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BaseSlot {
    /// The block's RAM offset.
    pub off: u32,
    /// Runs left before the maps are consulted again.
    pub runs: u32,
    /// Its baseline code; `None` for an empty slot.
    pub func: Option<BaseFn>,
    /// Instructions in the block.
    pub len: u32,
    _pad: [u32; 3],
}

/// `log2(size_of::<BaseSlot>())`, for the stub's index arithmetic.
const BASE_SLOT_SHIFT: u8 = 5;
const _: () = assert!(size_of::<BaseSlot>() == 1 << BASE_SLOT_SHIFT);

impl BaseSlot {
    /// A slot for `code`, the block at RAM offset `off`, good for `runs`.
    pub fn new(off: u32, runs: u32, code: BaseCode) -> BaseSlot {
        BaseSlot { off, runs, func: Some(code.func), len: code.len, _pad: [0; 3] }
    }

    /// The code this slot holds, if any.
    pub fn code(&self) -> Option<BaseCode> {
        self.func.map(|func| BaseCode { func, len: self.len })
    }
}

/// The chain stub (see the module docs), with the [`BaseFn`] signature:
/// `(m, ctx)` in `rdi`/`rsi`, as the block that jumps to it left them.
pub fn chain_stub() -> Option<Vec<u8>> {
    if !cfg!(target_arch = "x86_64") {
        return None;
    }
    let mut a = X86::default();
    let out = a.label();
    a.alu_mem_imm(Alu::Cmp, RSI, OFF_CTX_BASE_CHAIN_LEFT, 0);
    a.jcc(Cond::E, out);
    // The budget: `instret < limit` and the next block fits in what is left.
    a.load64(R10, RSI, OFF_CTX_LIMIT);
    a.alu64_mem(Alu::Sub, R10, RDI, OFF_INSTRET);
    a.jcc(Cond::Be, out);
    // The next pc hits the fetch TLB (a pc is even, so 2 bytes stay in its
    // page): `rdx` = pc, `rcx` = its RAM offset.
    a.load(RDX, RDI, OFF_PC);
    tlb_entry(&mut a, RDX);
    a.mov(RCX, RDX);
    a.alu_imm(Alu::And, RCX, !0xfff);
    a.alu_mem(Alu::Cmp, RCX, RAX, OFF_TLB_FETCH + OFF_TAG);
    a.jcc(Cond::Ne, out);
    a.mov(RCX, RDX);
    a.alu_mem(Alu::Add, RCX, RAX, OFF_TLB_FETCH + OFF_DELTA);
    // Its slot: `r8` = &ctx.base_fast[succ_index(off)].
    a.mov(R8, RCX);
    a.shift_imm(Shift::Shr, R8, 1);
    a.alu_imm(Alu::And, R8, (SUCC_SLOTS - 1) as i32);
    a.shift_imm(Shift::Shl, R8, BASE_SLOT_SHIFT);
    a.add64_mem(R8, RSI, OFF_CTX_BASE_FAST);
    a.alu_mem(Alu::Cmp, RCX, R8, OFF_BSLOT_OFF);
    a.jcc(Cond::Ne, out);
    a.alu_mem_imm(Alu::Cmp, R8, OFF_BSLOT_RUNS, 0);
    a.jcc(Cond::E, out);
    a.load64(R9, R8, OFF_BSLOT_FUNC);
    a.alu64(Alu::Or, R9, R9);
    a.jcc(Cond::E, out);
    a.load(R11, R8, OFF_BSLOT_LEN);
    a.alu64(Alu::Cmp, R11, R10);
    a.jcc(Cond::A, out);
    // Go: as `JitEngine::step` would.
    a.alu_mem_imm(Alu::Sub, R8, OFF_BSLOT_RUNS, 1);
    a.alu_mem_imm(Alu::Sub, RSI, OFF_CTX_BASE_CHAIN_LEFT, 1);
    a.store(RSI, OFF_CTX_PC, RDX);
    a.jmp_reg(R9);
    a.bind(out);
    a.mov_imm(RAX, STATUS_END as i32);
    a.ret();
    a.finish()
}

/// Machine code for the block `ops` (as decoded by the interpreter), or
/// `None` where this tier does not exist (a host other than x86-64) or the
/// block is empty.
pub fn translate(ops: &[Op]) -> Option<Vec<u8>> {
    if !cfg!(target_arch = "x86_64") || ops.is_empty() || ops.len() > avm_interp::MAX_BLOCK_LEN {
        return None;
    }
    let (member, groups) = group::plan(ops);
    let group_reg = group_registers(&member, &groups);
    let mut e = Emitter { a: X86::default(), misses: Vec::new(), n: ops.len() as u32, member, groups, group_reg };
    let mut at = 0u32;
    for (i, op) in ops.iter().enumerate() {
        let site = MissSite { at: at as i32, retired: i as u32, rest: e.n - i as u32 };
        let len = u32::from(op.len);
        if !e.inst(op.inst, site, len) {
            // This instruction, and the rest of the block, are the
            // interpreter's.
            e.miss_now(site);
            return e.finish();
        }
        if op.inst.ends_block() {
            return e.finish();
        }
        at += len;
    }
    // The block was cut (length cap or page end): fall through.
    e.pc_plus(RAX, at);
    e.a.store(RDI, OFF_PC, RAX);
    e.end(e.n);
    e.finish()
}

/// `rax` = the address of the TLB entry for the page of the guest address
/// in `addr` (add a side's offset): `m + (page % TLB_ENTRIES) * 8`, as the
/// Cranelift translator's `tlb_entry`.
fn tlb_entry(a: &mut X86, addr: Gpr) {
    const _: () = assert!(TLB_ENTRIES.is_power_of_two() && TLB_ENTRIES > 1);
    a.mov(RAX, addr);
    a.shift_imm(Shift::Shr, RAX, 12 - 3);
    a.alu_imm(Alu::And, RAX, ((TLB_ENTRIES - 1) << 3) as i32);
    a.add64(RAX, RDI);
}

/// A host register for each access group ([`crate::group`]) while it is
/// live (from its first access to its last), where one of [`GROUP_REGS`] is
/// free; a group without one checks each of its accesses on its own.
fn group_registers(member: &[Option<usize>], groups: &[Group]) -> Vec<Option<Gpr>> {
    let mut last = vec![0; groups.len()];
    for (i, g) in member.iter().enumerate() {
        if let Some(g) = *g {
            last[g] = i;
        }
    }
    // The group each register serves, if still live.
    let mut busy: [Option<usize>; GROUP_REGS.len()] = [None; GROUP_REGS.len()];
    let mut reg = vec![None; groups.len()];
    for (g, group) in groups.iter().enumerate() {
        // `plan` lists groups by first access, so this walks forward.
        for slot in busy.iter_mut() {
            if slot.is_some_and(|h| last[h] < group.first) {
                *slot = None;
            }
        }
        if let Some(k) = busy.iter().position(Option::is_none) {
            busy[k] = Some(g);
            reg[g] = Some(GROUP_REGS[k]);
        }
    }
    reg
}

/// Emits one block.
struct Emitter {
    a: X86,
    /// The side exits to emit after the block: (label, site).
    misses: Vec<(Label, MissSite)>,
    /// Instructions in the block.
    n: u32,
    /// The access group of each instruction, if any ([`group::plan`]).
    member: Vec<Option<usize>>,
    /// The groups.
    groups: Vec<Group>,
    /// The host register holding each group's host address
    /// ([`group_registers`]).
    group_reg: Vec<Option<Gpr>>,
}

/// The byte offset of guest register `r` in the machine.
fn x(r: Reg) -> i32 {
    OFF_X + 4 * r.idx() as i32
}

impl Emitter {
    fn finish(mut self) -> Option<Vec<u8>> {
        for (label, site) in std::mem::take(&mut self.misses) {
            self.a.bind(label);
            self.miss_now(site);
        }
        self.a.finish()
    }

    /// `dst = x[r]` (0 for `x0`).
    fn get(&mut self, dst: Gpr, r: Reg) {
        if r == Reg::ZERO {
            self.a.alu(Alu::Xor, dst, dst);
        } else {
            self.a.load(dst, RDI, x(r));
        }
    }

    /// `x[r] = src` (nothing for `x0`).
    fn set(&mut self, r: Reg, src: Gpr) {
        if r != Reg::ZERO {
            self.a.store(RDI, x(r), src);
        }
    }

    /// `dst = ctx.pc + delta`: the address of the byte `delta` into the block.
    fn pc_plus(&mut self, dst: Gpr, delta: u32) {
        self.a.load(dst, RSI, OFF_CTX_PC);
        if delta != 0 {
            self.a.alu_imm(Alu::Add, dst, delta as i32);
        }
    }

    /// A normal exit after `retired` instructions (`pc` already stored):
    /// on to the chain stub.
    fn end(&mut self, retired: u32) {
        self.a.add64_mem_imm(RDI, OFF_INSTRET, retired as i32);
        self.a.jmp_mem(RSI, OFF_CTX_BASE_CHAIN);
    }

    /// The side exit of `site`, here.
    fn miss_now(&mut self, site: MissSite) {
        self.a.store_imm(RSI, OFF_CTX_REST, site.pack() as i32);
        self.a.mov_imm(RAX, STATUS_MISS as i32);
        self.a.ret();
    }

    /// Emit one instruction; false if this tier leaves it to the
    /// interpreter.
    fn inst(&mut self, inst: Inst, site: MissSite, len: u32) -> bool {
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
                    let result = self.alu_imm(op, imm);
                    self.set(rd, result);
                }
            }
            Inst::Alu { op, rd, rs1, rs2 } => {
                if matches!(op, AluOp::Div | AluOp::Divu | AluOp::Rem | AluOp::Remu) {
                    return false;
                }
                if rd != Reg::ZERO {
                    self.get(RAX, rs1);
                    self.get(RCX, rs2);
                    let result = self.alu(op);
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
                let taken = match op {
                    BranchOp::Beq => Cond::E,
                    BranchOp::Bne => Cond::Ne,
                    BranchOp::Blt => Cond::L,
                    BranchOp::Bge => Cond::Ge,
                    BranchOp::Bltu => Cond::B,
                    BranchOp::Bgeu => Cond::Ae,
                };
                self.a.cmov(taken, RDX, R8);
                self.a.store(RDI, OFF_PC, RDX);
                self.end(site.retired + 1);
            }
            _ => return false,
        }
        true
    }

    /// `rax op imm`; returns the register holding the result.
    fn alu_imm(&mut self, op: AluImmOp, imm: i32) -> Gpr {
        let shift = |e: &mut Self, s| {
            e.a.shift_imm(s, RAX, (imm & 31) as u8);
            RAX
        };
        match op {
            AluImmOp::Addi => self.alu_imm_plain(Alu::Add, imm),
            AluImmOp::Xori => self.alu_imm_plain(Alu::Xor, imm),
            AluImmOp::Ori => self.alu_imm_plain(Alu::Or, imm),
            AluImmOp::Andi => self.alu_imm_plain(Alu::And, imm),
            AluImmOp::Slli => shift(self, Shift::Shl),
            AluImmOp::Srli => shift(self, Shift::Shr),
            AluImmOp::Srai => shift(self, Shift::Sar),
            AluImmOp::Slti | AluImmOp::Sltiu => {
                // `xor` before `cmp`: it clobbers the flags.
                self.a.alu(Alu::Xor, RDX, RDX);
                self.a.alu_imm(Alu::Cmp, RAX, imm);
                self.a.setcc(if op == AluImmOp::Slti { Cond::L } else { Cond::B }, RDX);
                RDX
            }
        }
    }

    fn alu_imm_plain(&mut self, op: Alu, imm: i32) -> Gpr {
        self.a.alu_imm(op, RAX, imm);
        RAX
    }

    /// `rax op rcx` (no division); returns the register holding the result.
    fn alu(&mut self, op: AluOp) -> Gpr {
        let a = &mut self.a;
        match op {
            AluOp::Add => a.alu(Alu::Add, RAX, RCX),
            AluOp::Sub => a.alu(Alu::Sub, RAX, RCX),
            AluOp::And => a.alu(Alu::And, RAX, RCX),
            AluOp::Or => a.alu(Alu::Or, RAX, RCX),
            AluOp::Xor => a.alu(Alu::Xor, RAX, RCX),
            // x86 takes a 32-bit shift amount modulo 32, as RISC-V does.
            AluOp::Sll => a.shift_cl(Shift::Shl, RAX),
            AluOp::Srl => a.shift_cl(Shift::Shr, RAX),
            AluOp::Sra => a.shift_cl(Shift::Sar, RAX),
            AluOp::Slt | AluOp::Sltu => {
                a.alu(Alu::Xor, RDX, RDX);
                a.alu(Alu::Cmp, RAX, RCX);
                a.setcc(if op == AluOp::Slt { Cond::L } else { Cond::B }, RDX);
                return RDX;
            }
            AluOp::Mul => a.imul(RAX, RCX),
            // The high words come from one 64-bit product of the operands
            // extended as the instruction says (32-bit loads zero-extend):
            // it never overflows 64 bits, whatever the signs.
            AluOp::Mulh => {
                a.movsxd(RAX, RAX);
                a.movsxd(RCX, RCX);
                a.imul64(RAX, RCX);
                a.shr64_imm(RAX, 32);
            }
            AluOp::Mulhsu => {
                a.movsxd(RAX, RAX);
                a.imul64(RAX, RCX);
                a.shr64_imm(RAX, 32);
            }
            AluOp::Mulhu => {
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
        let a = &mut self.a;
        if rs1 == Reg::ZERO {
            a.alu(Alu::Xor, RCX, RCX);
        } else {
            a.load(RCX, RDI, x(rs1));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use avm_isa::Reg;

    #[test]
    fn a_block_with_nothing_to_emit_first_is_a_side_exit_at_once() {
        let ecall = [Op { inst: Inst::Ecall, len: 4 }];
        let code = translate(&ecall).expect("emitted");
        // mov dword [rsi + rest], site; mov eax, MISS; ret
        assert_eq!(code.len(), 7 + 5 + 1, "{code:x?}");
        let add =
            Op { inst: Inst::Alu { op: AluOp::Add, rd: Reg::new(5), rs1: Reg::new(6), rs2: Reg::new(7) }, len: 4 };
        assert!(translate(&[add; 3]).is_some());
        assert!(translate(&[]).is_none());
    }
}
