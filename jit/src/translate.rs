//! Translation of one basic block into one Cranelift function.
//!
//! The generated function has the signature [`BlockFn`]:
//! `(m: *mut Machine, ctx: *mut JitCtx, pc: u32) -> status`. Its body is the
//! block's instructions in order, straight-line, with cold slow paths that
//! return through one shared `ret` block.
//!
//! - **Registers** are Cranelift [`Variable`]s. A register is loaded from
//!   `m.hart.x` the first time the block reads it and marked dirty when the
//!   block writes it; the dirty ones are stored before every memory access
//!   and helper call (on the main path) and at the block's end. After a
//!   memory access or helper call registers are reloaded on their next use,
//!   so no register value lives across those Cranelift blocks: short live
//!   ranges keep register allocation, most of Cranelift's time, cheap. `x0`
//!   is the constant 0 and is never written.
//! - **pc** is never a constant: the entry pc is a parameter, and every
//!   address (`auipc`, link values, branch targets, a faulting pc) is that
//!   parameter plus a byte offset known at compile time. So the code depends
//!   only on the block's *bytes*, which is what lets [`crate::cache`] share it.
//! - **instret** is loaded once at entry; an exit after `k` instructions
//!   stores `instret + k`.
//! - **Loads and stores** inline the TLB hit path of `Machine::load`/`store`
//!   (index, one tag compare that also covers the in-page check, add) and do
//!   the access unconditionally, through a scratch word on a miss; a miss
//!   then calls `jit_load`/`jit_store` in a cold block. On a trap (or a
//!   store that must end the block) the helper itself sets `pc`/`instret`
//!   (the registers are already in memory) and the block returns its
//!   status. `m.stop_block` can only be set by a slow path or a helper: the
//!   store helper checks it itself, and a fast-path store checks it only
//!   after an earlier load or helper call of the block, as the interpreter's
//!   `execute` ends the block after any store that finds it set.
//! - **Everything else** (CSR, `ecall`, `mret`, atomics, `fence.i`, ...)
//!   calls `jit_exec`, which runs the interpreter's `execute` for that one
//!   instruction.
//!

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

use crate::helpers::{self, BlockFn, LOAD_TRAP_BIT, STATUS_CONTINUE, STATUS_END, STATUS_TRAP};

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
const OFF_CTX_LIMIT: i32 = offset_of!(crate::helpers::JitCtx, limit) as i32;
const OFF_CTX_CHAINED: i32 = offset_of!(crate::helpers::JitCtx, chained) as i32;
const OFF_MIP: i32 = (offset_of!(Machine, hart) + offset_of!(Hart, csr) + offset_of!(avm_mmu::Csrs, mip)) as i32;
const OFF_MIE: i32 = (offset_of!(Machine, hart) + offset_of!(Hart, csr) + offset_of!(avm_mmu::Csrs, mie)) as i32;
const OFF_CTX_SCRATCH: i32 = offset_of!(crate::helpers::JitCtx, scratch) as i32;
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
    /// Compile self-loops as loops (see [`Translator::set_chaining`]).
    chaining: bool,
}

impl Translator {
    /// A translator for the host ISA (`opt_level=none`, backtracking register
    /// allocation, not PIC).
    pub fn new() -> Result<Translator, CompileError> {
        let err = |e: &dyn std::fmt::Display| CompileError::Cranelift(e.to_string());
        let mut flags = settings::builder();
        // Measured on the guest workloads (`benches/jit.rs`, `avm exec`):
        // `opt_level=speed` costs ~2x the compile time of `none` and gains
        // nothing measurable on this straight-line, already-simple IR; the
        // single-pass register allocator compiles ~1.5x faster again but
        // its spills make code ~1.5x slower, so the backtracking one stays.
        flags.set("opt_level", "none").map_err(|e| err(&e))?;
        flags.set("regalloc_algorithm", "backtracking").map_err(|e| err(&e))?;
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
        load_sig.params.extend([ptr, ptr, I32, I32, I32, I64].map(AbiParam::new));
        load_sig.returns.push(AbiParam::new(I64));
        let mut store_sig = module.make_signature();
        store_sig.params.extend([ptr, ptr, I32, I32, I32, I32, I64].map(AbiParam::new));
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
        Ok(Translator {
            module,
            ctx,
            fctx: FunctionBuilderContext::new(),
            sig,
            load_fn,
            store_fn,
            exec_fn,
            chaining: true,
        })
    }

