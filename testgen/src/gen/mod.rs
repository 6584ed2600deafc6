//! The random program generator.
//!
//! [`generate`] draws a bare-metal program from an [`Entropy`] source. The
//! program is not meant to compute anything; it is meant to be *valid for
//! every engine whatever it does*: it cannot make the host panic, it always
//! ends (by writing `tohost`, or by hitting the instruction limit the oracle
//! runs it with), and every path through it has one meaning that the engines
//! must agree on. A program may fault, trap in a loop, modify itself or jump
//! into its data; the oracle compares what happened, not whether it was
//! sensible.
//!
//! Structure of every program (see [`crate::program`] for addresses):
//! - a **prologue** in M-mode installs the M- and S-mode trap handlers,
//!   points the reserved registers at their areas, maybe delegates some
//!   exceptions to S-mode, maybe turns on Sv32, gives the other registers
//!   random values, and enters the body in M, S or U mode (`mret`);
//! - the **trap handlers** log `cause`/`epc`/`tval` in a ring in memory,
//!   count traps in `tp`, step `epc` over the faulting instruction (reading
//!   its first halfword to tell a 2-byte from a 4-byte one), clear software
//!   interrupts, turn instruction-fetch faults into "carry on at `epc` in the
//!   handler's own mode", and halt via `tohost` after a random number of traps;
//! - the **body**: random items (see `body.rs`);
//! - the **epilogue** sets the trap count to its maximum and executes `ecall`,
//!   so whatever mode the body ends in, the handler chain halts the machine.
//!
//! Registers the body never writes (so the handlers keep working): `sp`,
//! `s0` and `s1` (data pointers), `gp` (save area), `tp` (trap count) and
//! `s11` (loop counter). `t0`/`t1` are saved and restored by the handlers.

mod body;
mod system;

use avm_isa::asm::{Asm, Label};
use avm_isa::{Inst, Reg};
use avm_mmu::{Privilege, RAM_BASE};

use crate::program::{Program, DATA_OFFSET, DATA_SIZE, IMAGE_SIZE, TOHOST_OFFSET};
use crate::rng::{ByteEntropy, Dice, Entropy, SplitMix64};

/// Size knobs of the generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenConfig {
    /// Fewest body items (an item is one to a dozen instructions).
    pub min_items: u32,
    /// Most body items.
    pub max_items: u32,
}

impl Default for GenConfig {
    /// 30 to 110 items: roughly 50 to 200 body instructions.
    fn default() -> Self {
        GenConfig { min_items: 30, max_items: 110 }
    }
}

/// A program drawn from `e` with the default sizes.
pub fn generate(e: &mut impl Entropy) -> Program {
    generate_with(e, &GenConfig::default())
}

/// The program named by `seed` (the same seed always gives the same program).
pub fn generate_seeded(seed: u64) -> Program {
    generate(&mut SplitMix64::new(seed))
}

/// The program a fuzzer's input bytes describe (any bytes give a program).
pub fn generate_from_bytes(bytes: &[u8]) -> Program {
    generate(&mut ByteEntropy::new(bytes))
}

/// A program drawn from `e` with the given sizes.
///
/// # Panics
/// Only on a bug in the generator itself (an instruction the assembler cannot
/// encode), never because of the entropy it is given.
pub fn generate_with<E: Entropy + ?Sized>(e: &mut E, config: &GenConfig) -> Program {
    let mut g = Gen::new(Dice { e }, config);
    g.program()
}

// Register roles (see the module docs).
pub(crate) const SP: Reg = Reg::new(2);
pub(crate) const GP: Reg = Reg::new(3);
pub(crate) const TP: Reg = Reg::new(4);
pub(crate) const T0: Reg = Reg::new(5);
pub(crate) const T1: Reg = Reg::new(6);
pub(crate) const S0: Reg = Reg::new(8);
pub(crate) const S1: Reg = Reg::new(9);
pub(crate) const S11: Reg = Reg::new(27);

/// Registers the body may overwrite.
pub(crate) const TEMPS: [u32; 25] =
    [1, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 28, 29, 30, 31];
/// Temporaries that compressed three-bit register fields can name.
pub(crate) const CTEMPS: [u32; 6] = [10, 11, 12, 13, 14, 15];

/// Something to emit once a number of further body items have been emitted.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Deferred {
    /// Bind a forward branch or jump target.
    Bind(Label),
    /// Bind the label of a self-modification target and emit its original
    /// (4-byte) instruction there.
    SmcTarget(Label, Inst),
}

/// Generator state: the dice, the assembler and what is still to be placed.
pub(crate) struct Gen<'e, E: Entropy + ?Sized> {
    pub(crate) d: Dice<'e, E>,
    pub(crate) a: Asm,
    /// Deliberately raw words: (address, length).
    pub(crate) raw: Vec<(u32, u32)>,
    /// Deferred items, with the number of items still to go before each.
    pub(crate) pending: Vec<(u32, Deferred)>,
    /// Registers the current construct needs kept (loop bodies).
    pub(crate) avoid: Vec<Reg>,
    pub(crate) privilege: Privilege,
    pub(crate) paging: bool,
    pub(crate) max_traps: u32,
    pub(crate) satp: u32,
    items: u32,
    m_handler: Label,
    s_handler: Label,
    body: Label,
}

