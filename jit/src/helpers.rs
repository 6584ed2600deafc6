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

use std::ptr::NonNull;

use avm_interp::{execute, Step};
use avm_isa::{decode, Decoded};
use avm_mmu::{Exit, Machine, Trap};

use crate::baseline::BaseSlot;
use crate::cache::CodeRef;

/// A compiled region: `(machine, context) -> status`.
///
/// The entry pc is an *input* ([`JitCtx::pc`]), not a constant baked into
/// the code, so the same compiled function serves every copy of the same
/// bytes wherever they are mapped.
///
/// The code uses Cranelift's `tail` calling convention, so that one region
/// can end in a tail call of the next (see [`SuccSlot`]). Rust cannot call
/// that convention, so this is an address, not a Rust `fn` type: the engine
/// enters compiled code through a [`TrampolineFn`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub struct BlockFn(NonNull<u8>);

// SAFETY: a code address; the code it points to is immutable once compiled
// and lives as long as the engine that owns it.
unsafe impl Send for BlockFn {}
// SAFETY: as above.
unsafe impl Sync for BlockFn {}

impl BlockFn {
    /// The compiled function at `code`.
    ///
    /// # Safety
    /// `code` must be the entry of a function compiled with the translator's
    /// region signature, alive as long as the returned value is used.
    pub unsafe fn from_code(code: NonNull<u8>) -> BlockFn {
        BlockFn(code)
    }
}

/// The entry from Rust into compiled code: a `system_v` function that
/// calls the region `func` (in the `tail` convention) with the machine and
/// the context and returns its status, also when `func` tail-called other
/// regions before returning.
pub type TrampolineFn = unsafe extern "C" fn(*mut Machine, *mut JitCtx, BlockFn) -> u32;

/// Copies of the chain stub: each region tail-calls one of them, so the
/// indirect jump into the next region sits at one of several addresses,
/// each of which the host's branch predictor learns for fewer regions.
pub const CHAIN_STUBS: usize = 16;

/// Slots of the successor cache (a power of two).
pub const SUCC_SLOTS: usize = 4096;

/// The successor-cache slot of RAM offset `off`: block starts are even, so
/// bit 0 carries nothing. Compiled code computes the same index.
#[inline(always)]
pub fn succ_index(off: u32) -> usize {
    (off as usize >> 1) & (SUCC_SLOTS - 1)
}

/// One slot of the successor cache, a direct-mapped table of the blocks a
/// machine has compiled code for (RAM offset -> code), read by the engine
/// between two compiled calls and by compiled code itself at a region's
/// exit, to tail-call the next region (see [`crate::translate`]). `repr(C)`
/// because compiled code reads its fields.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SuccSlot {
    /// The code; `None` for an empty slot.
    pub func: Option<BlockFn>,
    /// The RAM offset of the block.
    pub off: u32,
    /// Instructions in the block (the budget entering it needs).
    pub len: u32,
    /// The block's index in its region.
    pub entry: u32,
    /// The block's byte offset from the region's first block.
    pub rel: i32,
}

impl SuccSlot {
    /// The slot for `code`, the compiled block at RAM offset `off`.
    pub fn new(off: u32, code: CodeRef) -> SuccSlot {
        let CodeRef { func, len, entry, rel } = code;
        SuccSlot { func: Some(func), off, len, entry, rel }
    }

    /// The code this slot holds for the block at RAM offset `off`, if any.
    pub fn code_for(&self, off: u32) -> Option<CodeRef> {
        let func = self.func.filter(|_| self.off == off)?;
        Some(CodeRef { func, len: self.len, entry: self.entry, rel: self.rel })
    }
}

/// Compiled code left its region (a branch or jump out, `jalr`, a system
/// instruction, a budget too small for the next block, or a store after a
/// helper that set `m.stop_block`): `hart.pc` and `hart.instret` are set,
/// the dispatcher continues.
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

/// A load or store missed the inline TLB. The registers are written back,
/// `hart.instret` is the count at the start of the instruction's guest
/// block, and [`JitCtx::rest`] holds the packed [`MissSite`]: the engine
/// sets `pc` and `instret` for that instruction and runs the rest of the
/// guest block in the interpreter, which performs the access the slow way
/// (page walk, TLB fill, device, code-page write, fault).
pub const STATUS_MISS: u32 = 4;

/// Where a side exit left compiled code, packed into one 32-bit constant so
/// the miss path is a single jump: the instruction's byte offset from the
/// region's entry (a region lies in one page: |at| < 4096), how many
/// instructions of its guest block retired before it, and how many are
/// left (both at most the block length cap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissSite {
    /// Byte offset of the instruction from the region's entry pc.
    pub at: i32,
    /// Instructions of the guest block before it.
    pub retired: u32,
    /// Instructions of the guest block from it to the end.
    pub rest: u32,
}

const _: () = assert!(avm_interp::MAX_BLOCK_LEN < 128);

impl MissSite {
    /// Bits 0..14: `at + 8192`; 14..21: `retired`; 21..28: `rest`.
    pub fn pack(self) -> u32 {
        ((self.at + 8192) as u32 & 0x3fff) | (self.retired & 0x7f) << 14 | (self.rest & 0x7f) << 21
    }

