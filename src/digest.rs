//! A digest of the whole machine's RAM, for comparing runs from the command
//! line (`avm exec --json`).
//!
//! Two runs that differ only in memory must not compare equal. Hashing all of
//! RAM (64 MiB by default) would cost more than most programs take to run, so
//! only pages that hold a nonzero byte take part: they are hashed in address
//! order, each as its 4-byte little-endian physical address followed by its
//! 4096 bytes, with keccak-256 (the `sha3` crate; the hash Ethereum uses, and
//! the one aVM's chain side uses). An all-zero page is the same as a page never
//! written, so the digest depends only on RAM's contents, never on how they
//! came to be.

use avm_mmu::memory::PAGE_SIZE;
use avm_mmu::{Ram, RAM_BASE};
use serde::Serialize;
use sha3::{Digest, Keccak256};

/// The digest of RAM's contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RamDigest {
    /// Keccak-256 over the nonzero pages (address, then bytes), as `0x` + 64 hex digits.
    pub keccak256: String,
    /// How many pages hold a nonzero byte.
    pub nonzero_pages: u32,
}

/// Digest `ram` (see the module docs for the exact input).
pub fn ram_digest(ram: &Ram) -> RamDigest {
    let mut hasher = Keccak256::new();
    let mut nonzero_pages = 0;
    for (addr, page) in (RAM_BASE..).step_by(PAGE_SIZE as usize).zip(ram.bytes().chunks(PAGE_SIZE as usize)) {
        if page.iter().all(|&b| b == 0) {
            continue;
        }
        nonzero_pages += 1;
        hasher.update(addr.to_le_bytes());
        hasher.update(page);
    }
    let hash = hasher.finalize();
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    RamDigest { keccak256: format!("0x{hex}"), nonzero_pages }
}

#[cfg(test)]
mod tests {
    use super::*;
    use avm_mmu::{Machine, MachineConfig};

    fn machine() -> Machine {
        Machine::new(MachineConfig { ram_size: 1 << 16, ..MachineConfig::default() }).expect("machine")
    }

    #[test]
    fn empty_ram_digest_is_keccak_of_nothing() {
        let d = ram_digest(&machine().ram);
        assert_eq!(d.nonzero_pages, 0);
        assert_eq!(d.keccak256, "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    }

    #[test]
    fn ram_digest_depends_on_contents_and_address() {
        let mut a = machine();
        let mut b = machine();
        a.write_phys_bytes(RAM_BASE, &[1]).expect("in RAM");
        b.write_phys_bytes(RAM_BASE + PAGE_SIZE, &[1]).expect("in RAM");
        assert_ne!(ram_digest(&a.ram), ram_digest(&b.ram), "same bytes, other page");
        b.write_phys_bytes(RAM_BASE + PAGE_SIZE, &[0]).expect("in RAM");
        assert_eq!(ram_digest(&b.ram), ram_digest(&machine().ram), "a zeroed page counts as never written");
    }
}
