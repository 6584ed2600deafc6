//! Executable memory for compiled regions, written without a system call
//! per function.
//!
//! Machine code must never sit in memory that is writable and executable
//! at once (W^X): a bug that lets guest data reach such a page would let it
//! write host code. `cranelift-jit` keeps that rule by mapping fresh pages
//! for every function, writing the code, and `mprotect`ing them to
//! read+execute. For the small regions this JIT compiles by the thousand,
//! that was half the compile time (`mmap`, `mprotect` and page faults on
//! fresh pages: a one-instruction region took 53 µs, 27 µs without them).
//!
//! [`CodeMemory`] keeps W^X by *double mapping* instead: each chunk is an
//! anonymous shared-memory file mapped twice, read+write at one address and
//! read+execute at another. A function is copied in through the writable
//! view and called through the executable one; installing it is a `memcpy`
//! into a chunk whose pages were populated when it was mapped. Functions
//! are never freed one by one: all of a translator's code is freed at once
//! ([`CodeMemory::free`]) when the engine that holds its functions is
//! dropped, and all baseline code when the baseline tier's budget is spent.
//!
//! The anonymous file is Linux's `memfd_create`, so this JIT needs Linux;
//! elsewhere [`CodeMemory::new`] fails and the engine interprets.

use std::io;
use std::ptr::NonNull;

/// Bytes of the first chunk; each further chunk is twice as large as the
/// one before, up to [`MAX_CHUNK_BYTES`] (a larger function gets a chunk of
/// its own size). A short run then populates little memory, a long one maps
/// few chunks.
const FIRST_CHUNK_BYTES: usize = 64 << 10;

/// See [`FIRST_CHUNK_BYTES`].
const MAX_CHUNK_BYTES: usize = 1 << 20;

/// Where functions start at the least: Cranelift's x86_64 and aarch64
/// function alignment (a function that asks for more gets more).
const FUNCTION_ALIGN: usize = 16;

/// The largest alignment a function may ask for: chunks start on a page.
const MAX_ALIGN: usize = 4096;

/// One anonymous file, mapped twice.
#[derive(Debug)]
struct Chunk {
    /// The read+write view.
    rw: NonNull<u8>,
    /// The read+execute view of the same bytes.
    rx: NonNull<u8>,
    /// Length of each view.
    len: usize,
    /// Bytes handed out so far.
    used: usize,
}

/// Double-mapped chunks of executable memory; see the module docs.
///
/// No `Drop`: memory is unmapped only by an explicit [`CodeMemory::free`],
/// whose caller promises that no function in it runs again. Dropping it
/// otherwise leaks the mappings, which is the safe outcome where nobody
/// can promise that (a compile thread that dies, see [`crate::worker`]).
#[derive(Debug, Default)]
pub struct CodeMemory {
    chunks: Vec<Chunk>,
}

// SAFETY: the chunks are plain mappings that no other owner refers to; the
// pointers are only dereferenced by `install`, which takes `&mut self`.
unsafe impl Send for CodeMemory {}

impl CodeMemory {
    /// Memory with its first chunk mapped, so that a host without double
    /// mapping (see the module docs) fails here, when the translator is
    /// made, rather than at its first function.
    pub fn new() -> io::Result<CodeMemory> {
        let mut memory = CodeMemory::default();
        memory.grow(0)?;
        Ok(memory)
    }

    /// Copy `code` into executable memory at an address that is a multiple
    /// of `align` (a power of two up to 4096) and return that executable
    /// address. The code must be position independent apart from calls
    /// through absolute addresses (a region has no relocation to patch).
    pub fn install(&mut self, code: &[u8], align: usize) -> io::Result<NonNull<u8>> {
        if !align.is_power_of_two() || align > MAX_ALIGN {
            return Err(io::Error::other(format!("unsupported code alignment {align}")));
        }
        let align = align.max(FUNCTION_ALIGN);
        let fits = |c: &Chunk| c.used.next_multiple_of(align) + code.len() <= c.len;
        if !self.chunks.last().is_some_and(fits) {
            self.grow(code.len())?;
        }
        let chunk = self.chunks.last_mut().ok_or_else(|| io::Error::other("no code chunk"))?;
        let at = chunk.used.next_multiple_of(align);
        // SAFETY: `at + code.len() <= chunk.len` (checked above), so the
        // copy stays inside the writable view, and no function was ever
        // handed out from those bytes (`used` only grows), so no thread can
        // be running them.
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), chunk.rw.as_ptr().add(at), code.len()) };
        chunk.used = at + code.len();
        // SAFETY: `at` is inside the executable view of the same length.
        let rx = unsafe { chunk.rx.add(at) };
        // Hosts without coherent instruction caches (aarch64) must be told
        // about new code; on x86_64 both calls do nothing.
        // SAFETY: the range is the code just written, inside the mapping.
        unsafe { wasmtime_internal_jit_icache_coherence::clear_cache(rx.as_ptr().cast(), code.len()) }?;
        wasmtime_internal_jit_icache_coherence::pipeline_flush_mt()?;
        Ok(rx)
    }

    /// Map a new chunk of at least `min` bytes.
    fn grow(&mut self, min: usize) -> io::Result<()> {
        let step = self.chunks.len().min((MAX_CHUNK_BYTES / FIRST_CHUNK_BYTES).ilog2() as usize);
        let len = (FIRST_CHUNK_BYTES << step).min(MAX_CHUNK_BYTES).max(min.next_multiple_of(FIRST_CHUNK_BYTES));
        let (rw, rx) = os::map_twice(len)?;
        self.chunks.push(Chunk { rw, rx, len, used: 0 });
        Ok(())
    }

    /// Bytes handed out in all chunks: the code installed and the padding
    /// that aligned it.
    pub fn used(&self) -> usize {
        self.chunks.iter().map(|c| c.used).sum()
    }

    /// Unmap every chunk.
    ///
    /// # Safety
    /// No function installed here may be running or be called afterwards.
    pub unsafe fn free(self) {
        for c in self.chunks {
            // SAFETY: forwarded to the caller; both views were mapped with
            // length `c.len` by `map_twice`.
            unsafe { os::unmap(c.rw, c.len) };
            // SAFETY: as above, for the executable view.
            unsafe { os::unmap(c.rx, c.len) };
        }
    }
}

