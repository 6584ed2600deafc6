//! The context a call into compiled code receives besides the machine,
//! and the direct-mapped tables through which compiled code chains to the
//! next block without returning to the engine. `repr(C)`: compiled code
//! reads their fields at the offsets of `abi::layout`.

use avm_mmu::{Exit, Trap};

use super::func::{BaseCode, BaseFn, BlockFn, CodeRef};

/// Copies of the chain stub: each region tail-calls one of them, so the
/// indirect jump into the next region sits at one of several addresses,
/// each of which the host's branch predictor learns for fewer regions.
pub const CHAIN_STUBS: usize = 16;

/// Slots of the successor cache (a power of two).
pub const SUCC_SLOTS: usize = 4096;

/// The successor-cache slot of RAM offset `off`: block starts are even, so
/// bit 0 carries nothing. Compiled code computes the same index.
#[inline(always)]
pub fn succ_index(off: u32) -> usize {
    (off as usize >> 1) & (SUCC_SLOTS - 1)
}

/// One slot of the successor cache, a direct-mapped table of the blocks a
/// machine has compiled code for (RAM offset -> code), read by the engine
/// between two compiled calls and by compiled code itself at a region's
/// exit, to tail-call the next region (see [`crate::cranelift`]). `repr(C)`
/// because compiled code reads its fields.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SuccSlot {
    /// The code; `None` for an empty slot.
    pub func: Option<BlockFn>,
    /// The RAM offset of the block.
    pub off: u32,
    /// Instructions in the block (the budget entering it needs).
    pub len: u32,
    /// The block's index in its region.
    pub entry: u32,
    /// The block's byte offset from the region's first block.
    pub rel: i32,
}

impl SuccSlot {
    /// The slot for `code`, the compiled block at RAM offset `off`.
    pub fn new(off: u32, code: CodeRef) -> SuccSlot {
        let CodeRef { func, len, entry, rel } = code;
        SuccSlot { func: Some(func), off, len, entry, rel }
    }

    /// The code this slot holds for the block at RAM offset `off`, if any.
    pub fn code_for(&self, off: u32) -> Option<CodeRef> {
        let func = self.func.filter(|_| self.off == off)?;
        Some(CodeRef { func, len: self.len, entry: self.entry, rel: self.rel })
    }
}

/// What compiled code receives besides the machine: the RAM base for the
/// inline fast path and a place for the helpers to leave a trap or exit.
#[repr(C)]
#[derive(Debug)]
pub struct JitCtx {
    /// Host address of RAM byte 0 (offset 0: compiled code loads it).
    pub ram: *mut u8,
    /// The instruction limit of the current run (`u64::MAX` with metering
    /// off): compiled code enters another block of its region only if the
    /// whole block fits.
    pub limit: u64,
    /// After [`Status::Miss`](super::Status::Miss): the packed [`MissSite`](super::MissSite).
    pub rest: u32,
    /// The pc of the region's entry for the current call (its first block,
    /// also when the call starts at another block).
    pub pc: u32,
    /// The index of the region block this call starts at (see
    /// [`crate::cranelift`]: every block of a region is an entry).
    pub entry: u32,
    /// The trap of a block that returned [`Status::Trap`](super::Status::Trap).
    pub trap: Option<Trap>,
    /// The exit of a block that returned [`Status::Exit`](super::Status::Exit).
    pub exit: Option<Exit>,
    /// The machine's successor cache ([`SUCC_SLOTS`] slots), where compiled
    /// code looks up the region to tail-call at an exit.
    pub succ: *const SuccSlot,
    /// Tail calls from one region into the next since the engine last
    /// looked (compiled code counts them).
    pub chained: u64,
    /// The copies of the chain stub, which a region tail-calls at a normal
    /// exit (see `cranelift::Trampoline`); set by the engine before it
    /// enters compiled code.
    pub chain: [Option<BlockFn>; CHAIN_STUBS],
    /// The engine's baseline fast path ([`SUCC_SLOTS`] slots), where the
    /// baseline chain stub looks up the next block.
    pub base_fast: *const BaseSlot,
    /// The address of the baseline chain stub ([`crate::baseline`]), where
    /// a baseline block jumps at a normal exit.
    pub base_chain: usize,
    /// Blocks the baseline chain stub may still run before it returns.
    pub base_chain_left: u32,
}

impl Default for JitCtx {
    fn default() -> Self {
        JitCtx {
            ram: std::ptr::null_mut(),
            limit: 0,
            rest: 0,
            pc: 0,
            entry: 0,
            trap: None,
            exit: None,
            succ: std::ptr::null(),
            chained: 0,
            chain: [None; CHAIN_STUBS],
            base_fast: std::ptr::null(),
            base_chain: 0,
            base_chain_left: 0,
        }
    }
}

/// One slot of the engine's baseline fast path: a direct-mapped table,
/// indexed like the successor cache ([`succ_index`]), of
/// blocks with baseline code and how many more runs each may take before the
/// engine looks at its map entries again. `repr(C)`, a power-of-two size:
/// the chain stub reads it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BaseSlot {
    /// The block's RAM offset.
    pub off: u32,
    /// Runs left before the maps are consulted again.
    pub runs: u32,
    /// Its baseline code; `None` for an empty slot.
    pub func: Option<BaseFn>,
    /// Instructions in the block.
    pub len: u32,
    _pad: [u32; 3],
}

/// `log2(size_of::<BaseSlot>())`, for the stub's index arithmetic.
pub(crate) const BASE_SLOT_SHIFT: u8 = 5;
const _: () = assert!(size_of::<BaseSlot>() == 1 << BASE_SLOT_SHIFT);

impl BaseSlot {
    /// A slot for `code`, the block at RAM offset `off`, good for `runs`.
    pub fn new(off: u32, runs: u32, code: BaseCode) -> BaseSlot {
        BaseSlot { off, runs, func: Some(code.func), len: code.len, _pad: [0; 3] }
    }

    /// The code this slot holds, if any.
    pub fn code(&self) -> Option<BaseCode> {
        self.func.map(|func| BaseCode { func, len: self.len })
    }
}