impl<'e, E: Entropy + ?Sized> Gen<'e, E> {
    fn new(mut d: Dice<'e, E>, config: &GenConfig) -> Self {
        let privilege = [Privilege::Machine, Privilege::Supervisor, Privilege::User][d.weighted(&[2, 1, 1])];
        let paging = d.chance(60);
        let max_traps = d.range(10, 64) as u32;
        let span = config.max_items.saturating_sub(config.min_items);
        let items = config.min_items + d.below(span.saturating_add(1));
        let mut a = Asm::new(RAM_BASE);
        let (m_handler, s_handler, body) = (a.new_label(), a.new_label(), a.new_label());
        let satp = (1 << 31) | ((RAM_BASE + crate::program::ROOT_PT_OFFSET) >> 12);
        Gen {
            d,
            a,
            raw: Vec::new(),
            pending: Vec::new(),
            avoid: Vec::new(),
            privilege,
            paging,
            max_traps,
            satp,
            items,
            m_handler,
            s_handler,
            body,
        }
    }

    /// The whole program.
    fn program(&mut self) -> Program {
        self.prologue();
        self.handlers();
        // Start the body just before the first page boundary, at a random
        // halfword, so blocks and 32-bit instructions straddle it.
        let target = RAM_BASE + 0x1000 - 2 * self.d.range(1, 0x200) as u32;
        while self.a.pc() < target {
            self.a.compressed(nop());
        }
        let body = self.body;
        self.a.bind(body);
        let body_addr = self.a.pc();
        let limit = RAM_BASE + DATA_OFFSET - 0x200;
        for _ in 0..self.items {
            if self.a.pc() >= limit {
                break;
            }
            self.item();
            self.tick();
        }
        while !self.pending.is_empty() {
            self.tick();
        }
        self.epilogue();
        let code_end = self.a.pc();
        let asm = std::mem::replace(&mut self.a, Asm::new(RAM_BASE));
        let code = match asm.finish() {
            Ok(code) => code,
            Err(e) => panic!("testgen generated an unencodable program: {e}"),
        };
        let mut image = vec![0u8; IMAGE_SIZE as usize];
        image[..code.len()].copy_from_slice(&code);
        self.fill_data(&mut image[DATA_OFFSET as usize..(DATA_OFFSET + DATA_SIZE) as usize]);
        self.page_tables(&mut image);
        Program {
            image,
            tohost: RAM_BASE + TOHOST_OFFSET,
            code: (RAM_BASE, code_end),
            raw: std::mem::take(&mut self.raw),
            body: body_addr,
            privilege: self.privilege,
            paging: self.paging,
        }
    }

    /// One body item done: place whatever was waiting for it.
    fn tick(&mut self) {
        let mut due = Vec::new();
        self.pending.retain_mut(|(n, what)| {
            *n = n.saturating_sub(1);
            if *n == 0 {
                due.push(*what);
            }
            *n > 0
        });
        for what in due {
            match what {
                Deferred::Bind(label) => self.a.bind(label),
                Deferred::SmcTarget(label, inst) => {
                    self.a.bind(label);
                    self.a.inst(inst);
                }
            }
        }
    }

    /// Defer `what` until `items` more body items have been emitted.
    pub(crate) fn defer(&mut self, items: u32, what: Deferred) {
        self.pending.push((items.max(1), what));
    }

    /// A register the body may write (rarely `zero`).
    pub(crate) fn rd(&mut self) -> Reg {
        if self.d.chance(3) {
            return Reg::ZERO;
        }
        free_reg(&mut self.d, &TEMPS, &self.avoid)
    }

    /// A compressible (x10..x15) register the body may write.
    pub(crate) fn crd(&mut self) -> Reg {
        free_reg(&mut self.d, &CTEMPS, &self.avoid)
    }

    /// Any register as a source (mostly temporaries).
    pub(crate) fn rs(&mut self) -> Reg {
        if self.d.chance(75) {
            Reg::new(self.d.pick(&TEMPS))
        } else {
            Reg::new(self.d.below(32))
        }
    }

    /// Emit a raw word and remember that it is deliberately arbitrary.
    pub(crate) fn raw_word(&mut self, word: u32) {
        self.raw.push((self.a.pc(), 4));
        self.a.word(word);
    }

    /// Emit a raw halfword and remember that it is deliberately arbitrary.
    pub(crate) fn raw_half(&mut self, half: u16) {
        self.raw.push((self.a.pc(), 2));
        self.a.half(half);
    }
}

/// `addi zero, zero, 0`.
pub(crate) const fn nop() -> Inst {
    Inst::AluImm { op: avm_isa::AluImmOp::Addi, rd: Reg::ZERO, rs1: Reg::ZERO, imm: 0 }
}

/// A register of `pool` not in `avoid` (registers a loop under construction
/// depends on): a few random draws, then the first free one. Retrying until
/// a draw succeeds hung the fuzzer: an exhausted byte source draws the same
/// value forever. `pool` always has more registers than `avoid` holds.
fn free_reg<E: Entropy + ?Sized>(d: &mut Dice<'_, E>, pool: &[u32], avoid: &[Reg]) -> Reg {
    for _ in 0..8 {
        let r = Reg::new(d.pick(pool));
        if !avoid.contains(&r) {
            return r;
        }
    }
    pool.iter().map(|&n| Reg::new(n)).find(|r| !avoid.contains(r)).unwrap_or(Reg::new(pool[0]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::ByteEntropy;

    /// Regression (fuzzer hang): with no bytes left every draw is the same.
    #[test]
    fn free_reg_terminates_when_entropy_is_exhausted() {
        let mut e = ByteEntropy::new(&[]);
        let mut d = Dice { e: &mut e };
        let avoid = [Reg::new(CTEMPS[0]), Reg::new(CTEMPS[1])];
        assert_eq!(free_reg(&mut d, &CTEMPS, &avoid), Reg::new(CTEMPS[2]));
        assert_eq!(free_reg(&mut d, &TEMPS, &[Reg::new(TEMPS[0])]), Reg::new(TEMPS[1]));
    }
}
