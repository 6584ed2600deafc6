//! Code size and compile time of synthetic blocks (a development aid).
use avm_interp::Op;
use avm_isa::{AluOp, Inst, LoadOp, Reg, StoreOp};
use avm_jit::cranelift::Translator;

fn main() {
    let mut t = Translator::new().expect("host");
    for n in [1usize, 4, 16, 63] {
        for kind in ["alu", "load", "store"] {
            let mut ops = Vec::new();
            for i in 0..n {
                let rd = Reg::new(5 + (i as u32 % 20));
                let rs = Reg::new(6 + (i as u32 % 19));
                let inst = match kind {
                    "alu" => Inst::Alu { op: AluOp::Add, rd, rs1: rs, rs2: rd },
                    "load" => Inst::Load { op: LoadOp::Lw, rd, rs1: rs, offset: 8 },
                    _ => Inst::Store { op: StoreOp::Sw, rs1: rs, rs2: rd, offset: 8 },
                };
                ops.push(Op { inst, len: 4 });
            }
            let bytes = vec![0u8; 4 * n];
            let start = std::time::Instant::now();
            let c = t.compile(&ops, &bytes).expect("compiles");
            println!("{kind:6} n={n:3} code={:6} bytes  {:8.1} us", c.code_size, start.elapsed().as_secs_f64() * 1e6);
        }
    }
}
