//! Translation of one *region* (a few guest basic blocks of one page or
//! two adjacent ones) into one Cranelift function.
//!
//! The generated function has the signature [`BlockFn`]:
//! `(m: *mut Machine, ctx: *mut JitCtx) -> status` in Cranelift's `tail`
//! calling convention, entered from Rust through a [`Trampoline`]; the pc
//! of the region's entry block is `ctx.pc`. A region without helper calls
//! ends a normal exit by tail-calling the chain stub (see [`Trampoline`]).
//!
//! - **Regions.** The engine hands over the hot block plus the blocks it
//!   already saw run that the hot block's branches and jumps reach within
//!   two adjacent 4 KiB pages ([`static_successors`]). Each guest block becomes one
//!   Cranelift block; a branch to a block of the region is a jump inside the
//!   function (a loop stays a loop in host code), anything else returns to
//!   the dispatcher. Crossing an internal edge does exactly what the
//!   dispatcher would do between those blocks (see `Emitter::leave`). The
//!   function starts at block `ctx.entry` (a jump table), so the engine can
//!   enter the region at any of its blocks; `ctx.pc` is then still the pc of
//!   the first one.
//! - **Registers** are Cranelift [`Variable`]s, kept two ways
//!   (`keeps_registers`). In a small loop every register the region names
//!   is loaded once in the prologue and stays in a host register for the
//!   whole call; the exits store the written ones back. Elsewhere a register
//!   is loaded on first use and reloaded after each *write-back point* (a
//!   memory check, a helper call, a block start), and a result is stored
//!   when it is last defined before the next such point, so `m.hart.x` is
//!   exact wherever the function can leave and live ranges stay short.
//!   `x0` is the constant 0 and is never written.
//! - **pc** is never a constant: every address (`auipc`, link values,
//!   branch targets, a side exit's pc) is `ctx.pc` plus a byte offset known
//!   at compile time, read where it is needed. So the code depends only on
//!   the region's *bytes* and layout, which is what lets [`crate::cache`]
//!   share it.
//! - **instret** is not kept: a variable holds the *fuel*, the budget left
//!   at the start of the current guest block (`limit - instret`), so an
//!   internal edge is a subtraction and a compare with a constant; an exit
//!   after `k` of the block's instructions stores `limit - fuel + k`. Short
//!   self-loops are unrolled so that one compare covers several iterations
//!   (see `unrolls`).
//! - **Loads and stores** inline the TLB hit path of `Machine::load`/`store`
//!   (index, one tag compare that also covers the in-page check, add, host
//!   access). A miss (no translation cached, a page crossing, a device, a
//!   store to a code page) is a *side exit*: the function stores `pc` and
//!   `instret` of that instruction and returns [`STATUS_MISS`]; the engine
//!   runs the rest of the guest block in the interpreter, which walks the
//!   page table, fills the TLB, raises the fault or ends the block exactly
//!   as it always does. Compiled code therefore never performs a slow
//!   access, never raises a memory fault and never calls back for one.
//! - **Everything else** (CSR, `ecall`, `mret`, atomics, `fence.i`, ...)
//!   calls `jit_exec`, which runs the interpreter's `execute` for that one
//!   instruction.

use avm_interp::Op;
use avm_isa::{decode, AluImmOp, AluOp, BranchOp, Decoded, Inst, LoadOp, Reg, StoreOp};
use avm_mmu::TlbEntry;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, AbiParam, Block, BlockArg, InstBuilder, JumpTableData, MemFlagsData, SigRef, Signature, Value,
};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Module};

use crate::code::CodeMemory;
use crate::group::Group;
use crate::helpers::{
    self, BlockFn, SuccSlot, TrampolineFn, CHAIN_STUBS, STATUS_CONTINUE, STATUS_END, STATUS_MISS, SUCC_SLOTS,
};

const I32: types::Type = types::I32;
const I64: types::Type = types::I64;

use crate::layout::*;

// Compiled code reads an empty slot's `func` as 0.
const _: () = assert!(size_of::<Option<BlockFn>>() == size_of::<usize>());
const _: () = assert!(std::mem::size_of::<TlbEntry>() == 8);
const _: () = assert!(std::mem::size_of::<bool>() == 1);
// The inline fast path reads guest memory in host byte order.
#[cfg(not(target_endian = "little"))]
compile_error!("the aVM JIT needs a little-endian host");

/// Why a region could not be compiled (the engine then interprets it).
#[derive(Clone, Debug, thiserror::Error)]
pub enum CompileError {
    /// Cranelift rejected the function or could not emit it.
    #[error("cranelift: {0}")]
    Cranelift(String),
    /// The region handed over is malformed (empty, or its bytes do not
    /// cover its instructions).
    #[error("malformed region: {0}")]
    Region(&'static str),
    /// Executable memory could not be mapped ([`CodeMemory`]).
    #[error("code memory: {0}")]
    CodeMemory(String),
    /// Cranelift panicked (a compiler bug); the message it gave.
    #[error("cranelift panicked: {0}")]
    Panic(String),
}

/// A compiled region.
#[derive(Clone, Copy, Debug)]
pub struct Compiled {
    /// Entry point.
    pub func: BlockFn,
    /// Size of the machine code in bytes.
    pub code_size: u32,
}

/// One guest basic block of a region.
#[derive(Clone, Copy, Debug)]
pub struct RegionBlock<'a> {
    /// Byte offset of the block from the region's entry (negative: before
    /// it). The entry block is first and has offset 0.
    pub rel: i32,
    /// Its instructions, as [`avm_interp::decode_block`] cut them.
    pub ops: &'a [Op],
    /// Its encoded bytes.
    pub bytes: &'a [u8],
    /// The page the block lies in, relative to the first block's: 0, or
    /// -1 or 1 in a region that spans two adjacent pages. An edge between
    /// blocks of different pages is taken only while the fetch TLB maps
    /// both pages as they were mapped when the region was formed (see
    /// `Emitter::same_fetch_mapping`).
    pub page: i32,
    /// `Some(bits)`: the block stops 2 bytes short of its page's end
    /// because the next instruction straddles the page boundary (no block
    /// can hold it), and `bits` is that instruction as memory held it when
    /// the region was formed, its upper half read from the physically next
    /// page: a guess, since the next *virtual* page may map anywhere. Such a
    /// block runs that instruction too, and then leaves: otherwise a hot
    /// loop whose code crosses a page would go back to the dispatcher for
    /// that one instruction on every iteration. See
    /// `Emitter::straddler` for how it runs.
    pub straddler: Option<u32>,
}

/// Where a block can continue without a computed jump: byte offsets from the
/// block's start of a branch's two targets, a `jal` target, or the
/// fall-through of a block cut by the length cap or the page end. Blocks
/// that end with `jalr` or a system instruction have none: what follows
/// them is only known at run time, or may have changed privilege,
/// translation or interrupt state, so they always return to the dispatcher.
pub fn static_successors(ops: &[Op]) -> impl Iterator<Item = u32> {
    let total: u32 = ops.iter().map(|o| u32::from(o.len)).sum();
    let (at, last) = match ops.split_last() {
        Some((last, body)) => (body.iter().map(|o| u32::from(o.len)).sum::<u32>(), Some(last.inst)),
        None => (0, None),
    };
    let (a, b) = match last {
        Some(Inst::Branch { offset, .. }) => (Some(at.wrapping_add(offset as u32)), Some(total)),
        Some(Inst::Jal { offset, .. }) => (Some(at.wrapping_add(offset as u32)), None),
        Some(inst) if !inst.ends_block() => (Some(total), None),
        _ => (None, None),
    };
    a.into_iter().chain(b)
}

/// Owns the compiled code ([`CodeMemory`]) and the reusable compilation
/// contexts.
pub struct Translator {
    isa: OwnedTargetIsa,
    code: CodeMemory,
    ctx: Context,
    fctx: FunctionBuilderContext,
    sig: Signature,
    /// Signatures of the helpers `jit_exec` and `jit_exec_next`.
    helper_sigs: (Signature, Signature),
    /// Branches inside a region jump inside the function (see
    /// [`Translator::set_chaining`]).
    chaining: bool,
    /// Internal edges check the budget (see [`Translator::set_metering`]).
    metering: bool,
    /// Regions compiled so far (picks each one's chain stub copy).
    compiled: u64,
    /// Print every region's guest code, Cranelift IR and host code to
    /// stderr (`AVM_JIT_DUMP=1`).
    dump: bool,
    /// Tests: panic in the middle of the next function (see
    /// [`Translator::compile_region`]).
    #[cfg(test)]
    panic_while_building: bool,
}

/// Cranelift's ISA for the host: `opt_level=none`, backtracking register
/// allocation, not PIC.
fn host_isa() -> Result<OwnedTargetIsa, CompileError> {
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
    // Nothing ever unwinds through compiled code (helpers return status
    // values), so no unwind tables; alias analysis only serves the
    // optimiser, which is off.
    flags.set("unwind_info", "false").map_err(|e| err(&e))?;
    flags.set("enable_alias_analysis", "false").map_err(|e| err(&e))?;
    // Cranelift's x86_64 tail calls need frame pointers (every region
    // function set one up anyway).
    flags.set("preserve_frame_pointers", "true").map_err(|e| err(&e))?;
    cranelift_native::builder().map_err(|e| err(&e))?.finish(settings::Flags::new(flags)).map_err(|e| err(&e))
}

