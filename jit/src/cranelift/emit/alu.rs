//! Arithmetic: RV32I/M register-register and register-immediate
//! operations as Cranelift IR. Division is made safe first: RISC-V's never
//! traps, Cranelift's does.
//!
//! **Wide multiplies.** RV32 has no 64-bit multiply: a 32x32->64 product is
//! two instructions on the same operands, `mul` for the low half and
//! `mulhu` (or `mulh`, `mulhsu`) for the high half, and 64-bit-heavy code
//! (the field arithmetic of ECDSA) is full of such pairs, usually a few
//! instructions apart. The host has the 64-bit multiply, so the pair
//! becomes one: the first half computes the whole product when its partner
//! follows in the block with the operands unchanged ([`partner`]), and the
//! second half takes it from [`Emitter::products`]. A product is keyed by
//! its operand registers and their *versions* (bumped at every write of the
//! register, and for all of them at a helper call), so it is only ever
//! reused for exactly the values it was computed from. Both halves are in
//! one guest block, which compiled code runs whole or not at all (an
//! instruction limit or a fault between them sends the block to the
//! interpreter), so the fusion is exact by construction.

use avm_isa::{AluImmOp, AluOp, Cond, Inst, Reg};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value};
use cranelift_frontend::FunctionBuilder;

use super::control::int_cc;
use super::Emitter;
use crate::cranelift::ir::{I32, I64};
use crate::plan::lower::uses_helper;

/// How a multiply widens an operand to 64 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Widen {
    Signed,
    Unsigned,
}

/// A guest register as it was at one point of the block: its version
/// changes at every write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Operand {
    reg: Reg,
    version: u32,
}

/// A 64-bit product of two operands widened as given.
#[derive(Clone, Copy, Debug)]
pub(super) struct Product {
    widen: (Widen, Widen),
    operands: (Operand, Operand),
    product: Value,
}

/// How far ahead in its block a multiply looks for its partner.
const PARTNER_WINDOW: usize = 16;

/// The widening of each operand whose product's high half `op` computes;
/// `None` for `mul` (whose low half is the same for every widening) and
/// for everything else.
fn high_half(op: AluOp) -> Option<(Widen, Widen)> {
    match op {
        AluOp::Mulh => Some((Widen::Signed, Widen::Signed)),
        AluOp::Mulhu => Some((Widen::Unsigned, Widen::Unsigned)),
        AluOp::Mulhsu => Some((Widen::Signed, Widen::Unsigned)),
        _ => None,
    }
}

/// The widening to compute the whole product of `op rd, rs1, rs2` with (in
/// the order of `rs1`, `rs2`), if its other half follows in `rest` (the
/// rest of the block): `mul` after a high half or a high half after `mul`,
/// on the same registers (in either order where the widening allows),
/// within [`PARTNER_WINDOW`] instructions, with no write to either operand
/// in between (this instruction's own included) and no helper call (which
/// may write any register).
pub(super) fn partner(op: AluOp, rd: Reg, rs1: Reg, rs2: Reg, rest: &[Inst]) -> Option<(Widen, Widen)> {
    if rd == rs1 || rd == rs2 || rd == Reg::ZERO {
        return None;
    }
    for &inst in rest.iter().take(PARTNER_WINDOW) {
        if let Inst::Alu { op: next, rs1: n1, rs2: n2, .. } = inst {
            let same = (n1, n2) == (rs1, rs2);
            let swapped = (n1, n2) == (rs2, rs1);
            let found = match (high_half(op), high_half(next)) {
                // `mul` now, the high half later: widen as the high half does.
                (None, Some(w)) if op == AluOp::Mul && (same || (swapped && w.0 == w.1)) => Some(w),
                // The high half now, `mul` later.
                (Some(w), None) if next == AluOp::Mul && (same || swapped) => Some(w),
                _ => None,
            };
            if found.is_some() {
                return found;
            }
        }
        if uses_helper(inst) || inst.ends_block() || inst.writes().is_some_and(|r| r == rs1 || r == rs2) {
            return None;
        }
    }
    None
}

