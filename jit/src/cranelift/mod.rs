//! The Cranelift tier: translation of one *region* (a few guest basic
//! blocks of one page or two adjacent ones) into one Cranelift function.
//! It builds on the ABI ([`crate::abi`]), the plan ([`crate::plan`]), code
//! memory and helpers, and never imports the baseline tier, its sibling.
//!
//! The generated function has the signature [`BlockFn`]:
//! `(m: *mut Machine, ctx: *mut JitCtx) -> status` in Cranelift's `tail`
//! calling convention, entered from Rust through a [`Trampoline`]; the pc
//! of the region's entry block is `ctx.pc`. A region without helper calls
//! ends a normal exit by tail-calling the chain stub (see [`Trampoline`]).
//!
//! - **Regions.** The engine hands over the hot block plus the blocks it
//!   already saw run that the hot block's branches and jumps reach within
//!   two adjacent 4 KiB pages ([`static_successors`](crate::plan::region::static_successors)). Each guest block becomes one
//!   Cranelift block; a branch to a block of the region is a jump inside the
//!   function (a loop stays a loop in host code), anything else returns to
//!   the dispatcher. Crossing an internal edge does exactly what the
//!   dispatcher would do between those blocks (see the emitter's `leave`). The
//!   function starts at block `ctx.entry` (a jump table), so the engine can
//!   enter the region at any of its blocks; `ctx.pc` is then still the pc of
//!   the first one.
//! - **Registers** are Cranelift `Variable`s, kept two ways
//!   (`plan::region::keeps_registers`). In a small loop every register the region names
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
//!   (see `plan::region::unrolls`).
//! - **Loads and stores** inline the TLB hit path of `Machine::load`/`store`
//!   (index, one tag compare that also covers the in-page check, add, host
//!   access). In a region that calls a helper anyway (kernel and contract
//!   code, whose fresh address space for every call misses once per page),
//!   a miss first asks `jit_fill` on a cold path whether a TLB fill is all
//!   the access needs (a walk that writes no A/D bit, to plain RAM): if so
//!   the entry is filled, exactly as the interpreter would at this access,
//!   and the access goes on compiled (elsewhere the call would cost more
//!   than it saves: see `emit::memory`). Any other miss (a page
//!   fault, an A/D update, a page crossing, a device, a store to a code
//!   page) is a *side exit*: the function stores `pc` and `instret` of that
//!   instruction and returns [`Status::Miss`](crate::abi::Status::Miss); the engine
//!   runs the rest of the guest block in the interpreter, which walks the
//!   page table, fills the TLB, raises the fault or ends the block exactly
//!   as it always does. Compiled code therefore never performs a slow
//!   access and never raises a memory fault.
//! - **Wide multiplies** (`mul` with `mulhu`, `mulh` or `mulhsu` on the same
//!   operands, a few instructions apart) share one 64-bit host multiply
//!   (see `emit::alu`).
//! - **CSR instructions on the plain CSRs** (`sscratch`, `sepc`, `scause`,
//!   `stval` and their M-mode twins, which a kernel touches on every trap)
//!   are a privilege check, a load and a store (see `emit::csr`).
//! - **Everything else** (other CSRs, `ecall`, `mret`, atomics, `fence.i`, ...;
//!   see `plan::lower::uses_helper`) calls `jit_exec`, which runs the interpreter's `execute` for that one
//!   instruction.

mod dump;
mod emit;
pub(crate) mod ir;
#[cfg(test)]
mod tests;
mod trampoline;

use avm_interp::Op;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{types, AbiParam, Signature};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

pub use trampoline::Trampoline;

use self::dump::dump_region;
use self::emit::{Emitter, Helpers};
use self::ir::I32;
use crate::abi::{BlockFn, CHAIN_STUBS};
use crate::code::CodeMemory;
use crate::plan::region::RegionBlock;

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

/// Owns the compiled code ([`CodeMemory`]) and the reusable compilation
/// contexts.
pub struct Translator {
    isa: OwnedTargetIsa,
    code: CodeMemory,
    ctx: Context,
    fctx: FunctionBuilderContext,
    sig: Signature,
    /// Signatures of the helpers `jit_exec`, `jit_exec_next` and
    /// `jit_fill`/`jit_fill_group`.
    helper_sigs: (Signature, Signature, Signature),
    /// Branches inside a region jump inside the function (see
    /// [`Translator::set_chaining`]).
    chaining: bool,
    /// Internal edges check the budget (see [`Translator::set_metering`]).
    metering: bool,
    /// Wide multiplies share one product (see [`Translator::set_fusion`]).
    fusion: bool,
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
        let helper_sigs = (helper(&[ptr, ptr, I32, I32]), helper(&[ptr, ptr, I32]), helper(&[ptr, I32, I32, I32]));
        Ok(Translator {
            isa,
            code,
            ctx: Context::new(),
            fctx: FunctionBuilderContext::new(),
            sig,
            helper_sigs,
            chaining: true,
            metering: true,
            fusion: true,
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

    /// Whether the two halves of a 32x32->64 multiply (`mul` and `mulhu`,
    /// `mulh` or `mulhsu` on the same operands) share one host multiply
    /// (default on; see `emit::alu`). Off only to measure what it buys
    /// (`JitConfig::fusion`); results are the same either way.
    pub fn set_fusion(&mut self, on: bool) {
        self.fusion = on;
    }

    /// Compile a single block `ops`, whose encoded bytes are `bytes` (a
    /// region of one block).
    pub fn compile(&mut self, ops: &[Op], bytes: &[u8]) -> Result<Compiled, CompileError> {
        self.compile_region(&[RegionBlock { rel: 0, ops, bytes, page: 0, straddler: None }])
    }

    /// Compile a region: `blocks[0]` is the entry; the others are reached
    /// from it through [`static_successors`](crate::plan::region::static_successors) and lie
    /// in the entry's page or the one next to it.
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
                fill: b.import_signature(self.helper_sigs.2.clone()),
            };
            let region_sig = b.import_signature(self.sig.clone());
            // Spread the regions over the stub copies.
            self.compiled = self.compiled.wrapping_add(1);
            let stub = (self.compiled % CHAIN_STUBS as u64) as usize;
            Emitter::emit(&mut b, helpers, (region_sig, stub), blocks, self.chaining, self.metering, self.fusion);
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
