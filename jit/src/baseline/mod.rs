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
//!   no write-back. The one exception to loading: an operand that the
//!   previous instruction wrote is taken from the host register it was
//!   stored from, so a chain of dependent instructions does not wait on a
//!   store and a reload at each step (`examples/tier_speed.rs`, baseline
//!   alone, three interleaved runs each: ecdsa 79 -> 63.5 ms, keccak
//!   75-88 -> 66-70 ms, alu 69-70 -> 65-66 ms, the sieve unchanged).
//! - **Same exit protocol as Cranelift's regions** ([`crate::abi`]): a
//!   block that ends normally sets `pc`, adds its length to `instret` and
//!   returns `STATUS_END`; one that cannot go on returns `STATUS_MISS` with
//!   the instruction's [`MissSite`], and the engine runs the rest of the
//!   block in the interpreter, starting with that instruction.
//! - **Loads and stores** inline the TLB hit path exactly as the Cranelift
//!   translator does (same entry, same tag test covering the page end, same
//!   delta), with the same access groups ([`crate::plan::group`]: one check for
//!   several accesses through one base register, the host address kept in
//!   a spare register); anything else (no translation cached, a page crossing, a
//!   device, a store to a code page) is a side exit, so this tier never
//!   raises a fault and never touches memory the slow way.
//! - **Only plain instructions are emitted** (`plan::lower::baseline_emits`):
//!   RV32I/M arithmetic (not
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
//! ([`BaseSlot`](crate::abi::BaseSlot)). A block that ended normally ran only what this tier
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
//!
//! The tier builds on the ABI, the plan and nothing else of the JIT: it
//! never imports the Cranelift tier, its sibling. The engine installs its
//! code in its own code memory.

mod emit;
mod stub;
pub mod x86;

use avm_interp::Op;

pub use stub::chain_stub;

use crate::abi::layout::*;
use crate::abi::MissSite;
use crate::plan::group::{self, Group};
use crate::plan::lower::baseline_emits;
use emit::Emitter;
use x86::{Gpr, GROUP_REGS, RAX, RDI};

/// Machine code for the block `ops` (as decoded by the interpreter), or
/// `None` where this tier does not exist (a host other than x86-64) or the
/// block is empty.
pub fn translate(ops: &[Op]) -> Option<Vec<u8>> {
    if !cfg!(target_arch = "x86_64") || ops.is_empty() || ops.len() > avm_interp::MAX_BLOCK_LEN {
        return None;
    }
    let (member, groups) = group::plan(ops);
    let group_reg = group_registers(&member, &groups);
    let mut e = Emitter::new(ops.len() as u32, member, groups, group_reg);
    let mut at = 0u32;
    for (i, op) in ops.iter().enumerate() {
        let site = MissSite { at: at as i32, retired: i as u32, rest: e.n - i as u32 };
        let len = u32::from(op.len);
        let emitted = e.inst(op.inst, site, len);
        debug_assert_eq!(emitted, baseline_emits(op.inst), "{:?}", op.inst);
        if !emitted {
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

/// A host register for each access group ([`crate::plan::group`]) while it is
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

#[cfg(test)]
mod tests {
    use super::*;
    use avm_isa::{AluOp, Inst, Reg};

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
