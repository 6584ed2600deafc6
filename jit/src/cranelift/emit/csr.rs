//! CSR instructions on the [plain](avm_isa::csr::is_plain) CSRs, emitted
//! inline (see `plan::lower::plain_csr`): the trap-handling scratch
//! registers a kernel reads and writes on every trap entry and exit.
//!
//! Such a CSR is a word in `m.hart.csr` with no side effect, so the
//! instruction is a privilege check, a load and (if it writes) a store. The
//! check is the only part that can fail: below the CSR's level the
//! instruction raises illegal instruction, and the code takes the side exit
//! to the interpreter *before* it, which raises the trap exactly as it
//! always does. Everything else about the CSR stays in the MMU: which field
//! it is (`plain_csr_offset`) and which bits a write keeps
//! (`plain_write_mask`).

use avm_isa::{CsrOp, Reg};
use avm_mmu::csr::plain_write_mask;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::InstBuilder;

use super::{Emitter, Site};
use crate::abi::layout::{plain_csr_offset, OFF_PRIVILEGE};
use crate::cranelift::ir::{state_flags, I32};

impl Emitter<'_, '_> {
    /// `csrrw`/`csrrs`/`csrrc` (register or immediate source) on the plain
    /// CSR `csr`, as the interpreter's `csr_op` does it: the source is read
    /// before `rd` is written (they may be the same register), and `csrrs`/
    /// `csrrc` with source `x0` or immediate 0 do not write.
    pub(super) fn plain_csr(&mut self, op: CsrOp, rd: Reg, rs1: Reg, csr: u16, s: Site) {
        let Some(offset) = plain_csr_offset(csr) else {
            unreachable!("plan::lower::plain_csr admits only plain CSRs, which all have a field")
        };
        // The side exit needs `m.hart.x` exact.
        self.write_back();
        let level = i64::from(avm_isa::csr::min_privilege(csr));
        let privilege = self.b.ins().uload8(I32, state_flags(), self.m, OFF_PRIVILEGE);
        let allowed = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, privilege, level);
        self.side_exit_unless(allowed, s);

        let src = if op.is_imm() { self.iconst(rs1.num()) } else { self.reg(rs1) };
        let old = self.b.ins().load(I32, state_flags(), self.m, offset);
        let writes = matches!(op, CsrOp::Rw | CsrOp::Rwi) || rs1.num() != 0;
        if writes {
            let new = match op {
                CsrOp::Rw | CsrOp::Rwi => src,
                CsrOp::Rs | CsrOp::Rsi => self.b.ins().bor(old, src),
                CsrOp::Rc | CsrOp::Rci => self.b.ins().band_not(old, src),
            };
            let mask = plain_write_mask(csr);
            let new = if mask == !0 { new } else { self.b.ins().band_imm_u(new, i64::from(mask)) };
            self.b.ins().store(state_flags(), new, self.m, offset);
        }
        self.set(rd, old);
    }
}
