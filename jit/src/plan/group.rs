//! Access groups: one TLB check for several loads and stores through the
//! same base register.
//!
//! Compiled code from a C or Rust compiler addresses memory mostly as
//! `offset(base)` with a few base registers (the stack pointer, a struct or
//! array pointer) and many offsets: keccak's state is 25 lanes behind one
//! pointer, a bignum routine walks a few limb arrays. Checking the TLB for
//! every one of those accesses costs ~15 Cranelift instructions each,
//! which is most of the compile time of such blocks.
//!
//! A *group* is a run of accesses in one guest block that use the same base
//! register, while nothing in between writes that register or calls a
//! helper, and whose offsets span at most one page. Its bytes
//! `[base + min, base + min + span)` then lie in at most two pages. The
//! tiers check once, at the group's first access, that both pages
//! (the same page twice, usually) hit the TLB on every side the group uses
//! (read for loads, write for stores) *with the same delta*, i.e. map to
//! consecutive RAM; then every access of the group is one host access at a
//! constant displacement from the first byte. If the check fails the code
//! leaves through the usual side exit *before the first access*, which is
//! precise: nothing of the group has happened yet, and the interpreter runs
//! the rest of the block the slow way.
//!
//! The check is conservative, never wrong: an access of the group that
//! would hit on its own may be sent to the interpreter because another one
//! misses. A hit changes nothing in the machine (no A/D update, no fill), so
//! checking early is invisible.

use avm_interp::Op;
use avm_isa::{Inst, Reg};
use avm_mmu::memory::PAGE_SIZE;

use super::lower::{uses_helper, written};

/// One group of accesses (indices into the block's instructions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The base register every access adds its offset to.
    pub base: Reg,
    /// Index of the first access (where the check is emitted).
    pub first: usize,
    /// Smallest offset of the group.
    pub min: i32,
    /// Bytes from `base + min` to the end of the highest access.
    pub span: u32,
    /// Some access is a load (the read side must hit).
    pub reads: bool,
    /// Some access is a store (the write side must hit).
    pub writes: bool,
}

/// A memory access of a block: (base, offset, width, is a store).
fn access(inst: Inst) -> Option<(Reg, i32, u32, bool)> {
    if let Inst::Load { op, rs1, offset, .. } = inst {
        return Some((rs1, offset, op.width(), false));
    }
    if let Inst::Store { op, rs1, offset, .. } = inst {
        return Some((rs1, offset, op.width(), true));
    }
    None
}

/// Instructions a group cannot extend over: anything translated as a
/// helper call (it may write any register, and it splits the function).
fn ends_group(inst: Inst) -> bool {
    uses_helper(inst)
}

/// Plan the groups of a block: for each instruction, the index of its group
/// in the returned list, if it is an access that belongs to a group of two
/// or more (lone accesses keep the single-access check).
pub fn plan(ops: &[Op]) -> (Vec<Option<usize>>, Vec<Group>) {
    let mut member = vec![None; ops.len()];
    let mut groups = Vec::new();
    for first in 0..ops.len() {
        if member[first].is_some() {
            continue;
        }
        let Some((base, off, width, store)) = access(ops[first].inst) else { continue };
        let mut g = Group { base, first, min: off, span: width, reads: !store, writes: store };
        let mut end = i64::from(off) + i64::from(width);
        let mut members = vec![first];
        // A load into its own base register ends the group after itself.
        let mut open = written(ops[first].inst) != Some(base);
        let mut j = first + 1;
        while open && j < ops.len() {
            let inst = ops[j].inst;
            if ends_group(inst) {
                break;
            }
            if let Some((_, o, w, s)) = access(inst).filter(|(b, ..)| *b == base) {
                let min = g.min.min(o);
                let new_end = end.max(i64::from(o) + i64::from(w));
                if new_end - i64::from(min) > i64::from(PAGE_SIZE) {
                    break;
                }
                g.min = min;
                end = new_end;
                g.reads |= !s;
                g.writes |= s;
                members.push(j);
            }
            if written(inst) == Some(base) {
                open = false;
            }
            j += 1;
        }
        if members.len() < 2 {
            continue;
        }
        g.span = (end - i64::from(g.min)) as u32;
        for &k in &members {
            member[k] = Some(groups.len());
        }
        groups.push(g);
    }
    (member, groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use avm_isa::{AluImmOp, LoadOp, StoreOp};

    fn op(inst: Inst) -> Op {
        Op { inst, len: 4 }
    }
    fn lw(rd: u32, base: u32, offset: i32) -> Op {
        op(Inst::Load { op: LoadOp::Lw, rd: Reg::new(rd), rs1: Reg::new(base), offset })
    }
    fn sw(src: u32, base: u32, offset: i32) -> Op {
        op(Inst::Store { op: StoreOp::Sw, rs1: Reg::new(base), rs2: Reg::new(src), offset })
    }
    fn addi(rd: u32, rs1: u32, imm: i32) -> Op {
        op(Inst::AluImm { op: AluImmOp::Addi, rd: Reg::new(rd), rs1: Reg::new(rs1), imm })
    }

    #[test]
    fn accesses_through_one_base_form_one_group() {
        let ops = [lw(10, 2, 8), lw(11, 2, 0), addi(12, 10, 1), sw(12, 2, 4)];
        let (member, groups) = plan(&ops);
        assert_eq!(member, [Some(0), Some(0), None, Some(0)]);
        assert_eq!(groups[0], Group { base: Reg::new(2), first: 0, min: 0, span: 12, reads: true, writes: true });
    }

    #[test]
    fn writing_the_base_ends_the_group() {
        let ops = [lw(10, 2, 0), addi(2, 2, 16), lw(11, 2, 0), lw(12, 2, 4)];
        let (member, groups) = plan(&ops);
        assert_eq!(member, [None, None, Some(0), Some(0)]);
        assert_eq!(groups.len(), 1);
        // A load into the base register is the last member.
        let ops = [lw(10, 5, 0), lw(5, 5, 4), lw(11, 5, 8)];
        let (member, _) = plan(&ops);
        assert_eq!(member, [Some(0), Some(0), None]);
    }

    #[test]
    fn a_group_spans_at_most_a_page() {
        let ops = [lw(10, 2, -2048), lw(11, 2, 2044), lw(12, 2, 2045)];
        let (member, groups) = plan(&ops);
        assert_eq!(member, [Some(0), Some(0), None]);
        assert_eq!(groups[0].span, 4096);
    }

    #[test]
    fn helper_calls_end_groups() {
        let amo = op(Inst::Lr { rd: Reg::new(9), rs1: Reg::new(3), aqrl: 0 });
        let ops = [lw(10, 2, 0), amo, lw(11, 2, 4)];
        let (member, groups) = plan(&ops);
        assert_eq!(member, [None, None, None]);
        assert!(groups.is_empty());
    }

    #[test]
    fn other_bases_interleave() {
        let ops = [lw(10, 2, 0), lw(11, 3, 0), lw(12, 2, 4), lw(13, 3, 4)];
        let (member, groups) = plan(&ops);
        assert_eq!(member, [Some(0), Some(1), Some(0), Some(1)]);
        assert_eq!(groups[1].first, 1);
    }
}
