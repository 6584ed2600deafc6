//! The helpers compiled code calls for everything it does not emit: the
//! `extern "C"` functions that run one instruction through the
//! interpreter's own [`execute`], so that CSR access, `ecall`, `mret`,
//! atomics and the rest have one meaning in the whole project; and the TLB
//! refills (`jit_fill`, `jit_fill_group`) that let a load or store that
//! missed the TLB go on compiled when the miss needs nothing but a fill.
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
use avm_isa::{decode, Decoded};
use avm_mmu::tlb::Access;
use avm_mmu::{Machine, Trap};

use crate::abi::{JitCtx, Status};

/// Execute one instruction with the interpreter's [`execute`], for everything
/// the translator does not inline (CSR access, `mret`, `ecall`, atomics, ...),
/// so those instructions have a single meaning in the project.
///
/// `word` is the instruction as fetched (16 or 32 bits); `pc` its address.
/// The block has written back its registers and set `hart.instret` to the
/// count before this instruction, exactly what `run_ops` does. The helper
/// then finishes the instruction as `run_ops` would: on fall-through it
/// returns [`Status::Continue`]; otherwise it sets `pc`/`instret` (or stashes
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
/// [`Status::Continue`] (the block goes on, nothing set).
fn finish(m: &mut Machine, ctx: &mut JitCtx, result: Result<Step, Trap>, pc: u32, fall_through: Option<u32>) -> u32 {
    match result {
        Ok(Step::Next(next)) if Some(next) == fall_through => {
            m.hart.x[0] = 0;
            Status::Continue.code()
        }
        Ok(Step::Next(next) | Step::EndBlock(next)) => {
            m.hart.x[0] = 0;
            m.hart.pc = next;
            m.hart.instret += 1;
            Status::End.code()
        }
        Ok(Step::Exit(next, exit)) => {
            m.hart.x[0] = 0;
            m.hart.pc = next;
            m.hart.instret += 1;
            ctx.exit = Some(exit);
            Status::Exit.code()
        }
        Err(trap) => {
            m.hart.pc = pc;
            ctx.trap = Some(trap);
            Status::Trap.code()
        }
    }
}

/// Fetch the instruction at `pc` through the MMU (it straddles a page
/// boundary, so no block holds it), execute it with [`execute`] and finish
/// it, as the interpreter does for such an instruction. The block has
/// written back its registers and set `hart.instret`. Never returns
/// [`Status::Continue`]: the compiled code leaves after it.
pub(crate) extern "C" fn jit_exec_next(m: *mut Machine, ctx: *mut JitCtx, pc: u32) -> u32 {
    // SAFETY: compiled blocks pass the pointers they were called with, which
    // the dispatcher derived from live exclusive references (module docs).
    let (m, ctx) = unsafe { (&mut *m, &mut *ctx) };
    let word = match m.fetch_word(pc) {
        Ok(word) => word,
        Err(trap) => {
            m.hart.pc = pc;
            ctx.trap = Some(trap);
            return Status::Trap.code();
        }
    };
    let Decoded { inst, len } = decode(word);
    let result = execute(m, inst, pc, u32::from(len));
    finish(m, ctx, result, pc, None)
}

/// After a TLB miss of a single load or store of `len` bytes at `addr`
/// (`write` nonzero for a store): refill the entry if that is all the miss
/// needs ([`Machine::fill_tlb_quietly`]) and return 1, so the access goes on
/// compiled; 0 leaves the machine untouched and the code takes its side
/// exit. In the kernel every task's pages miss once per call (a fresh
/// address space), and each miss was a side exit into the interpreter for
/// the rest of the block.
pub(crate) extern "C" fn jit_fill(m: *mut Machine, addr: u32, len: u32, write: u32) -> u32 {
    // SAFETY: as for `jit_exec` (module docs); only the machine is passed.
    let m = unsafe { &mut *m };
    let access = if write != 0 { Access::Write } else { Access::Read };
    u32::from(m.fill_tlb_quietly(addr, len, access))
}

/// [`jit_fill`] for an access group (`plan::group`) whose accesses are all
/// loads (`write` 0) or all stores, and whose first and last bytes, `lo`
/// and `hi`, are in one page: refill that page's entry and return 1 if
/// that is all the group needs, else change nothing and return 0. Then the
/// TLB ends as the interpreter's would: its first access of the group
/// fills that same entry and the others hit it. A group across two pages,
/// or with loads and stores (whose entries the interpreter fills at two
/// different accesses, with a store in between that could rewrite a page
/// table), always takes its side exit.
pub(crate) extern "C" fn jit_fill_group(m: *mut Machine, lo: u32, hi: u32, write: u32) -> u32 {
    if lo >> 12 != hi >> 12 {
        return 0;
    }
    jit_fill(m, lo, hi - lo + 1, write)
}
