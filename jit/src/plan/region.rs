//! Regions, the unit of compilation: a hot guest block plus the blocks its
//! branches and jumps reach that have already run, within two adjacent
//! 4 KiB pages; how they are formed ([`form`], [`owned_region`]), what a
//! tier receives ([`RegionBlock`]), and the shape decisions made per region
//! before code generation ([`keeps_registers`], [`unrolls`]).

use avm_interp::{decode_block, Block, Op};
use avm_isa::Inst;
use avm_mmu::memory::PAGE_SIZE;
use avm_mmu::Machine;

use super::lower::uses_helper;

/// At most this many guest blocks in one region.
pub const MAX_REGION_BLOCKS: usize = 32;
/// At most this many guest instructions in one region (sixteen full-length
/// blocks). Compile time grows about linearly with the function, since
/// registers are reloaded at block starts and live ranges stay short. 512
/// merged keccak's round loop, which fills most of a page, into fewer
/// regions; 1024 keeps the field multiplication of the ecdsa workload (one
/// straight line of ~1,500 instructions) in two regions per page instead of
/// three or four: ~10% fewer calls into compiled code and ~5% faster warm
/// runs on keccak and ecdsa at the same compile time. 2048 (with 64 blocks)
/// gained nothing more and compiled 35% more.
pub const MAX_REGION_INSTS: usize = 1024;

/// One guest basic block of a region.
#[derive(Clone, Copy, Debug)]
pub struct RegionBlock<'a> {
    /// Byte offset of the block from the region's entry (negative: before
    /// it). The entry block is first and has offset 0.
    pub rel: i32,
    /// Its instructions, as [`avm_interp::decode_block`] cut them.
    pub ops: &'a [Op],
    /// Its encoded bytes.
    pub bytes: &'a [u8],
    /// The page the block lies in, relative to the first block's: 0, or
    /// -1 or 1 in a region that spans two adjacent pages. An edge between
    /// blocks of different pages is taken only while the fetch TLB maps
    /// both pages as they were mapped when the region was formed (see
    /// the Cranelift emitter's `same_fetch_mapping`).
    pub page: i32,
    /// `Some(bits)`: the block stops 2 bytes short of its page's end
    /// because the next instruction straddles the page boundary (no block
    /// can hold it), and `bits` is that instruction as memory held it when
    /// the region was formed, its upper half read from the physically next
    /// page: a guess, since the next *virtual* page may map anywhere. Such a
    /// block runs that instruction too, and then leaves: otherwise a hot
    /// loop whose code crosses a page would go back to the dispatcher for
    /// that one instruction on every iteration. See
    /// the Cranelift emitter's `straddler` for how it runs.
    pub straddler: Option<u32>,
}

/// Where a block can continue without a computed jump: byte offsets from the
/// block's start of a branch's two targets, a `jal` target, or the
/// fall-through of a block cut by the length cap or the page end. Blocks
/// that end with `jalr` or a system instruction have none: what follows
/// them is only known at run time, or may have changed privilege,
/// translation or interrupt state, so they always return to the dispatcher.
pub fn static_successors(ops: &[Op]) -> impl Iterator<Item = u32> {
    let total: u32 = ops.iter().map(|o| u32::from(o.len)).sum();
    let (at, last) = match ops.split_last() {
        Some((last, body)) => (body.iter().map(|o| u32::from(o.len)).sum::<u32>(), Some(last.inst)),
        None => (0, None),
    };
    let (a, b) = match last {
        Some(Inst::Branch { offset, .. }) => (Some(at.wrapping_add(offset as u32)), Some(total)),
        Some(Inst::Jal { offset, .. }) => (Some(at.wrapping_add(offset as u32)), None),
        Some(inst) if !inst.ends_block() => (Some(total), None),
        _ => (None, None),
    };
    a.into_iter().chain(b)
}

/// A region in owned form, to send to the worker.
#[derive(Clone, Debug)]
pub struct OwnedRegion {
    /// Its blocks, the entry first.
    pub blocks: Vec<OwnedBlock>,
}

/// A [`RegionBlock`] that owns its instructions and bytes.
#[derive(Clone, Debug)]
pub struct OwnedBlock {
    /// Byte offset from the region's entry.
    pub rel: i32,
    /// Its instructions.
    pub ops: Vec<Op>,
    /// Its encoded bytes.
    pub bytes: Vec<u8>,
    /// See [`RegionBlock::page`].
    pub page: i32,
    /// See [`RegionBlock::straddler`].
    pub straddler: Option<u32>,
}

impl OwnedRegion {
    /// The borrowed form the translator takes.
    pub fn as_blocks(&self) -> Vec<RegionBlock<'_>> {
        self.blocks
            .iter()
            .map(|b| RegionBlock { rel: b.rel, ops: &b.ops, bytes: &b.bytes, page: b.page, straddler: b.straddler })
            .collect()
    }
}

/// The page of RAM offset `o` relative to the page of RAM offset `off`.
pub fn page_of(o: u32, off: u32) -> i32 {
    (o / PAGE_SIZE) as i32 - (off / PAGE_SIZE) as i32
}

