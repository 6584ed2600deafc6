//! Region keys: the content a compiled region is cached by
//! ([`crate::cache::CodeCache`]), and how a key is checked against memory.
//!
//! A key lists, for every block of the region in region order (the entry
//! block first), its offset from the entry (i32), length (u32), straddler
//! flag (u8), page relative to the entry's (i8) and bytes. Compiled code
//! depends on exactly that: the pc is an input, so equal keys mean
//! interchangeable code wherever the bytes sit.

use avm_mmu::memory::PAGE_SIZE;

use crate::abi::{BlockFn, CodeRef};
use crate::plan::region::{page_of, OwnedRegion};

/// The cache key of a region: for every block, in region order (the entry
/// block first), its offset from the entry (i32), length (u32), straddler
/// flag (u8), page relative to the entry's (i8) and bytes.
pub(super) fn region_key(region: &OwnedRegion) -> Box<[u8]> {
    let mut key = Vec::new();
    for b in &region.blocks {
        key.extend_from_slice(&b.rel.to_le_bytes());
        key.extend_from_slice(&(b.bytes.len() as u32).to_le_bytes());
        key.push(u8::from(b.straddler.is_some()));
        key.push(b.page as i8 as u8);
        key.extend_from_slice(&b.bytes);
    }
    key.into_boxed_slice()
}

/// One block of a region key (see [`region_key`]).
pub(super) struct KeyBlock<'k> {
    pub(super) rel: i32,
    pub(super) bytes: &'k [u8],
    pub(super) straddler: bool,
    pub(super) page: i32,
}

/// The blocks of a key.
pub(super) fn key_blocks(key: &[u8]) -> impl Iterator<Item = KeyBlock<'_>> {
    let mut rest = key;
    std::iter::from_fn(move || {
        let (head, tail) = rest.split_first_chunk::<10>()?;
        let rel = i32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let bytes = tail.get(..len)?;
        rest = &tail[len..];
        Some(KeyBlock { rel, bytes, straddler: head[8] != 0, page: i32::from(head[9] as i8) })
    })
}

/// True if RAM holds the region of `key` with its entry at offset `off`:
/// every block's bytes, in the page the key says. (A straddler is fetched
/// when it runs, so its bytes need not match.)
pub(super) fn key_matches(key: &[u8], ram: &[u8], off: u32) -> bool {
    key_blocks(key).all(|b| {
        let start = off.wrapping_add(b.rel as u32);
        page_of(start, off) == b.page
            && ram.get(start as usize..(start as usize).saturating_add(b.bytes.len())) == Some(b.bytes)
    })
}

/// The RAM pages the region of `key` covers with its entry at `off`: the
/// entry's, and the other one of a region that spans two.
pub(super) fn key_pages(key: &[u8], off: u32) -> (u32, Option<u32>) {
    let page = off / PAGE_SIZE;
    let other = key_blocks(key).find(|b| b.page != 0).map(|b| page.wrapping_add(b.page as u32));
    (page, other)
}

/// Instructions a block runs (what entering it needs from the budget): its
/// bytes decoded by length alone, plus a straddler.
pub(super) fn block_len(bytes: &[u8], straddler: bool) -> u32 {
    let mut at = 0;
    let mut n = u32::from(straddler);
    while at + 1 < bytes.len() {
        at += avm_isa::inst_len(u16::from(bytes[at])) as usize;
        n += 1;
    }
    n
}

/// The code of every block of the region of `key`, compiled as `func`:
/// each block is an entry of the function.
pub(super) fn region_entries(key: &[u8], func: BlockFn) -> impl Iterator<Item = CodeRef> + '_ {
    key_blocks(key).enumerate().map(move |(k, b)| CodeRef {
        func,
        len: block_len(b.bytes, b.straddler),
        entry: k as u32,
        rel: b.rel,
    })
}
