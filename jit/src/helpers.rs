//! The runtime side of compiled blocks: the context they receive, the status
//! codes they return, and the `extern "C"` helpers they call for everything
//! that is not inlined.
//!
//! Every helper takes the machine and the context as raw pointers (compiled
//! code has nothing else) and turns them back into references for the length
//! of the call. That is sound because the dispatcher hands a block exclusive
//! access to both for the duration of the call: it holds `&mut Machine` and
//! `&mut JitCtx` and makes no other use of them until the block returns.
//!
//! Helpers never unwind (they return status values, and nothing they call
//! panics on guest input), which matters because unwinding through
//! Cranelift frames is undefined.

use avm_interp::{execute, Step};
use avm_isa::{decode, Decoded, LoadOp, StoreOp};
use avm_mmu::{Exit, Machine, Trap};

/// Signature of a compiled block: `(machine, context, entry pc) -> status`.
///
/// The entry pc is a *parameter*, not a constant baked into the code, so the
/// same compiled function serves every copy of the same bytes wherever they
/// are mapped.
pub type BlockFn = unsafe extern "C" fn(*mut Machine, *mut JitCtx, u32) -> u32;

/// A block ran to its end (or stopped early after a store to a code page):
/// `hart.pc` and `hart.instret` are set, the dispatcher continues.
pub const STATUS_END: u32 = 1;
/// An instruction faulted: `hart.pc` is the faulting instruction, `instret`
/// counts the instructions before it, [`JitCtx::trap`] holds the trap.
pub const STATUS_TRAP: u32 = 2;
/// The engine must stop: [`JitCtx::exit`] holds the exit (`wfi` with nothing
/// pending). `pc`/`instret` are already past the instruction.
pub const STATUS_EXIT: u32 = 3;
/// Only from helpers: the instruction retired and fell through; the block
/// goes on.
pub const STATUS_CONTINUE: u32 = 0;

/// Load helper result bit meaning "trapped" (the low 32 bits are the value
/// otherwise).
pub const LOAD_TRAP_BIT: u64 = 1 << 32;

/// What compiled code receives besides the machine: the RAM base for the
/// inline fast path and a place for the helpers to leave a trap or exit.
#[repr(C)]
#[derive(Debug)]
pub struct JitCtx {
    /// Host address of RAM byte 0 (offset 0: compiled code loads it).
    pub ram: *mut u8,
    /// Where compiled code points a load or store whose TLB lookup missed
    /// (the access is done unconditionally, then redone by the slow path).
    pub scratch: u64,
    /// The instruction limit of the current run (`u64::MAX` with metering
    /// off): a self-loop runs another iteration only if it fits.
    pub limit: u64,
    /// Extra block runs done inside compiled self-loops (statistics).
    pub chained: u64,
    /// The trap of a block that returned [`STATUS_TRAP`].
    pub trap: Option<Trap>,
    /// The exit of a block that returned [`STATUS_EXIT`].
    pub exit: Option<Exit>,
}

impl Default for JitCtx {
    fn default() -> Self {
        JitCtx { ram: std::ptr::null_mut(), scratch: 0, limit: 0, chained: 0, trap: None, exit: None }
    }
}

/// Load-op codes as passed to `jit_load` (`LoadOp::code()`, i.e. funct3).
pub fn load_code(op: LoadOp) -> u32 {
    op.code()
}

/// Store-op codes as passed to `jit_store` (`StoreOp::code()`).
pub fn store_code(op: StoreOp) -> u32 {
    op.code()
}

/// Slow path of an inline load (TLB miss, page crossing, device).
///
/// `pc` is the load's address and `instret` the count before it. Returns the
/// loaded value, already extended as `op` says, or [`LOAD_TRAP_BIT`] with the
/// trap stashed in the context and `pc`/`instret` set for the trap (the block
/// has written its registers back before the call).
pub(crate) extern "C" fn jit_load(
    m: *mut Machine,
    ctx: *mut JitCtx,
    vaddr: u32,
    op: u32,
    pc: u32,
    instret: u64,
) -> u64 {
    // SAFETY: compiled blocks pass the pointers they were called with, which
    // the dispatcher derived from live exclusive references (module docs).
    let (m, ctx) = unsafe { (&mut *m, &mut *ctx) };
    let Some(op) = LoadOp::from_code(op) else {
        // Unreachable: the translator only passes valid codes.
        return 0;
    };
    match avm_interp::exec::load(m, op, vaddr) {
        Ok(v) => u64::from(v),
        Err(trap) => {
            m.hart.pc = pc;
            m.hart.instret = instret;
            ctx.trap = Some(trap);
            LOAD_TRAP_BIT
        }
    }
}

