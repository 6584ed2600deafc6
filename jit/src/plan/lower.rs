//! Which instructions each compiled tier emits itself, and which registers
//! those use. Every decision starts from an instruction's
//! [`Class`] and matches it exhaustively, so a new class
//! is a decision in every tier before anything compiles.

use avm_isa::{decode, Class, Decoded, Inst, Reg, Regs};

/// True if the Cranelift tier runs the instruction through a helper (the
/// interpreter's `execute`, see [`crate::helpers`]) instead of emitting it:
/// atomics, system instructions but those on [`plain_csr`]s, and illegal
/// encodings. Everything else (ALU,
/// loads, stores, branches, jumps, `fence`) is emitted inline. A helper call
/// reads and writes `m.hart.x` itself, may set `m.stop_block`, and splits
/// access groups.
pub fn uses_helper(inst: Inst) -> bool {
    match inst.class() {
        Class::Alu | Class::Load | Class::Store | Class::Branch | Class::Jump | Class::Fence => false,
        Class::System => plain_csr(inst).is_none(),
        Class::Atomic | Class::Illegal => true,
    }
}

/// The CSR of a CSR instruction on a [plain](avm_isa::csr::is_plain) CSR,
/// which the Cranelift tier emits inline: a privilege check (a side exit
/// when it fails, so that the interpreter raises the trap) and a load and a
/// store of the field in `m.hart.csr` (see `plain_csr_offset`).
/// The kernel touches these on every trap entry and exit; as helper calls
/// they were a sixth of an ERC-20 transfer's time on the JIT.
pub fn plain_csr(inst: Inst) -> Option<u16> {
    match inst {
        Inst::Csr { csr, .. } if avm_isa::csr::is_plain(csr) => Some(csr),
        _ => None,
    }
}

/// True if the baseline tier emits the instruction; otherwise its block
/// leaves for the interpreter *before* it (a side exit). The baseline emits
/// RV32I/M arithmetic except division (whose RISC-V corner cases stay in
/// the interpreter), `lui`, `auipc`, loads, stores, branches and jumps.
pub fn baseline_emits(inst: Inst) -> bool {
    match inst.class() {
        Class::Alu => !matches!(inst, Inst::Alu { op, .. } if op.is_division()),
        Class::Load | Class::Store | Class::Branch | Class::Jump => true,
        Class::Fence | Class::Atomic | Class::System | Class::Illegal => false,
    }
}

/// The register an instruction emitted inline writes, if any. Instructions
/// left to a helper write `m.hart.x` themselves and are not counted.
pub fn written(inst: Inst) -> Option<Reg> {
    if uses_helper(inst) {
        None
    } else {
        inst.writes()
    }
}

/// The registers an instruction emitted inline reads or writes (`x0`
/// included, harmlessly); none for one left to a helper.
pub fn named(inst: Inst) -> Regs {
    if uses_helper(inst) {
        Regs::NONE
    } else {
        inst.regs()
    }
}

/// True for a load or a store: an access the tiers check inline.
pub fn is_access(inst: Inst) -> bool {
    matches!(inst.class(), Class::Load | Class::Store)
}

/// The instruction `word`, if a block's page-straddling last instruction
/// with these bits runs compiled (see `RegionBlock::straddler`): a 32-bit
/// one with no memory access and no helper call (ALU, branch, jump,
/// `fence`), whose effects are all in registers and `pc`. Others (rare at a
/// page end) go through `jit_exec_next`.
pub fn straddles_inline(word: u32) -> Option<Inst> {
    let Decoded { inst, len } = decode(word);
    let simple = match inst.class() {
        Class::Alu | Class::Branch | Class::Jump | Class::Fence => true,
        Class::Load | Class::Store | Class::Atomic | Class::System | Class::Illegal => false,
    };
    (len == 4 && simple).then_some(inst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use avm_isa::asm::encode;
    use avm_isa::{AluOp, LoadOp};

    #[test]
    fn tiers_agree_on_the_plain_instructions() {
        let (a, b) = (Reg::new(5), Reg::new(6));
        let add = Inst::Alu { op: AluOp::Add, rd: a, rs1: a, rs2: b };
        let div = Inst::Alu { op: AluOp::Div, rd: a, rs1: a, rs2: b };
        let lw = Inst::Load { op: LoadOp::Lw, rd: a, rs1: b, offset: 4 };
        assert!(!uses_helper(add) && baseline_emits(add));
        assert!(!uses_helper(div) && !baseline_emits(div));
        assert!(uses_helper(Inst::Ecall) && !baseline_emits(Inst::Ecall));
        assert_eq!(written(lw), Some(a));
        assert_eq!(named(lw), Regs::of(a).with(Regs::of(b)));
        assert_eq!(written(Inst::Lr { rd: a, rs1: b, aqrl: 0 }), None);
        assert_eq!(straddles_inline(encode(&add)), Some(add));
        assert_eq!(straddles_inline(encode(&lw)), None);
    }
}
