//! Ten million random 32-bit words: decode and disassemble never panic, and
//! every legal 32-bit decode encodes back to the same instruction.

use std::fmt::Write;

use avm_isa::asm::encode;
use avm_isa::disasm::Disasm;
use avm_isa::{decode, Inst};

/// xorshift32: a tiny deterministic PRNG, enough to spray the encoding space.
struct XorShift(u32);

impl XorShift {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

/// Checks one word; returns true if it decoded to a legal 32-bit instruction.
fn check(word: u32, text: &mut String) -> bool {
    let d = decode(word);
    text.clear();
    write!(text, "{}", Disasm { decoded: d, pc: word }).unwrap();
    if d.len != 4 {
        return false;
    }
    match d.inst {
        Inst::Illegal { word: w } => {
            assert_eq!(w, word);
            false
        }
        inst => {
            let again = encode(&inst);
            assert_eq!(decode(again), d, "{word:#010x} ({text}) re-encoded as {again:#010x}");
            true
        }
    }
}

#[test]
fn ten_million_random_words_decode_and_roundtrip() {
    let mut rng = XorShift(0x1234_5678);
    let mut text = String::new();
    let mut legal = 0u32;
    for _ in 0..10_000_000 {
        // Force the 32-bit length bits on half the words so the 32-bit decoder
        // sees as many words as the compressed one.
        let raw = rng.next();
        let word = if raw & 0x8000_0000 != 0 { raw | 3 } else { raw };
        legal += u32::from(check(word, &mut text));
    }
    assert!(legal > 1_000_000, "only {legal} legal words");
}

#[test]
fn every_major_opcode_with_random_fields_roundtrips() {
    // Random words rarely hit SYSTEM with funct3 = 0 or AMO with a valid
    // funct5; sweep each opcode with random upper bits to reach them.
    let mut rng = XorShift(0x9e37_79b9);
    let mut text = String::new();
    for opcode in 0..128u32 {
        for _ in 0..20_000 {
            let word = (rng.next() & !0x7f) | opcode;
            check(word, &mut text);
            check(word & 0xfe0f_8fff, &mut text); // rs1 = 0, funct3 = 0
            check(word & 0x0000_0fff, &mut text); // rs1, rs2, funct3, imm zero
        }
    }
}
