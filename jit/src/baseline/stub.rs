//! The baseline chain stub (see the module docs of [`crate::baseline`]).

use avm_mmu::tlb::TLB_ENTRIES;

use super::x86::{Alu, Cond, Gpr, Shift, R10, R11, R8, R9, RAX, RCX, RDI, RDX, RSI, X86};
use crate::abi::ctx::BASE_SLOT_SHIFT;
use crate::abi::layout::*;
use crate::abi::{Status, SUCC_SLOTS};

/// The chain stub (see the module docs), with the [`BaseFn`](crate::abi::BaseFn) signature:
/// `(m, ctx)` in `rdi`/`rsi`, as the block that jumps to it left them.
pub fn chain_stub() -> Option<Vec<u8>> {
    if !cfg!(target_arch = "x86_64") {
        return None;
    }
    let mut a = X86::default();
    let out = a.label();
    a.alu_mem_imm(Alu::Cmp, RSI, OFF_CTX_BASE_CHAIN_LEFT, 0);
    a.jcc(Cond::E, out);
    // The budget: `instret < limit` and the next block fits in what is left.
    a.load64(R10, RSI, OFF_CTX_LIMIT);
    a.alu64_mem(Alu::Sub, R10, RDI, OFF_INSTRET);
    a.jcc(Cond::Be, out);
    // The next pc hits the fetch TLB (a pc is even, so 2 bytes stay in its
    // page): `rdx` = pc, `rcx` = its RAM offset.
    a.load(RDX, RDI, OFF_PC);
    tlb_entry(&mut a, RDX);
    a.mov(RCX, RDX);
    a.alu_imm(Alu::And, RCX, !0xfff);
    a.alu_mem(Alu::Cmp, RCX, RAX, OFF_TLB_FETCH + OFF_TAG);
    a.jcc(Cond::Ne, out);
    a.mov(RCX, RDX);
    a.alu_mem(Alu::Add, RCX, RAX, OFF_TLB_FETCH + OFF_DELTA);
    // Its slot: `r8` = &ctx.base_fast[succ_index(off)].
    a.mov(R8, RCX);
    a.shift_imm(Shift::Shr, R8, 1);
    a.alu_imm(Alu::And, R8, (SUCC_SLOTS - 1) as i32);
    a.shift_imm(Shift::Shl, R8, BASE_SLOT_SHIFT);
    a.add64_mem(R8, RSI, OFF_CTX_BASE_FAST);
    a.alu_mem(Alu::Cmp, RCX, R8, OFF_BSLOT_OFF);
    a.jcc(Cond::Ne, out);
    a.alu_mem_imm(Alu::Cmp, R8, OFF_BSLOT_RUNS, 0);
    a.jcc(Cond::E, out);
    a.load64(R9, R8, OFF_BSLOT_FUNC);
    a.alu64(Alu::Or, R9, R9);
    a.jcc(Cond::E, out);
    a.load(R11, R8, OFF_BSLOT_LEN);
    a.alu64(Alu::Cmp, R11, R10);
    a.jcc(Cond::A, out);
    // Go: as `JitEngine::step` would.
    a.alu_mem_imm(Alu::Sub, R8, OFF_BSLOT_RUNS, 1);
    a.alu_mem_imm(Alu::Sub, RSI, OFF_CTX_BASE_CHAIN_LEFT, 1);
    a.store(RSI, OFF_CTX_PC, RDX);
    a.jmp_reg(R9);
    a.bind(out);
    a.mov_imm(RAX, Status::End.code() as i32);
    a.ret();
    a.finish()
}

/// `rax` = the address of the TLB entry for the page of the guest address
/// in `addr` (add a side's offset): `m + (page % TLB_ENTRIES) * 8`, as the
/// Cranelift translator's `tlb_entry`.
pub(super) fn tlb_entry(a: &mut X86, addr: Gpr) {
    const _: () = assert!(TLB_ENTRIES.is_power_of_two() && TLB_ENTRIES > 1);
    a.mov(RAX, addr);
    a.shift_imm(Shift::Shr, RAX, 12 - 3);
    a.alu_imm(Alu::And, RAX, ((TLB_ENTRIES - 1) << 3) as i32);
    a.add64(RAX, RDI);
}
