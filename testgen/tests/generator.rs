//! Smoke tests of the generator and the oracles, run by plain `cargo test`.

use avm_interp::Interpreter;
use avm_isa::Inst;
use avm_mmu::{Engine, Exit};
use avm_testgen::{
    compare, generate_from_bytes, generate_seeded, machine_for, run_engines, run_engines_sliced, run_to_end,
};

#[test]
fn same_seed_same_program() {
    for seed in [0, 1, 42, u64::MAX] {
        assert_eq!(generate_seeded(seed), generate_seeded(seed));
    }
    assert_ne!(generate_seeded(1).image, generate_seeded(2).image);
}

#[test]
fn only_deliberate_words_are_illegal() {
    for seed in 0..2000 {
        let p = generate_seeded(seed);
        let bad = p.unexpected_illegals();
        assert!(bad.is_empty(), "seed {seed}: illegal instructions at {bad:x?}\n{}", p.disassembly());
    }
}

#[test]
fn code_stays_in_its_area() {
    for seed in 0..500 {
        let p = generate_seeded(seed);
        assert!(p.code.1 <= 0x8000_0000 + avm_testgen::program::DATA_OFFSET, "seed {seed}");
        assert!(p.body < 0x8000_1000 && p.body >= 0x8000_0c00, "seed {seed}: body at {:#x}", p.body);
    }
}

#[test]
fn any_bytes_make_a_program() {
    for input in [&[][..], &[0xff; 3][..], &[1, 2, 3, 4, 5, 6, 7, 8, 9][..], &[0xaa; 4096][..]] {
        let p = generate_from_bytes(input);
        assert!(p.unexpected_illegals().is_empty());
        let mut m = machine_for(&p);
        let _ = run_to_end(&mut Interpreter::new(), &mut m, 5000, &[]);
    }
}

#[test]
fn programs_end_without_host_panics() {
    let mut halted = 0;
    for seed in 0..300 {
        let p = generate_seeded(seed);
        let mut m = machine_for(&p);
        let out = run_to_end(&mut Interpreter::new(), &mut m, 20_000, &[]);
        match out.exit {
            Exit::Halt { .. } => halted += 1,
            Exit::InstructionLimit | Exit::TrapLoop { .. } => {}
            other => panic!("seed {seed}: unexpected exit {other:?} in bare-metal mode"),
        }
    }
    // Most programs reach their epilogue or their trap budget.
    assert!(halted > 200, "only {halted} of 300 programs halted");
}

#[test]
fn the_disassembly_lists_the_body() {
    let p = generate_seeded(7);
    let text = p.disassembly();
    assert!(text.contains(&format!("{:08x}:", p.body)), "{text}");
    assert!(text.contains("mret"));
}

#[test]
fn interpreters_agree_on_a_few_programs() {
    for seed in 0..100 {
        let p = generate_seeded(seed);
        let setup = || machine_for(&p);
        let (mut a, mut b) = (Interpreter::new(), Interpreter::new());
        let engines: &mut [&mut dyn Engine] = &mut [&mut a, &mut b];
        let reference = run_engines(setup, 2000, engines).unwrap_or_else(|d| panic!("seed {seed}: {d}"));
        let mut c = Interpreter::new();
        let sliced = run_engines_sliced(setup, 2000, &[13, 1, 2], &mut [&mut c]).unwrap_or_else(|d| panic!("{d}"));
        compare(&reference, &sliced).unwrap_or_else(|d| panic!("seed {seed}: {d}"));
    }
}

#[test]
fn generated_code_uses_the_interesting_instructions() {
    let mut seen = [false; 8];
    for seed in 0..200 {
        for (_, d, _) in generate_seeded(seed).instructions() {
            match d.inst {
                Inst::Amo { .. } => seen[0] = true,
                Inst::Lr { .. } => seen[1] = true,
                Inst::Sc { .. } => seen[2] = true,
                Inst::FenceI => seen[3] = true,
                Inst::Csr { .. } => seen[4] = true,
                Inst::Wfi => seen[5] = true,
                Inst::Mret => seen[6] = true,
                _ if d.len == 2 => seen[7] = true,
                _ => {}
            }
        }
    }
    assert_eq!(seen, [true; 8]);
}