/// The signature of every region: `(machine, context) -> status` in the
/// `tail` convention, so that a region can end in a tail call of the next.
fn region_signature(isa: &dyn TargetIsa) -> Signature {
    let ptr = isa.pointer_type();
    let mut sig = Signature::new(CallConv::Tail);
    sig.params.extend([AbiParam::new(ptr), AbiParam::new(ptr)]);
    sig.returns.push(AbiParam::new(I32));
    sig
}

/// The compiled code that surrounds the regions. It holds no state, so one
/// copy serves the whole process ([`Trampoline::shared`]), whichever thread
/// compiled the regions:
/// - the *trampoline* ([`TrampolineFn`]), through which Rust enters a
///   region;
/// - the *chain stub*, a function with the region signature that a region
///   tail-calls at a normal exit (`JitCtx::chain`): it tail-calls the next
///   region if the dispatcher's chain loop would (see `emit_chain_stub`),
///   else returns `STATUS_END` to the trampoline. So a chain of regions runs
///   without coming back to Rust; the dispatcher loop around compiled calls
///   was ~15% of a warm ecdsa run.
///
/// The stub is shared rather than emitted in every region: the lookup
/// inline doubled the compile time of a small region. It exists in
/// [`CHAIN_STUBS`] identical copies, among which the regions are spread,
/// so that the indirect jump into the next region is not one single
/// branch for the host's predictor: on ecdsa, 16 copies ran ~2% faster
/// than one.
#[derive(Clone, Copy, Debug)]
pub struct Trampoline {
    func: TrampolineFn,
    chains: [Option<BlockFn>; CHAIN_STUBS],
}

/// See [`Trampoline::shared`].
static SHARED: std::sync::OnceLock<Result<Trampoline, CompileError>> = std::sync::OnceLock::new();

impl Trampoline {
    /// The process's trampoline and chain stubs, compiled on first use
    /// (~1 ms) and kept for the life of the process.
    pub fn shared() -> Result<Trampoline, CompileError> {
        SHARED.get_or_init(Trampoline::compile).clone()
    }

    /// Compile the trampoline and the chain stubs for the host, in a
    /// `cranelift-jit` module that is never freed (dropping a `JITModule`
    /// leaks its memory, by design of `cranelift-jit`). Regions, compiled by
    /// the thousand, go to [`CodeMemory`] instead: the module's mapping and
    /// `mprotect` per function would double their compile time.
    fn compile() -> Result<Trampoline, CompileError> {
        let err = |e: &dyn std::fmt::Display| CompileError::Cranelift(e.to_string());
        let mut module = JITModule::new(JITBuilder::with_isa(host_isa()?, default_libcall_names()));
        let ptr = module.target_config().pointer_type();
        let frontend = module.target_config();
        let region = region_signature(module.isa());
        let mut sig = module.make_signature();
        sig.params.extend([ptr, ptr, ptr].map(AbiParam::new));
        sig.returns.push(AbiParam::new(I32));
        let mut ctx = module.make_context();
        let mut fctx = FunctionBuilderContext::new();
        let mut define = |sig: &Signature, body: &dyn Fn(&mut FunctionBuilder, &[Value])| {
            let id = module.declare_anonymous_function(sig).map_err(|e| err(&e))?;
            module.clear_context(&mut ctx);
            ctx.func.signature = sig.clone();
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            b.seal_block(entry);
            let params = b.block_params(entry).to_vec();
            body(&mut b, &params);
            b.finalize(frontend);
            module.define_function(id, &mut ctx).map_err(|e| err(&e))?;
            Ok::<_, CompileError>(id)
        };
        let enter = define(&sig, &|b, p| {
            let region = b.import_signature(region.clone());
            let call = b.ins().call_indirect(region, p[2], &[p[0], p[1]]);
            let status = b.inst_results(call)[0];
            b.ins().return_(&[status]);
        })?;
        let mut stubs = Vec::with_capacity(CHAIN_STUBS);
        for _ in 0..CHAIN_STUBS {
            stubs.push(define(&region, &|b, p| {
                let region = b.import_signature(region.clone());
                emit_chain_stub(b, p[0], p[1], region);
            })?);
        }
        module.finalize_definitions().map_err(|e| err(&e))?;
        let enter = module.get_finalized_function(enter);
        let mut chains = [None; CHAIN_STUBS];
        for (slot, id) in chains.iter_mut().zip(stubs) {
            let code = std::ptr::NonNull::new(module.get_finalized_function(id).cast_mut())
                .ok_or(CompileError::Cranelift("no code address".into()))?;
            // SAFETY: `code` is a function just compiled with the region
            // signature; it is never freed.
            *slot = Some(unsafe { BlockFn::from_code(code) });
        }
        // SAFETY: `enter` is the function just compiled with the `system_v`
        // signature (three pointers in, a u32 out) that `TrampolineFn`
        // names; it is never freed.
        let func = unsafe { std::mem::transmute::<*const u8, TrampolineFn>(enter) };
        Ok(Trampoline { func, chains })
    }

    /// The entry point.
    pub fn func(&self) -> TrampolineFn {
        self.func
    }

    /// The copies of the chain stub, for `JitCtx::chain`.
    pub fn chains(&self) -> [Option<BlockFn>; CHAIN_STUBS] {
        self.chains
    }
}

impl Translator {
    /// A translator for the host ISA (see `host_isa`).
    pub fn new() -> Result<Translator, CompileError> {
        let isa = host_isa()?;
        let code = CodeMemory::new().map_err(|e| CompileError::CodeMemory(e.to_string()))?;
        let sig = region_signature(&*isa);
        let ptr = isa.pointer_type();
        let helper = |params: &[types::Type]| {
            let mut sig = Signature::new(isa.default_call_conv());
            sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
            sig.returns.push(AbiParam::new(I32));
            sig
        };
        let helper_sigs = (helper(&[ptr, ptr, I32, I32]), helper(&[ptr, ptr, I32]));
        Ok(Translator {
            isa,
            code,
            ctx: Context::new(),
            fctx: FunctionBuilderContext::new(),
            sig,
            helper_sigs,
            chaining: true,
            metering: true,
            compiled: 0,
            dump: std::env::var("AVM_JIT_DUMP").is_ok_and(|v| v == "1"),
            #[cfg(test)]
            panic_while_building: false,
        })
    }

    /// Whether control transfers between the blocks of a region (a loop back
    /// to the entry included) stay inside the function (default on). The
    /// crosscheck, which compares the engines after every block, turns it
    /// off: every block then returns to the dispatcher.
    pub fn set_chaining(&mut self, on: bool) {
        self.chaining = on;
    }

    /// Whether an internal edge checks that the budget covers the next block
    /// (default on: exact metering). Off only to measure what metering costs
    /// (`JitConfig::metering`); a run may then overshoot its limit.
    pub fn set_metering(&mut self, on: bool) {
        self.metering = on;
    }

    /// Compile a single block `ops`, whose encoded bytes are `bytes` (a
    /// region of one block).
    pub fn compile(&mut self, ops: &[Op], bytes: &[u8]) -> Result<Compiled, CompileError> {
        self.compile_region(&[RegionBlock { rel: 0, ops, bytes, page: 0, straddler: None }])
    }

    /// Compile a region: `blocks[0]` is the entry; the others are reached
    /// from it through [`static_successors`] and lie in the same page.
    ///
    /// Cranelift reports a broken invariant by panicking. The region is
    /// chosen by guest code, and the host must not go down with a compiler
    /// bug that guest code can reach, so a panic is caught here and becomes
    /// [`CompileError::Panic`]: the engine interprets that region, and
    /// later compiles start from fresh contexts.
    pub fn compile_region(&mut self, blocks: &[RegionBlock]) -> Result<Compiled, CompileError> {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.compile_unguarded(blocks)));
        caught.unwrap_or_else(|payload| {
            // A function half built or half compiled: start the next one
            // from scratch.
            self.ctx = Context::new();
            self.fctx = FunctionBuilderContext::new();
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(CompileError::Panic(what))
        })
    }

    fn compile_unguarded(&mut self, blocks: &[RegionBlock]) -> Result<Compiled, CompileError> {
        check_region(blocks)?;
        let err = |e: &dyn std::fmt::Display| CompileError::Cranelift(e.to_string());
        self.ctx.clear();
        self.ctx.func.signature = self.sig.clone();
        let frontend = self.isa.frontend_config();
        {
            let mut b = FunctionBuilder::new(&mut self.ctx.func, &mut self.fctx);
            let helpers = Helpers {
                exec: b.import_signature(self.helper_sigs.0.clone()),
                exec_next: b.import_signature(self.helper_sigs.1.clone()),
            };
            let region_sig = b.import_signature(self.sig.clone());
            // Spread the regions over the stub copies.
            self.compiled = self.compiled.wrapping_add(1);
            let stub = (self.compiled % CHAIN_STUBS as u64) as usize;
            Emitter::emit(&mut b, helpers, (region_sig, stub), blocks, self.chaining, self.metering);
            #[cfg(test)]
            if std::mem::take(&mut self.panic_while_building) {
                panic!("injected: a compiler bug in the middle of a function");
            }
            b.seal_all_blocks();
            b.finalize(frontend);
        }
        self.ctx.set_disasm(self.dump);
        if self.dump {
            eprintln!("{}{}", dump_region(blocks), self.ctx.func.display());
        }
        let compiled = self.ctx.compile(&*self.isa, &mut ControlPlane::default()).map_err(|e| err(&e.inner))?;
        if self.dump {
            eprintln!("; host code\n{}", compiled.vcode.as_deref().unwrap_or(""));
        }
        // Helpers are called through absolute addresses and jump tables are
        // relative to the function: the code runs wherever it is copied.
        if !compiled.buffer.relocs().is_empty() {
            return Err(CompileError::Cranelift("region code needs relocations".into()));
        }
        let bytes = compiled.code_buffer();
        let code_size = u32::try_from(bytes.len()).map_err(|_| CompileError::Region("code too large"))?;
        let align = compiled.buffer.alignment as usize;
        let ptr = self.code.install(bytes, align).map_err(|e| CompileError::CodeMemory(e.to_string()))?;
        // SAFETY: `ptr` is the entry of a function just compiled with
        // signature `self.sig`, the region signature, and installed as a
        // whole. The code lives as long as `self.code`, and the engine drops
        // every `BlockFn` with it.
        let func = unsafe { BlockFn::from_code(ptr) };
        Ok(Compiled { func, code_size })
    }

    /// Tests: make Cranelift panic in the middle of the next function.
    #[cfg(test)]
    pub(crate) fn fail_next_compile(&mut self) {
        self.panic_while_building = true;
    }

    /// Release all compiled code.
    ///
    /// # Safety
    /// No [`BlockFn`] obtained from this translator may be called afterwards.
    pub unsafe fn free(self) {
        // SAFETY: forwarded to the caller.
        unsafe { self.code.free() };
    }
}

