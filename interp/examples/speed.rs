//! Quick speed check of the interpreter on synthetic loops (bare M-mode and
//! Sv32 S-mode). `cargo run --release -p avm-interp --example speed`.
use avm_interp::Interpreter;
use avm_isa::asm::Asm;
use avm_isa::{AluOp, BranchOp, LoadOp, Reg, StoreOp};
use avm_mmu::{Engine, Machine, MachineConfig};
use std::time::Instant;

fn r(n: u32) -> Reg {
    Reg::new(n)
}

fn alu_loop(mem: bool) -> Vec<u8> {
    let mut a = Asm::new(0x8000_0000);
    a.li(r(10), 0);
    a.li(r(11), 100_000_000);
    a.li(r(12), 0x8010_0000);
    let top = a.here();
    a.addi(r(10), r(10), 1);
    a.alu(AluOp::Xor, r(13), r(13), r(10));
    if mem {
        a.load(LoadOp::Lw, r(14), r(12), 0);
        a.alu(AluOp::Add, r(14), r(14), r(13));
        a.store(StoreOp::Sw, r(14), r(12), 4);
    } else {
        let reps = std::env::var("AVM_SPEED_REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
        for _ in 0..reps {
            a.alu(AluOp::Add, r(14), r(14), r(13));
            a.alu(AluOp::Sll, r(15), r(14), r(10));
            a.alu(AluOp::Or, r(16), r(15), r(13));
        }
    }
    a.branch_label(BranchOp::Bne, r(10), r(11), top);
    a.inst(avm_isa::Inst::Ebreak);
    a.finish().expect("assembles")
}

fn main() {
    let only_alu = std::env::var("AVM_SPEED_ALU").is_ok();
    let only: Option<usize> = std::env::var("AVM_SPEED_ONLY").ok().and_then(|s| s.parse().ok());
    for (i, (mem, paged)) in [(false, false), (true, false), (true, true)].into_iter().enumerate() {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        if mem && only_alu {
            continue;
        }
        let code = alu_loop(mem);
        let mut m = Machine::new(MachineConfig::default()).unwrap();
        m.write_phys_bytes(0x8000_0000, &code).unwrap();
        m.hart.csr.mtvec = 0x8000_0000 + 0x10_0000 - 4;
        if paged {
            // Identity megapages over the first 8 MiB of RAM, run in S-mode.
            let root = 0x8020_0000u32;
            for i in 0..2u32 {
                let va = 0x8000_0000 + (i << 22);
                let pte = ((va >> 12) << 10) | 0xcf; // V R W X A D
                m.write_phys_bytes(root + (va >> 22) * 4, &pte.to_le_bytes()).unwrap();
            }
            m.hart.csr.satp = (1 << 31) | (root >> 12);
            m.set_privilege(avm_mmu::Privilege::Supervisor);
        }
        let mut e = Interpreter::new();
        let t = Instant::now();
        let n: u64 = std::env::var("AVM_SPEED_N").ok().and_then(|s| s.parse().ok()).unwrap_or(300_000_000);
        let exit = e.run(&mut m, n);
        let dt = t.elapsed().as_secs_f64();
        println!(
            "{} loop: {:?} {} insns in {:.3}s = {:.0} MIPS",
            match (mem, paged) {
                (false, _) => "alu",
                (true, false) => "mem (M-mode, bare)",
                (true, true) => "mem (S-mode, Sv32)",
            },
            exit,
            m.hart.instret,
            dt,
            m.hart.instret as f64 / dt / 1e6
        );
    }
}