impl Emitter<'_, '_> {
    /// `rd = op(rs1, rs2)` for a multiply (`mul`, `mulh`, `mulhu`,
    /// `mulhsu`), sharing one 64-bit product with its partner where there is
    /// one (module docs).
    pub(super) fn multiply(&mut self, op: AluOp, rd: Reg, rs1: Reg, rs2: Reg) {
        let a = self.reg(rs1);
        let b = self.reg(rs2);
        let operands = (self.operand(rs1), self.operand(rs2));
        let swapped = (operands.1, operands.0);
        let high = high_half(op);
        let known = self.products.iter().find(|p| match high {
            // Every widening has the same low half, in either order.
            None => p.operands == operands || p.operands == swapped,
            Some(w) => p.widen == w && (p.operands == operands || (w.0 == w.1 && p.operands == swapped)),
        });
        let product = match known {
            Some(p) => Some(p.product),
            None if !self.fusion => None,
            None => {
                let rest = self.insts.get(self.cur + 1..).unwrap_or(&[]);
                partner(op, rd, rs1, rs2, rest).map(|widen| {
                    let extend = |e: &mut Self, v, how| match how {
                        Widen::Signed => e.b.ins().sextend(I64, v),
                        Widen::Unsigned => e.b.ins().uextend(I64, v),
                    };
                    let (wa, wb) = (extend(self, a, widen.0), extend(self, b, widen.1));
                    let product = self.b.ins().imul(wa, wb);
                    self.products.push(Product { widen, operands, product });
                    product
                })
            }
        };
        let v = match (product, high) {
            (None, _) => self.alu(op, a, b),
            (Some(p), Some(_)) => {
                let hi = self.b.ins().ushr_imm_u(p, 32);
                self.b.ins().ireduce(I32, hi)
            }
            (Some(p), None) => self.b.ins().ireduce(I32, p),
        };
        self.set(rd, v);
    }

    fn operand(&self, reg: Reg) -> Operand {
        Operand { reg, version: self.versions[reg.idx()] }
    }

    /// Register-immediate operations are their register form with a
    /// constant second operand (as in the interpreter's `alu_imm`).
    pub(super) fn alu_imm(&mut self, op: AluImmOp, a: Value, imm: i32) -> Value {
        let c = self.iconst(imm as u32);
        self.alu(op.reg_form(), a, c)
    }

