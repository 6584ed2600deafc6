//! Tests of the translator as a whole.

use super::dump::dump_region;
use super::*;
use crate::plan::region::RegionBlock;
use avm_interp::Op;
use avm_isa::asm::encode;
use avm_isa::{AluImmOp, AluOp, BranchOp, Inst, Reg};
use avm_mmu::Machine;

/// The dump shows each guest instruction at its offset from the entry.
#[test]
fn region_dump_disassembles_relative_to_the_entry() {
    let insts = [
        Inst::AluImm { op: AluImmOp::Addi, rd: Reg::new(10), rs1: Reg::new(10), imm: 1 },
        Inst::Branch { op: BranchOp::Bne, rs1: Reg::new(10), rs2: Reg::new(11), offset: -4 },
    ];
    let ops: Vec<Op> = insts.iter().map(|&inst| Op { inst, len: 4 }).collect();
    let bytes: Vec<u8> = insts.iter().flat_map(|i| encode(i).to_le_bytes()).collect();
    let text = dump_region(&[
        RegionBlock { rel: 0, ops: &ops[..1], bytes: &bytes[..4], page: 0, straddler: None },
        RegionBlock { rel: 4, ops: &ops[1..], bytes: &bytes[4..], page: 0, straddler: Some(0x0000_0073) },
    ]);
    assert!(text.contains("00000000: addi a0,a0,1"), "{text}");
    assert!(text.contains("00000004: bne a0,a1,0x0"), "{text}");
    assert!(text.contains("00000008: (crosses the page end: run by jit_exec_next)"), "{text}");
    let straddling_add = encode(&Inst::Alu { op: AluOp::Add, rd: Reg::new(5), rs1: Reg::new(6), rs2: Reg::new(7) });
    let text = dump_region(&[RegionBlock {
        rel: 0,
        ops: &ops[..1],
        bytes: &bytes[..4],
        page: 0,
        straddler: Some(straddling_add),
    }]);
    assert!(text.contains("00000004: (crosses the page end: add t0,t1,t2, compiled"), "{text}");
}

/// A panic inside Cranelift is a compile error, not a host crash, and
/// the translator compiles correct code afterwards.
#[test]
fn a_panic_while_compiling_is_an_error_and_the_next_compile_works() {
    use crate::abi::{JitCtx, Status};
    use avm_mmu::{MachineConfig, RAM_BASE};
    let inst = Inst::AluImm { op: AluImmOp::Addi, rd: Reg::new(10), rs1: Reg::new(10), imm: 1 };
    let ops = [Op { inst, len: 4 }];
    let bytes = encode(&inst).to_le_bytes();
    let blocks = [RegionBlock { rel: 0, ops: &ops, bytes: &bytes, page: 0, straddler: None }];
    let mut t = Translator::new().expect("host supported");
    t.panic_while_building = true;
    let err = t.compile_region(&blocks).expect_err("the injected panic");
    assert!(matches!(&err, CompileError::Panic(what) if what.contains("injected")), "{err}");
    let code = t.compile_region(&blocks).expect("compiles after the panic");
    let mut m = Machine::new(MachineConfig { ram_size: 1 << 20, ..MachineConfig::default() }).expect("machine");
    m.hart.pc = RAM_BASE;
    m.hart.x[10] = 41;
    let succ = vec![crate::abi::SuccSlot::default(); crate::abi::SUCC_SLOTS];
    let enter = Trampoline::shared().expect("host supported");
    let mut ctx = JitCtx {
        ram: m.ram.host_ptr(),
        limit: 10,
        pc: RAM_BASE,
        succ: succ.as_ptr(),
        chain: enter.chains(),
        ..JitCtx::default()
    };
    // SAFETY: compiled with the region signature by `t`, which is alive;
    // both pointers come from exclusive references, and `succ` is a
    // whole (empty) successor cache.
    let status = unsafe { enter.func()(&mut m, &mut ctx, code.func) };
    assert_eq!(status, Status::End.code());
    assert_eq!((m.hart.x[10], m.hart.pc, m.hart.instret), (42, RAM_BASE + 4, 1));
    // SAFETY: `code` is not called again.
    unsafe { t.free() };
}