#[cfg(target_os = "linux")]
mod os {
    use std::io;
    use std::ptr::NonNull;

    /// A fresh anonymous file of `len` bytes mapped read+write and
    /// read+execute, both views populated (one page fault each per page now,
    /// instead of one per page at first use).
    pub fn map_twice(len: usize) -> io::Result<(NonNull<u8>, NonNull<u8>)> {
        let check = |r: libc::c_int| if r < 0 { Err(io::Error::last_os_error()) } else { Ok(r) };
        // SAFETY: a plain system call with a NUL-terminated name.
        let fd = check(unsafe { libc::memfd_create(c"avm-jit-code".as_ptr(), libc::MFD_CLOEXEC) })?;
        let map = |prot: libc::c_int| {
            // SAFETY: a new shared mapping of `fd`, which the kernel places.
            let p =
                unsafe { libc::mmap(std::ptr::null_mut(), len, prot, libc::MAP_SHARED | libc::MAP_POPULATE, fd, 0) };
            if p == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap returned null"))
        };
        let views = (|| {
            let size = libc::off_t::try_from(len).map_err(|_| io::Error::other("code chunk too large"))?;
            // SAFETY: `fd` is the file just created.
            check(unsafe { libc::ftruncate(fd, size) })?;
            let rw = map(libc::PROT_READ | libc::PROT_WRITE)?;
            match map(libc::PROT_READ | libc::PROT_EXEC) {
                Ok(rx) => Ok((rw, rx)),
                Err(e) => {
                    // SAFETY: `rw` was just mapped with length `len`.
                    unsafe { unmap(rw, len) };
                    Err(e)
                }
            }
        })();
        // The mappings keep the file alive; the descriptor is not needed.
        // SAFETY: `fd` is the descriptor opened above.
        unsafe { libc::close(fd) };
        views
    }

    /// Unmap `len` bytes at `p`.
    ///
    /// # Safety
    /// `p` must be a mapping of `len` bytes made by `map_twice` that nothing
    /// uses any more.
    pub unsafe fn unmap(p: NonNull<u8>, len: usize) {
        // SAFETY: forwarded to the caller. A failure could only mean a bad
        // argument, which the caller's contract excludes; it would leak.
        unsafe { libc::munmap(p.as_ptr().cast(), len) };
    }
}

#[cfg(not(target_os = "linux"))]
mod os {
    use std::io;
    use std::ptr::NonNull;

    pub fn map_twice(_len: usize) -> io::Result<(NonNull<u8>, NonNull<u8>)> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "the aVM JIT's code memory needs Linux (memfd_create)"))
    }

    pub unsafe fn unmap(_p: NonNull<u8>, _len: usize) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_code_is_readable_at_its_executable_address_and_aligned() {
        let mut memory = CodeMemory::new().expect("linux");
        let a = memory.install(&[0xc3; 5], 1).unwrap();
        let b = memory.install(&[0x90, 0xc3], 16).unwrap();
        assert_eq!(a.as_ptr() as usize % FUNCTION_ALIGN, 0);
        assert_eq!(b.as_ptr() as usize - a.as_ptr() as usize, FUNCTION_ALIGN);
        // A function may ask for more, up to a page.
        let wide = memory.install(&[0xc3], 64).unwrap();
        assert_eq!(wide.as_ptr() as usize % 64, 0);
        assert!(memory.install(&[0xc3], 3).is_err() && memory.install(&[0xc3], 2 * MAX_ALIGN).is_err());
        // SAFETY: both were just installed, with these lengths.
        unsafe {
            assert_eq!(std::slice::from_raw_parts(b.as_ptr(), 2), [0x90, 0xc3]);
            assert_eq!(std::slice::from_raw_parts(a.as_ptr(), 5), [0xc3; 5]);
        }
        // A function larger than the next chunk gets a chunk of its size.
        let big = vec![0xcc; 4 * FIRST_CHUNK_BYTES + 1];
        let c = memory.install(&big, 16).unwrap();
        // SAFETY: just installed.
        assert_eq!(unsafe { *c.as_ptr().add(big.len() - 1) }, 0xcc);
        assert_eq!(memory.chunks.iter().map(|c| c.len).collect::<Vec<_>>(), [FIRST_CHUNK_BYTES, 5 * FIRST_CHUNK_BYTES]);
        // Then chunks double, up to the largest size.
        for _ in 0..13 {
            memory.install(&vec![0x90; FIRST_CHUNK_BYTES], 16).unwrap();
        }
        let lens: Vec<usize> = memory.chunks.iter().map(|c| c.len).collect();
        assert_eq!(lens[2..], [4, 8, 16].map(|k| k * FIRST_CHUNK_BYTES));
        assert!(lens.iter().all(|&l| l <= MAX_CHUNK_BYTES.max(5 * FIRST_CHUNK_BYTES)));
        assert_eq!(memory.used(), 64 + 1 + big.len() + 13 * FIRST_CHUNK_BYTES);
        // SAFETY: nothing installed here was called.
        unsafe { memory.free() };
    }
}
