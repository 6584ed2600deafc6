//! Where compiled code finds guest state: byte offsets of the fields of
//! [`Machine`], [`JitCtx`], [`SuccSlot`] and [`BaseSlot`] that both compiled tiers (the
//! Cranelift translator and the baseline) read and write, and the layout
//! facts they rely on.
//! `offset_of!` gives the real offsets of the Rust structs, whatever layout
//! the compiler chose, so nothing here is written out by hand.

use std::mem::offset_of;

use avm_mmu::{Csrs, Hart, Machine, Privilege, Tlb, TlbEntry};

use super::ctx::{BaseSlot, JitCtx, SuccSlot};

pub(crate) const OFF_X: i32 = (offset_of!(Machine, hart) + offset_of!(Hart, x)) as i32;
pub(crate) const OFF_PC: i32 = (offset_of!(Machine, hart) + offset_of!(Hart, pc)) as i32;
pub(crate) const OFF_INSTRET: i32 = (offset_of!(Machine, hart) + offset_of!(Hart, instret)) as i32;
pub(crate) const OFF_PRIVILEGE: i32 = (offset_of!(Machine, hart) + offset_of!(Hart, privilege)) as i32;
pub(crate) const OFF_STOP: i32 = offset_of!(Machine, stop_block) as i32;
pub(crate) const OFF_TLB_READ: i32 = (offset_of!(Machine, tlb) + offset_of!(Tlb, read)) as i32;
pub(crate) const OFF_TLB_WRITE: i32 = (offset_of!(Machine, tlb) + offset_of!(Tlb, write)) as i32;
pub(crate) const OFF_TLB_FETCH: i32 = (offset_of!(Machine, tlb) + offset_of!(Tlb, fetch)) as i32;
pub(crate) const OFF_TAG: i32 = offset_of!(TlbEntry, tag) as i32;
pub(crate) const OFF_DELTA: i32 = offset_of!(TlbEntry, delta) as i32;
pub(crate) const OFF_CTX_RAM: i32 = offset_of!(JitCtx, ram) as i32;
pub(crate) const OFF_CTX_LIMIT: i32 = offset_of!(JitCtx, limit) as i32;
pub(crate) const OFF_CTX_PC: i32 = offset_of!(JitCtx, pc) as i32;
pub(crate) const OFF_CTX_ENTRY: i32 = offset_of!(JitCtx, entry) as i32;
pub(crate) const OFF_CTX_REST: i32 = offset_of!(JitCtx, rest) as i32;
pub(crate) const OFF_CTX_SUCC: i32 = offset_of!(JitCtx, succ) as i32;
pub(crate) const OFF_CTX_CHAINED: i32 = offset_of!(JitCtx, chained) as i32;
pub(crate) const OFF_CTX_CHAIN: i32 = offset_of!(JitCtx, chain) as i32;
pub(crate) const OFF_SLOT_FUNC: i32 = offset_of!(SuccSlot, func) as i32;
pub(crate) const OFF_SLOT_OFF: i32 = offset_of!(SuccSlot, off) as i32;
pub(crate) const OFF_SLOT_LEN: i32 = offset_of!(SuccSlot, len) as i32;
pub(crate) const OFF_SLOT_ENTRY: i32 = offset_of!(SuccSlot, entry) as i32;
pub(crate) const OFF_SLOT_REL: i32 = offset_of!(SuccSlot, rel) as i32;
pub(crate) const OFF_CTX_BASE_FAST: i32 = offset_of!(JitCtx, base_fast) as i32;
pub(crate) const OFF_CTX_BASE_CHAIN: i32 = offset_of!(JitCtx, base_chain) as i32;
pub(crate) const OFF_CTX_BASE_CHAIN_LEFT: i32 = offset_of!(JitCtx, base_chain_left) as i32;
pub(crate) const OFF_BSLOT_OFF: i32 = offset_of!(BaseSlot, off) as i32;
pub(crate) const OFF_BSLOT_RUNS: i32 = offset_of!(BaseSlot, runs) as i32;
pub(crate) const OFF_BSLOT_FUNC: i32 = offset_of!(BaseSlot, func) as i32;
pub(crate) const OFF_BSLOT_LEN: i32 = offset_of!(BaseSlot, len) as i32;

/// The offset in [`Machine`] of a [plain](avm_isa::csr::is_plain) CSR's
/// field, which compiled code reads and writes in place; `None` for any
/// other CSR. The field comes from [`Csrs::plain_mut`], the MMU's own map, so
/// the two cannot disagree.
pub(crate) fn plain_csr_offset(csr: u16) -> Option<i32> {
    let mut csrs = Csrs::default();
    let base = std::ptr::from_ref(&csrs) as usize;
    let field = std::ptr::from_mut(csrs.plain_mut(csr)?) as usize;
    Some((offset_of!(Machine, hart) + offset_of!(Hart, csr) + (field - base)) as i32)
}

// Compiled code compares the privilege byte with the levels' encodings.
const _: () = assert!(std::mem::size_of::<Privilege>() == 1);
const _: () = assert!(Privilege::Supervisor as u8 == 1 && Privilege::Machine as u8 == 3);

// The inline TLB fast paths read an entry as two 32-bit words.
const _: () = assert!(std::mem::size_of::<TlbEntry>() == 8);
const _: () = assert!(std::mem::size_of::<bool>() == 1);
// The inline fast paths read guest memory in host byte order.
#[cfg(not(target_endian = "little"))]
compile_error!("the aVM JIT needs a little-endian host");
