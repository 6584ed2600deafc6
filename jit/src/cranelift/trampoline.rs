//! The compiled code around the regions: the trampoline through which
//! Rust enters a region, and the chain stub through which a region
//! tail-calls the next. Compiled once per process.

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{AbiParam, InstBuilder, SigRef, Signature, Value};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use super::ir::{fetch_entry, state_flags, I32, I64};
use super::{host_isa, region_signature, CompileError};
use crate::abi::layout::*;
use crate::abi::{BlockFn, Status, SuccSlot, TrampolineFn, CHAIN_STUBS, SUCC_SLOTS};
use crate::code::CodeMemory;

/// The compiled code that surrounds the regions. It holds no state, so one
/// copy serves the whole process ([`Trampoline::shared`]), whichever thread
/// compiled the regions:
/// - the *trampoline* ([`TrampolineFn`]), through which Rust enters a
///   region;
/// - the *chain stub*, a function with the region signature that a region
///   tail-calls at a normal exit (`JitCtx::chain`): it tail-calls the next
///   region if the dispatcher's chain loop would (see `emit_chain_stub`),
///   else returns `Status::End` to the trampoline. So a chain of regions runs
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

/// The address of the boxed [`CodeMemory`] the shared trampoline lives in,
/// never freed (see [`Trampoline::shared`]). `#[used]`: the program only
/// ever stores to it, and without the attribute the optimiser deletes such a
/// static with its store (then the memory looked leaked again).
#[used]
static KEPT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// See [`Trampoline::shared`].
static SHARED: std::sync::OnceLock<Result<Trampoline, CompileError>> = std::sync::OnceLock::new();

impl Trampoline {
    /// The process's trampoline and chain stubs, compiled on first use
    /// (two small functions) and kept for the life of the process.
    pub fn shared() -> Result<Trampoline, CompileError> {
        SHARED.get_or_init(Trampoline::compile).clone()
    }

    /// Compile the trampoline and the chain stubs for the host and install
    /// them in a [`CodeMemory`] of their own, which is never freed: they
    /// serve the process, whichever engine or thread compiled its regions
    /// (an explicit leak of one small chunk per process). Like regions,
    /// they need no relocation: the trampoline calls an address it is
    /// given, the stubs tail-call addresses they load.
    fn compile() -> Result<Trampoline, CompileError> {
        let err = |e: &dyn std::fmt::Display| CompileError::Cranelift(e.to_string());
        let isa = host_isa()?;
        let ptr = isa.pointer_type();
        let frontend = isa.frontend_config();
        let region = region_signature(&*isa);
        let mut sig = Signature::new(isa.default_call_conv());
        sig.params.extend([ptr, ptr, ptr].map(AbiParam::new));
        sig.returns.push(AbiParam::new(I32));
        let mut code = CodeMemory::new().map_err(|e| CompileError::CodeMemory(e.to_string()))?;
        let mut ctx = Context::new();
        let mut fctx = FunctionBuilderContext::new();
        // Compile one function; its bytes and alignment.
        let mut define = |sig: &Signature, body: &dyn Fn(&mut FunctionBuilder, &[Value])| {
            ctx.clear();
            ctx.func.signature = sig.clone();
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            b.seal_block(entry);
            let params = b.block_params(entry).to_vec();
            body(&mut b, &params);
            b.finalize(frontend);
            let compiled = ctx.compile(&*isa, &mut ControlPlane::default()).map_err(|e| err(&e.inner))?;
            if !compiled.buffer.relocs().is_empty() {
                return Err(CompileError::Cranelift("trampoline code needs relocations".into()));
            }
            Ok((compiled.code_buffer().to_vec(), compiled.buffer.alignment as usize))
        };
        // `(m, ctx, region)`: call `region(m, ctx)` in the `tail`
        // convention and return its status.
        let enter = define(&sig, &|b, p| {
            let region = b.import_signature(region.clone());
            let call = b.ins().call_indirect(region, p[2], &[p[0], p[1]]);
            let status = b.inst_results(call)[0];
            b.ins().return_(&[status]);
        })?;
        // The chain stub is compiled once and its bytes installed in every
        // copy (it needs no relocation). Compiling all sixteen copies took
        // 3-5 ms at the start of the compile thread, before its first
        // region (`avm exec` on the sieve: first region ready ~5 ms after
        // the thread started, ~2 ms now).
        let stub = define(&region, &|b, p| {
            let region = b.import_signature(region.clone());
            emit_chain_stub(b, p[0], p[1], region);
        })?;
        let mut install = |(bytes, align): &(Vec<u8>, usize)| {
            code.install(bytes, *align).map_err(|e| CompileError::CodeMemory(e.to_string()))
        };
        let enter = install(&enter)?;
        let mut chains = [None; CHAIN_STUBS];
        for slot in chains.iter_mut() {
            let stub = install(&stub)?;
            // SAFETY: `stub` is a copy of a function compiled with the
            // region signature, installed whole in memory that is never
            // freed.
            *slot = Some(unsafe { BlockFn::from_code(stub) });
        }
        // The code stays mapped for the life of the process (see above),
        // held by a static rather than `mem::forget`: memory nobody can
        // reach is what leak checkers report (LeakSanitizer under `cargo
        // fuzz` did, failing every run at exit), and this is kept on purpose.
        KEPT.store(Box::into_raw(Box::new(code)) as usize, std::sync::atomic::Ordering::Release);
        // SAFETY: `enter` is the function just compiled with the `system_v`
        // signature (three pointers in, a u32 out) that `TrampolineFn`
        // names, installed whole; its memory is never freed.
        let func = unsafe { std::mem::transmute::<*mut u8, TrampolineFn>(enter.as_ptr()) };
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

/// The body of the chain stub (see [`Trampoline`]), entered by a region's
/// normal exit with `pc` and `instret` stored: if the dispatcher's chain
/// loop would call compiled code next without doing anything else,
/// tail-call it, else return `Status::End`. The same tests as
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
    let end = b.ins().iconst(I32, i64::from(Status::End.code()));
    b.ins().return_(&[end]);
}

#[cfg(test)]
mod tests {
    use super::{Trampoline, KEPT};

    /// Regression (issue 19's fuzz campaign): the trampoline's code memory
    /// was `mem::forget`-ed, so LeakSanitizer reported it at the exit of
    /// every `cargo fuzz run` of the JIT targets, which then failed. It must
    /// stay reachable from a static for as long as the process runs.
    #[test]
    fn trampoline_code_memory_stays_reachable_for_leak_checkers() {
        let first = Trampoline::shared().expect("the host ISA compiles the trampoline");
        let kept = KEPT.load(std::sync::atomic::Ordering::Acquire);
        assert_ne!(kept, 0, "the code memory is held by KEPT");
        // Asking again reuses it: nothing more is kept (or leaked).
        let again = Trampoline::shared().expect("shared");
        assert_eq!(again.func() as usize, first.func() as usize);
        assert_eq!(KEPT.load(std::sync::atomic::Ordering::Acquire), kept);
    }
}