/// The region of `blocks` (RAM offset, decoded block; the entry first) in
/// owned form, as compiled and keyed, with its entry at RAM offset `off`.
pub fn owned_region(ram: &[u8], off: u32, blocks: &[(u32, Block)]) -> OwnedRegion {
    let blocks = blocks
        .iter()
        .map(|(o, b)| {
            let end = (*o + b.bytes) as usize;
            // Cut 2 bytes short of the page end, before a 32-bit
            // instruction that crosses it (see `RegionBlock`).
            let straddles = end % PAGE_SIZE as usize == PAGE_SIZE as usize - 2
                && !b.ops.last().is_some_and(|op| op.inst.ends_block())
                && ram.get(end).is_some_and(|&low| avm_isa::inst_len(u16::from(low)) == 4);
            // Its bits, the upper half from the physically next page (a
            // guess that the compiled code checks; see `RegionBlock`).
            let half = |at: usize| ram.get(at..at + 2).map_or(0, |h| u32::from(u16::from_le_bytes([h[0], h[1]])));
            let straddler = straddles.then(|| half(end) | half(end + 2) << 16);
            OwnedBlock {
                rel: o.wrapping_sub(off) as i32,
                ops: b.ops.to_vec(),
                bytes: ram[*o as usize..end].to_vec(),
                page: page_of(*o, off),
                straddler,
            }
        })
        .collect();
    OwnedRegion { blocks }
}

/// The region for the hot block at RAM offset `off`: that block first,
/// then, breadth first, every block its static successors reach that
/// has already run at least once (cold paths stay out), within
/// [`MAX_REGION_BLOCKS`] and [`MAX_REGION_INSTS`] and within two adjacent
/// pages: a loop that crosses a page end (keccak's round loop does)
/// then stays in one function, its edges between the pages guarded by
/// a fetch-TLB check (see `RegionBlock::page`). At most `max_blocks`
/// blocks (the crosscheck, which compares after every block, compiles
/// single blocks); `seen(offset)` says whether the block at a RAM offset
/// has run.
pub fn form(m: &Machine, off: u32, max_blocks: usize, seen: impl Fn(u32) -> bool) -> Option<Vec<(u32, Block)>> {
    // The pages the region covers so far: at most two adjacent ones.
    let (mut lo, mut hi) = (off / PAGE_SIZE, off / PAGE_SIZE);
    let mut region = vec![(off, decode_block(m, off)?)];
    let mut insts = region[0].1.ops.len();
    let mut k = 0;
    while k < region.len() && region.len() < max_blocks {
        let (start, ref block) = region[k];
        let targets: Vec<u32> = static_successors(&block.ops).map(|d| start.wrapping_add(d)).collect();
        for t in targets {
            let seen = seen(t);
            let p = t / PAGE_SIZE;
            let two_pages_at_most = p.max(hi) - p.min(lo) <= 1 && (t as usize) < m.ram.bytes().len();
            if !two_pages_at_most || !seen || region.iter().any(|(o, _)| *o == t) || region.len() >= max_blocks {
                continue;
            }
            let Some(next) = decode_block(m, t) else { continue };
            if insts + next.ops.len() > MAX_REGION_INSTS {
                continue;
            }
            insts += next.ops.len();
            (lo, hi) = (lo.min(p), hi.max(p));
            region.push((t, next));
        }
        k += 1;
    }
    Some(region)
}

/// Whether guest registers stay in Cranelift variables across the whole
/// region: only for a small region with a loop in it. There they save a
/// store and a reload on every iteration's critical path (~1.5x on tight
/// loops). Elsewhere every register is reloaded after each memory access
/// and at each block start, so no value lives across a split of the
/// function: long live ranges through many blocks are what makes register
/// allocation, most of Cranelift's time, expensive (~1.3x compile time on
/// the keccak and ecdsa workloads), and straight-line code gains little.
pub fn keeps_registers(region: &[RegionBlock]) -> bool {
    let insts: usize = region.iter().map(|b| b.ops.len()).sum();
    let loops = region.iter().enumerate().any(|(k, b)| {
        static_successors(b.ops).any(|d| region[..=k].iter().any(|earlier| earlier.rel == b.rel.wrapping_add(d as i32)))
    });
    loops && insts <= MAX_KEEP_INSTS
}

/// Largest region that keeps registers in variables.
pub const MAX_KEEP_INSTS: usize = 64;

/// How many times a small self-loop is unrolled (see [`unrolls`]).
pub const UNROLL: usize = 4;
/// Longest self-loop body that is unrolled.
pub const MAX_UNROLL_INSTS: usize = 8;

/// Whether guest block `blk` is emitted [`UNROLL`] times in a row: a short
/// block that branches or jumps back to its own start, with no helper call
/// (nothing in it can set `m.stop_block`). The back edge of each copy but
/// the last goes to the next copy without a budget check; the edge into the
/// first copy checks that the budget covers all of them. Exact metering
/// then costs one check per `UNROLL` iterations: on a 3-instruction loop
/// (the sieve's `sb; add; bltu`) one check per iteration cost ~23% of the
/// loop's time. Unrolling does not depend on metering, so that the JIT
/// with metering off (`Translator::set_metering`) differs only in the
/// checks, and comparing the two measures what metering costs.
pub fn unrolls(blk: &RegionBlock) -> bool {
    let self_loop = static_successors(blk.ops).any(|d| d == 0);
    self_loop
        && blk.straddler.is_none()
        && blk.ops.len() <= MAX_UNROLL_INSTS
        && blk.ops.iter().all(|op| !uses_helper(op.inst))
}
