//! Quick speed check: MIPS of the interpreter and the JIT on an ALU loop and
//! a memory loop. `cargo run --release -p avm-jit --example mips`.
//! Prints numbers only; nothing here asserts on time.

use std::time::Instant;

use avm_interp::Interpreter;
use avm_isa::asm::Asm;
use avm_isa::{AluOp, LoadOp, Reg, StoreOp};
use avm_jit::{JitConfig, JitEngine};
use avm_mmu::{Engine, Machine, MachineConfig, RAM_BASE};

fn alu_loop() -> Vec<u8> {
    let r = Reg::new;
    let mut a = Asm::new(RAM_BASE);
    a.li(r(8), 0);
    let top = a.here();
    a.alu(AluOp::Add, r(10), r(10), r(11));
    a.alu(AluOp::Xor, r(11), r(11), r(10));
    a.alu_imm(avm_isa::AluImmOp::Slli, r(12), r(10), 3);
    a.alu(AluOp::Sub, r(13), r(12), r(11));
    a.alu(AluOp::Mul, r(14), r(13), r(10));
    a.alu(AluOp::Or, r(15), r(14), r(12));
    a.addi(r(11), r(11), 7);
    a.addi(r(8), r(8), 1);
    a.bne_label(r(8), Reg::ZERO, top);
    a.finish().expect("assembles")
}

fn mem_loop() -> Vec<u8> {
    let r = Reg::new;
    let mut a = Asm::new(RAM_BASE);
    a.li(r(9), RAM_BASE + 0x10_0000);
    let top = a.here();
    a.load(LoadOp::Lw, r(10), r(9), 0);
    a.addi(r(10), r(10), 1);
    a.store(StoreOp::Sw, r(10), r(9), 0);
    a.load(LoadOp::Lw, r(11), r(9), 4);
    a.alu(AluOp::Add, r(11), r(11), r(10));
    a.store(StoreOp::Sw, r(11), r(9), 4);
    a.alu_imm(avm_isa::AluImmOp::Andi, r(12), r(10), 0x7f0);
    a.alu(AluOp::Add, r(13), r(9), r(12));
    a.store(StoreOp::Sb, r(10), r(13), 8);
    a.j(top);
    a.finish().expect("assembles")
}

fn mips(engine: &mut dyn Engine, program: &[u8], n: u64) -> f64 {
    let mut m = Machine::new(MachineConfig { ram_size: 4 << 20, ..MachineConfig::default() }).expect("machine");
    m.write_phys_bytes(RAM_BASE, program).expect("fits");
    let t = Instant::now();
    engine.run(&mut m, n);
    let dt = t.elapsed().as_secs_f64();
    m.hart.instret as f64 / dt / 1e6
}

fn main() {
    let n = 200_000_000;
    for (name, program) in [("alu loop", alu_loop()), ("memory loop", mem_loop())] {
        let i = mips(&mut Interpreter::new(), &program, n);
        let mut jit = JitEngine::new(JitConfig::default());
        let j = mips(&mut jit, &program, n);
        println!("{name:12} interp {i:8.1} MIPS   jit {j:8.1} MIPS   ({:.1}x)  {:?}", j / i, jit.stats());
    }
}
