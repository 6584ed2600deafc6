//! Predecoded basic blocks, keyed by physical location.
//!
//! Decoding the same bits over and over is the largest cost of a naive
//! interpreter. aVM decodes a *basic block* (straight-line code that ends at a
//! control transfer, a system instruction, the end of its page, or
//! [`MAX_BLOCK_LEN`] instructions) once and keeps it.
//!
//! Blocks are keyed by RAM offset, not by virtual address: the same code seen
//! through two mappings is decoded once, and a remap (new `satp`) needs no
//! invalidation because the fetch translation happens before the lookup. A
//! block never crosses a page, so invalidation is per page: the first store to
//! a page holding blocks takes the MMU's slow path, which reports the page, and
//! the cache drops every block decoded from it.
//!
//! Lookup is two array indexings (page table of RAM pages, then a slot per
//! 2-byte offset), cheap enough to do at every block boundary.

use avm_isa::{decode, inst_len, Decoded, Inst};
use avm_mmu::memory::PAGE_SIZE;
use avm_mmu::Machine;

/// Longest block, in instructions.
pub const MAX_BLOCK_LEN: usize = 64;

/// One predecoded instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// What it does.
    pub inst: Inst,
    /// Its encoded length in bytes (2 or 4).
    pub len: u8,
}

/// A basic block of predecoded instructions.
#[derive(Clone, Debug)]
pub struct Block {
    /// RAM offset of the first instruction.
    pub start: u32,
    /// The instructions, in order; only the last may end the block.
    pub ops: Box<[Op]>,
    /// `ops` without the last one, lowered to specialised handlers.
    pub body: Box<[crate::fast::BodyOp]>,
    /// Total encoded bytes.
    pub bytes: u32,
}

/// Decode the block that starts at RAM offset `start`. Returns `None` if the
/// very first instruction straddles the page end (the caller executes it on
/// its own with [`Machine::fetch_word`]).
pub fn decode_block(m: &Machine, start: u32) -> Option<Block> {
    let page_end = (start & !(PAGE_SIZE - 1)) + PAGE_SIZE;
    let ram = m.ram.bytes();
    let mut ops = Vec::new();
    let mut at = start;
    while ops.len() < MAX_BLOCK_LEN && at + 2 <= page_end {
        let low = u16::from_le_bytes([ram[at as usize], ram[at as usize + 1]]);
        let word = if inst_len(low) == 4 {
            if at + 4 > page_end {
                break;
            }
            u32::from(low) | u32::from(u16::from_le_bytes([ram[at as usize + 2], ram[at as usize + 3]])) << 16
        } else {
            u32::from(low)
        };
        let Decoded { inst, len } = decode(word);
        ops.push(Op { inst, len });
        at += u32::from(len);
        if inst.ends_block() {
            break;
        }
    }
    let body = ops.iter().take(ops.len().saturating_sub(1)).map(|o| crate::fast::lower(o.inst, o.len)).collect();
    (!ops.is_empty()).then(|| Block { start, ops: ops.into_boxed_slice(), body, bytes: at - start })
}

/// Blocks of one RAM page.
struct PageBlocks {
    /// Block index + 1 for each 2-byte slot of the page; 0 = not decoded.
    slots: [u32; (PAGE_SIZE / 2) as usize],
    blocks: Vec<Block>,
}

/// All decoded blocks, per RAM page.
#[derive(Default)]
pub struct BlockCache {
    pages: Vec<Option<Box<PageBlocks>>>,
    /// Blocks decoded since creation (for statistics).
    pub decoded: u64,
}

/// The decoded block at `slot` of RAM page `page`, if any. (A free function
/// over the page table so that `get` can look twice without the borrow of a
/// hit outliving the miss path.)
#[inline(always)]
fn find(pages: &[Option<Box<PageBlocks>>], page: usize, slot: usize) -> Option<&Block> {
    let p = pages.get(page)?.as_deref()?;
    let idx = *p.slots.get(slot)?;
    p.blocks.get((idx as usize).checked_sub(1)?)
}

impl BlockCache {
    /// The block at RAM offset `off`, decoding it on first use.
    #[inline]
    pub fn get(&mut self, m: &mut Machine, off: u32) -> Option<&Block> {
        let page = (off / PAGE_SIZE) as usize;
        let slot = ((off % PAGE_SIZE) / 2) as usize;
        if find(&self.pages, page, slot).is_none() {
            return self.insert(m, page, slot, off);
        }
        find(&self.pages, page, slot)
    }

    #[cold]
    fn insert(&mut self, m: &mut Machine, page: usize, slot: usize, off: u32) -> Option<&Block> {
        let block = decode_block(m, off)?;
        self.decoded += 1;
        if self.pages.len() <= page {
            self.pages.resize_with(page + 1, || None);
        }
        let p = self.pages[page].get_or_insert_with(|| {
            m.mark_code(off);
            Box::new(PageBlocks { slots: [0; (PAGE_SIZE / 2) as usize], blocks: Vec::new() })
        });
        p.blocks.push(block);
        p.slots[slot] = p.blocks.len() as u32;
        p.blocks.last()
    }

    /// Drop every block decoded from RAM page `page` (offset / 4096).
    pub fn invalidate_page(&mut self, page: u32) {
        if let Some(p) = self.pages.get_mut(page as usize) {
            *p = None;
        }
    }

    /// Drop everything.
    pub fn clear(&mut self) {
        self.pages.clear();
    }
}
