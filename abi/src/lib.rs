//! # avm-abi: the contract between host, kernel and contracts
//!
//! A blockchain VM is three programs that must agree on every number: the
//! **host** (M-mode firmware, in Rust on the machine running aVM), the guest
//! **kernel** (S-mode, RV32) and the **contracts** (U-mode, RV32, built with the
//! SDK). If each kept its own copy of "syscall 4 is storage-get" or "the heap
//! starts at 0x4000_0000", the copies would drift apart and the bugs would be
//! silent. This crate is the one copy. It is `no_std` and has no dependencies,
//! so the kernel and the SDK compile it for `riscv32imac-unknown-none-elf`
//! and the host compiles it for itself.
//!
//! What it defines:
//!
//! - [`syscall`]: the calls a contract makes into the kernel (`ecall` from
//!   U-mode), with a table saying which arguments are pointers the kernel must
//!   check before anything reaches the host.
//! - [`host`]: the calls the kernel makes into the host firmware (`ecall` from
//!   S-mode), SBI style: number in `a7`, arguments in `a0..a5`.
//! - [`status`]: the codes those calls return and how a call ended.
//! - [`layout`]: the memory map: where the kernel, boot information, contract
//!   code, heap and stack live, and the limits on sizes and call depth.
//! - [`gas`]: the published gas schedule of the host calls.
//! - [`keccak`] and [`selector`](mod@selector): Keccak-256 as a `const fn`, so method
//!   selectors and event ids are computed by the compiler, not by the guest
//!   (a Keccak permutation costs an RV32 guest ~20,000 instructions).
//! - [`codec`]: how typed values are laid out in call data, return data,
//!   storage and events (little-endian, length-prefixed, no padding).
//! - `types` (feature `alloc`): the same values as a dynamic `types::Value`
//!   driven by a type parsed from the ABI metadata that the SDK embeds in every
//!   contract ELF, which is how the host decodes calls without the source.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod codec;
pub mod gas;
pub mod host;
pub mod keccak;
pub mod layout;
pub mod selector;
pub mod status;
pub mod syscall;
#[cfg(feature = "alloc")]
pub mod types;

pub use codec::{Decode, DecodeError, Encode, Reader};
pub use selector::{event_id, selector, Selector};

/// A 20-byte account address (the last 20 bytes of the Keccak-256 hash of a
/// secp256k1 public key, or of the creator and nonce for a contract).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The all-zero address.
    pub const ZERO: Address = Address([0; 20]);

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }
}

impl core::fmt::Debug for Address {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}

impl core::fmt::Display for Address {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("0x")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}