    /// Whether a block that branches or jumps back to its own start loops
    /// inside its function (default on) instead of returning to the
    /// dispatcher every iteration. The crosscheck, which compares the engines
    /// after every block, turns it off.
    pub fn set_chaining(&mut self, on: bool) {
        self.chaining = on;
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
                loaded: 0,
                dirty: 0,
                load_fn,
                store_fn,
                exec_fn,
                ret,
                may_stop: false,
                header: None,
            };
            if self.chaining && self_loop(ops) {
                e.loop_header(ops);
            }
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
    /// `m.stop_block` may have been set since entry (by a load's or a
    /// helper's page walk): stores on the fast path must check it.
    may_stop: bool,
    /// For a self-loop: the loop header (param: instret at the iteration's
    /// start), and the block's length.
    header: Option<(Block, usize)>,
}

/// True if the block ends with a branch or `jal` back to its own start and
/// has nothing that calls `helpers::jit_exec` (which may change anything:
/// privilege, translation, interrupt enables).
fn self_loop(ops: &[Op]) -> bool {
    let Some((last, body)) = ops.split_last() else { return false };
    let at: u32 = body.iter().map(|o| u32::from(o.len)).sum();
    let back = match last.inst {
        Inst::Branch { offset, .. } | Inst::Jal { offset, .. } => at.wrapping_add(offset as u32) == 0,
        _ => false,
    };
    back && body.iter().all(|o| {
        matches!(
            o.inst,
            Inst::AluImm { .. }
                | Inst::Alu { .. }
                | Inst::Lui { .. }
                | Inst::Auipc { .. }
                | Inst::Load { .. }
                | Inst::Store { .. }
                | Inst::Fence { .. }
        )
    })
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
    ///
    /// The in-page check is folded into the tag compare: the tag is compared
    /// with the page of the access's *last* byte, looked up in the slot of its
    /// first byte. Without a page crossing both pages are the same; with one,
    /// the last byte's page is the next page, whose tag can never sit in the
    /// first page's slot (consecutive pages use consecutive slots, and there
    /// is more than one slot), so the access misses, as `Tlb::lookup` says.
    fn tlb_lookup(&mut self, side: i32, addr: Value, len: u32) -> (Value, Value) {
        const _: () = assert!(avm_mmu::tlb::TLB_ENTRIES > 1);
        let ram = self.ram();
        let b = &mut self.b;
        let page = b.ins().ushr_imm_u(addr, 12);
        let idx = b.ins().band_imm_u(page, (avm_mmu::tlb::TLB_ENTRIES - 1) as i64);
        let idx = b.ins().uextend(I64, idx);
        let scaled = b.ins().ishl_imm_u(idx, 3);
        let entry = b.ins().iadd(self.m, scaled);
        let tag = b.ins().load(I32, state_flags(), entry, side + OFF_TAG);
        let delta = b.ins().load(I32, state_flags(), entry, side + OFF_DELTA);
        let last = if len > 1 { b.ins().iadd_imm_s(addr, i64::from(len - 1)) } else { addr };
        let base = b.ins().band_imm_u(last, !0xfff_i64 & 0xffff_ffff);
        let want = b.ins().bor_imm_u(base, 1);
        let hit = b.ins().icmp(IntCC::Equal, tag, want);
        let off = b.ins().iadd(addr, delta);
        let off = b.ins().uextend(I64, off);
        let host = b.ins().iadd(ram, off);
        (hit, host)
    }

    /// Start a self-loop: load every register the block reads (so their
    /// variables are defined on entry to the header and flow around the
    /// loop), then open the header, which is sealed once the back edge is
    /// emitted.
    fn loop_header(&mut self, ops: &[Op]) {
        for op in ops {
            let (a, b) = match op.inst {
                Inst::AluImm { rs1, .. } | Inst::Load { rs1, .. } => (Some(rs1), None),
                Inst::Alu { rs1, rs2, .. } | Inst::Branch { rs1, rs2, .. } | Inst::Store { rs1, rs2, .. } => {
                    (Some(rs1), Some(rs2))
                }
                _ => (None, None),
            };
            for r in [a, b].into_iter().flatten() {
                self.reg(r);
            }
        }
        let header = self.b.create_block();
        self.b.append_block_param(header, I64);
        self.b.ins().jump(header, &[BlockArg::Value(self.instret0)]);
        self.b.switch_to_block(header);
        self.instret0 = self.b.block_params(header)[0];
        self.header = Some((header, ops.len()));
    }

    /// The taken back edge of a self-loop (`target` is the entry pc). Loop
    /// again only if the dispatcher would run this same compiled block next
    /// without doing anything else first: no `m.stop_block` (no code-page
    /// write, so no invalidation, and no HTIF exit pending: both set it), no
    /// pending-and-enabled interrupt (`mip & mie`, what the dispatcher
    /// tests), and the budget covers the whole next iteration (exact
    /// metering). Nothing in a self-loop block can change the privilege or
    /// the translation of its pc (no helper calls), so the dispatcher's fetch
    /// would find this block again. Otherwise leave as a normal end.
    fn back_edge(&mut self, target: Value) {
        let Some((header, n)) = self.header else { unreachable!("back_edge without a loop header") };
        let done = self.b.ins().iadd_imm_s(self.instret0, n as i64);
        let stop = self.b.ins().uload8(I32, state_flags(), self.m, OFF_STOP);
        let mip = self.b.ins().load(I32, state_flags(), self.m, OFF_MIP);
        let mie = self.b.ins().load(I32, state_flags(), self.m, OFF_MIE);
        let pending = self.b.ins().band(mip, mie);
        let blocked = self.b.ins().bor(stop, pending);
        let limit = self.b.ins().load(I64, state_flags(), self.ctx, OFF_CTX_LIMIT);
        let need = self.b.ins().iadd_imm_s(done, n as i64);
        let fits = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, need, limit);
        let free = self.b.ins().icmp_imm_u(IntCC::Equal, blocked, 0);
        let go = self.b.ins().band(fits, free);
        let again = self.b.create_block();
        let out = self.b.create_block();
        self.b.ins().brif(go, again, &[], out, &[]);
        self.b.seal_block(again);
        self.b.seal_block(out);
        self.b.switch_to_block(out);
        self.exit(target, n, STATUS_END);
        self.b.switch_to_block(again);
        self.write_back();
        // Count the iteration as a compiled block run (statistics only).
        let runs = self.b.ins().load(I64, state_flags(), self.ctx, OFF_CTX_CHAINED);
        let runs = self.b.ins().iadd_imm_s(runs, 1);
        self.b.ins().store(state_flags(), runs, self.ctx, OFF_CTX_CHAINED);
        self.b.ins().jump(header, &[BlockArg::Value(done)]);
        self.b.seal_block(header);
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
                let target = self.pc_plus(at.wrapping_add(offset as u32));
                let next = self.pc_plus(at + len);
                if self.header.is_some() {
                    let back = self.b.create_block();
                    let out = self.b.create_block();
                    self.b.ins().brif(taken, back, &[], out, &[]);
                    self.b.seal_block(back);
                    self.b.seal_block(out);
                    self.b.switch_to_block(out);
                    self.exit(next, i + 1, STATUS_END);
                    self.b.switch_to_block(back);
                    self.back_edge(target);
                    return true;
                }
                let pc = self.b.ins().select(taken, target, next);
                self.exit(pc, i + 1, STATUS_END);
                return true;
            }
            Inst::Jal { rd, offset } => {
                let link = self.pc_plus(at + len);
                self.set(rd, link);
                let target = self.pc_plus(at.wrapping_add(offset as u32));
                if self.header.is_some() {
                    self.back_edge(target);
                } else {
                    self.exit(target, i + 1, STATUS_END);
                }
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
    /// `helpers::jit_exec`).
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
        let cont = self.b.create_block();
        // STATUS_CONTINUE is 0: any other status leaves as it is.
        const _: () = assert!(STATUS_CONTINUE == 0);
        self.b.ins().brif(status, self.ret, &[BlockArg::Value(status)], cont, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
        // The helper may have left `m.stop_block` set (a page walk's A/D
        // update in a code page) without ending the block.
        self.may_stop = true;
    }

    /// The arguments every memory helper ends with: the instruction's pc and
    /// `instret` before it, so a trap or stop can be finished in the helper.
    fn site(&mut self, at: u32, i: usize) -> (Value, Value) {
        let pc = self.pc_plus(at);
        let instret = self.b.ins().iadd_imm_s(self.instret0, i as i64);
        (pc, instret)
    }

    /// Common start of a memory access: the dirty registers are written back
    /// on the main path (so the cold slow path, whose trap leaves the block,
    /// has nothing to write), and a host address that is always safe to
    /// access: the entry's on a TLB hit, the context's scratch word on a
    /// miss. The access itself is then unconditional, which keeps a memory
    /// instruction to two Cranelift blocks (main, cold slow path).
    fn mem_prologue(&mut self, side: i32, addr: Value, width: u32) -> (Value, Value) {
        self.write_back();
        self.dirty = 0;
        let (hit, host) = self.tlb_lookup(side, addr, width);
        let scratch = self.b.ins().iadd_imm_s(self.ctx, i64::from(OFF_CTX_SCRATCH));
        let ptr = self.b.ins().select(hit, host, scratch);
        (hit, ptr)
    }

    /// After a memory access the block continues in `cont`; registers are
    /// reloaded from `m.hart.x` on their next use, so that no guest register
    /// value lives across the access's blocks (short live ranges keep
    /// register allocation cheap).
    fn mem_epilogue(&mut self, cont: Block) {
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
        self.loaded = 0;
    }

    fn load(&mut self, op: LoadOp, rd: avm_isa::Reg, rs1: avm_isa::Reg, offset: i32, i: usize, at: u32) {
        let base = self.reg(rs1);
        let addr = self.b.ins().iadd_imm_s(base, i64::from(offset));
        let (hit, ptr) = self.mem_prologue(OFF_TLB_READ, addr, op.width());
        let f = ram_flags();
        let v = match op {
            LoadOp::Lb => self.b.ins().sload8(I32, f, ptr, 0),
            LoadOp::Lbu => self.b.ins().uload8(I32, f, ptr, 0),
            LoadOp::Lh => self.b.ins().sload16(I32, f, ptr, 0),
            LoadOp::Lhu => self.b.ins().uload16(I32, f, ptr, 0),
            LoadOp::Lw => self.b.ins().load(I32, f, ptr, 0),
        };
        let cont = self.b.create_block();
        self.b.append_block_param(cont, I32);
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        self.b.ins().brif(hit, cont, &[BlockArg::Value(v)], slow, &[]);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let code = self.iconst(helpers::load_code(op));
        let (pc, instret) = self.site(at, i);
        let call = self.b.ins().call(self.load_fn, &[self.m, self.ctx, addr, code, pc, instret]);
        let r = self.b.inst_results(call)[0];
        let trapped = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, r, LOAD_TRAP_BIT as i64);
        let v = self.b.ins().ireduce(I32, r);
        let status = self.iconst(STATUS_TRAP);
        self.b.ins().brif(trapped, self.ret, &[BlockArg::Value(status)], cont, &[BlockArg::Value(v)]);

        self.mem_epilogue(cont);
        let v = self.b.block_params(cont)[0];
        self.set(rd, v);
        // The slow path's page walk may have set `m.stop_block` (an A/D
        // update in a code page): the next store then ends the block.
        self.may_stop = true;
    }

    #[allow(clippy::too_many_arguments)]
    fn store(&mut self, op: StoreOp, rs1: avm_isa::Reg, rs2: avm_isa::Reg, offset: i32, i: usize, at: u32, len: u32) {
        let base = self.reg(rs1);
        let value = self.reg(rs2);
        let addr = self.b.ins().iadd_imm_s(base, i64::from(offset));
        let (hit, ptr) = self.mem_prologue(OFF_TLB_WRITE, addr, op.width());
        let f = ram_flags();
        match op {
            StoreOp::Sb => self.b.ins().istore8(f, value, ptr, 0),
            StoreOp::Sh => self.b.ins().istore16(f, value, ptr, 0),
            StoreOp::Sw => self.b.ins().store(f, value, ptr, 0),
        };
        let cont = self.b.create_block();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        self.b.ins().brif(hit, cont, &[], slow, &[]);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        // The helper finishes a trap, or a stop (a store to a code page or
        // the HTIF device, or `m.stop_block` left set earlier in the block),
        // and returns the block's status; 0 = go on.
        let code = self.iconst(helpers::store_code(op) | (len << 8));
        let (pc, instret) = self.site(at, i);
        let call = self.b.ins().call(self.store_fn, &[self.m, self.ctx, addr, value, code, pc, instret]);
        let r = self.b.inst_results(call)[0];
        self.b.ins().brif(r, self.ret, &[BlockArg::Value(r)], cont, &[]);
        self.mem_epilogue(cont);
        if self.may_stop {
            // A plain RAM write never sets `m.stop_block` (code pages and the
            // HTIF page are never in the write TLB), but an earlier load or
            // helper in this block may have: then this store ends the block,
            // as in the interpreter. (After the slow path the flag is clear:
            // the helper ended the block otherwise.)
            let stop = self.b.ins().uload8(I32, state_flags(), self.m, OFF_STOP);
            let cold = self.b.create_block();
            let next = self.b.create_block();
            self.b.set_cold_block(cold);
            self.b.ins().brif(stop, cold, &[], next, &[]);
            self.b.seal_block(cold);
            self.b.seal_block(next);
            self.b.switch_to_block(cold);
            let pc = self.pc_plus(at + len);
            self.exit(pc, i + 1, STATUS_END);
            self.b.switch_to_block(next);
        }
    }

    /// Register-immediate operations are their register form with a
    /// constant second operand (as in the interpreter's `alu_imm`).
    fn alu_imm(&mut self, op: AluImmOp, a: Value, imm: i32) -> Value {
        let c = self.iconst(imm as u32);
        self.alu(op.reg_form(), a, c)
    }

    fn alu(&mut self, op: AluOp, a: Value, b: Value) -> Value {
        let ins = &mut self.b;
        // Constants only the division arms need, created there so that other
        // operations do not emit them.
        let k = |ins: &mut FunctionBuilder, v: u32| ins.ins().iconst(I32, i64::from(v));
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
                let (zero, one, all, min) = (k(ins, 0), k(ins, 1), k(ins, u32::MAX), k(ins, 0x8000_0000));
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
                let (zero, one, all) = (k(ins, 0), k(ins, 1), k(ins, u32::MAX));
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