    /// The inverse of [`MissSite::pack`].
    pub fn unpack(v: u32) -> MissSite {
        MissSite { at: (v & 0x3fff) as i32 - 8192, retired: (v >> 14) & 0x7f, rest: (v >> 21) & 0x7f }
    }
}

/// What compiled code receives besides the machine: the RAM base for the
/// inline fast path and a place for the helpers to leave a trap or exit.
#[repr(C)]
#[derive(Debug)]
pub struct JitCtx {
    /// Host address of RAM byte 0 (offset 0: compiled code loads it).
    pub ram: *mut u8,
    /// The instruction limit of the current run (`u64::MAX` with metering
    /// off): compiled code enters another block of its region only if the
    /// whole block fits.
    pub limit: u64,
    /// After [`STATUS_MISS`]: the packed [`MissSite`].
    pub rest: u32,
    /// The pc of the region's entry for the current call (its first block,
    /// also when the call starts at another block).
    pub pc: u32,
    /// The index of the region block this call starts at (see
    /// [`crate::translate`]: every block of a region is an entry).
    pub entry: u32,
    /// The trap of a block that returned [`STATUS_TRAP`].
    pub trap: Option<Trap>,
    /// The exit of a block that returned [`STATUS_EXIT`].
    pub exit: Option<Exit>,
    /// The machine's successor cache ([`SUCC_SLOTS`] slots), where compiled
    /// code looks up the region to tail-call at an exit.
    pub succ: *const SuccSlot,
    /// Tail calls from one region into the next since the engine last
    /// looked (compiled code counts them).
    pub chained: u64,
    /// The copies of the chain stub, which a region tail-calls at a normal
    /// exit (see `translate::Trampoline`); set by the engine before it
    /// enters compiled code.
    pub chain: [Option<BlockFn>; CHAIN_STUBS],
    /// The engine's baseline fast path ([`SUCC_SLOTS`] slots), where the
    /// baseline chain stub looks up the next block.
    pub base_fast: *const BaseSlot,
    /// The address of the baseline chain stub ([`crate::baseline`]), where
    /// a baseline block jumps at a normal exit.
    pub base_chain: usize,
    /// Blocks the baseline chain stub may still run before it returns.
    pub base_chain_left: u32,
}

impl Default for JitCtx {
    fn default() -> Self {
        JitCtx {
            ram: std::ptr::null_mut(),
            limit: 0,
            rest: 0,
            pc: 0,
            entry: 0,
            trap: None,
            exit: None,
            succ: std::ptr::null(),
            chained: 0,
            chain: [None; CHAIN_STUBS],
            base_fast: std::ptr::null(),
            base_chain: 0,
            base_chain_left: 0,
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
    // SAFETY: compiled blocks pass the pointers they were called with, which
    // the dispatcher derived from live exclusive references (module docs).
    let (m, ctx) = unsafe { (&mut *m, &mut *ctx) };
    let Decoded { inst, len } = decode(word);
    let len = u32::from(len);
    let result = execute(m, inst, pc, len);
    finish(m, ctx, result, pc, Some(pc.wrapping_add(len)))
}

/// Finish an instruction `execute` ran for compiled code, as `run_ops` does:
/// clear `x0`, set `pc` and `instret` (or stash the trap or exit) and say
/// how the block goes on. With `fall_through`, a step to that pc is
/// [`STATUS_CONTINUE`] (the block goes on, nothing set).
fn finish(m: &mut Machine, ctx: &mut JitCtx, result: Result<Step, Trap>, pc: u32, fall_through: Option<u32>) -> u32 {
    match result {
        Ok(Step::Next(next)) if Some(next) == fall_through => {
            m.hart.x[0] = 0;
            STATUS_CONTINUE
        }
        Ok(Step::Next(next) | Step::EndBlock(next)) => {
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

/// Fetch the instruction at `pc` through the MMU (it straddles a page
/// boundary, so no block holds it), execute it with [`execute`] and finish
/// it, as the interpreter does for such an instruction. The block has
/// written back its registers and set `hart.instret`. Never returns
/// [`STATUS_CONTINUE`]: the compiled code leaves after it.
pub(crate) extern "C" fn jit_exec_next(m: *mut Machine, ctx: *mut JitCtx, pc: u32) -> u32 {
    // SAFETY: compiled blocks pass the pointers they were called with, which
    // the dispatcher derived from live exclusive references (module docs).
    let (m, ctx) = unsafe { (&mut *m, &mut *ctx) };
    let word = match m.fetch_word(pc) {
        Ok(word) => word,
        Err(trap) => {
            m.hart.pc = pc;
            ctx.trap = Some(trap);
            return STATUS_TRAP;
        }
    };
    let Decoded { inst, len } = decode(word);
    let result = execute(m, inst, pc, u32::from(len));
    finish(m, ctx, result, pc, None)
}

#[cfg(test)]
mod tests {
    use super::MissSite;

    #[test]
    fn miss_site_packs_every_reachable_site() {
        let len = avm_interp::MAX_BLOCK_LEN as u32;
        for at in (-8190..8192).step_by(2) {
            for retired in 0..len {
                let site = MissSite { at, retired, rest: len - retired };
                assert_eq!(MissSite::unpack(site.pack()), site);
            }
        }
    }
}
