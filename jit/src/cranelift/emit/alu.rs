//! Arithmetic: RV32I/M register-register and register-immediate
//! operations as Cranelift IR. Division is made safe first: RISC-V's never
//! traps, Cranelift's does.

use avm_isa::{AluImmOp, AluOp, Cond};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value};
use cranelift_frontend::FunctionBuilder;

use super::control::int_cc;
use super::Emitter;
use crate::cranelift::ir::{I32, I64};

impl Emitter<'_, '_> {
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