    pub(super) fn alu(&mut self, op: AluOp, a: Value, b: Value) -> Value {
        let ins = &mut *self.b;
        // Constants only the division arms need, created there so that other
        // operations do not emit them.
        let k = |ins: &mut FunctionBuilder, v: u32| ins.ins().iconst(I32, i64::from(v));
        // Cranelift's shifts take the amount modulo the type width (31 for
        // i32), as RISC-V does.
        match op {
            AluOp::Add => ins.ins().iadd(a, b),
            AluOp::Sub => ins.ins().isub(a, b),
            AluOp::Sll => ins.ins().ishl(a, b),
            AluOp::Slt => {
                let t = ins.ins().icmp(int_cc(Cond::Lt), a, b);
                ins.ins().uextend(I32, t)
            }
            AluOp::Sltu => {
                let t = ins.ins().icmp(int_cc(Cond::Ltu), a, b);
                ins.ins().uextend(I32, t)
            }
            AluOp::Xor => ins.ins().bxor(a, b),
            AluOp::Srl => ins.ins().ushr(a, b),
            AluOp::Sra => ins.ins().sshr(a, b),
            AluOp::Or => ins.ins().bor(a, b),
            AluOp::And => ins.ins().band(a, b),
            AluOp::Mul => ins.ins().imul(a, b),
            AluOp::Mulh => ins.ins().smulhi(a, b),
            AluOp::Mulhu => ins.ins().umulhi(a, b),
            AluOp::Mulhsu => {
                let wa = ins.ins().sextend(I64, a);
                let wb = ins.ins().uextend(I64, b);
                let p = ins.ins().imul(wa, wb);
                let hi = ins.ins().ushr_imm_u(p, 32);
                ins.ins().ireduce(I32, hi)
            }
            // Division never traps in RISC-V; Cranelift's does, so the
            // divisor is made safe first: 0 -> 1, and -1 -> 1 when the
            // dividend is MIN (MIN / 1 = MIN and MIN % 1 = 0 are the RISC-V
            // results for MIN / -1 and MIN % -1).
            AluOp::Div | AluOp::Rem => {
                let (zero, one, all, min) = (k(ins, 0), k(ins, 1), k(ins, u32::MAX), k(ins, 0x8000_0000));
                let b_zero = ins.ins().icmp(IntCC::Equal, b, zero);
                let a_min = ins.ins().icmp(IntCC::Equal, a, min);
                let b_neg1 = ins.ins().icmp(IntCC::Equal, b, all);
                let ovf = ins.ins().band(a_min, b_neg1);
                let bad = ins.ins().bor(b_zero, ovf);
                let safe = ins.ins().select(bad, one, b);
                if op == AluOp::Div {
                    let q = ins.ins().sdiv(a, safe);
                    ins.ins().select(b_zero, all, q)
                } else {
                    let r = ins.ins().srem(a, safe);
                    ins.ins().select(b_zero, a, r)
                }
            }
            AluOp::Divu | AluOp::Remu => {
                let (zero, one, all) = (k(ins, 0), k(ins, 1), k(ins, u32::MAX));
                let b_zero = ins.ins().icmp(IntCC::Equal, b, zero);
                let safe = ins.ins().select(b_zero, one, b);
                if op == AluOp::Divu {
                    let q = ins.ins().udiv(a, safe);
                    ins.ins().select(b_zero, all, q)
                } else {
                    let r = ins.ins().urem(a, safe);
                    ins.ins().select(b_zero, a, r)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alu(op: AluOp, rd: u32, rs1: u32, rs2: u32) -> Inst {
        Inst::Alu { op, rd: Reg::new(rd), rs1: Reg::new(rs1), rs2: Reg::new(rs2) }
    }

    #[test]
    fn wide_multiply_partners_are_the_other_half_on_unchanged_operands() {
        let (r5, r6, r7) = (Reg::new(5), Reg::new(6), Reg::new(7));
        let (u, s) = (Widen::Unsigned, Widen::Signed);
        let store = Inst::Store { op: avm_isa::StoreOp::Sw, rs1: Reg::new(2), rs2: r7, offset: 8 };
        // mul, then mulhu a few instructions later, same order or swapped.
        assert_eq!(partner(AluOp::Mul, r7, r5, r6, &[store, alu(AluOp::Mulhu, 8, 5, 6)]), Some((u, u)));
        assert_eq!(partner(AluOp::Mul, r7, r5, r6, &[alu(AluOp::Mulhu, 8, 6, 5)]), Some((u, u)));
        // mulhsu is not symmetric: swapped operands are another product.
        assert_eq!(partner(AluOp::Mul, r7, r5, r6, &[alu(AluOp::Mulhsu, 8, 5, 6)]), Some((s, u)));
        assert_eq!(partner(AluOp::Mul, r7, r5, r6, &[alu(AluOp::Mulhsu, 8, 6, 5)]), None);
        // The high half first, then mul in either order.
        assert_eq!(partner(AluOp::Mulh, r7, r5, r6, &[alu(AluOp::Mul, 8, 6, 5)]), Some((s, s)));
        assert_eq!(partner(AluOp::Mulhsu, r7, r5, r6, &[alu(AluOp::Mul, 8, 6, 5)]), Some((s, u)));
        // An operand is written first (by this instruction or one between).
        assert_eq!(partner(AluOp::Mul, r5, r5, r6, &[alu(AluOp::Mulhu, 8, 5, 6)]), None);
        let clobber = alu(AluOp::Add, 6, 1, 1);
        assert_eq!(partner(AluOp::Mul, r7, r5, r6, &[clobber, alu(AluOp::Mulhu, 8, 5, 6)]), None);
        // A helper call between may write any register.
        assert_eq!(partner(AluOp::Mul, r7, r5, r6, &[Inst::Ecall, alu(AluOp::Mulhu, 8, 5, 6)]), None);
        // Other registers, other operations, nothing after.
        assert_eq!(partner(AluOp::Mul, r7, r5, r6, &[alu(AluOp::Mulhu, 8, 5, 9)]), None);
        assert_eq!(partner(AluOp::Mul, r7, r5, r6, &[alu(AluOp::Mul, 8, 5, 6)]), None);
        assert_eq!(partner(AluOp::Mulhu, r7, r5, r6, &[]), None);
        // Only so far ahead.
        let mut far = vec![store; PARTNER_WINDOW];
        far.push(alu(AluOp::Mulhu, 8, 5, 6));
        assert_eq!(partner(AluOp::Mul, r7, r5, r6, &far), None);
    }
}
