//! Translation of one basic block into one Cranelift function.
//!
//! The generated function has the signature [`BlockFn`]:
//! `(m: *mut Machine, ctx: *mut JitCtx, pc: u32) -> status`. Its body is the
//! block's instructions in order, straight-line, with *side exits*: small
//! cold Cranelift blocks that write the machine state back and return.
//!
//! - **Registers** are Cranelift [`Variable`]s. A register is loaded from
//!   `m.hart.x` the first time the block reads it and marked dirty when the
//!   block writes it; every exit stores exactly the dirty ones. `x0` is the
//!   constant 0 and is never written.
//! - **pc** is never a constant: the entry pc is a parameter, and every
//!   address (`auipc`, link values, branch targets, a faulting pc) is that
//!   parameter plus a byte offset known at compile time. So the code depends
//!   only on the block's *bytes*, which is what lets [`crate::cache`] share it.
//! - **instret** is loaded once at entry; an exit after `k` instructions
//!   stores `instret + k`.
//! - **Loads and stores** inline the TLB hit path of `Machine::load`/`store`
//!   (index, tag compare, in-page check, add, access) and call
//!   [`jit_load`]/[`jit_store`] otherwise. A trap leaves through a side exit
//!   with `pc` = the faulting instruction and `instret` = instructions before
//!   it. After every store the block reads `m.stop_block` and ends there if
//!   set, as the interpreter's `execute` does.
//! - **Everything else** (CSR, `ecall`, `mret`, atomics, `fence.i`, ...)
//!   calls [`jit_exec`], which runs the interpreter's `execute` for that one
//!   instruction.
//!
//! [`jit_load`]: crate::helpers::jit_load
//! [`jit_store`]: crate::helpers::jit_store
//! [`jit_exec`]: crate::helpers::jit_exec

use std::mem::offset_of;

use avm_interp::Op;
use avm_isa::{AluImmOp, AluOp, BranchOp, Inst, LoadOp, StoreOp};
use avm_mmu::{Hart, Machine, Tlb, TlbEntry};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, AbiParam, Block, BlockArg, FuncRef, InstBuilder, MemFlagsData, Signature, Value};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};

use crate::helpers::{self, BlockFn, LOAD_TRAP_BIT, STATUS_CONTINUE, STATUS_END, STATUS_TRAP, STORE_TRAP};

const I32: types::Type = types::I32;
const I64: types::Type = types::I64;

// Guest state layout. `offset_of!` gives the real offsets of the Rust structs,
// whatever layout the compiler chose.
const OFF_X: i32 = (offset_of!(Machine, hart) + offset_of!(Hart, x)) as i32;
const OFF_PC: i32 = (offset_of!(Machine, hart) + offset_of!(Hart, pc)) as i32;
const OFF_INSTRET: i32 = (offset_of!(Machine, hart) + offset_of!(Hart, instret)) as i32;
const OFF_STOP: i32 = offset_of!(Machine, stop_block) as i32;
const OFF_TLB_READ: i32 = (offset_of!(Machine, tlb) + offset_of!(Tlb, read)) as i32;
const OFF_TLB_WRITE: i32 = (offset_of!(Machine, tlb) + offset_of!(Tlb, write)) as i32;
const OFF_TAG: i32 = offset_of!(TlbEntry, tag) as i32;
const OFF_DELTA: i32 = offset_of!(TlbEntry, delta) as i32;
const OFF_CTX_RAM: i32 = offset_of!(crate::helpers::JitCtx, ram) as i32;
const _: () = assert!(std::mem::size_of::<TlbEntry>() == 8);
const _: () = assert!(std::mem::size_of::<bool>() == 1);
// The inline fast path reads guest memory in host byte order.
#[cfg(not(target_endian = "little"))]
compile_error!("the aVM JIT needs a little-endian host");

/// Why a block could not be compiled (the engine then interprets it).
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// Cranelift rejected the function or could not emit it.
    #[error("cranelift: {0}")]
    Cranelift(String),
}

/// A compiled block.
#[derive(Clone, Copy, Debug)]
pub struct Compiled {
    /// Entry point.
    pub func: BlockFn,
    /// Size of the machine code in bytes.
    pub code_size: u32,
}