/// The guest side of a region dump (`AVM_JIT_DUMP=1`): each block
/// disassembled as if the region's entry were at address 0 (the code does
/// not depend on where it runs).
fn dump_region(blocks: &[RegionBlock]) -> String {
    use avm_isa::disasm::Disasm;
    let mut out = format!("; region of {} guest blocks (addresses relative to its entry)\n", blocks.len());
    for blk in blocks {
        let mut at = blk.rel as u32;
        for op in blk.ops {
            let d = Disasm { decoded: Decoded { inst: op.inst, len: op.len }, pc: at };
            out += &format!(";   {at:08x}: {d}\n");
            at = at.wrapping_add(u32::from(op.len));
        }
        if let Some(word) = blk.straddler {
            let how = match straddles_inline(word) {
                Some(inst) => {
                    format!("{}, compiled for these bits", Disasm { decoded: Decoded { inst, len: 4 }, pc: at })
                }
                None => "run by jit_exec_next".into(),
            };
            out += &format!(";   {at:08x}: (crosses the page end: {how})\n");
        }
    }
    out
}

/// The translator's preconditions on a region: an entry at offset 0, no
/// empty block, bytes that cover every instruction.
fn check_region(blocks: &[RegionBlock]) -> Result<(), CompileError> {
    let Some(entry) = blocks.first() else { return Err(CompileError::Region("no blocks")) };
    if entry.rel != 0 || entry.page != 0 {
        return Err(CompileError::Region("the entry block is not at offset 0 of page 0"));
    }
    let (lo, hi) = blocks.iter().fold((0, 0), |(lo, hi), b| (b.page.min(lo), b.page.max(hi)));
    if hi - lo > 1 {
        return Err(CompileError::Region("a region spans more than two adjacent pages"));
    }
    for block in blocks {
        let len: usize = block.ops.iter().map(|o| usize::from(o.len)).sum();
        if block.ops.is_empty() || len != block.bytes.len() {
            return Err(CompileError::Region("a block's bytes do not match its instructions"));
        }
    }
    Ok(())
}

/// The registers an instruction translated inline reads or writes (`x0`
/// included, harmlessly). Instructions left to `jit_exec` read and write
/// `m.hart.x` themselves.
fn regs_named(inst: Inst) -> u32 {
    let bit = |r: Reg| 1u32 << r.idx();
    match inst {
        Inst::AluImm { rd, rs1, .. } | Inst::Load { rd, rs1, .. } | Inst::Jalr { rd, rs1, .. } => bit(rd) | bit(rs1),
        Inst::Alu { rd, rs1, rs2, .. } => bit(rd) | bit(rs1) | bit(rs2),
        Inst::Lui { rd, .. } | Inst::Auipc { rd, .. } | Inst::Jal { rd, .. } => bit(rd),
        Inst::Branch { rs1, rs2, .. } | Inst::Store { rs1, rs2, .. } => bit(rs1) | bit(rs2),
        _ => 0,
    }
}

/// Whether guest registers stay in Cranelift variables across the whole
/// region: only for a small region with a loop in it. There they save a
/// store and a reload on every iteration's critical path (~1.5x on tight
/// loops). Elsewhere every register is reloaded after each memory access
/// and at each block start, so no value lives across a split of the
/// function: long live ranges through many blocks are what makes register
/// allocation, most of Cranelift's time, expensive (~1.3x compile time on
/// the keccak and ecdsa workloads), and straight-line code gains little.
fn keeps_registers(region: &[RegionBlock]) -> bool {
    let insts: usize = region.iter().map(|b| b.ops.len()).sum();
    let loops = region.iter().enumerate().any(|(k, b)| {
        static_successors(b.ops).any(|d| region[..=k].iter().any(|earlier| earlier.rel == b.rel.wrapping_add(d as i32)))
    });
    loops && insts <= MAX_KEEP_INSTS
}

/// Largest region that keeps registers in variables.
const MAX_KEEP_INSTS: usize = 64;

/// How many times a small self-loop is unrolled (see [`unrolls`]).
const UNROLL: usize = 4;
/// Longest self-loop body that is unrolled.
const MAX_UNROLL_INSTS: usize = 8;

/// Whether guest block `blk` is emitted [`UNROLL`] times in a row: a short
/// block that branches or jumps back to its own start, with no helper call
/// (nothing in it can set `m.stop_block`). The back edge of each copy but
/// the last goes to the next copy without a budget check; the edge into the
/// first copy checks that the budget covers all of them. Exact metering
/// then costs one check per `UNROLL` iterations: on a 3-instruction loop
/// (the sieve's `sb; add; bltu`) one check per iteration cost ~23% of the
/// loop's time. Unrolling does not depend on metering, so that the JIT
/// with metering off (`Translator::set_metering`) differs only in the
/// checks, and comparing the two measures what metering costs.
fn unrolls(blk: &RegionBlock) -> bool {
    let self_loop = static_successors(blk.ops).any(|d| d == 0);
    self_loop
        && blk.straddler.is_none()
        && blk.ops.len() <= MAX_UNROLL_INSTS
        && blk.ops.iter().all(|op| !is_exec(op.inst))
}

/// The instruction `word`, if a block's page-straddling last instruction
/// with these bits runs compiled (see `Emitter::straddler`): one with no
/// memory access and no helper call (ALU, branch, jump, `fence`), whose
/// effects are all in registers and `pc`. Others (rare at a page end) go
/// through `jit_exec_next`.
pub fn straddles_inline(word: u32) -> Option<Inst> {
    let Decoded { inst, len } = decode(word);
    let simple = !is_exec(inst) && !matches!(inst, Inst::Load { .. } | Inst::Store { .. });
    (len == 4 && simple).then_some(inst)
}

/// The register an inline instruction writes, as a bit.
fn regs_written(inst: Inst) -> u32 {
    written_reg(inst).map_or(0, |rd| 1 << rd.idx())
}

/// The register an inline instruction writes, if any (instructions left to
/// `jit_exec` write `m.hart.x` themselves and are not counted).
pub(crate) fn written_reg(inst: Inst) -> Option<Reg> {
    match inst {
        Inst::AluImm { rd, .. }
        | Inst::Load { rd, .. }
        | Inst::Jalr { rd, .. }
        | Inst::Alu { rd, .. }
        | Inst::Lui { rd, .. }
        | Inst::Auipc { rd, .. }
        | Inst::Jal { rd, .. } => Some(rd),
        _ => None,
    }
}

/// True if the instruction is translated as a call to `jit_exec`.
pub(crate) fn is_exec(inst: Inst) -> bool {
    !matches!(
        inst,
        Inst::AluImm { .. }
            | Inst::Alu { .. }
            | Inst::Lui { .. }
            | Inst::Auipc { .. }
            | Inst::Load { .. }
            | Inst::Store { .. }
            | Inst::Branch { .. }
            | Inst::Jal { .. }
            | Inst::Jalr { .. }
            | Inst::Fence { .. }
    )
}

/// The signatures of the two helpers a region calls, by absolute address
/// (so that region code needs no relocation, see [`CodeMemory`]).
#[derive(Clone, Copy)]
struct Helpers {
    /// `helpers::jit_exec`.
    exec: SigRef,
    /// `helpers::jit_exec_next`.
    exec_next: SigRef,
}

