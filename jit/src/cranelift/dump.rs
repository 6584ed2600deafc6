//! The guest side of a region dump (`AVM_JIT_DUMP=1`).

use avm_isa::disasm::Disasm;
use avm_isa::Decoded;

use crate::plan::lower::straddles_inline;
use crate::plan::region::RegionBlock;

/// The guest side of a region dump (`AVM_JIT_DUMP=1`): each block
/// disassembled as if the region's entry were at address 0 (the code does
/// not depend on where it runs).
pub(super) fn dump_region(blocks: &[RegionBlock]) -> String {
    let mut out = format!("; region of {} guest blocks (addresses relative to its entry)\n", blocks.len());
    for blk in blocks {
        let mut at = blk.rel as u32;
        for op in blk.ops {
            let d = Disasm { decoded: Decoded { inst: op.inst, len: op.len }, pc: at };
            out += &format!(";   {at:08x}: {d}\n");
            at = at.wrapping_add(u32::from(op.len));
        }
        if let Some(word) = blk.straddler {
            let how = match straddles_inline(word) {
                Some(inst) => {
                    format!("{}, compiled for these bits", Disasm { decoded: Decoded { inst, len: 4 }, pc: at })
                }
                None => "run by jit_exec_next".into(),
            };
            out += &format!(";   {at:08x}: (crosses the page end: {how})\n");
        }
    }
    out
}