/// Owns the Cranelift module (and so all compiled code) and the reusable
/// compilation contexts.
pub struct Translator {
    module: JITModule,
    ctx: Context,
    fctx: FunctionBuilderContext,
    sig: Signature,
    load_fn: FuncId,
    store_fn: FuncId,
    exec_fn: FuncId,
}

impl Translator {
    /// A translator for the host ISA (`opt_level=speed`, not PIC).
    pub fn new() -> Result<Translator, CompileError> {
        let err = |e: &dyn std::fmt::Display| CompileError::Cranelift(e.to_string());
        let mut flags = settings::builder();
        let opt = std::env::var("AVM_JIT_OPT").unwrap_or_else(|_| "speed".into());
        flags.set("opt_level", &opt).map_err(|e| err(&e))?;
        let ra = std::env::var("AVM_JIT_RA").unwrap_or_else(|_| "backtracking".into());
        flags.set("regalloc_algorithm", &ra).map_err(|e| err(&e))?;
        flags.set("is_pic", "false").map_err(|e| err(&e))?;
        flags.set("use_colocated_libcalls", "false").map_err(|e| err(&e))?;
        flags.set("enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" }).map_err(|e| err(&e))?;
        let isa = cranelift_native::builder()
            .map_err(|e| err(&e))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| err(&e))?;
        let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
        for (name, ptr) in helpers::symbols() {
            builder.symbol(name, ptr);
        }
        let mut module = JITModule::new(builder);
        let ptr = module.target_config().pointer_type();

        let mut sig = module.make_signature();
        sig.params.extend([AbiParam::new(ptr), AbiParam::new(ptr), AbiParam::new(I32)]);
        sig.returns.push(AbiParam::new(I32));

        let mut load_sig = module.make_signature();
        load_sig.params.extend([AbiParam::new(ptr), AbiParam::new(ptr), AbiParam::new(I32), AbiParam::new(I32)]);
        load_sig.returns.push(AbiParam::new(I64));
        let mut store_sig = module.make_signature();
        store_sig.params.extend([ptr, ptr, I32, I32, I32].map(AbiParam::new));
        store_sig.returns.push(AbiParam::new(I32));
        let mut exec_sig = module.make_signature();
        exec_sig.params.extend([ptr, ptr, I32, I32].map(AbiParam::new));
        exec_sig.returns.push(AbiParam::new(I32));

        let declare = |module: &mut JITModule, name: &str, sig: &Signature| {
            module.declare_function(name, Linkage::Import, sig).map_err(|e| err(&e))
        };
        let load_fn = declare(&mut module, "avm_jit_load", &load_sig)?;
        let store_fn = declare(&mut module, "avm_jit_store", &store_sig)?;
        let exec_fn = declare(&mut module, "avm_jit_exec", &exec_sig)?;
        let ctx = module.make_context();
        Ok(Translator { module, ctx, fctx: FunctionBuilderContext::new(), sig, load_fn, store_fn, exec_fn })
    }

    /// Compile the block `ops`, whose encoded bytes are `bytes`.
    pub fn compile(&mut self, ops: &[Op], bytes: &[u8]) -> Result<Compiled, CompileError> {
        let err = |e: &dyn std::fmt::Display| CompileError::Cranelift(e.to_string());
        self.module.clear_context(&mut self.ctx);
        self.ctx.func.signature = self.sig.clone();
        let frontend = self.module.target_config();
        {
            let mut b = FunctionBuilder::new(&mut self.ctx.func, &mut self.fctx);
            let load_fn = self.module.declare_func_in_func(self.load_fn, b.func);
            let store_fn = self.module.declare_func_in_func(self.store_fn, b.func);
            let exec_fn = self.module.declare_func_in_func(self.exec_fn, b.func);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            b.seal_block(entry);
            let params = b.block_params(entry).to_vec();
            let vars = std::array::from_fn(|_| b.declare_var(I32));
            let tmp = b.declare_var(I32);
            let ret = b.create_block();
            b.append_block_param(ret, I32);
            let instret0 = b.ins().load(I64, MemFlagsData::trusted(), params[0], OFF_INSTRET);
            let mut e = Emitter {
                b,
                m: params[0],
                ctx: params[1],
                pc: params[2],
                instret0,
                ram: None,
                vars,
                tmp,
                loaded: 0,
                dirty: 0,
                load_fn,
                store_fn,
                exec_fn,
                ret,
                trap_exit: None,
            };
            e.block(ops, bytes);
            e.b.switch_to_block(ret);
            let status = e.b.block_params(ret)[0];
            e.b.ins().return_(&[status]);
            e.b.seal_all_blocks();
            e.b.finalize(frontend);
        }
        let id = self.module.declare_anonymous_function(&self.sig).map_err(|e| err(&e))?;
        self.module.define_function(id, &mut self.ctx).map_err(|e| err(&e))?;
        let code_size = self.ctx.compiled_code().map_or(0, |c| c.code_info().total_size);
        self.module.clear_context(&mut self.ctx);
        self.module.finalize_definitions().map_err(|e| err(&e))?;
        let ptr = self.module.get_finalized_function(id);
        // SAFETY: `ptr` is the entry of a function just compiled with
        // signature `self.sig`, which is the C ABI form of `BlockFn`
        // (two pointers and a u32 in, a u32 out). The code lives as long as
        // `self.module`, and the engine drops every `BlockFn` with it.
        let func = unsafe { std::mem::transmute::<*const u8, BlockFn>(ptr) };
        Ok(Compiled { func, code_size })
    }

    /// Release all compiled code.
    ///
    /// # Safety
    /// No [`BlockFn`] obtained from this translator may be called afterwards.
    pub unsafe fn free(self) {
        // SAFETY: forwarded to the caller.
        unsafe { self.module.free_memory() };
    }
}