/// State of one function being emitted.
struct Emitter<'f, 'r> {
    b: &'f mut FunctionBuilder<'r>,
    m: Value,
    ctx: Value,
    /// Host address of RAM (loaded in the prologue if the region accesses
    /// memory).
    ram: Value,
    helpers: Helpers,
    /// Guest registers.
    vars: [Variable; 32],
    /// Registers the region names: loaded in the prologue and again after a
    /// helper call.
    named: u32,
    /// Registers the region's inline instructions write.
    written: u32,
    /// Bit r: `vars[r]` differs from `m.hart.x[r]`.
    dirty: u32,
    /// Bit r: `vars[r]` holds the guest register.
    loaded: u32,
    /// Internal edges check the budget.
    metering: bool,
    /// A normal exit tail-calls the next region when the dispatcher would
    /// (see [`Emitter::tail_call`]): with chaining, in a region that calls
    /// no helper that can go on (`jit_exec`; `jit_exec_next` always ends
    /// the call).
    tail_calls: bool,
    /// The region signature, for the tail call.
    region_sig: SigRef,
    /// Which copy of the chain stub the tail call goes to.
    stub: usize,
    /// Registers stay in their variables across the whole region (a loop);
    /// otherwise they are reloaded after every memory access and helper call
    /// and at every guest block start (see [`keeps_registers`]).
    keep: bool,
    /// The budget left at the start of the current guest block: `limit -
    /// instret`. Counting down makes an internal edge one subtraction and
    /// one compare with a constant (the next block's length); `instret` is
    /// only computed where the code leaves.
    fuel: Variable,
    /// Some block of the region calls `jit_exec`.
    has_exec: bool,
    /// `m.stop_block` may have been set in the current guest block (only a
    /// helper can set it): stores must then check it.
    may_stop: bool,
    /// The region's guest blocks, in region order.
    blocks: Vec<GuestBlock>,
    /// How many of `blocks` control may jump to (all, or none without
    /// chaining).
    internal: usize,
    /// Per guest block: the extra copies of an unrolled self-loop
    /// ([`unrolls`]), empty for other blocks. Copy `j` continues unchecked
    /// into copy `j + 1`, the last one into the block itself.
    unrolled: Vec<Vec<Block>>,
    /// The guest block being emitted and which of its unrolled copies (`None`:
    /// the block itself).
    at_block: usize,
    at_copy: Option<usize>,
    /// Exit that stores `pc` and `instret` (params: pc, instret, status).
    ret: Block,
    /// Exit after a helper that set `pc`/`instret` itself (param: status).
    ret_raw: Block,
    /// Side exit of a load or store that missed the TLB (param: the packed
    /// [`helpers::MissSite`]).
    miss: Block,
    /// The current guest block's access groups ([`crate::group`]): the
    /// group of each instruction, the groups, and each group's host address
    /// of `base + min` once its check is emitted.
    member: Vec<Option<usize>>,
    groups: Vec<Group>,
    group_host: Vec<Option<Value>>,
    /// Per instruction of the current guest block: store its result at
    /// once (see [`Emitter::last_definitions`]); and the instruction being
    /// emitted.
    store_now: Vec<bool>,
    cur: usize,
}

/// A guest block of the function being emitted.
#[derive(Clone, Copy)]
struct GuestBlock {
    /// Byte offset from the region's first block.
    rel: i32,
    /// Its Cranelift block.
    block: Block,
    /// Instructions, a straddler included: the budget entering it needs.
    len: u32,
    /// See [`RegionBlock::page`].
    page: i32,
}

/// The address of the TLB entry for `addr` in the read side of machine `m`
/// (add the side's offset): `m + (page % TLB_ENTRIES) * 8`.
fn tlb_entry(b: &mut FunctionBuilder, m: Value, addr: Value) -> Value {
    let idx = b.ins().ushr_imm_u(addr, 12 - 3);
    let idx = b.ins().band_imm_u(idx, ((avm_mmu::tlb::TLB_ENTRIES - 1) << 3) as i64);
    let idx = b.ins().uextend(I64, idx);
    b.ins().iadd(m, idx)
}

/// The fetch-TLB entry for `addr`'s page (the read side's address; add
/// `OFF_TLB_FETCH`), and a value that is zero exactly when the entry holds
/// that page: a hit, for an access that stays in the page.
fn fetch_entry(b: &mut FunctionBuilder, m: Value, addr: Value) -> (Value, Value) {
    let entry = tlb_entry(b, m, addr);
    let tag = b.ins().load(I32, state_flags(), entry, OFF_TLB_FETCH + OFF_TAG);
    let want = b.ins().band_imm_u(addr, !0xfff_i64 & 0xffff_ffff);
    (entry, b.ins().bxor(tag, want))
}

