//! The memory map and the limits.
//!
//! Physical RAM starts at [`RAM_BASE`]. The kernel image is loaded there; the
//! host writes a [`BootInfo`] record on the page after it and hands its
//! address to the kernel in `a0`; every frame after that is the kernel's frame
//! pool. The kernel maps all of RAM one-to-one (4 MiB megapages, supervisor
//! only) into every address space, so it can reach any frame by its physical
//! address and a contract cannot reach any of them.
//!
//! A contract's virtual address space, below `0x8000_0000`:
//!
//! ```text
//! 0x0000_0000 ..  USER_CODE_START      unmapped (null pointers fault)
//! USER_CODE_START .. USER_CODE_END     the contract ELF's segments (R/X, R, R/W)
//! HEAP_START .. HEAP_START + HEAP_MAX  heap, mapped on first touch
//!                                      (unmapped gap: guard)
//! STACK_TOP - STACK_MAX .. STACK_TOP   stack, mapped on first touch, grows down
//! STACK_TOP .. 0x8000_0000             unmapped (guard)
//! 0x8000_0000 ..                       the kernel and all RAM, supervisor only
//! ```
//!
//! Heap and stack pages are given on first touch (a page fault the kernel
//! services), so a call pays only for the memory it uses and a task's
//! footprint is bounded by [`HEAP_MAX`] and [`STACK_MAX`].

/// Physical address of RAM byte 0 (as in QEMU's `virt` and `spike`).
pub const RAM_BASE: u32 = 0x8000_0000;
/// Page size.
pub const PAGE_SIZE: u32 = 4096;
/// Lowest address of contract code and data.
pub const USER_CODE_START: u32 = 0x0001_0000;
/// End (exclusive) of the region contract segments may occupy.
pub const USER_CODE_END: u32 = 0x4000_0000;
/// Start of the heap.
pub const HEAP_START: u32 = 0x4000_0000;
/// Largest heap a task may touch.
pub const HEAP_MAX: u32 = 1 << 20;
/// Top of the stack (exclusive); `sp` starts here.
pub const STACK_TOP: u32 = 0x7fff_0000;
/// Largest stack a task may touch.
pub const STACK_MAX: u32 = 256 << 10;
/// Lowest stack address.
pub const STACK_BOTTOM: u32 = STACK_TOP - STACK_MAX;
/// Below the stack, this many bytes are reported as a stack overflow rather
/// than a wild access.
pub const STACK_GUARD: u32 = 64 << 10;

/// Largest contract code image (all segments, page-rounded).
pub const MAX_CODE_SIZE: u32 = 1 << 20;
/// Most ELF segments a contract may have.
pub const MAX_SEGMENTS: u32 = 8;
/// Largest call data.
pub const MAX_INPUT: u32 = 128 << 10;
/// Largest return data or revert message.
pub const MAX_RETURN: u32 = 64 << 10;
/// Largest storage key.
pub const MAX_KEY: u32 = 256;
/// Largest storage value.
pub const MAX_VALUE: u32 = 64 << 10;
/// Most topics in one event.
pub const MAX_TOPICS: u32 = 4;
/// Largest event data.
pub const MAX_EVENT_DATA: u32 = 64 << 10;
/// Deepest call nesting (the transaction's own call is depth 0).
pub const MAX_CALL_DEPTH: u32 = 16;

/// Page-table entry bits (Sv32).
pub mod pte {
    /// Valid.
    pub const V: u32 = 1 << 0;
    /// Readable.
    pub const R: u32 = 1 << 1;
    /// Writable.
    pub const W: u32 = 1 << 2;
    /// Executable.
    pub const X: u32 = 1 << 3;
    /// User-accessible.
    pub const U: u32 = 1 << 4;
    /// Global.
    pub const G: u32 = 1 << 5;
    /// Accessed.
    pub const A: u32 = 1 << 6;
    /// Dirty.
    pub const D: u32 = 1 << 7;
}

/// The boot information record the host writes for the kernel (little-endian
/// `u32` fields at these byte offsets).
pub struct BootInfo;

impl BootInfo {
    /// Magic number, [`BOOT_MAGIC`].
    pub const MAGIC: usize = 0;
    /// Physical RAM base.
    pub const RAM_BASE: usize = 4;
    /// RAM size in bytes.
    pub const RAM_SIZE: usize = 8;
    /// First frame of the kernel's frame pool.
    pub const POOL_START: usize = 12;
    /// End (exclusive) of the frame pool.
    pub const POOL_END: usize = 16;
    /// Size of the record.
    pub const SIZE: usize = 20;
}

/// [`BootInfo::MAGIC`]: "aVMb".
pub const BOOT_MAGIC: u32 = 0x624d_5661;

/// A code segment as `LOAD_CODE` describes it (four little-endian `u32`s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(C)]
pub struct Segment {
    /// Page-aligned virtual address.
    pub vaddr: u32,
    /// Pages.
    pub pages: u32,
    /// Offset of its first page in the loaded image, in pages.
    pub image_page: u32,
    /// [`pte::R`] | [`pte::W`] | [`pte::X`].
    pub flags: u32,
}

/// Bytes of one [`Segment`] record.
pub const SEGMENT_SIZE: u32 = 16;

