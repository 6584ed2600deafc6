//! Every one of the 65536 halfwords: decodes and disassembles without panic,
//! and every legal one survives a trip through the compressed encoder.

use std::fmt::Write;

use avm_isa::asm::encode_compressed;
use avm_isa::disasm::Disasm;
use avm_isa::{decode, inst_len, Inst};

#[test]
fn every_halfword_decodes_disassembles_and_reencodes() {
    let mut text = String::new();
    let mut legal = 0u32;
    for half in 0..=u16::MAX {
        // Low two bits 11 is a 32-bit instruction, not a compressed one.
        if half & 3 == 3 {
            assert_eq!(inst_len(half), 4, "{half:#06x}");
            continue;
        }
        assert_eq!(inst_len(half), 2, "{half:#06x}");
        // The upper half must be ignored: fill it with junk.
        let word = u32::from(half) | 0xdead_0000;
        let d = decode(word);
        assert_eq!(d.len, 2, "{half:#06x}");
        assert_eq!(d, decode(u32::from(half)), "upper half changed the decode of {half:#06x}");
        text.clear();
        write!(text, "{}", Disasm { decoded: d, pc: 0x8000_0000 }).unwrap();
        assert!(!text.is_empty());
        match d.inst {
            Inst::Illegal { word } => assert_eq!(word, u32::from(half)),
            inst => {
                legal += 1;
                let Some(again) = encode_compressed(&inst) else {
                    panic!("{half:#06x} ({text}) has no compressed encoding");
                };
                let back = decode(u32::from(again));
                assert_eq!(back.len, 2);
                assert_eq!(back.inst, inst, "{half:#06x} ({text}) re-encoded as {again:#06x}");
            }
        }
    }
    // The legal set was cross-checked against `llvm-mc --disassemble` (LLVM 14,
    // riscv32 +c): LLVM accepts 1568 more, all reserved by the ISA manual:
    // 0x0000, shamt[5] = 1 in c.slli/c.srli/c.srai, and c.lui with imm = 0.
    assert_eq!(legal, 28_823, "the set of legal compressed encodings changed");
}
