//! Encodings checked against GNU objdump (`-M no-aliases`) output, the
//! reserved encodings the manual lists, and aVM's own choices.

use avm_isa::disasm::disasm;
use avm_isa::{decode, AluImmOp, CsrOp, Inst, Reg};

const PC: u32 = 0x8000_0000;

/// Asserts that `word` decodes to an instruction of length `len` printing as `text`.
#[track_caller]
fn assert_text(word: u32, len: u8, text: &str) {
    let d = decode(word);
    assert_eq!(d.len, len, "length of {word:#010x}");
    assert_eq!(disasm(&d, PC), text, "text of {word:#010x}");
}

#[track_caller]
fn assert_illegal(word: u32, len: u8) {
    let d = decode(word);
    let expected = if len == 2 { word & 0xffff } else { word };
    assert_eq!(d.len, len, "length of {word:#010x}");
    assert_eq!(d.inst, Inst::Illegal { word: expected }, "{word:#010x} should be illegal");
}

#[test]
fn base_integer_instructions_match_objdump() {
    for (word, text) in [
        (0x00a5_0533, "add a0,a0,a0"),
        (0x4015_d513, "srai a0,a1,0x1"),
        (0x01f5_1513, "slli a0,a0,0x1f"),
        (0x0000_0013, "addi zero,zero,0"),
        (0xff01_0113, "addi sp,sp,-16"),
        (0x0000_8067, "jalr zero,0(ra)"),
        (0x0011_2623, "sw ra,12(sp)"),
        (0x00c1_2083, "lw ra,12(sp)"),
        (0x1234_5537, "lui a0,0x12345"),
        (0x0000_1517, "auipc a0,0x1"),
        (0x00b5_0863, "beq a0,a1,0x80000010"),
        (0x1000_00ef, "jal ra,0x80000100"),
        (0xffdf_f06f, "jal zero,0x7ffffffc"),
        (0x02b5_0533, "mul a0,a0,a1"),
    ] {
        assert_text(word, 4, text);
    }
}

#[test]
fn system_csr_and_fence_instructions_match_objdump() {
    for (word, text) in [
        (0x0000_0073, "ecall"),
        (0x0010_0073, "ebreak"),
        (0x3020_0073, "mret"),
        (0x1020_0073, "sret"),
        (0x1050_0073, "wfi"),
        (0x1200_0073, "sfence.vma zero,zero"),
        (0x12b5_0073, "sfence.vma a0,a1"),
        (0x3401_1173, "csrrw sp,mscratch,sp"),
        (0x3000_22f3, "csrrs t0,mstatus,zero"),
        (0x7c00_25f3, "csrrs a1,0x7c0,zero"),
        (0x3002_d073, "csrrwi zero,mstatus,5"),
        (0x0ff0_000f, "fence iorw,iorw"),
        (0x8330_000f, "fence.tso"),
        (0x0100_000f, "fence w,0"),
        (0x0000_100f, "fence.i"),
    ] {
        assert_text(word, 4, text);
    }
}

#[test]
fn atomics_match_objdump() {
    assert_text(0x1005_25af, 4, "lr.w a1,(a0)");
    assert_text(0x18c5_a52f, 4, "sc.w a0,a2,(a1)");
    assert_text(0x06c5_a52f, 4, "amoadd.w.aqrl a0,a2,(a1)");
    assert_text(0x0cc5_a52f, 4, "amoswap.w.aq a0,a2,(a1)");
}

#[test]
fn unimp_is_a_csr_write_to_cycle_that_traps_at_execution() {
    let d = decode(0xc000_1073);
    let inst = Inst::Csr { op: CsrOp::Rw, rd: Reg::ZERO, rs1: Reg::ZERO, csr: 0xc00 };
    assert_eq!(d.inst, inst);
    assert_eq!(disasm(&d, PC), "csrrw zero,cycle,zero");
}

#[test]
fn fence_ignores_reserved_rd_and_rs1_fields() {
    assert_eq!(decode(0x0ff5_050f).inst, Inst::Fence { pred: 0xf, succ: 0xf, fm: 0 });
}

#[test]
fn zero_and_all_ones_words_are_illegal() {
    assert_illegal(0x0000_0000, 2);
    assert_illegal(0xffff_ffff, 4);
    assert_text(0x0000_0000, 2, "illegal 0x0000");
    assert_text(0xffff_ffff, 4, "illegal 0xffffffff");
}

#[test]
fn shift_by_32_or_more_is_illegal_on_rv32() {
    assert_illegal(0x0205_1513, 4); // slli a0,a0,32
    assert_illegal(0x0205_5513, 4); // srli a0,a0,32
    assert_illegal(0x4205_5513, 4); // srai a0,a0,32
}

