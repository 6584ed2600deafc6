//! # avm-interp: the reference interpreter
//!
//! The interpreter *is* the definition of what aVM computes. Every other engine
//! is correct exactly when it leaves the machine as this one does, so it is
//! written to be read: [`exec::execute`] is one `match` over the instruction
//! table with the ISA manual's meaning in each arm.
//!
//! Speed comes from two plain ideas, not from tricks inside the semantics:
//! - **predecoding**: basic blocks are decoded once and cached by physical
//!   address ([`cache`]), so the loop dispatches on ready-made [`avm_isa::Inst`]
//!   values;
//! - **per-block bookkeeping**: the budget, pending interrupts, code
//!   invalidation and the fetch translation are checked once per block, not
//!   once per instruction.
//!
//! ## Exactness
//! Metering is exact: a block is run only as far as the budget allows, so the
//! engine stops with [`Exit::InstructionLimit`] after precisely `limit`
//! retired instructions. Traps are precise: a faulting instruction leaves `pc`
//! pointing at itself and `instret` counting only the instructions before it.
//! Interrupts are taken at block boundaries; since only a CSR write, `mret`,
//! `sret` or `wfi` can make one pending and enabled, and those all end a block,
//! that is the same as checking before every instruction.
#![forbid(unsafe_code)]

pub mod cache;
pub mod exec;
pub mod fast;

pub use cache::{decode_block, Block, BlockCache, Op, MAX_BLOCK_LEN};
pub use exec::{execute, Step};

use avm_isa::{decode, Decoded, Inst};
use avm_mmu::{Engine, Exit, Machine};

/// Called before every executed instruction when tracing is on. Tracing runs a
/// separate loop, so a machine without a tracer pays nothing for it.
pub trait Tracer {
    /// `pc` is the instruction's address; the machine is the state before it.
    fn before(&mut self, m: &Machine, pc: u32, decoded: &Decoded);
}

/// Counters an engine keeps about its own work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InterpStats {
    /// Blocks decoded.
    pub blocks_decoded: u64,
    /// Blocks dispatched.
    pub blocks_executed: u64,
}

/// The reference interpreter.
#[derive(Default)]
pub struct Interpreter {
    cache: BlockCache,
    tracer: Option<Box<dyn Tracer>>,
    blocks_executed: u64,
    /// [`Machine::id`] of the machine the cache was filled from.
    machine: Option<u64>,
}

impl Interpreter {
    /// A fresh interpreter with an empty block cache.
    pub fn new() -> Interpreter {
        Interpreter::default()
    }

    /// Install a tracer (called before every instruction).
    pub fn set_tracer(&mut self, tracer: Option<Box<dyn Tracer>>) {
        self.tracer = tracer;
    }

    /// Work counters.
    pub fn stats(&self) -> InterpStats {
        InterpStats { blocks_decoded: self.cache.decoded, blocks_executed: self.blocks_executed }
    }

    /// Drop cached blocks of code pages that were written since the last call.
    #[inline]
    pub fn sync_invalidations(&mut self, m: &mut Machine) {
        if m.ram.has_invalidated() {
            for page in m.ram.take_invalidated() {
                self.cache.invalidate_page(page);
            }
        }
    }

    /// Forget every cached block (for an engine handed another machine).
    pub fn clear_cache(&mut self) {
        self.cache.clear();
    }

    /// Make sure the block cache belongs to `m`: cached blocks are keyed by RAM
    /// offset, which means nothing on another machine (whose code-page flags
    /// would not even report writes to them).
    pub fn attach(&mut self, m: &Machine) {
        if self.machine != Some(m.id()) {
            self.cache.clear();
            self.machine = Some(m.id());
        }
    }

    /// Forget cached blocks for one RAM page (for an engine that drains
    /// invalidations itself and forwards them).
    pub fn invalidate_page(&mut self, page: u32) {
        self.cache.invalidate_page(page);
    }

    /// Run at most one basic block (or fewer instructions, if `limit` is
    /// closer). Returns an exit if the engine must stop. This is the building
    /// block of [`Engine::run`] and what the JIT uses for cold code.
    ///
    /// The caller has checked `m.hart.instret < limit`, handled interrupts
    /// and drained invalidations.
    #[inline]
    pub fn run_block(&mut self, m: &mut Machine, limit: u64) -> Option<Exit> {
        let pc = m.hart.pc;
        let off = match m.fetch_offset(pc) {
            Ok(off) => off,
            Err(trap) => return m.raise(trap),
        };
        // The fetch walk may have set an A bit in a page that holds code.
        self.sync_invalidations(m);
        self.blocks_executed += 1;
        let Some(block) = self.cache.get(m, off) else {
            return step_uncached(m, &mut None);
        };
        let budget = limit - m.hart.instret;
        if budget >= block.ops.len() as u64 {
            run_block_fast(m, block, pc)
        } else {
            let n = usize::try_from(budget).unwrap_or(0);
            run_ops(m, &block.ops[..n], pc, &mut None)
        }
    }

