//! Differential tests: every program runs on the interpreter and on the JIT
//! (threshold 0 and the default) from the same machine, and the machines must
//! end identical. Split by topic: single instructions and their corner
//! cases, caching and budgets, paging, chaining, regions.

#[path = "../common/mod.rs"]
mod common;

mod caching;
mod chaining;
mod instructions;
mod paging;
mod regions;

use instructions::alu_program;

use avm_isa::asm::Asm;
use avm_isa::{AluImmOp, AluOp, Inst, LoadOp, Reg, StoreOp};
use avm_jit::{JitConfig, DEFAULT_THRESHOLD};
use avm_mmu::{Exit, RAM_BASE};
use common::*;

const RAM: u32 = 1 << 20;

fn halt() -> Exit {
    Exit::Halt { code: 0 }
}