/// The body of the chain stub (see [`Trampoline`]), entered by a region's
/// normal exit with `pc` and `instret` stored: if the dispatcher's chain
/// loop would call compiled code next without doing anything else,
/// tail-call it, else return `STATUS_END`. The same tests as
/// `JitEngine::next_compiled`, of which three hold without a test (no
/// pending device exit, no invalidated code page, no pending and enabled
/// interrupt): the dispatcher checked them before the call that began this
/// chain, and only a helper could have changed them since (an HTIF exit or
/// a code-page write misses the TLB and leaves through a side exit;
/// interrupt state changes only in system instructions), and only regions
/// that call no helper that goes on come here. Tested: budget left and a
/// budget that covers the next block (with metering off the limit is
/// `u64::MAX`, so it always does), a fetch-TLB hit for `pc`, and code for
/// its RAM offset in the successor cache. An odd `pc` (a `Tlb::lookup` of 2
/// bytes at 0xfff misses) finds no slot: blocks start at even offsets.
fn emit_chain_stub(b: &mut FunctionBuilder, m: Value, ctx: Value, region_sig: SigRef) {
    let pc = b.ins().load(I32, state_flags(), m, OFF_PC);
    let instret = b.ins().load(I64, state_flags(), m, OFF_INSTRET);
    let (entry, miss) = fetch_entry(b, m, pc);
    let hit = b.ins().icmp_imm_u(IntCC::Equal, miss, 0);
    let (lookup, go, out) = (b.create_block(), b.create_block(), b.create_block());
    b.ins().brif(hit, lookup, &[], out, &[]);
    b.seal_block(lookup);
    b.switch_to_block(lookup);
    let delta = b.ins().load(I32, state_flags(), entry, OFF_TLB_FETCH + OFF_DELTA);
    let off = b.ins().iadd(pc, delta);
    let index = b.ins().ushr_imm_u(off, 1);
    let index = b.ins().band_imm_u(index, (SUCC_SLOTS - 1) as i64);
    let index = b.ins().uextend(I64, index);
    let byte = b.ins().imul_imm_u(index, size_of::<SuccSlot>() as i64);
    let table = b.ins().load(I64, state_flags(), ctx, OFF_CTX_SUCC);
    let slot = b.ins().iadd(table, byte);
    let func = b.ins().load(I64, state_flags(), slot, OFF_SLOT_FUNC);
    let slot_off = b.ins().load(I32, state_flags(), slot, OFF_SLOT_OFF);
    let present = b.ins().icmp_imm_u(IntCC::NotEqual, func, 0);
    let same = b.ins().icmp(IntCC::Equal, slot_off, off);
    let found = b.ins().band(present, same);
    let limit = b.ins().load(I64, state_flags(), ctx, OFF_CTX_LIMIT);
    let left = b.ins().isub(limit, instret);
    let len = b.ins().load(I32, state_flags(), slot, OFF_SLOT_LEN);
    let len = b.ins().uextend(I64, len);
    let under = b.ins().icmp(IntCC::UnsignedLessThan, instret, limit);
    let fits = b.ins().icmp(IntCC::UnsignedLessThanOrEqual, len, left);
    let budget = b.ins().band(under, fits);
    let ok = b.ins().band(found, budget);
    b.ins().brif(ok, go, &[], out, &[]);
    b.seal_block(go);
    b.seal_block(out);
    b.switch_to_block(go);
    let entry_index = b.ins().load(I32, state_flags(), slot, OFF_SLOT_ENTRY);
    let rel = b.ins().load(I32, state_flags(), slot, OFF_SLOT_REL);
    let base = b.ins().isub(pc, rel);
    b.ins().store(state_flags(), base, ctx, OFF_CTX_PC);
    b.ins().store(state_flags(), entry_index, ctx, OFF_CTX_ENTRY);
    let chained = b.ins().load(I64, state_flags(), ctx, OFF_CTX_CHAINED);
    let chained = b.ins().iadd_imm_s(chained, 1);
    b.ins().store(state_flags(), chained, ctx, OFF_CTX_CHAINED);
    b.ins().return_call_indirect(region_sig, func, &[m, ctx]);
    b.switch_to_block(out);
    let end = b.ins().iconst(I32, i64::from(STATUS_END));
    b.ins().return_(&[end]);
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

impl<'f, 'r> Emitter<'f, 'r> {
    /// Emit the whole function for `region` into `b`.
    fn emit(
        b: &'f mut FunctionBuilder<'r>,
        helpers: Helpers,
        (region_sig, stub): (SigRef, usize),
        region: &[RegionBlock],
        chaining: bool,
        metering: bool,
    ) {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let params = b.block_params(entry).to_vec();
        let (m, ctx) = (params[0], params[1]);
        // Every instruction compiled inline, straddlers included.
        let insts = || {
            region
                .iter()
                .flat_map(|blk| blk.ops.iter().map(|op| op.inst).chain(blk.straddler.and_then(straddles_inline)))
        };
        let named = insts().fold(0, |acc, inst| acc | regs_named(inst)) & !1;
        let written = insts().fold(0, |acc, inst| acc | regs_written(inst)) & !1;
        let has_exec = insts().any(is_exec);
        // An inline straddler reads its two halves from RAM.
        let has_mem = insts().any(|inst| matches!(inst, Inst::Load { .. } | Inst::Store { .. }))
            || region.iter().any(|blk| blk.straddler.and_then(straddles_inline).is_some());

        // The dispatcher enters only with `instret <= limit` (the entry
        // block fits the budget), so the fuel never underflows.
        let fuel = b.declare_var(I64);
        let i0 = b.ins().load(I64, state_flags(), m, OFF_INSTRET);
        let limit = b.ins().load(I64, state_flags(), ctx, OFF_CTX_LIMIT);
        let f0 = b.ins().isub(limit, i0);
        b.def_var(fuel, f0);
        let ram = if has_mem { b.ins().load(I64, state_flags(), ctx, OFF_CTX_RAM) } else { b.ins().iconst(I64, 0) };
        let vars = std::array::from_fn(|_| b.declare_var(I32));
        let blocks = region
            .iter()
            .map(|blk| GuestBlock {
                rel: blk.rel,
                block: b.create_block(),
                len: blk.ops.len() as u32 + u32::from(blk.straddler.is_some()),
                page: blk.page,
            })
            .collect();
        let internal = if chaining { region.len() } else { 0 };
        let unrolled = region
            .iter()
            .map(|blk| {
                let copies = if chaining && unrolls(blk) { UNROLL - 1 } else { 0 };
                (0..copies).map(|_| b.create_block()).collect()
            })
            .collect();
        let ret = b.create_block();
        for t in [I32, I64, I32] {
            b.append_block_param(ret, t);
        }
        let ret_raw = b.create_block();
        b.append_block_param(ret_raw, I32);
        b.set_cold_block(ret_raw);
        let miss = b.create_block();
        b.append_block_param(miss, I32);
        b.set_cold_block(miss);

        let mut e = Emitter {
            b,
            m,
            ctx,
            ram,
            helpers,
            vars,
            named,
            written,
            dirty: 0,
            loaded: 0,
            keep: keeps_registers(region),
            metering,
            tail_calls: chaining && !has_exec,
            region_sig,
            stub,
            fuel,
            has_exec,
            may_stop: false,
            blocks,
            internal,
            unrolled,
            at_block: 0,
            at_copy: None,
            ret,
            ret_raw,
            miss,
            member: Vec::new(),
            groups: Vec::new(),
            group_host: Vec::new(),
            store_now: Vec::new(),
            cur: 0,
        };
        if e.keep {
            e.load_named();
        }
        if e.internal > 1 {
            // Every block of the region is an entry: the call starts at
            // block `ctx.entry` (0 = the block the region was formed for).
            let index = e.b.ins().load(I32, state_flags(), ctx, OFF_CTX_ENTRY);
            // Each target needs its own `BlockCall`: SSA construction
            // appends the variables' values to every one of them.
            let calls: Vec<_> = e.blocks.iter().map(|g| e.b.func.dfg.block_call(g.block, &[])).collect();
            let default = e.b.func.dfg.block_call(e.blocks[0].block, &[]);
            let table = JumpTableData::new(default, &calls);
            let table = e.b.create_jump_table(table);
            e.b.ins().br_table(index, table);
        } else {
            let first = e.blocks[0].block;
            e.b.ins().jump(first, &[]);
        }
        for (k, blk) in region.iter().enumerate() {
            let copies = e.unrolled[k].len();
            for copy in (0..copies).map(Some).chain([None]) {
                let cb = copy.map_or(e.blocks[k].block, |j| e.unrolled[k][j]);
                e.b.switch_to_block(cb);
                (e.at_block, e.at_copy) = (k, copy);
                e.dirty = 0;
                e.forget_registers();
                e.may_stop = false;
                e.guest_block(blk);
            }
        }
        e.epilogues();
    }

    /// (Re)load every register the region names from `m.hart.x`.
    fn load_named(&mut self) {
        for i in 1..32 {
            if self.named & (1 << i) != 0 {
                let v = self.b.ins().load(I32, state_flags(), self.m, OFF_X + 4 * i as i32);
                self.b.def_var(self.vars[i], v);
            }
        }
        self.loaded = self.named;
    }

    /// Without `keep`: registers are read from `m.hart.x` again on their
    /// next use (it is exact here: everything was written back), so no
    /// register value lives across this point.
    fn forget_registers(&mut self) {
        if !self.keep {
            self.loaded = 0;
        }
    }

    /// The two shared exits. `ret` stores `pc` and `instret` (and the side
    /// exit's remainder); both store the edge count and return the status.
    fn epilogues(&mut self) {
        // Every exit is emitted: the exits' predecessors are all known.
        self.b.seal_block(self.ret);
        self.b.seal_block(self.ret_raw);
        self.b.seal_block(self.miss);
        self.b.switch_to_block(self.ret);
        let p = self.b.block_params(self.ret).to_vec();
        if self.keep {
            self.store_written();
        }
        self.b.ins().store(state_flags(), p[0], self.m, OFF_PC);
        self.b.ins().store(state_flags(), p[1], self.m, OFF_INSTRET);
        if self.tail_calls {
            // Every exit through `ret` is `STATUS_END`, which the stub
            // returns when it does not chain.
            self.tail_call();
        } else {
            self.b.ins().return_(&[p[2]]);
        }

        self.b.switch_to_block(self.ret_raw);
        let status = self.b.block_params(self.ret_raw)[0];
        self.b.ins().return_(&[status]);

        // A side exit leaves `instret` at the start of the guest block and
        // the site in the context; the engine finishes `pc` and `instret`.
        self.b.switch_to_block(self.miss);
        let site = self.b.block_params(self.miss)[0];
        if self.keep {
            self.store_written();
        }
        let base = self.instret_plus(0);
        self.b.ins().store(state_flags(), base, self.m, OFF_INSTRET);
        self.b.ins().store(state_flags(), site, self.ctx, OFF_CTX_REST);
        let status = self.iconst(STATUS_MISS);
        self.b.ins().return_(&[status]);
    }

    /// At a normal exit (`pc` and `instret` stored): tail-call the chain
    /// stub ([`Trampoline`]), which calls the next region if the
    /// dispatcher's chain loop would, and returns otherwise.
    fn tail_call(&mut self) {
        let copy = OFF_CTX_CHAIN + (size_of::<Option<BlockFn>>() * self.stub) as i32;
        let stub = self.b.ins().load(I64, state_flags(), self.ctx, copy);
        self.b.ins().return_call_indirect(self.region_sig, stub, &[self.m, self.ctx]);
    }

    fn iconst(&mut self, v: u32) -> Value {
        self.b.ins().iconst(I32, i64::from(v))
    }

    /// The entry pc plus a byte offset (wrapping). The entry pc is read
    /// from the context where it is needed, like the limit, rather than
    /// kept in a register the whole time: in a loop, registers are for
    /// guest values.
    fn pc_plus(&mut self, delta: u32) -> Value {
        let pc = self.b.ins().load(I32, state_flags(), self.ctx, OFF_CTX_PC);
        self.b.ins().iadd_imm_s(pc, i64::from(delta))
    }

    fn reg(&mut self, r: Reg) -> Value {
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

    fn set(&mut self, r: Reg, v: Value) {
        let i = r.idx();
        if i == 0 {
            return;
        }
        self.b.def_var(self.vars[i], v);
        self.loaded |= 1 << i;
        if !self.keep && self.store_now.get(self.cur).copied().unwrap_or(false) {
            // The last definition before the next write-back: store it now,
            // so the value need not stay live until then (and the
            // write-back need not store an earlier definition again).
            self.b.ins().store(state_flags(), v, self.m, OFF_X + 4 * i as i32);
            self.dirty &= !(1 << i);
        } else {
            self.dirty |= 1 << i;
        }
    }

    /// Store every dirty register to `m.hart.x`; from here on they agree.
    ///
    /// With `keep` this is left to the exits (see [`Emitter::store_written`]):
    /// registers stay in host registers, and the main path of a loop stores
    /// nothing.
    fn write_back(&mut self) {
        if self.keep {
            return;
        }
        for i in 1..32 {
            if self.dirty & (1 << i) != 0 {
                let v = self.b.use_var(self.vars[i]);
                self.b.ins().store(state_flags(), v, self.m, OFF_X + 4 * i as i32);
            }
        }
        self.dirty = 0;
    }

    /// With `keep`: store every register the region writes. Their variables
    /// are defined everywhere (loaded in the prologue), so this is exact on
    /// every path; an unchanged register stores the value it already had.
    /// In the shared exit blocks, `use_var` makes each register a block
    /// parameter that every exit site passes.
    fn store_written(&mut self) {
        for i in 1..32 {
            if self.written & (1 << i) != 0 {
                let v = self.b.use_var(self.vars[i]);
                self.b.ins().store(state_flags(), v, self.m, OFF_X + 4 * i as i32);
            }
        }
    }

    /// instret at the start of the current guest block plus `k`.
    fn instret_plus(&mut self, k: u32) -> Value {
        let fuel = self.b.use_var(self.fuel);
        let limit = self.b.ins().load(I64, state_flags(), self.ctx, OFF_CTX_LIMIT);
        let base = self.b.ins().isub(limit, fuel);
        if k == 0 {
            return base;
        }
        self.b.ins().iadd_imm_s(base, i64::from(k))
    }

    /// Leave the function: registers, `pc`, `instret = base + retired`,
    /// status.
    ///
    /// An exit may sit on a cold side path (a store that finds
    /// `m.stop_block` set) while the main path goes on: the dirty set is
    /// the main path's and stays as it was.
    fn exit(&mut self, pc: Value, retired: u32, status: u32) {
        let dirty = self.dirty;
        self.write_back();
        self.dirty = dirty;
        let instret = self.instret_plus(retired);
        let s = self.iconst(status);
        self.b.ins().jump(self.ret, &[BlockArg::Value(pc), BlockArg::Value(instret), BlockArg::Value(s)]);
    }

    /// Continue at byte offset `rel` (from the entry) after the current
    /// guest block's `n` instructions retired. Inside the region this is a
    /// jump, taken only where the dispatcher would run that same block next
    /// without doing anything else first:
    /// - the budget covers the whole next block (exact metering; the
    ///   dispatcher would otherwise interpret it);
    /// - `m.stop_block` is clear, if a helper ran: only a helper can set it
    ///   (a write to a code page or to the HTIF device; compiled stores
    ///   never reach either, their TLB side holds only plain RAM) and then
    ///   the dispatcher has invalidations to drain or an exit to report;
    /// - for a block in the region's other page: the fetch TLB maps that
    ///   page as at region formation ([`Self::same_fetch_mapping`]).
    ///
    /// Nothing else the dispatcher tests can have changed since it entered
    /// the function: interrupt state, privilege and translation only change
    /// in system instructions, which end a guest block with no static
    /// successor, and within a page the fetch translation is the one the
    /// dispatcher used (TLB fetch side untouched by compiled code). Otherwise
    /// (and for targets outside the region) return with `pc` = the target.
    fn leave(&mut self, rel: u32, n: u32) {
        self.write_back();
        let Some(k) = self.blocks[..self.internal].iter().position(|g| g.rel as u32 == rel) else {
            let target = self.pc_plus(rel);
            self.exit(target, n, STATUS_END);
            return;
        };
        let GuestBlock { block: next, len, page, .. } = self.blocks[k];
        let here = self.blocks[self.at_block];
        let fuel = self.b.use_var(self.fuel);
        let left = self.b.ins().iadd_imm_s(fuel, -i64::from(n));
        // Inside an unrolled self-loop, the check made before its first copy
        // covered this one: no helper ran since, and the budget was checked
        // for every copy up to the block itself.
        if k == self.at_block {
            if let Some(j) = self.at_copy {
                let to = self.unrolled[k].get(j + 1).copied().unwrap_or(next);
                self.enter(to, left);
                return;
            }
        }
        let mut go = None;
        if self.metering {
            go = Some(self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, left, i64::from(len)));
        }
        if self.has_exec {
            let stop = self.b.ins().uload8(I32, state_flags(), self.m, OFF_STOP);
            let clear = self.b.ins().icmp_imm_u(IntCC::Equal, stop, 0);
            go = Some(match go {
                Some(fits) => self.b.ins().band(fits, clear),
                None => clear,
            });
        }
        if page != here.page {
            let same = self.same_fetch_mapping(here.rel as u32, rel);
            go = Some(match go {
                Some(ok) => self.b.ins().band(ok, same),
                None => same,
            });
        }
        let first_copy = self.unrolled[k].first().copied();
        let Some(go) = go else {
            self.enter(first_copy.unwrap_or(next), left);
            return;
        };
        let cont = self.unless_cold(go);
        // The target's pc is only computed where it is needed.
        let target = self.pc_plus(rel);
        self.exit(target, n, STATUS_END);
        self.b.switch_to_block(cont);
        match first_copy {
            // An unrolled self-loop: run all its copies if the budget covers
            // them (one check for `UNROLL` iterations), else the block alone.
            Some(first) if self.metering => {
                let all =
                    self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, left, i64::from(len) * UNROLL as i64);
                let (whole, single) = (self.b.create_block(), self.b.create_block());
                self.b.ins().brif(all, whole, &[], single, &[]);
                self.b.seal_block(whole);
                self.b.seal_block(single);
                self.b.switch_to_block(whole);
                self.enter(first, left);
                self.b.switch_to_block(single);
                self.enter(next, left);
            }
            _ => self.enter(first_copy.unwrap_or(next), left),
        }
    }

    /// Whether the fetch TLB maps the pages of region offsets `from` and
    /// `to` (adjacent pages) with one delta: then they are as adjacent in
    /// RAM as they were when the region was formed from RAM, and the block
    /// at `to` is the one compiled (its page is marked as code, so a write
    /// to it would have dropped this region). Both entries must hit, as a
    /// fetch that does not walk the page table would need; a miss, a remap
    /// or a privilege change that flushed the TLB make this false, and the
    /// code leaves for the dispatcher, which fetches through the MMU.
    fn same_fetch_mapping(&mut self, from: u32, to: u32) -> Value {
        let [(e0, miss0), (e1, miss1)] = [from, to].map(|rel| {
            let addr = self.pc_plus(rel);
            self.fetch_entry(addr)
        });
        let b = &mut self.b;
        let [d0, d1] = [e0, e1].map(|entry| b.ins().load(I32, state_flags(), entry, OFF_TLB_FETCH + OFF_DELTA));
        let other_delta = b.ins().bxor(d0, d1);
        let misses = b.ins().bor(miss0, miss1);
        let bad = b.ins().bor(other_delta, misses);
        b.ins().icmp_imm_u(IntCC::Equal, bad, 0)
    }

    /// The fetch-TLB entry for `addr`'s page (the read side's address; add
    /// `OFF_TLB_FETCH`), and a value that is zero exactly when the entry
    /// holds that page: a hit, for an access that stays in the page.
    fn fetch_entry(&mut self, addr: Value) -> (Value, Value) {
        fetch_entry(self.b, self.m, addr)
    }

    /// Branch on `ok`: go on in a new block if it holds, else to a new cold
    /// block, which becomes the current one. Returns the block to go on in,
    /// for the caller to switch to once the cold path is emitted.
    fn unless_cold(&mut self, ok: Value) -> Block {
        let cont = self.b.create_block();
        let cold = self.b.create_block();
        self.b.set_cold_block(cold);
        self.b.ins().brif(ok, cont, &[], cold, &[]);
        self.b.seal_block(cont);
        self.b.seal_block(cold);
        self.b.switch_to_block(cold);
        cont
    }

    /// Cross an internal edge into guest block `next`, with `fuel` left.
    fn enter(&mut self, next: Block, fuel: Value) {
        self.b.def_var(self.fuel, fuel);
        self.b.ins().jump(next, &[]);
    }

    /// Emit one guest block (the current Cranelift block is its own).
    fn guest_block(&mut self, blk: &RegionBlock) {
        (self.member, self.groups) = crate::group::plan(blk.ops);
        self.store_now = self.last_definitions(blk.ops);
        self.group_host = vec![None; self.groups.len()];
        let rel = blk.rel as u32;
        let n = blk.ops.len() as u32;
        let mut at = 0u32;
        for (i, op) in blk.ops.iter().enumerate() {
            let len = u32::from(op.len);
            let word = match op.len {
                2 => u32::from(u16::from_le_bytes([blk.bytes[at as usize], blk.bytes[at as usize + 1]])),
                _ => u32::from_le_bytes([
                    blk.bytes[at as usize],
                    blk.bytes[at as usize + 1],
                    blk.bytes[at as usize + 2],
                    blk.bytes[at as usize + 3],
                ]),
            };
            let site = Site { i: i as u32, at: rel.wrapping_add(at), len, n };
            self.cur = i;
            if self.inst(op.inst, site, word) {
                return;
            }
            at += len;
        }
        // No control transfer at the end: fall through (cut by the length
        // cap or the page end, or after a system instruction).
        let next = rel.wrapping_add(at);
        if let Some(word) = blk.straddler {
            self.straddler(n, next, word);
            return;
        }
        let last = blk.ops[blk.ops.len() - 1].inst;
        if last.ends_block() {
            let target = self.pc_plus(next);
            self.exit(target, n, STATUS_END);
        } else {
            self.leave(next, n);
        }
    }

    /// For each instruction of a block: whether it writes a register that no
    /// later instruction writes before the next write-back point (a load or
    /// store with its own TLB check, the first access of a group, a helper
    /// call; the block's end). Such a value is stored when it is computed
    /// rather than at the write-back: its live range then ends at its last
    /// use. Keeping every written register live to the next write-back made
    /// long ALU sequences spill, and register allocation is most of the
    /// compile time (~2 µs per instruction for 20 live registers against
    /// ~0.3 µs).
    fn last_definitions(&self, ops: &[Op]) -> Vec<bool> {
        let write_back_at = |k: usize| {
            let inst = ops[k].inst;
            is_exec(inst)
                || (matches!(inst, Inst::Load { .. } | Inst::Store { .. })
                    && self.member[k].is_none_or(|g| self.groups[g].first == k))
        };
        (0..ops.len())
            .map(|i| {
                let rd = regs_written(ops[i].inst) & !1;
                rd != 0
                    && (i + 1..ops.len())
                        .take_while(|&j| !write_back_at(j))
                        .all(|j| regs_written(ops[j].inst) & rd == 0)
            })
            .collect()
    }

    /// Emit one instruction. Returns true if it ended the guest block (a
    /// jump or branch).
    fn inst(&mut self, inst: Inst, s: Site, word: u32) -> bool {
        match inst {
            // `li` and `mv` (`addi rd, x0, imm`, `add rd, x0, rs`) are a
            // constant and a copy: no IR for an operation with x0.
            Inst::AluImm { op: AluImmOp::Addi | AluImmOp::Ori | AluImmOp::Xori, rd, rs1: Reg::ZERO, imm } => {
                let v = self.iconst(imm as u32);
                self.set(rd, v);
            }
            Inst::Alu { op: AluOp::Add | AluOp::Or | AluOp::Xor, rd, rs1: Reg::ZERO, rs2: r }
            | Inst::Alu { op: AluOp::Add | AluOp::Sub | AluOp::Or | AluOp::Xor, rd, rs1: r, rs2: Reg::ZERO } => {
                let v = self.reg(r);
                self.set(rd, v);
            }
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
                let v = self.pc_plus(s.at.wrapping_add(imm));
                self.set(rd, v);
            }
            Inst::Load { op, rd, rs1, offset } => self.load(op, rd, rs1, offset, s),
            Inst::Store { op, rs1, rs2, offset } => self.store(op, rs1, rs2, offset, s),
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
                self.write_back();
                let (to, fall) = (s.at.wrapping_add(offset as u32), s.at.wrapping_add(s.len));
                let yes = self.b.create_block();
                let no = self.b.create_block();
                self.b.ins().brif(taken, yes, &[], no, &[]);
                self.b.seal_block(yes);
                self.b.seal_block(no);
                self.b.switch_to_block(yes);
                self.leave(to, s.n);
                self.b.switch_to_block(no);
                self.leave(fall, s.n);
                return true;
            }
            Inst::Jal { rd, offset } => {
                let link = self.pc_plus(s.at.wrapping_add(s.len));
                self.set(rd, link);
                let to = s.at.wrapping_add(offset as u32);
                self.leave(to, s.n);
                return true;
            }
            Inst::Jalr { rd, rs1, offset } => {
                let base = self.reg(rs1);
                let sum = self.b.ins().iadd_imm_s(base, i64::from(offset));
                let target = self.b.ins().band_imm_u(sum, 0xffff_fffe);
                let link = self.pc_plus(s.at.wrapping_add(s.len));
                self.set(rd, link);
                self.exit(target, s.n, STATUS_END);
                return true;
            }
            // One in-order hart: nothing to order.
            Inst::Fence { .. } => {}
            _ => self.exec(s, word),
        }
        false
    }

    /// Hand one instruction to the interpreter's `execute` (see
    /// `helpers::jit_exec`).
    fn exec(&mut self, s: Site, word: u32) {
        // The helper reads and writes `m.hart.x`.
        if self.keep {
            self.store_written();
        } else {
            self.write_back();
        }
        let instret = self.instret_plus(s.i);
        self.b.ins().store(state_flags(), instret, self.m, OFF_INSTRET);
        let pc = self.pc_plus(s.at);
        let w = self.iconst(word);
        let f = self.b.ins().iconst(I64, helpers::jit_exec as *const () as i64);
        let call = self.b.ins().call_indirect(self.helpers.exec, f, &[self.m, self.ctx, w, pc]);
        let status = self.b.inst_results(call)[0];
        let cont = self.b.create_block();
        // STATUS_CONTINUE is 0: any other status leaves as it is.
        const _: () = assert!(STATUS_CONTINUE == 0);
        self.b.ins().brif(status, self.ret_raw, &[BlockArg::Value(status)], cont, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
        // The helper may have written its rd (and x0 back to 0).
        if self.keep {
            self.load_named();
        } else {
            self.loaded = 0;
        }
        // The helper may have left `m.stop_block` set (a write to a code
        // page, or a page walk's A/D update in one) without ending the
        // block.
        self.may_stop = true;
    }

    /// Run the instruction at region offset `at`, after the block's `n`
    /// (it straddles the page end), and leave. If it is one that
    /// [`straddles_inline`] allows, and memory still holds the `word` it
    /// was compiled for, it runs compiled: both halves are fetched through
    /// the fetch TLB (a hit on both pages means the interpreter's
    /// `fetch_word` would succeed with no side effect) and compared with
    /// `word` on every run, so neither a rewrite of the next page nor a
    /// different mapping of it can run stale code, and neither needs an
    /// invalidation. Otherwise [`Self::exec_next`] runs it. On the keccak
    /// workload, whose round loop crosses a page, `jit_exec_next` with its
    /// fetch and decode was ~13% of a warm run.
    fn straddler(&mut self, n: u32, at: u32, word: u32) {
        let Some(inst) = straddles_inline(word) else {
            self.exec_next(n, at);
            return;
        };
        // Each half sits at an even address, so it never crosses a page.
        let entries = [at, at.wrapping_add(2)].map(|rel| {
            let addr = self.pc_plus(rel);
            let (entry, miss) = self.fetch_entry(addr);
            (addr, entry, miss)
        });
        let b = &mut self.b;
        let misses = b.ins().bor(entries[0].2, entries[1].2);
        let both = b.ins().icmp_imm_u(IntCC::Equal, misses, 0);
        let (fetched, inline, slow) = (b.create_block(), b.create_block(), b.create_block());
        b.set_cold_block(slow);
        b.ins().brif(both, fetched, &[], slow, &[]);
        b.seal_block(fetched);
        b.switch_to_block(fetched);
        let ram = self.ram;
        let [low, high] = entries.map(|(addr, entry, _)| {
            let delta = b.ins().load(I32, state_flags(), entry, OFF_TLB_FETCH + OFF_DELTA);
            let off = b.ins().iadd(addr, delta);
            let off = b.ins().uextend(I64, off);
            let host = b.ins().iadd(ram, off);
            b.ins().uload16(I32, ram_flags(), host, 0)
        });
        let high = b.ins().ishl_imm_u(high, 16);
        let fetched_word = b.ins().bor(low, high);
        let same = b.ins().icmp_imm_u(IntCC::Equal, fetched_word, i64::from(word));
        b.ins().brif(same, inline, &[], slow, &[]);
        b.seal_block(inline);
        b.seal_block(slow);
        b.switch_to_block(slow);
        self.exec_next(n, at);
        self.b.switch_to_block(inline);
        self.cur = n as usize;
        let site = Site { i: n, at, len: 4, n: n + 1 };
        if !self.inst(inst, site, word) {
            self.leave(at.wrapping_add(4), n + 1);
        }
    }

    /// Run the instruction after the block (it straddles the page end)
    /// through `helpers::jit_exec_next` and leave: the helper fetches it
    /// across the boundary, executes it and sets `pc`/`instret` (or stashes
    /// the trap or exit) itself.
    fn exec_next(&mut self, n: u32, at: u32) {
        if self.keep {
            self.store_written();
        } else {
            self.write_back();
        }
        let instret = self.instret_plus(n);
        self.b.ins().store(state_flags(), instret, self.m, OFF_INSTRET);
        let pc = self.pc_plus(at);
        let f = self.b.ins().iconst(I64, helpers::jit_exec_next as *const () as i64);
        let call = self.b.ins().call_indirect(self.helpers.exec_next, f, &[self.m, self.ctx, pc]);
        let status = self.b.inst_results(call)[0];
        self.b.ins().jump(self.ret_raw, &[BlockArg::Value(status)]);
    }

    /// The TLB hit test of `Tlb::lookup` and the side exit on a miss;
    /// returns the host address to access in the continuation.
    ///
    /// The in-page check is folded into the tag compare: the tag is compared
    /// with the page of the access's *last* byte, looked up in the slot of its
    /// first byte. Without a page crossing both pages are the same; with one,
    /// the last byte's page is the next page, whose tag can never sit in the
    /// first page's slot (consecutive pages use consecutive slots, and there
    /// is more than one slot), so the access misses, as `Tlb::lookup` says.
    fn tlb_access(&mut self, side: i32, addr: Value, width: u32, s: Site) -> Value {
        const _: () = assert!(avm_mmu::tlb::TLB_ENTRIES > 1);
        // The side exit needs `m.hart.x` exact.
        self.write_back();
        let entry = self.tlb_entry(addr);
        let b = &mut self.b;
        let tag = b.ins().load(I32, state_flags(), entry, side + OFF_TAG);
        let last = if width > 1 { b.ins().iadd_imm_s(addr, i64::from(width - 1)) } else { addr };
        let want = b.ins().band_imm_u(last, !0xfff_i64 & 0xffff_ffff);
        let hit = b.ins().icmp(IntCC::Equal, tag, want);
        self.side_exit_unless(hit, s);
        let b = &mut self.b;
        let delta = b.ins().load(I32, state_flags(), entry, side + OFF_DELTA);
        let off = b.ins().iadd(addr, delta);
        let off = b.ins().uextend(I64, off);
        b.ins().iadd(self.ram, off)
    }

    /// The address of the TLB entry for `addr` in the read side (add the
    /// side's offset): `m + (page % TLB_ENTRIES) * 8`.
    fn tlb_entry(&mut self, addr: Value) -> Value {
        tlb_entry(self.b, self.m, addr)
    }

    /// Continue only if `ok`; otherwise take the side exit of site `s`
    /// (one jump to the shared miss block).
    fn side_exit_unless(&mut self, ok: Value, s: Site) {
        let cont = self.unless_cold(ok);
        let site = self.iconst(s.packed());
        self.b.ins().jump(self.miss, &[BlockArg::Value(site)]);
        self.b.switch_to_block(cont);
        self.forget_registers();
    }

    /// The check of access group `g` (see [`crate::group`]), at its first
    /// access `s`: both ends of `[base + min, base + min + span)` hit the TLB
    /// on every side the group uses, with one delta. Returns the host address
    /// of `base + min`; on failure, the side exit of the first access.
    fn group_check(&mut self, g: usize, s: Site) -> Value {
        let Group { base, min, span, reads, writes, .. } = self.groups[g].clone();
        // The side exit needs `m.hart.x` exact.
        self.write_back();
        let base = self.reg(base);
        let lo = self.address(base, min);
        let hi = self.b.ins().iadd_imm_s(lo, i64::from(span - 1));
        // Each end's slot and page are computed once for both sides. The
        // tests are folded into one word: `tag ^ page` is 0 on a hit and
        // `delta ^ delta0` is 0 when the deltas agree, so the group hits
        // exactly when the `or` of them all is 0 (no flag materialised per
        // test, one compare and branch).
        let ends = [lo, hi].map(|addr| {
            let entry = self.tlb_entry(addr);
            let page = self.b.ins().band_imm_u(addr, !0xfff_i64 & 0xffff_ffff);
            (entry, page)
        });
        let sides = [(reads, OFF_TLB_READ), (writes, OFF_TLB_WRITE)];
        let mut bad: Option<Value> = None;
        let mut delta: Option<Value> = None;
        for (_, side) in sides.into_iter().filter(|(used, _)| *used) {
            for (entry, page) in ends {
                let b = &mut self.b;
                let tag = b.ins().load(I32, state_flags(), entry, side + OFF_TAG);
                let mut miss = b.ins().bxor(tag, page);
                let d = b.ins().load(I32, state_flags(), entry, side + OFF_DELTA);
                match delta {
                    Some(d0) => {
                        let other = b.ins().bxor(d, d0);
                        miss = b.ins().bor(miss, other);
                    }
                    None => delta = Some(d),
                }
                bad = Some(match bad {
                    Some(all) => b.ins().bor(all, miss),
                    None => miss,
                });
            }
        }
        let (Some(bad), Some(delta)) = (bad, delta) else { unreachable!("a group has at least one access") };
        let ok = self.b.ins().icmp_imm_u(IntCC::Equal, bad, 0);
        self.side_exit_unless(ok, s);
        let off = self.b.ins().iadd(lo, delta);
        let off = self.b.ins().uextend(I64, off);
        self.b.ins().iadd(self.ram, off)
    }

    /// The host address of an access, as a base and a displacement: its
    /// group's (checking the group at its first access), or its own
    /// single-access check.
    fn host(&mut self, side: i32, rs1: Reg, offset: i32, width: u32, s: Site) -> (Value, i32) {
        let Some(g) = self.member.get(s.i as usize).copied().flatten() else {
            let base = self.reg(rs1);
            let addr = self.address(base, offset);
            return (self.tlb_access(side, addr, width, s), 0);
        };
        let min = self.groups[g].min;
        let host = match self.group_host[g] {
            Some(host) => host,
            None => {
                let host = self.group_check(g, s);
                self.group_host[g] = Some(host);
                host
            }
        };
        (host, offset - min)
    }

    /// `base + offset`, the guest address of an access. With offset 0 it is
    /// the register's value itself: an `iadd` of 0 would be lowered, without
    /// the optimiser, into a second copy of the instruction that computed
    /// the base (the sieve's `add a4,s0,a5; sb a0,0(a4)`).
    fn address(&mut self, base: Value, offset: i32) -> Value {
        if offset == 0 {
            return base;
        }
        self.b.ins().iadd_imm_s(base, i64::from(offset))
    }

    fn load(&mut self, op: LoadOp, rd: Reg, rs1: Reg, offset: i32, s: Site) {
        let (host, disp) = self.host(OFF_TLB_READ, rs1, offset, op.width(), s);
        let f = ram_flags();
        let v = match op {
            LoadOp::Lb => self.b.ins().sload8(I32, f, host, disp),
            LoadOp::Lbu => self.b.ins().uload8(I32, f, host, disp),
            LoadOp::Lh => self.b.ins().sload16(I32, f, host, disp),
            LoadOp::Lhu => self.b.ins().uload16(I32, f, host, disp),
            LoadOp::Lw => self.b.ins().load(I32, f, host, disp),
        };
        self.set(rd, v);
    }

    fn store(&mut self, op: StoreOp, rs1: Reg, rs2: Reg, offset: i32, s: Site) {
        let (host, disp) = self.host(OFF_TLB_WRITE, rs1, offset, op.width(), s);
        let value = self.reg(rs2);
        let f = ram_flags();
        match op {
            StoreOp::Sb => self.b.ins().istore8(f, value, host, disp),
            StoreOp::Sh => self.b.ins().istore16(f, value, host, disp),
            StoreOp::Sw => self.b.ins().store(f, value, host, disp),
        };
        if self.may_stop {
            // A plain RAM write never sets `m.stop_block`, but a helper
            // earlier in this block may have: then this store ends the
            // block, as in the interpreter's `execute`.
            let stop = self.b.ins().uload8(I32, state_flags(), self.m, OFF_STOP);
            let clear = self.b.ins().icmp_imm_u(IntCC::Equal, stop, 0);
            let next = self.unless_cold(clear);
            let pc = self.pc_plus(s.at.wrapping_add(s.len));
            self.exit(pc, s.i + 1, STATUS_END);
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
        let ins = &mut *self.b;
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

/// Where an instruction sits: its index in its guest block, its byte offset
/// from the region's entry, its length, and the block's instruction count.
#[derive(Clone, Copy, Debug)]
struct Site {
    i: u32,
    at: u32,
    len: u32,
    n: u32,
}

impl Site {
    /// The site of a side exit packed into one constant, so a miss path is
    /// a single jump (see [`helpers::MissSite`]).
    fn packed(self) -> u32 {
        helpers::MissSite { at: self.at as i32, retired: self.i, rest: self.n - self.i }.pack()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use avm_isa::asm::encode;
    use avm_mmu::Machine;

    /// The dump shows each guest instruction at its offset from the entry.
    #[test]
    fn region_dump_disassembles_relative_to_the_entry() {
        let insts = [
            Inst::AluImm { op: AluImmOp::Addi, rd: Reg::new(10), rs1: Reg::new(10), imm: 1 },
            Inst::Branch { op: BranchOp::Bne, rs1: Reg::new(10), rs2: Reg::new(11), offset: -4 },
        ];
        let ops: Vec<Op> = insts.iter().map(|&inst| Op { inst, len: 4 }).collect();
        let bytes: Vec<u8> = insts.iter().flat_map(|i| encode(i).to_le_bytes()).collect();
        let text = dump_region(&[
            RegionBlock { rel: 0, ops: &ops[..1], bytes: &bytes[..4], page: 0, straddler: None },
            RegionBlock { rel: 4, ops: &ops[1..], bytes: &bytes[4..], page: 0, straddler: Some(0x0000_0073) },
        ]);
        assert!(text.contains("00000000: addi a0,a0,1"), "{text}");
        assert!(text.contains("00000004: bne a0,a1,0x0"), "{text}");
        assert!(text.contains("00000008: (crosses the page end: run by jit_exec_next)"), "{text}");
        let straddling_add = encode(&Inst::Alu { op: AluOp::Add, rd: Reg::new(5), rs1: Reg::new(6), rs2: Reg::new(7) });
        let text = dump_region(&[RegionBlock {
            rel: 0,
            ops: &ops[..1],
            bytes: &bytes[..4],
            page: 0,
            straddler: Some(straddling_add),
        }]);
        assert!(text.contains("00000004: (crosses the page end: add t0,t1,t2, compiled"), "{text}");
    }

    /// A panic inside Cranelift is a compile error, not a host crash, and
    /// the translator compiles correct code afterwards.
    #[test]
    fn a_panic_while_compiling_is_an_error_and_the_next_compile_works() {
        use crate::helpers::{JitCtx, STATUS_END};
        use avm_mmu::{MachineConfig, RAM_BASE};
        let inst = Inst::AluImm { op: AluImmOp::Addi, rd: Reg::new(10), rs1: Reg::new(10), imm: 1 };
        let ops = [Op { inst, len: 4 }];
        let bytes = encode(&inst).to_le_bytes();
        let blocks = [RegionBlock { rel: 0, ops: &ops, bytes: &bytes, page: 0, straddler: None }];
        let mut t = Translator::new().expect("host supported");
        t.panic_while_building = true;
        let err = t.compile_region(&blocks).expect_err("the injected panic");
        assert!(matches!(&err, CompileError::Panic(what) if what.contains("injected")), "{err}");
        let code = t.compile_region(&blocks).expect("compiles after the panic");
        let mut m = Machine::new(MachineConfig { ram_size: 1 << 20, ..MachineConfig::default() }).expect("machine");
        m.hart.pc = RAM_BASE;
        m.hart.x[10] = 41;
        let succ = vec![crate::helpers::SuccSlot::default(); crate::helpers::SUCC_SLOTS];
        let enter = Trampoline::shared().expect("host supported");
        let mut ctx = JitCtx {
            ram: m.ram.host_ptr(),
            limit: 10,
            pc: RAM_BASE,
            succ: succ.as_ptr(),
            chain: enter.chains(),
            ..JitCtx::default()
        };
        // SAFETY: compiled with the region signature by `t`, which is alive;
        // both pointers come from exclusive references, and `succ` is a
        // whole (empty) successor cache.
        let status = unsafe { enter.func()(&mut m, &mut ctx, code.func) };
        assert_eq!(status, STATUS_END);
        assert_eq!((m.hart.x[10], m.hart.pc, m.hart.instret), (42, RAM_BASE + 4, 1));
        // SAFETY: `code` is not called again.
        unsafe { t.free() };
    }
}
