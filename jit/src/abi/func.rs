//! The types of compiled functions, and the handles the engine keeps on
//! them.

use std::ptr::NonNull;

use avm_mmu::Machine;

use super::ctx::JitCtx;

/// A compiled region: `(machine, context) -> status`.
///
/// The entry pc is an *input* ([`JitCtx::pc`]), not a constant baked into
/// the code, so the same compiled function serves every copy of the same
/// bytes wherever they are mapped.
///
/// The code uses Cranelift's `tail` calling convention, so that one region
/// can end in a tail call of the next (see [`SuccSlot`]). Rust cannot call
/// that convention, so this is an address, not a Rust `fn` type: the engine
/// enters compiled code through a [`TrampolineFn`].
///
/// [`SuccSlot`]: super::SuccSlot
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub struct BlockFn(NonNull<u8>);

// SAFETY: a code address; the code it points to is immutable once compiled
// and lives as long as the engine that owns it.
unsafe impl Send for BlockFn {}
// SAFETY: as above.
unsafe impl Sync for BlockFn {}

impl BlockFn {
    /// The compiled function at `code`.
    ///
    /// # Safety
    /// `code` must be the entry of a function compiled with the translator's
    /// region signature, alive as long as the returned value is used.
    pub unsafe fn from_code(code: NonNull<u8>) -> BlockFn {
        BlockFn(code)
    }
}

// Compiled code reads an empty slot's `func` as 0.
const _: () = assert!(size_of::<Option<BlockFn>>() == size_of::<usize>());

/// The entry from Rust into compiled code: a `system_v` function that
/// calls the region `func` (in the `tail` convention) with the machine and
/// the context and returns its status, also when `func` tail-called other
/// regions before returning.
pub type TrampolineFn = unsafe extern "C" fn(*mut Machine, *mut JitCtx, BlockFn) -> u32;

/// Compiled code for one block, ready to run: a region's function and
/// where in it the block starts.
#[derive(Clone, Copy, Debug)]
pub struct CodeRef {
    /// The region's function.
    pub func: BlockFn,
    /// Instructions in the block: the budget it needs to be entered.
    pub len: u32,
    /// The block's index in its region (0: the block the region was formed
    /// for).
    pub entry: u32,
    /// The block's byte offset from the region's first block.
    pub rel: i32,
}

/// Baseline code for one block: `(machine, context) -> status` in the
/// System V calling convention (arguments in `rdi` and `rsi`, whatever the
/// host OS's default), with `ctx.pc` the block's address.
#[cfg(target_arch = "x86_64")]
pub type BaseFn = unsafe extern "sysv64" fn(*mut Machine, *mut JitCtx) -> u32;
/// Never made on this host (see [`crate::baseline::translate`]).
#[cfg(not(target_arch = "x86_64"))]
pub type BaseFn = unsafe extern "C" fn(*mut Machine, *mut JitCtx) -> u32;

/// The baseline code of a block and what entering it takes from the budget.
#[derive(Clone, Copy, Debug)]
pub struct BaseCode {
    /// The code.
    pub func: BaseFn,
    /// Instructions in the block.
    pub len: u32,
}