#[test]
fn malformed_32_bit_words_are_illegal() {
    assert_illegal(0x0000_001f, 4); // 48-bit format
    assert_illegal(0x0000_003f, 4); // 64-bit format
    assert_illegal(0x0000_007f, 4); // longer formats
    assert_illegal(0x1015_25af, 4); // lr.w with rs2 != 0
    assert_illegal(0x06c5_b52f, 4); // amoadd.d (funct3 011)
    assert_illegal(0x0000_4073, 4); // SYSTEM funct3 100
    assert_illegal(0x1200_0173, 4); // sfence.vma with rd != 0
    assert_illegal(0x0000_9067, 4); // jalr with funct3 != 0
    assert_illegal(0x0000_200f, 4); // MISC-MEM funct3 010
    assert_illegal(0x0000_3003, 4); // ld
    assert_illegal(0x0000_3023, 4); // sd
    assert_illegal(0x0010_0173, 4); // ebreak with rd != 0
}

#[test]
fn compressed_instructions_expand_like_objdump_shows() {
    for (half, text) in [
        (0x4501, "addi a0,zero,0"),
        (0x8082, "jalr zero,0(ra)"),
        (0x1141, "addi sp,sp,-16"),
        (0x0141, "addi sp,sp,16"),
        (0x7179, "addi sp,sp,-48"),
        (0x0040, "addi s0,sp,4"),
        (0xc606, "sw ra,12(sp)"),
        (0x40b2, "lw ra,12(sp)"),
        (0x4188, "lw a0,0(a1)"),
        (0xc188, "sw a0,0(a1)"),
        (0x9002, "ebreak"),
        (0x0001, "addi zero,zero,0"),
        (0x852e, "add a0,zero,a1"),
        (0x952e, "add a0,a0,a1"),
        (0x8d0d, "sub a0,a0,a1"),
        (0xa001, "jal zero,0x80000000"),
        (0x2001, "jal ra,0x80000000"),
        (0xc101, "beq a0,zero,0x80000000"),
        (0xe101, "bne a0,zero,0x80000000"),
        (0xdd7d, "beq a0,zero,0x7ffffffe"),
        (0x6505, "lui a0,0x1"),
        (0x8105, "srli a0,a0,0x1"),
        (0x8505, "srai a0,a0,0x1"),
        (0x997d, "andi a0,a0,-1"),
        (0x0506, "slli a0,a0,0x1"),
        (0x9502, "jalr ra,0(a0)"),
    ] {
        assert_text(half, 2, text);
    }
}

#[test]
fn compressed_hints_are_legal() {
    for (half, text) in [
        (0x0005, "addi zero,zero,1"), // c.addi rd=0
        (0x4005, "addi zero,zero,1"), // c.li rd=0
        (0x6005, "lui zero,0x1"),     // c.lui rd=0
        (0x802e, "add zero,zero,a1"), // c.mv rd=0
        (0x0502, "slli a0,a0,0x0"),   // c.slli shamt=0
        (0x8101, "srli a0,a0,0x0"),   // c.srli shamt=0
    ] {
        assert_text(half, 2, text);
    }
}

#[test]
fn reserved_compressed_encodings_are_illegal() {
    for half in [
        0x0000, // all zeros
        0x0004, // c.addi4spn nzuimm=0
        0x6101, // c.addi16sp imm=0
        0x6501, // c.lui imm=0
        0x9101, // c.srli shamt[5]=1
        0x9501, // c.srai shamt[5]=1
        0x1502, // c.slli shamt[5]=1
        0x4002, // c.lwsp rd=0
        0x8002, // c.jr rs1=0
        0x8000, // quadrant 0, funct3 100
        0x9d4d, // quadrant 1 reserved
        0x9d6d, // quadrant 1 reserved
    ] {
        assert_illegal(half, 2);
    }
}

#[test]
fn rv64_only_compressed_subw_and_addw_are_illegal() {
    assert_illegal(0x9d0d, 2); // c.subw a0,a1
    assert_illegal(0x9d2d, 2); // c.addw a0,a1
}

#[test]
fn compressed_floating_point_is_illegal_without_an_fpu() {
    for half in [0x2000, 0x6000, 0xa000, 0xe000, 0x2002, 0x6002, 0xa002, 0xe002] {
        assert_illegal(half | 0x0100, 2);
    }
}

#[test]
fn compressed_decode_ignores_the_upper_half() {
    assert_eq!(decode(0xffff_4501), decode(0x4501));
    assert_eq!(decode(0x1234_0141).inst, Inst::AluImm { op: AluImmOp::Addi, rd: Reg::SP, rs1: Reg::SP, imm: 16 });
}
