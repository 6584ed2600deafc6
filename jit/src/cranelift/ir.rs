//! IR building blocks shared by the trampoline, the chain stub and the
//! region emitter: value types, memory flags, and the TLB entry address
//! computations that mirror `Tlb::lookup`.

use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;

use crate::abi::layout::*;

/// A guest register, an address or a status.
pub(crate) const I32: types::Type = types::I32;
/// A host pointer or a 64-bit counter.
pub(crate) const I64: types::Type = types::I64;

/// The address of the TLB entry for `addr` in the read side of machine `m`
/// (add the side's offset): `m + (page % TLB_ENTRIES) * 8`.
pub(crate) fn tlb_entry(b: &mut FunctionBuilder, m: Value, addr: Value) -> Value {
    let idx = b.ins().ushr_imm_u(addr, 12 - 3);
    let idx = b.ins().band_imm_u(idx, ((avm_mmu::tlb::TLB_ENTRIES - 1) << 3) as i64);
    let idx = b.ins().uextend(I64, idx);
    b.ins().iadd(m, idx)
}

/// The fetch-TLB entry for `addr`'s page (the read side's address; add
/// `OFF_TLB_FETCH`), and a value that is zero exactly when the entry holds
/// that page: a hit, for an access that stays in the page.
pub(crate) fn fetch_entry(b: &mut FunctionBuilder, m: Value, addr: Value) -> (Value, Value) {
    let entry = tlb_entry(b, m, addr);
    let tag = b.ins().load(I32, state_flags(), entry, OFF_TLB_FETCH + OFF_TAG);
    let want = b.ins().band_imm_u(addr, !0xfff_i64 & 0xffff_ffff);
    (entry, b.ins().bxor(tag, want))
}

/// Guest state is only ever accessed here through valid, aligned pointers.
pub(crate) fn state_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Guest RAM accesses may be unaligned.
pub(crate) fn ram_flags() -> MemFlagsData {
    let mut f = MemFlagsData::new();
    f.set_notrap();
    f
}
