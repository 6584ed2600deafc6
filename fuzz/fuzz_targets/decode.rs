//! `decode`: any 4 bytes are an instruction word.
//!
//! Oracle: decoding and disassembling never panic; an illegal word keeps its
//! raw bits (what `mtval` reports); every legal decode encodes back to the
//! same instruction (32-bit form always, 16-bit form when the encoder offers
//! one for a compressed decode).

#![no_main]

use std::fmt::Write as _;

use avm_isa::asm::{encode, encode_compressed};
use avm_isa::disasm::{disasm, Disasm};
use avm_isa::{decode, Decoded, Inst};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(bytes) = data.get(..4) else { return };
    let word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let d = decode(word);
    assert!(d.len == 2 || d.len == 4, "{word:#010x}: length {}", d.len);
    assert_eq!(d.len == 2, word & 3 != 3, "{word:#010x}: length bits say otherwise");

    let text = disasm(&d, word);
    let mut shown = String::new();
    let _ = write!(shown, "{}", Disasm { decoded: d, pc: word });
    assert_eq!(text, shown, "{word:#010x}: disasm and Disasm differ");

    let raw = if d.len == 2 { word & 0xffff } else { word };
    match d.inst {
        Inst::Illegal { word: w } => assert_eq!(w, raw, "{word:#010x}: illegal word lost its bits"),
        inst => {
            let full = encode(&inst);
            assert_eq!(decode(full), Decoded { inst, len: 4 }, "{word:#010x} ({text}) re-encoded as {full:#010x}");
            if d.len == 2 {
                if let Some(half) = encode_compressed(&inst) {
                    assert_eq!(decode(u32::from(half)), d, "{word:#010x} ({text}) re-encoded as {half:#06x}");
                }
            }
        }
    }
});