/// State of one function being emitted.
struct Emitter<'a> {
    b: FunctionBuilder<'a>,
    m: Value,
    ctx: Value,
    pc: Value,
    instret0: Value,
    /// Host address of RAM, loaded on first use.
    ram: Option<Value>,
    vars: [Variable; 32],
    /// Scratch variable (a load's result on both paths).
    tmp: Variable,
    /// Bit r: `vars[r]` holds the guest register.
    loaded: u32,
    /// Bit r: `vars[r]` differs from `m.hart.x[r]`.
    dirty: u32,
    load_fn: FuncRef,
    store_fn: FuncRef,
    exec_fn: FuncRef,
    /// The one block that returns (param: status), so the epilogue is
    /// emitted once.
    ret: Block,
    /// A trap exit shared by consecutive faulting sites with the same dirty
    /// set (params: pc, instret): (dirty mask, block).
    trap_exit: Option<(u32, Block)>,
}

/// Guest state is only ever accessed here through valid, aligned pointers.
fn state_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Guest RAM accesses may be unaligned.
fn ram_flags() -> MemFlagsData {
    let mut f = MemFlagsData::new();
    f.set_notrap();
    f
}

impl Emitter<'_> {
    fn iconst(&mut self, v: u32) -> Value {
        self.b.ins().iconst(I32, i64::from(v))
    }

    /// The entry pc plus a byte offset (wrapping).
    fn pc_plus(&mut self, delta: u32) -> Value {
        let d = self.iconst(delta);
        self.b.ins().iadd(self.pc, d)
    }

    fn reg(&mut self, r: avm_isa::Reg) -> Value {
        let i = r.idx();
        if i == 0 {
            return self.iconst(0);
        }
        if self.loaded & (1 << i) == 0 {
            let v = self.b.ins().load(I32, state_flags(), self.m, OFF_X + 4 * i as i32);
            self.b.def_var(self.vars[i], v);
            self.loaded |= 1 << i;
        }
        self.b.use_var(self.vars[i])
    }

    fn set(&mut self, r: avm_isa::Reg, v: Value) {
        let i = r.idx();
        if i == 0 {
            return;
        }
        self.b.def_var(self.vars[i], v);
        self.loaded |= 1 << i;
        self.dirty |= 1 << i;
    }

    /// Store every dirty register to `m.hart.x` (the dirty set is kept: side
    /// exits write back without changing the main path's state).
    fn write_back(&mut self) {
        for i in 1..32 {
            if self.dirty & (1 << i) != 0 {
                let v = self.b.use_var(self.vars[i]);
                self.b.ins().store(state_flags(), v, self.m, OFF_X + 4 * i as i32);
            }
        }
    }

    fn set_instret(&mut self, retired: usize) {
        let v = self.b.ins().iadd_imm_s(self.instret0, retired as i64);
        self.b.ins().store(state_flags(), v, self.m, OFF_INSTRET);
    }

    /// Leave the block: registers, `pc`, `instret = start + retired`, status.
    fn exit(&mut self, pc: Value, retired: usize, status: u32) {
        self.write_back();
        self.b.ins().store(state_flags(), pc, self.m, OFF_PC);
        self.set_instret(retired);
        let s = self.iconst(status);
        self.b.ins().jump(self.ret, &[BlockArg::Value(s)]);
    }

    /// Leave with a trap at instruction `i` (`at` bytes in): registers as
    /// before it, `pc` = its address, `instret = start + i`. Sites with the
    /// same dirty set share one exit block, fed the pc and instret.
    fn trap_exit(&mut self, at: u32, i: usize) {
        let block = match self.trap_exit {
            Some((mask, block)) if mask == self.dirty => block,
            _ => {
                let block = self.b.create_block();
                self.b.set_cold_block(block);
                self.b.append_block_param(block, I32);
                self.b.append_block_param(block, I64);
                let here = self.b.current_block();
                self.b.switch_to_block(block);
                self.write_back();
                let (pc, instret) = (self.b.block_params(block)[0], self.b.block_params(block)[1]);
                self.b.ins().store(state_flags(), pc, self.m, OFF_PC);
                self.b.ins().store(state_flags(), instret, self.m, OFF_INSTRET);
                let s = self.iconst(STATUS_TRAP);
                self.b.ins().jump(self.ret, &[BlockArg::Value(s)]);
                if let Some(here) = here {
                    self.b.switch_to_block(here);
                }
                self.trap_exit = Some((self.dirty, block));
                block
            }
        };
        let pc = self.pc_plus(at);
        let instret = self.b.ins().iadd_imm_s(self.instret0, i as i64);
        self.b.ins().jump(block, &[BlockArg::Value(pc), BlockArg::Value(instret)]);
    }

    /// If `cond` is nonzero, leave through a cold block built by `f`;
    /// otherwise continue in a fresh block.
    fn side_exit(&mut self, cond: Value, f: impl FnOnce(&mut Self)) {
        let cold = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(cold);
        self.b.ins().brif(cond, cold, &[], cont, &[]);
        // Every block is sealed as soon as its predecessors are known, so
        // the SSA builder resolves variables directly (no pending phis).
        self.b.seal_block(cold);
        self.b.seal_block(cont);
        self.b.switch_to_block(cold);
        f(self);
        self.b.switch_to_block(cont);
    }

    fn ram(&mut self) -> Value {
        if let Some(r) = self.ram {
            return r;
        }
        // Loaded in the entry block would be nicer; loading at the first
        // memory access is equivalent since it dominates every later one.
        let r = self.b.ins().load(I64, state_flags(), self.ctx, OFF_CTX_RAM);
        self.ram = Some(r);
        r
    }

    /// The TLB hit test of `Tlb::lookup`: returns (hit, host address).
    fn tlb_lookup(&mut self, side: i32, addr: Value, len: u32) -> (Value, Value) {
        let ram = self.ram();
        let b = &mut self.b;
        let page = b.ins().ushr_imm_u(addr, 12);
        let idx = b.ins().band_imm_u(page, (avm_mmu::tlb::TLB_ENTRIES - 1) as i64);
        let idx = b.ins().uextend(I64, idx);
        let scaled = b.ins().ishl_imm_u(idx, 3);
        let entry = b.ins().iadd(self.m, scaled);
        let tag = b.ins().load(I32, state_flags(), entry, side + OFF_TAG);
        let delta = b.ins().load(I32, state_flags(), entry, side + OFF_DELTA);
        let base = b.ins().band_imm_u(addr, !0xfff_i64 & 0xffff_ffff);
        let want = b.ins().bor_imm_u(base, 1);
        let mut hit = b.ins().icmp(IntCC::Equal, tag, want);
        if len > 1 {
            let in_page = b.ins().band_imm_u(addr, 0xfff);
            let end = b.ins().iadd_imm_s(in_page, i64::from(len));
            let fits = b.ins().icmp_imm_u(IntCC::UnsignedLessThanOrEqual, end, 4096);
            hit = b.ins().band(hit, fits);
        }
        let off = b.ins().iadd(addr, delta);
        let off = b.ins().uextend(I64, off);
        let host = b.ins().iadd(ram, off);
        (hit, host)
    }

    fn block(&mut self, ops: &[Op], bytes: &[u8]) {
        let mut at = 0u32;
        for (i, op) in ops.iter().enumerate() {
            let len = u32::from(op.len);
            let word = match op.len {
                2 => u32::from(u16::from_le_bytes([bytes[at as usize], bytes[at as usize + 1]])),
                _ => u32::from_le_bytes([
                    bytes[at as usize],
                    bytes[at as usize + 1],
                    bytes[at as usize + 2],
                    bytes[at as usize + 3],
                ]),
            };
            if self.inst(op.inst, i, at, len, word) {
                return;
            }
            at += len;
        }
        let next = self.pc_plus(at);
        self.exit(next, ops.len(), STATUS_END);
    }

    /// Emit one instruction (index `i`, `at` bytes into the block). Returns
    /// true if it ended the function (a jump or branch).
    fn inst(&mut self, inst: Inst, i: usize, at: u32, len: u32, word: u32) -> bool {
        match inst {
            Inst::AluImm { op, rd, rs1, imm } => {
                let a = self.reg(rs1);
                let v = self.alu_imm(op, a, imm);
                self.set(rd, v);
            }
            Inst::Alu { op, rd, rs1, rs2 } => {
                let a = self.reg(rs1);
                let b = self.reg(rs2);
                let v = self.alu(op, a, b);
                self.set(rd, v);
            }
            Inst::Lui { rd, imm } => {
                let v = self.iconst(imm);
                self.set(rd, v);
            }
            Inst::Auipc { rd, imm } => {
                let v = self.pc_plus(at.wrapping_add(imm));
                self.set(rd, v);
            }
            Inst::Load { op, rd, rs1, offset } => self.load(op, rd, rs1, offset, i, at),
            Inst::Store { op, rs1, rs2, offset } => self.store(op, rs1, rs2, offset, i, at, len),
            Inst::Branch { op, rs1, rs2, offset } => {
                let a = self.reg(rs1);
                let b = self.reg(rs2);
                let cc = match op {
                    BranchOp::Beq => IntCC::Equal,
                    BranchOp::Bne => IntCC::NotEqual,
                    BranchOp::Blt => IntCC::SignedLessThan,
                    BranchOp::Bge => IntCC::SignedGreaterThanOrEqual,
                    BranchOp::Bltu => IntCC::UnsignedLessThan,
                    BranchOp::Bgeu => IntCC::UnsignedGreaterThanOrEqual,
                };
                let taken = self.b.ins().icmp(cc, a, b);
                let target = at.wrapping_add(offset as u32);
                self.side_exit(taken, |e| {
                    let pc = e.pc_plus(target);
                    e.exit(pc, i + 1, STATUS_END);
                });
                let next = self.pc_plus(at + len);
                self.exit(next, i + 1, STATUS_END);
                return true;
            }
            Inst::Jal { rd, offset } => {
                let link = self.pc_plus(at + len);
                self.set(rd, link);
                let target = self.pc_plus(at.wrapping_add(offset as u32));
                self.exit(target, i + 1, STATUS_END);
                return true;
            }
            Inst::Jalr { rd, rs1, offset } => {
                let base = self.reg(rs1);
                let sum = self.b.ins().iadd_imm_s(base, i64::from(offset));
                let target = self.b.ins().band_imm_u(sum, 0xffff_fffe);
                let link = self.pc_plus(at + len);
                self.set(rd, link);
                self.exit(target, i + 1, STATUS_END);
                return true;
            }
            // One in-order hart: nothing to order.
            Inst::Fence { .. } => {}
            _ => self.exec(inst, i, at, word),
        }
        false
    }

    /// Hand one instruction to the interpreter's `execute` (see
    /// [`helpers::jit_exec`]).
    fn exec(&mut self, _inst: Inst, i: usize, at: u32, word: u32) {
        self.write_back();
        self.dirty = 0;
        self.set_instret(i);
        let pc = self.pc_plus(at);
        let w = self.iconst(word);
        let call = self.b.ins().call(self.exec_fn, &[self.m, self.ctx, w, pc]);
        let status = self.b.inst_results(call)[0];
        // The helper may have written any register (rd, and x0 back to 0).
        self.loaded = 0;
        let ended = self.b.ins().icmp_imm_u(IntCC::NotEqual, status, i64::from(STATUS_CONTINUE));
        self.side_exit(ended, |e| {
            e.b.ins().jump(e.ret, &[BlockArg::Value(status)]);
        });
    }

    fn load(&mut self, op: LoadOp, rd: avm_isa::Reg, rs1: avm_isa::Reg, offset: i32, i: usize, at: u32) {
        let base = self.reg(rs1);
        let addr = self.b.ins().iadd_imm_s(base, i64::from(offset));
        let (hit, host) = self.tlb_lookup(OFF_TLB_READ, addr, op.width());
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.set_cold_block(slow);
        self.b.ins().brif(hit, fast, &[], slow, &[]);
        self.b.seal_block(fast);
        self.b.seal_block(slow);

        self.b.switch_to_block(fast);
        let f = ram_flags();
        let v = match op {
            LoadOp::Lb => self.b.ins().sload8(I32, f, host, 0),
            LoadOp::Lbu => self.b.ins().uload8(I32, f, host, 0),
            LoadOp::Lh => self.b.ins().sload16(I32, f, host, 0),
            LoadOp::Lhu => self.b.ins().uload16(I32, f, host, 0),
            LoadOp::Lw => self.b.ins().load(I32, f, host, 0),
        };
        self.b.def_var(self.tmp, v);
        self.b.ins().jump(done, &[]);

        self.b.switch_to_block(slow);
        let code = self.iconst(helpers::load_code(op));
        let call = self.b.ins().call(self.load_fn, &[self.m, self.ctx, addr, code]);
        let r = self.b.inst_results(call)[0];
        let trapped = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, r, LOAD_TRAP_BIT as i64);
        self.side_exit(trapped, |e| e.trap_exit(at, i));
        let v = self.b.ins().ireduce(I32, r);
        self.b.def_var(self.tmp, v);
        self.b.ins().jump(done, &[]);

        self.b.seal_block(done);
        self.b.switch_to_block(done);
        let v = self.b.use_var(self.tmp);
        self.set(rd, v);
    }

    #[allow(clippy::too_many_arguments)]
    fn store(&mut self, op: StoreOp, rs1: avm_isa::Reg, rs2: avm_isa::Reg, offset: i32, i: usize, at: u32, len: u32) {
        let base = self.reg(rs1);
        let value = self.reg(rs2);
        let addr = self.b.ins().iadd_imm_s(base, i64::from(offset));
        let (hit, host) = self.tlb_lookup(OFF_TLB_WRITE, addr, op.width());
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.set_cold_block(slow);
        self.b.ins().brif(hit, fast, &[], slow, &[]);
        self.b.seal_block(fast);
        self.b.seal_block(slow);

        self.b.switch_to_block(fast);
        let f = ram_flags();
        match op {
            StoreOp::Sb => self.b.ins().istore8(f, value, host, 0),
            StoreOp::Sh => self.b.ins().istore16(f, value, host, 0),
            StoreOp::Sw => self.b.ins().store(f, value, host, 0),
        };
        self.b.ins().jump(done, &[]);

        self.b.switch_to_block(slow);
        let code = self.iconst(helpers::store_code(op));
        let call = self.b.ins().call(self.store_fn, &[self.m, self.ctx, addr, value, code]);
        let r = self.b.inst_results(call)[0];
        let trapped = self.b.ins().icmp_imm_u(IntCC::Equal, r, i64::from(STORE_TRAP));
        self.side_exit(trapped, |e| e.trap_exit(at, i));
        self.b.ins().jump(done, &[]);

        self.b.seal_block(done);
        self.b.switch_to_block(done);
        // A store to a code page (or an earlier page-table A/D update there,
        // or an HTIF exit) ends the block after this instruction.
        let stop = self.b.ins().uload8(I32, state_flags(), self.m, OFF_STOP);
        self.side_exit(stop, |e| {
            let pc = e.pc_plus(at + len);
            e.exit(pc, i + 1, STATUS_END);
        });
    }

    fn alu_imm(&mut self, op: AluImmOp, a: Value, imm: i32) -> Value {
        let c = self.iconst(imm as u32);
        let b = &mut self.b;
        match op {
            AluImmOp::Addi => b.ins().iadd(a, c),
            AluImmOp::Slti => {
                let t = b.ins().icmp(IntCC::SignedLessThan, a, c);
                b.ins().uextend(I32, t)
            }
            AluImmOp::Sltiu => {
                let t = b.ins().icmp(IntCC::UnsignedLessThan, a, c);
                b.ins().uextend(I32, t)
            }
            AluImmOp::Xori => b.ins().bxor(a, c),
            AluImmOp::Ori => b.ins().bor(a, c),
            AluImmOp::Andi => b.ins().band(a, c),
            AluImmOp::Slli => b.ins().ishl_imm_u(a, i64::from(imm & 31)),
            AluImmOp::Srli => b.ins().ushr_imm_u(a, i64::from(imm & 31)),
            AluImmOp::Srai => b.ins().sshr_imm_u(a, i64::from(imm & 31)),
        }
    }

    fn alu(&mut self, op: AluOp, a: Value, b: Value) -> Value {
        let zero = self.iconst(0);
        let one = self.iconst(1);
        let all = self.iconst(u32::MAX);
        let min = self.iconst(0x8000_0000);
        let ins = &mut self.b;
        // Cranelift's shifts take the amount modulo the type width (31 for
        // i32), as RISC-V does.
        match op {
            AluOp::Add => ins.ins().iadd(a, b),
            AluOp::Sub => ins.ins().isub(a, b),
            AluOp::Sll => ins.ins().ishl(a, b),
            AluOp::Slt => {
                let t = ins.ins().icmp(IntCC::SignedLessThan, a, b);
                ins.ins().uextend(I32, t)
            }
            AluOp::Sltu => {
                let t = ins.ins().icmp(IntCC::UnsignedLessThan, a, b);
                ins.ins().uextend(I32, t)
            }
            AluOp::Xor => ins.ins().bxor(a, b),
            AluOp::Srl => ins.ins().ushr(a, b),
            AluOp::Sra => ins.ins().sshr(a, b),
            AluOp::Or => ins.ins().bor(a, b),
            AluOp::And => ins.ins().band(a, b),
            AluOp::Mul => ins.ins().imul(a, b),
            AluOp::Mulh => ins.ins().smulhi(a, b),
            AluOp::Mulhu => ins.ins().umulhi(a, b),
            AluOp::Mulhsu => {
                let wa = ins.ins().sextend(I64, a);
                let wb = ins.ins().uextend(I64, b);
                let p = ins.ins().imul(wa, wb);
                let hi = ins.ins().ushr_imm_u(p, 32);
                ins.ins().ireduce(I32, hi)
            }
            // Division never traps in RISC-V; Cranelift's does, so the
            // divisor is made safe first: 0 -> 1, and -1 -> 1 when the
            // dividend is MIN (MIN / 1 = MIN and MIN % 1 = 0 are the RISC-V
            // results for MIN / -1 and MIN % -1).
            AluOp::Div | AluOp::Rem => {
                let b_zero = ins.ins().icmp(IntCC::Equal, b, zero);
                let a_min = ins.ins().icmp(IntCC::Equal, a, min);
                let b_neg1 = ins.ins().icmp(IntCC::Equal, b, all);
                let ovf = ins.ins().band(a_min, b_neg1);
                let bad = ins.ins().bor(b_zero, ovf);
                let safe = ins.ins().select(bad, one, b);
                if op == AluOp::Div {
                    let q = ins.ins().sdiv(a, safe);
                    ins.ins().select(b_zero, all, q)
                } else {
                    let r = ins.ins().srem(a, safe);
                    ins.ins().select(b_zero, a, r)
                }
            }
            AluOp::Divu | AluOp::Remu => {
                let b_zero = ins.ins().icmp(IntCC::Equal, b, zero);
                let safe = ins.ins().select(b_zero, one, b);
                if op == AluOp::Divu {
                    let q = ins.ins().udiv(a, safe);
                    ins.ins().select(b_zero, all, q)
                } else {
                    let r = ins.ins().urem(a, safe);
                    ins.ins().select(b_zero, a, r)
                }
            }
        }
    }
}