    fn run_traced(&mut self, m: &mut Machine, limit: u64) -> Exit {
        let mut tracer = self.tracer.take();
        let exit = loop {
            if let Some(exit) = self.boundary(m, limit) {
                break exit;
            }
            let pc = m.hart.pc;
            let off = match m.fetch_offset(pc) {
                Ok(off) => off,
                Err(trap) => match m.raise(trap) {
                    Some(exit) => break exit,
                    None => continue,
                },
            };
            self.sync_invalidations(m);
            let exit = match self.cache.get(m, off) {
                // One instruction at a time, so the tracer sees every step.
                Some(block) => {
                    let ops = [block.ops[0]];
                    run_ops(m, &ops, pc, &mut tracer)
                }
                None => step_uncached(m, &mut tracer),
            };
            if let Some(exit) = exit {
                break exit;
            }
        };
        self.tracer = tracer;
        exit
    }

    /// Work done between blocks: budget, invalidations, interrupts, device exits.
    #[inline]
    fn boundary(&mut self, m: &mut Machine, limit: u64) -> Option<Exit> {
        if m.pending_exit.is_some() {
            return m.take_pending_exit();
        }
        if m.hart.instret >= limit {
            return Some(Exit::InstructionLimit);
        }
        if m.hart.csr.mip & m.hart.csr.mie != 0 {
            return m.take_interrupt();
        }
        None
    }
}

impl Engine for Interpreter {
    fn run(&mut self, m: &mut Machine, limit: u64) -> Exit {
        self.attach(m);
        if self.tracer.is_some() {
            return self.run_traced(m, limit);
        }
        loop {
            if let Some(exit) = self.boundary(m, limit) {
                return exit;
            }
            if let Some(exit) = self.run_block(m, limit) {
                return exit;
            }
        }
    }

    fn name(&self) -> &'static str {
        "interp"
    }
}

/// Execute predecoded instructions starting at `pc` through [`execute`], one
/// at a time, stopping early at a trap, a taken jump or an instruction that
/// ends the block. Leaves `pc` and `instret` exact. This is the reference
/// path (tracing, partial blocks at the end of a budget); whole blocks take
/// [`run_block_fast`].
#[inline(always)]
fn run_ops(m: &mut Machine, ops: &[Op], mut pc: u32, tracer: &mut Option<Box<dyn Tracer>>) -> Option<Exit> {
    let start = m.hart.instret;
    m.stop_block = false;
    for (i, op) in ops.iter().enumerate() {
        if let Some(t) = tracer {
            t.before(m, pc, &Decoded { inst: op.inst, len: op.len });
        }
        let len = u32::from(op.len);
        let before = start + i as u64;
        m.hart.instret = before;
        match execute(m, op.inst, pc, len) {
            Ok(Step::Next(next)) if next == pc.wrapping_add(len) => {
                m.hart.x[0] = 0;
                pc = next;
            }
            Ok(Step::Next(next) | Step::EndBlock(next)) => {
                m.hart.x[0] = 0;
                m.hart.pc = next;
                m.hart.instret = before + 1;
                return None;
            }
            Ok(Step::Exit(next, exit)) => {
                m.hart.x[0] = 0;
                m.hart.pc = next;
                m.hart.instret = before + 1;
                return Some(exit);
            }
            Err(trap) => {
                m.hart.pc = pc;
                return m.raise(trap);
            }
        }
    }
    m.hart.pc = pc;
    m.hart.instret = start + ops.len() as u64;
    None
}

/// Execute a whole block: the body through its specialised handlers, the last
/// op through [`execute`]. Same contract as [`run_ops`].
#[inline(always)]
fn run_block_fast(m: &mut Machine, block: &Block, mut pc: u32) -> Option<Exit> {
    let start = m.hart.instret;
    m.stop_block = false;
    for (i, op) in block.body.iter().enumerate() {
        match (op.run)(m, op, pc) {
            Ok(()) => pc = pc.wrapping_add(u32::from(op.len)),
            Err(fast::Stop::EndBlock) => {
                // A store hit a code page or a device: end the block here.
                m.hart.pc = pc.wrapping_add(u32::from(op.len));
                m.hart.instret = start + i as u64 + 1;
                return None;
            }
            Err(fast::Stop::Trap(trap)) => {
                m.hart.pc = pc;
                m.hart.instret = start + i as u64;
                return m.raise(trap);
            }
        }
    }
    let retired = start + block.body.len() as u64;
    let last = block.ops.len() - 1;
    // Conditional branches end most hot blocks: decide them here rather than
    // through the general `execute`.
    if let Inst::Branch { op, rs1, rs2, offset } = block.ops[last].inst {
        let taken = exec::branch_taken(op, m.hart.x[rs1.idx()], m.hart.x[rs2.idx()]);
        m.hart.pc =
            if taken { pc.wrapping_add(offset as u32) } else { pc.wrapping_add(u32::from(block.ops[last].len)) };
        m.hart.instret = retired + 1;
        return None;
    }
    m.hart.instret = retired;
    run_ops(m, &block.ops[last..], pc, &mut None)
}

/// Execute one instruction that straddles a page boundary (so no block holds
/// it): fetch both halves through the MMU and run it.
#[cold]
fn step_uncached(m: &mut Machine, tracer: &mut Option<Box<dyn Tracer>>) -> Option<Exit> {
    let pc = m.hart.pc;
    let word = match m.fetch_word(pc) {
        Ok(w) => w,
        Err(trap) => return m.raise(trap),
    };
    let Decoded { inst, len } = decode(word);
    run_ops(m, &[Op { inst, len }], pc, tracer)
}