impl Segment {
    /// The record as bytes.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        for (i, v) in [self.vaddr, self.pages, self.image_page, self.flags].into_iter().enumerate() {
            b[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        b
    }
}

/// The record `CONTEXT` writes ([`CONTEXT_SIZE`] bytes):
///
/// | offset | field |
/// |---|---|
/// | 0 | caller address (20 bytes) |
/// | 20 | this contract's address (20) |
/// | 40 | value sent with the call (u128) |
/// | 56 | block number (u64) |
/// | 64 | call depth (u32) |
/// | 68 | flags (u32): [`CONTEXT_DEPLOYING`], [`CONTEXT_STATIC`] |
/// | 72 | gas left (u64) |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Context {
    /// Who called.
    pub caller: crate::Address,
    /// The running contract.
    pub this: crate::Address,
    /// Native value sent with the call.
    pub value: u128,
    /// Number of the block being built.
    pub block_number: u64,
    /// Call depth (0 = the transaction's call).
    pub depth: u32,
    /// [`CONTEXT_DEPLOYING`] | [`CONTEXT_STATIC`].
    pub flags: u32,
    /// Gas left when the context was read.
    pub gas_left: u64,
}

/// Size of a [`Context`] record.
pub const CONTEXT_SIZE: u32 = 80;
/// Context flag: this call is the constructor (`init`) of a deployment.
pub const CONTEXT_DEPLOYING: u32 = 1;
/// Context flag: read-only call (a `view`): state changes fail.
pub const CONTEXT_STATIC: u32 = 2;

impl Context {
    /// The record as bytes.
    pub fn to_bytes(&self) -> [u8; CONTEXT_SIZE as usize] {
        let mut b = [0u8; CONTEXT_SIZE as usize];
        b[0..20].copy_from_slice(&self.caller.0);
        b[20..40].copy_from_slice(&self.this.0);
        b[40..56].copy_from_slice(&self.value.to_le_bytes());
        b[56..64].copy_from_slice(&self.block_number.to_le_bytes());
        b[64..68].copy_from_slice(&self.depth.to_le_bytes());
        b[68..72].copy_from_slice(&self.flags.to_le_bytes());
        b[72..80].copy_from_slice(&self.gas_left.to_le_bytes());
        b
    }

    /// The record from bytes.
    pub fn from_bytes(b: &[u8; CONTEXT_SIZE as usize]) -> Context {
        let mut caller = [0u8; 20];
        caller.copy_from_slice(&b[0..20]);
        let mut this = [0u8; 20];
        this.copy_from_slice(&b[20..40]);
        Context {
            caller: crate::Address(caller),
            this: crate::Address(this),
            value: u128::from_le_bytes(le(&b[40..56])),
            block_number: u64::from_le_bytes(le(&b[56..64])),
            depth: u32::from_le_bytes(le(&b[64..68])),
            flags: u32::from_le_bytes(le(&b[68..72])),
            gas_left: u64::from_le_bytes(le(&b[72..80])),
        }
    }
}

/// The record a `CALL` syscall points at ([`CALL_REQUEST_SIZE`] bytes):
///
/// | offset | field |
/// |---|---|
/// | 0 | callee address (20 bytes) |
/// | 20 | value to send (u128) |
/// | 36 | call data pointer (u32) |
/// | 40 | call data length (u32) |
/// | 44 | flags (u32): [`CONTEXT_STATIC`] for a read-only call |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CallRequest {
    /// The contract to call.
    pub target: crate::Address,
    /// Native value to send with the call.
    pub value: u128,
    /// Call data address in the caller's memory.
    pub input_ptr: u32,
    /// Call data length.
    pub input_len: u32,
    /// [`CONTEXT_STATIC`] or 0.
    pub flags: u32,
}

/// Size of a [`CallRequest`] record.
pub const CALL_REQUEST_SIZE: u32 = 48;

impl CallRequest {
    /// The record as bytes.
    pub fn to_bytes(&self) -> [u8; CALL_REQUEST_SIZE as usize] {
        let mut b = [0u8; CALL_REQUEST_SIZE as usize];
        b[0..20].copy_from_slice(&self.target.0);
        b[20..36].copy_from_slice(&self.value.to_le_bytes());
        b[36..40].copy_from_slice(&self.input_ptr.to_le_bytes());
        b[40..44].copy_from_slice(&self.input_len.to_le_bytes());
        b[44..48].copy_from_slice(&self.flags.to_le_bytes());
        b
    }

    /// The record from bytes.
    pub fn from_bytes(b: &[u8; CALL_REQUEST_SIZE as usize]) -> CallRequest {
        let mut target = [0u8; 20];
        target.copy_from_slice(&b[0..20]);
        CallRequest {
            target: crate::Address(target),
            value: u128::from_le_bytes(le(&b[20..36])),
            input_ptr: u32::from_le_bytes(le(&b[36..40])),
            input_len: u32::from_le_bytes(le(&b[40..44])),
            flags: u32::from_le_bytes(le(&b[44..48])),
        }
    }
}

/// A fixed-size array from a slice of exactly that length (the callers
/// above slice constant ranges of a fixed-size record).
fn le<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    a
}
