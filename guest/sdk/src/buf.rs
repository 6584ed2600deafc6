//! Stack buffers that are never zeroed.
//!
//! A storage access encodes its key into a small stack buffer and receives
//! the value into another; zeroing them first (`[0u8; 64]`) is a memset
//! loop the guest pays for on every access, and it was a tenth of an ERC-20
//! transfer's instructions. A [`StackBuf`] starts uninitialized and only
//! ever hands out the bytes something wrote: an encoder through [`Sink`],
//! or a syscall through [`StackBuf::as_mut_ptr`] and
//! [`StackBuf::set_filled`].

use core::mem::MaybeUninit;

use avm_abi::codec::Sink;

/// `N` bytes on the stack, of which the first `len` are written.
pub struct StackBuf<const N: usize> {
    bytes: [MaybeUninit<u8>; N],
    len: usize,
    overflow: bool,
}

impl<const N: usize> StackBuf<N> {
    /// An empty buffer (nothing written, nothing zeroed).
    #[inline(always)]
    pub fn new() -> Self {
        StackBuf { bytes: [const { MaybeUninit::uninit() }; N], len: 0, overflow: false }
    }

    /// The capacity, as a syscall length.
    pub const CAPACITY: u32 = N as u32;

    /// Where a syscall may write up to `N` bytes.
    #[inline(always)]
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.bytes.as_mut_ptr().cast()
    }

    /// Record that the first `len` bytes (at most `N`) are written.
    ///
    /// # Safety
    /// Something (a syscall, through [`Self::as_mut_ptr`]) wrote them.
    #[inline(always)]
    pub unsafe fn set_filled(&mut self, len: usize) {
        self.len = len.min(N);
    }

    /// The bytes written.
    #[inline(always)]
    pub fn filled(&self) -> &[u8] {
        // SAFETY: the first `len <= N` bytes were written (by `put`, or as
        // the caller of `set_filled` promised).
        unsafe { core::slice::from_raw_parts(self.bytes.as_ptr().cast::<u8>(), self.len) }
    }

    /// The bytes an encoder wrote, or `None` if they did not fit.
    #[inline(always)]
    pub fn written(&self) -> Option<&[u8]> {
        (!self.overflow).then(|| self.filled())
    }
}

impl<const N: usize> Default for StackBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Sink for StackBuf<N> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        match self.bytes.get_mut(self.len..self.len + bytes.len()) {
            Some(dst) if !self.overflow => {
                // SAFETY: `dst` is `bytes.len()` bytes of our own buffer, and
                // `bytes` cannot overlap it (we hold it mutably).
                unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst.as_mut_ptr().cast::<u8>(), bytes.len()) };
                self.len += bytes.len();
            }
            _ => self.overflow = true,
        }
    }
}