/// Slow path of an inline store. `code` is the op's code with the
/// instruction's length in bits 8.., `pc` its address, `instret` the count
/// before it; the block has written its registers back before the call.
///
/// Returns [`STATUS_CONTINUE`] if the block goes on; otherwise the block's
/// final status with `pc`/`instret` set: [`STATUS_TRAP`] (trap stashed in the
/// context) or [`STATUS_END`] when `m.stop_block` is set after the store (a
/// code page or the HTIF device was written, or an earlier page walk of the
/// block set it), exactly where the interpreter's `execute` ends the block.
pub(crate) extern "C" fn jit_store(
    m: *mut Machine,
    ctx: *mut JitCtx,
    vaddr: u32,
    value: u32,
    code: u32,
    pc: u32,
    instret: u64,
) -> u32 {
    // SAFETY: as in `jit_load`.
    let (m, ctx) = unsafe { (&mut *m, &mut *ctx) };
    let Some(op) = StoreOp::from_code(code & 0xff) else {
        return STATUS_CONTINUE;
    };
    match avm_interp::exec::store(m, op, vaddr, value) {
        Ok(()) if m.stop_block => {
            m.hart.pc = pc.wrapping_add(code >> 8);
            m.hart.instret = instret + 1;
            STATUS_END
        }
        Ok(()) => STATUS_CONTINUE,
        Err(trap) => {
            m.hart.pc = pc;
            m.hart.instret = instret;
            ctx.trap = Some(trap);
            STATUS_TRAP
        }
    }
}

/// Execute one instruction with the interpreter's [`execute`], for everything
/// the translator does not inline (CSR access, `mret`, `ecall`, atomics, ...),
/// so those instructions have a single meaning in the project.
///
/// `word` is the instruction as fetched (16 or 32 bits); `pc` its address.
/// The block has written back its registers and set `hart.instret` to the
/// count before this instruction, exactly what `run_ops` does. The helper
/// then finishes the instruction as `run_ops` would: on fall-through it
/// returns [`STATUS_CONTINUE`]; otherwise it sets `pc`/`instret` (or stashes
/// the trap/exit) and returns the block's final status.
pub(crate) extern "C" fn jit_exec(m: *mut Machine, ctx: *mut JitCtx, word: u32, pc: u32) -> u32 {
    // SAFETY: as in `jit_load`.
    let (m, ctx) = unsafe { (&mut *m, &mut *ctx) };
    let Decoded { inst, len } = decode(word);
    let len = u32::from(len);
    match execute(m, inst, pc, len) {
        Ok(Step::Next(next)) => {
            m.hart.x[0] = 0;
            if next == pc.wrapping_add(len) {
                return STATUS_CONTINUE;
            }
            m.hart.pc = next;
            m.hart.instret += 1;
            STATUS_END
        }
        Ok(Step::EndBlock(next)) => {
            m.hart.x[0] = 0;
            m.hart.pc = next;
            m.hart.instret += 1;
            STATUS_END
        }
        Ok(Step::Exit(next, exit)) => {
            m.hart.x[0] = 0;
            m.hart.pc = next;
            m.hart.instret += 1;
            ctx.exit = Some(exit);
            STATUS_EXIT
        }
        Err(trap) => {
            m.hart.pc = pc;
            ctx.trap = Some(trap);
            STATUS_TRAP
        }
    }
}

/// Symbol names and addresses of the helpers, for `JITBuilder::symbol`.
pub fn symbols() -> [(&'static str, *const u8); 3] {
    [
        ("avm_jit_load", jit_load as *const u8),
        ("avm_jit_store", jit_store as *const u8),
        ("avm_jit_exec", jit_exec as *const u8),
    ]
}
