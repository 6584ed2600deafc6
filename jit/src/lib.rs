//! # avm-jit: a Cranelift region JIT
//!
//! The interpreter ([`avm_interp`]) defines what aVM computes; this crate
//! computes the same thing faster by translating guest code into host
//! machine code with Cranelift. "The same" is meant strictly: after every
//! exit the machine (registers, pc, privilege, every CSR, instret, the LR/SC
//! reservation, the TLB, RAM, console) and the exit reason are exactly what
//! the interpreter would have produced, for every program and every
//! instruction limit.
//!
//! ## Layers
//! The crate is layered, bottom to top, and a module never imports one
//! above it:
//! 1. [`abi`]: the contract between compiled code and the engine (the
//!    context, the successor and baseline slots, function types, the
//!    [`abi::Status`] a call returns, side-exit sites, field offsets);
//! 2. [`plan`]: what the tiers emit, decided before code generation (which
//!    instructions each tier emits, register use, access groups, region
//!    forming), from the per-instruction facts of [`avm_isa::facts`];
//! 3. [`code`] (executable memory) and [`helpers`] (what compiled code
//!    calls for the instructions it leaves to the interpreter);
//! 4. [`cranelift`] and [`baseline`], the two compiling tiers, siblings that
//!    never import each other;
//! 5. [`cache`], [`crosscheck`] (the lockstep comparison, given the
//!    engine's step as a closure), [`worker`] (the compile thread) and
//!    [`engine`], the dispatcher that ties them together.
//!
//! ## Translation
//! The unit of work is the interpreter's basic block
//! ([`avm_interp::decode_block`]: straight-line code up to a control
//! transfer, a system instruction, the end of the page or 64 instructions),
//! so both engines cut the program in the same places. When a block gets
//! hot, the engine compiles a *region*: that block plus the blocks its
//! branches and jumps reach that have already run, within two adjacent
//! 4 KiB pages (a loop body with its `if`s, a call into a leaf and back, a
//! loop that crosses a page end). [`cranelift`]
//! turns a region into one function `fn(machine, ctx) -> status`
//! in which every guest block is a Cranelift block and a branch to another
//! block of the region is a jump. Every block of the region is also an
//! entry (the call says which, `ctx.entry`), so a block inside a compiled
//! loop that the dispatcher reaches on its own (after a return, after a
//! budget stop) runs the region's code instead of getting compiled again:
//!
//! - **Registers** are Cranelift variables. In a small loop they are loaded
//!   once and stay in host registers for the whole call; elsewhere each is
//!   loaded on first use and reloaded after a memory check, which keeps live
//!   ranges short (register allocation is most of Cranelift's time).
//! - **ALU operations, branches and jumps** are inlined.
//! - **Loads and stores** inline the TLB hit path (index, one compare that
//!   also covers the in-page check, add, host access). Accesses through one
//!   base register share one check ([`plan::group`]): keccak's 25 lanes behind one
//!   pointer cost one check, not 25.
//! - **A TLB miss is a side exit**: compiled code never walks page tables,
//!   touches a device, writes a code page or raises a memory fault. It
//!   leaves *before* the access with the registers written back, and the
//!   engine runs the rest of that guest block in the interpreter, which does
//!   all of that exactly as it always does.
//! - **System instructions and atomics** (CSR access, `ecall`, `mret`,
//!   `sret`, `wfi`, `fence.i`, `sfence.vma`, AMOs, LR/SC, illegal encodings)
//!   call a helper that runs the interpreter's own [`avm_interp::execute`]
//!   for that one instruction, so they have one meaning in the whole
//!   project.
//! - **A 32-bit instruction that straddles a page end** (no block can hold
//!   it) ends the block before it. An ALU instruction, branch or jump is
//!   compiled there for the bits memory held when the region was formed,
//!   and runs only if a fetch through the fetch TLB (both pages must hit)
//!   still finds those bits: the next virtual page may map elsewhere or be
//!   rewritten without invalidating this page's code. Otherwise, and for
//!   any other instruction, a helper fetches it across the boundary and
//!   runs it through the interpreter.
//!
//! ## Tiers
//! A block runs in one of three ways, chosen per block and invisible in the
//! machine state:
//! 1. **Interpreted** while it is cold (its first
//!    [`DEFAULT_BASELINE_THRESHOLD`] runs).
//! 2. **Baseline code** ([`baseline`]) from then on, until it has Cranelift
//!    code: a template JIT that emits a fixed x86-64 sequence per
//!    instruction in one pass, with guest registers in memory, in well under
//!    a microsecond per block; its blocks chain to each other as regions do.
//!    Its code runs 3.5-7x faster than the interpreter and costs a hundredth
//!    of a Cranelift compile or less, so a block spends the long wait for the
//!    compile thread (the tiering threshold, then the queue) in it. It uses
//!    the exit protocol below, and leaves everything it does not emit
//!    (division, system instructions, atomics, TLB misses) to the
//!    interpreter through a side exit.
//! 3. **Cranelift code**, once the block has run [`DEFAULT_THRESHOLD`] times:
//!    regions, as described above.
//!
//! ## The exit protocol
//! A compiled function returns a [`abi::Status`] with the registers
//! written back (possibly after tail-calling further regions, see
//! "Chaining"; the status is the last one's):
//! - `End`: it left the region (a branch out, `jalr`, a system
//!   instruction, the budget, or a store after a helper that set
//!   `m.stop_block`); `pc` is the next instruction and `instret` counts every
//!   instruction run;
//! - `Miss`: a load or store missed the TLB; the packed
//!   [`abi::MissSite`] says where, and the engine sets `pc`/`instret`
//!   for that instruction and interprets the rest of its block;
//! - `Trap`: a helper's instruction faulted; `pc` is that
//!   instruction, and the trap waits in the [`abi::JitCtx`] for the
//!   dispatcher to call `Machine::raise`, as the interpreter does;
//! - `Exit`: the engine must stop (`wfi` with nothing pending).
//!
//! ## How equivalence is kept
//! - **Same boundaries, same bookkeeping.** The dispatcher ([`engine`]) does
//!   the interpreter's boundary work in the interpreter's order (pending
//!   device exit, limit, draining code invalidations, interrupts), and
//!   translates the pc through the fetch TLB at every entry into compiled
//!   code.
//! - **Internal edges only where nothing would happen.** A jump between two
//!   blocks of a region is taken only if the dispatcher would run that block
//!   next without doing anything else first: the budget covers the whole
//!   block, and no helper has set `m.stop_block` (code-page write or HTIF
//!   exit pending). Nothing else the dispatcher checks can change inside a
//!   region: interrupt enables, privilege and translation only change in
//!   system instructions, which end a block with no static successor.
//!   Within a page the fetch translation is the one the dispatcher just
//!   used; an edge into the region's other page is taken only if the fetch
//!   TLB maps both pages with one delta, that is, onto the two RAM pages
//!   the region was formed from (else the dispatcher fetches through the
//!   MMU and walks, faults or finds other code there).
//! - **Exact metering.** Compiled code is entered, and an internal edge
//!   taken, only when the remaining budget covers the whole next block;
//!   otherwise the interpreter runs it, truncated to the budget, so limits
//!   land mid-block exactly. A short self-loop is emitted as a few copies
//!   in a row; the edge into the first copy checks that the budget covers
//!   all of them, which is the same check made once for several edges.
//! - **Precise traps for free.** Compiled code cannot fault on memory; the
//!   interpreter performs every access that could. A side exit leaves with
//!   `m.hart.x` exact and before the access, and a TLB hit changes nothing
//!   in the machine, so checking a group's pages early is invisible.
//! - **Self-modifying code.** A page is marked as code (exactly when the
//!   interpreter would mark it) before its first compiled block runs; the
//!   TLB's write side never holds code pages, so every store to one misses,
//!   leaves compiled code and goes through the interpreter, which ends the
//!   block and reports the page; at the next boundary both the interpreter's
//!   cache and the JIT's map drop the page, and, where a region spans it and
//!   a neighbour, the neighbour's map entries too (they may enter that
//!   region).
//! - **Tiering never decides results.** Cold blocks, blocks beyond the
//!   compile budget and blocks Cranelift refuses or panics on (the
//!   translator catches the panic) all run in the interpreter or the
//!   baseline tier; the choice is per block and invisible in the machine
//!   state. Every differential suite also runs the baseline tier alone
//!   ([`JitConfig::baseline_only`]).
//! - **Crosscheck.** With `AVM_CROSSCHECK=1` ([`crosscheck`]) the interpreter
//!   runs beside the JIT on a copy of the machine, block by block (regions
//!   are then single blocks), and the first difference is reported with the
//!   block's disassembly.
//!
//! ## Caching
//! Compiled code never embeds the pc or a physical address: the entry pc is
//! an input (`ctx.pc`) and everything pc-relative is computed from it. So code is
//! cached by the region's *content* ([`cache::CodeCache`]: every block's
//! offset from the entry, page and bytes), owned by the engine and surviving
//! machines and transactions, while a per-machine [`cache::BlockMap`] maps
//! RAM offsets to code and counts executions of cold blocks for the
//! tiering threshold. A fresh machine (the next transaction) does not count
//! again: the first time it reaches a block that starts with the same
//! instruction as a block of a cached region, it decodes the region's blocks
//! from its own memory and, if the rebuilt key is the cached one (which
//! includes each block's page, so the pages split the region as before),
//! runs the cached code at once (`JitEngine::warm_start`). A compile budget
//! (functions and code bytes) bounds what hostile code can make the JIT do.
//!
//! ## Compiling in the background
//! With [`JitConfig::background`] (what `avm exec` uses) a hot block's region
//! goes to a compile thread ([`worker`]) and the block keeps running in the
//! interpreter until the code is ready; before installing it, the engine
//! checks that memory still holds the bytes it was compiled from. The
//! region's other blocks wait for it too: they will share its function, so
//! they are not queued as regions of their own when they get hot meanwhile
//! (which a loop's blocks all do at about the same time). At most two
//! regions are queued at once; a block that gets hot while the queue is full
//! waits in a backlog, and when a region arrives the block that asked most
//! often takes its place at once, so the compile thread does not idle and
//! the hottest code is compiled first. When the
//! code arrives changes nothing but speed, so results stay deterministic; the
//! counters of `--stats` do not, which is why tests that assert them compile
//! synchronously (the library default).
//!
//! ## Code memory
//! Regions are compiled by Cranelift into a byte buffer and copied into
//! [`code::CodeMemory`]: chunks of shared memory mapped twice, writable at one
//! address and executable at another, so no page is ever both and installing
//! a function costs no system call. The trampoline and the chain stubs are
//! installed the same way, once per process, and the baseline tier's blocks
//! in a code memory of their own. No code needs relocation: helpers are
//! called through absolute addresses, and everything else is relative to the
//! function. (`cranelift-jit`'s module, which maps and `mprotect`s fresh
//! pages per function, took half the compile time of a small region; the
//! JIT no longer uses it.)
//!
//! ## Seeing the code
//! With `AVM_JIT_DUMP=1` the translator prints every region it compiles to
//! stderr: the guest blocks disassembled (addresses relative to the entry),
//! the Cranelift IR and the host code, e.g.
//! `AVM_JIT_DUMP=1 avm exec --example sieve --sync-compile 2>&1 | less`.
//!
//! ## Chaining
//! Inside a region, blocks jump to each other directly, so a loop runs in
//! one call. Between regions, a function that ends normally is followed by
//! the next compiled one without going back through the full dispatcher: a
//! chain loop in [`engine`] repeats the dispatcher's checks, with no side
//! effects (no pending device exit, budget left, no invalidated code page
//! waiting, `mip & mie == 0`, a fetch-TLB *hit* for the new pc, compiled code
//! for that RAM offset in a small successor cache, the whole next block
//! within the budget) and calls it. Whenever any check fails it returns to
//! the dispatcher, which performs the work the interpreter would (the page
//! walk and TLB fill on a miss, draining invalidations, taking the
//! interrupt).
//!
//! Most of those transfers do not even come back to Rust. Regions use
//! Cranelift's `tail` calling convention; Rust enters one through a small
//! compiled *trampoline*, and a region that calls no helper that goes on
//! (no CSR access, `ecall`, AMO... in it) ends a normal exit by
//! tail-calling a *chain stub* ([`cranelift::Trampoline`]; one of sixteen
//! identical copies, compiled once per process). The stub makes the chain
//! loop's budget, fetch-TLB and successor-cache tests and tail-calls the
//! next region, or returns to the trampoline. The other three (device exit,
//! code invalidation, interrupt) need no test there: the dispatcher made
//! them before the call that began the chain, and without a helper nothing
//! in compiled code can change them (a write to a code page or to the HTIF
//! device misses the TLB and leaves by a side exit). On the ecdsa workload,
//! where returns cross pages ~500k times per run, this takes ~10% off a
//! warm run; emitting the stub's lookup in every region instead gained no
//! more and cost ~25% more compile time.

// Every `unsafe` block says why it is sound (`// SAFETY:`).
#![warn(clippy::undocumented_unsafe_blocks)]

// The layers, bottom to top; a module never imports one above it, and
// the two tiers never import each other.
pub mod abi;
pub mod baseline;
pub mod cache;
pub mod code;
pub mod cranelift;
pub mod crosscheck;
pub mod engine;
pub mod helpers;
pub mod plan;
pub mod worker;

pub use engine::{JitConfig, JitEngine, JitStats, DEFAULT_BASELINE_THRESHOLD, DEFAULT_THRESHOLD};
