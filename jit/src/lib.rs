//! # avm-jit: a Cranelift basic-block JIT
//!
//! The interpreter ([`avm_interp`]) defines what aVM computes; this crate
//! computes the same thing faster by translating guest basic blocks into
//! host machine code with Cranelift. "The same" is meant strictly: after
//! every exit the machine (registers, pc, privilege, every CSR, instret, the
//! LR/SC reservation, the TLB, RAM, console) and the exit reason are exactly
//! what the interpreter would have produced, for every program and every
//! instruction limit.
//!
//! ## Translation
//! A block is what [`avm_interp::decode_block`] says it is (straight-line
//! code up to a control transfer, a system instruction, the end of the page
//! or 64 instructions), so both engines cut the program in the same places.
//! [`translate`] turns one block into one function
//! `fn(machine, ctx, entry_pc) -> status`:
//! guest registers become Cranelift variables, loaded from `hart.x` on first
//! use and stored back (only the written ones) before every memory access
//! or helper call and at the end; ALU operations, branches and jumps are
//! inlined; loads and stores inline the TLB hit path (index, tag compare
//! covering the in-page check, add, host access) and call into the MMU on a
//! miss; instructions with privileged or
//! control-and-status effects (CSR access, `ecall`, `mret`, `sret`, `wfi`,
//! `fence.i`, `sfence.vma`, illegal encodings) and the atomics call a helper
//! that runs the interpreter's own [`avm_interp::execute`] for that one
//! instruction, so they have one meaning in the whole project.
//!
//! ## The exit protocol
//! A block returns a status ([`helpers::STATUS_END`], `STATUS_TRAP`,
//! `STATUS_EXIT`) after writing back registers, `pc` and `instret`:
//! - normal end (fall-through, taken branch, jump, or a store that hit a code
//!   page or the HTIF device, seen through `m.stop_block` after every store):
//!   `pc` is the next instruction, `instret` counts every instruction run;
//! - a fault: `pc` is the faulting instruction, `instret` counts the
//!   instructions before it, and the trap waits in the [`helpers::JitCtx`]
//!   for the dispatcher to call `Machine::raise`, as the interpreter does;
//! - a stop (`wfi` with nothing pending): the exit waits in the context.
//!
//! ## How equivalence is kept
//! - **Same boundaries, same bookkeeping.** The dispatcher ([`engine`]) does
//!   the interpreter's boundary work in the interpreter's order (pending
//!   device exit, limit, draining code invalidations, interrupts), and
//!   translates the pc through the fetch TLB at every block start.
//! - **Exact metering.** Compiled code is entered only when the remaining
//!   budget covers the whole block; otherwise the interpreter runs the
//!   remainder, truncated to the budget, so limits land mid-block exactly.
//! - **Precise traps.** Every instruction that can fault does so through a
//!   helper call made with the registers already written back; on failure
//!   the helper sets `pc`/`instret` for that instruction and the block
//!   returns.
//! - **Self-modifying code.** A page is marked as code (exactly when the
//!   interpreter would mark it) before its first compiled block runs; the MMU
//!   then sends stores to it down the slow path, which ends the block and
//!   reports the page; at the next boundary both the interpreter's cache and
//!   the JIT's map drop the page.
//! - **Tiering never decides results.** Cold blocks, blocks beyond the
//!   compile budget and blocks Cranelift refuses all run in the interpreter;
//!   the choice is per block and invisible in the machine state.
//! - **Crosscheck.** With `AVM_CROSSCHECK=1` ([`crosscheck`]) the interpreter
//!   runs beside the JIT on a copy of the machine and the first difference is
//!   reported with the block's disassembly.
//!
//! ## Caching
//! Compiled code never embeds the pc or a physical address: the entry pc is a
//! parameter and everything pc-relative is computed from it. So code is
//! cached by the block's *bytes* ([`cache::CodeCache`], owned by the engine,
//! surviving machines and transactions), while a per-machine
//! [`cache::BlockMap`] maps RAM offsets to code and counts executions of cold
//! blocks for the tiering threshold. A compile budget (blocks and code bytes)
//! bounds what hostile code can make the JIT do.
//!
//! ## Chaining
//! A compiled block that ends normally is followed directly by its compiled
//! successor without going back through the full dispatcher: a chain loop in
//! [`engine`] repeats the dispatcher's checks in the dispatcher's order, with
//! no side effects (no pending device exit, budget left, no invalidated code
//! page waiting, `mip & mie == 0`, a fetch-TLB *hit* for the new pc, compiled
//! code for that RAM offset in a small successor cache, the whole next block
//! within the budget) and calls the successor. Whenever any check fails it
//! returns to the dispatcher, which performs the work the interpreter would
//! (the page walk and TLB fill on a miss, draining invalidations, taking the
//! interrupt). The checks stay in Rust rather than in generated code, so
//! blocks do not jump to each other directly; the measured dispatcher share
//! left is ~10% on keccak and ecdsa. The one exception is a *self-loop*: a block without
//! helper calls whose branch or `jal` goes back to its own start loops inside
//! its function, registers staying in host registers, after testing inline
//! exactly what the dispatcher would find: `m.stop_block` clear (no code-page
//! write, hence no invalidation, and no HTIF exit), `mip & mie == 0`, and a
//! budget that covers the whole next iteration; the pc's translation cannot
//! have changed (no helper ran). Otherwise it returns as usual. The
//! crosscheck, which compares after every block, compiles without loops.

pub mod cache;
pub mod crosscheck;
pub mod engine;
pub mod group;
pub mod helpers;
pub mod translate;

pub use engine::{JitConfig, JitEngine, JitStats, DEFAULT_THRESHOLD};
