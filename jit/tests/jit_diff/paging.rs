//! Sv32: translation, faults, and code whose pages are remapped under it.

use super::*;

/// Sv32 in S-mode: megapage and 4 KiB mappings, loads and stores through
/// the TLB, page faults (load, store to a read-only page, a store crossing
/// into a read-only page), `sfence.vma`, and a store to the code page
/// through an alias mapping (self-modifying code seen through another
/// virtual address).
#[test]
fn sv32_supervisor() {
    let va = 0x4000_0000u32;

    let mut a = Asm::new(RAM_BASE);
    let h = prologue(&mut a);
    enter_supervisor_sv32(&mut a, PT);
    a.li(S0, va);
    a.li(S1, va + 0x1000);
    a.li(A5, va + 0x2000);
    a.li(T2, va + 0x4000); // alias of the code page
    a.li(A4, 12);
    let top = a.here();
    a.load(LoadOp::Lw, A0, S0, 0);
    a.addi(A0, A0, 1);
    a.store(StoreOp::Sw, A0, S0, 0);
    a.load(LoadOp::Lw, A1, S1, 0);
    a.store(StoreOp::Sw, A1, S1, 0); // store page fault (read-only)
    a.load(LoadOp::Lw, A2, A5, 0); // load page fault (invalid)
    a.load(LoadOp::Lw, A3, S1, -2); // crosses into the read-only page: fine
    a.store(StoreOp::Sw, A0, S1, -2); // crosses: faults, writes nothing
    a.load(LoadOp::Lw, A3, T2, 0x40); // read code through the alias
    a.store(StoreOp::Sw, A3, T2, 0x40); // rewrite it (same bytes): invalidation
    a.inst(Inst::SfenceVma { rs1: Reg::ZERO, rs2: Reg::ZERO });
    a.addi(A4, A4, -1);
    a.bne_label(A4, Reg::ZERO, top);
    finish(&mut a, h);
    let program = a.finish().expect("assembles");

    let mut m = machine(&program, RAM);
    let mut put = |addr: u32, v: u32| m.write_phys_bytes(addr, &v.to_le_bytes()).expect("in RAM");
    put(PT + 4 * (RAM_BASE >> 22), pte(RAM_BASE, PTE_V | PTE_R | PTE_W | PTE_X));
    put(PT + 4 * (va >> 22), pte(PT2, PTE_V));
    put(PT2, pte(DATA, PTE_V | PTE_R | PTE_W));
    put(PT2 + 4, pte(DATA + 0x1000, PTE_V | PTE_R));
    put(PT2 + 16, pte(RAM_BASE, PTE_V | PTE_R | PTE_W));
    for threshold in [0, 1, DEFAULT_THRESHOLD] {
        let (mj, exit, stats) = run_both_with(&m, &[1_000_000], config(threshold));
        assert_eq!(exit, halt(), "threshold {threshold}");
        assert_eq!(mj.hart.x[27], 12 * (15 + 13 + 15), "three page faults per iteration");
        if threshold == 0 {
            assert!(stats.insts_run_compiled > 30, "{stats:?}");
        }
    }
    // And with limits landing everywhere.
    let limits: Vec<u64> = (1..3000).map(|i| i * 7).collect();
    let _ = run_both_with(&m, &limits, config(0));
}

/// A loop over two virtual pages, compiled as one region over two RAM
/// pages. Halfway, the second virtual page is remapped to another RAM page
/// holding other code (`sfence.vma`, nothing written to either code page):
/// the edge into the second page must notice the new mapping and leave the
/// region instead of running the code compiled from the old one.
#[test]
fn a_region_over_two_pages_follows_a_remapped_page() {
    const CODE: u32 = RAM_BASE + 0x2_0000;
    const OTHER: u32 = RAM_BASE + 0x3_0000;
    let va = 0x4000_0000u32;

    let mut a = Asm::new(RAM_BASE);
    enter_supervisor_sv32(&mut a, PT);
    a.li(S0, 600);
    a.li(S1, 300);
    a.li(T3, pte(OTHER, PTE_V | PTE_R | PTE_X));
    a.li(T4, PT2);
    a.li(T0, va + 0xff8);
    a.inst(Inst::Jalr { rd: Reg::ZERO, rs1: T0, offset: 0 });
    let program = a.finish().expect("assembles");

    // The loop: two instructions at the end of the first page, the rest
    // (with the remap in iteration 300) in the second.
    let looped = |step: i32| {
        let mut a = Asm::new(va + 0xff8);
        let top = a.here();
        a.addi(A0, A0, 1);
        a.addi(A1, A1, 1);
        assert_eq!(a.pc(), va + 0x1000);
        a.addi(A2, A2, step);
        let skip = a.new_label();
        a.bne_label(A0, S1, skip);
        a.store(StoreOp::Sw, T3, T4, 4);
        a.inst(Inst::SfenceVma { rs1: Reg::ZERO, rs2: Reg::ZERO });
        a.bind(skip);
        a.bne_label(A0, S0, top);
        exit_to_host(&mut a);
        a.finish().expect("assembles")
    };
    let (first, second) = (looped(1), looped(100));
    let mut m = machine(&program, RAM);
    m.write_phys_bytes(CODE + 0xff8, &first).expect("in RAM");
    m.write_phys_bytes(OTHER, &second[8..]).expect("in RAM");
    let mut put = |addr: u32, v: u32| m.write_phys_bytes(addr, &v.to_le_bytes()).expect("in RAM");
    map_ram_megapage(&mut put);
    put(PT + 4 * (va >> 22), pte(PT2, PTE_V));
    put(PT2, pte(CODE, PTE_V | PTE_R | PTE_X));
    put(PT2 + 4, pte(CODE + 0x1000, PTE_V | PTE_R | PTE_X));
    assert_remap_is_followed(&m, |stats| stats.insts_run_compiled > 2000);
}

/// Identity-map the megapage at `RAM_BASE` (the kernel code and page
/// tables) in the root table at `PT`, through `put(address, word)`.
fn map_ram_megapage(put: &mut impl FnMut(u32, u32)) {
    put(PT + 4 * (RAM_BASE >> 22), pte(RAM_BASE, PTE_V | PTE_R | PTE_W | PTE_X));
}

/// Run a remap test's machine on both engines at several thresholds: the
/// loop runs 300 iterations before the remap (`a2 += 1`) and 300 after
/// (`a2 += 100`); at the low thresholds `compiled(stats)` must hold.
fn assert_remap_is_followed(m: &avm_mmu::Machine, compiled: impl Fn(&avm_jit::JitStats) -> bool) {
    for threshold in [0, 1, 8, DEFAULT_THRESHOLD] {
        let (mj, exit, stats) = run_both_with(m, &[1_000_000], config(threshold));
        assert_eq!(exit, halt(), "threshold {threshold}");
        assert_eq!(mj.hart.x[12], 300 + 300 * 100, "a2, threshold {threshold}");
        if threshold <= 8 {
            assert!(compiled(&stats), "threshold {threshold}: {stats:?}");
        }
    }
}

/// A tail call from one region into the next (through the chain stub)
/// translates the target pc through the fetch TLB like the dispatcher:
/// after the called page is remapped (`sfence.vma` in a third page, which
/// empties the TLB), the next call must miss, leave for the dispatcher and
/// walk the new mapping, not run the code compiled for the old one. Virtual
/// addresses equal RAM offsets here, so an empty TLB entry's delta (0)
/// would even find the old code's slot.
#[test]
fn a_tail_call_follows_a_remapped_page() {
    const CODE: u32 = 0x2_0000;
    const OLD: u32 = 0x2_2000;
    const REMAP: u32 = 0x2_4000;
    const NEW: u32 = 0x3_0000;
    let rx = PTE_V | PTE_R | PTE_X;

    let mut a = Asm::new(RAM_BASE);
    enter_supervisor_sv32(&mut a, PT);
    a.li(S0, 600);
    a.li(S1, 300);
    a.li(T3, pte(RAM_BASE + NEW, rx));
    a.li(T4, PT2 + 4 * (OLD >> 12));
    a.li(T0, CODE);
    a.inst(Inst::Jalr { rd: Reg::ZERO, rs1: T0, offset: 0 });
    let program = a.finish().expect("assembles");

    let call = |a: &mut Asm, target: u32| {
        let offset = target.wrapping_sub(a.pc()) as i32;
        a.inst(Inst::Jal { rd: Reg::RA, offset });
    };
    let ret = Inst::Jalr { rd: Reg::ZERO, rs1: Reg::RA, offset: 0 };
    let mut l = Asm::new(CODE);
    let top = l.here();
    let skip = l.new_label();
    l.addi(A0, A0, 1);
    call(&mut l, OLD);
    l.bne_label(A0, S1, skip);
    call(&mut l, REMAP);
    l.bind(skip);
    l.bne_label(A0, S0, top);
    exit_to_host(&mut l);
    let callee = |step: i32, at: u32| {
        let mut f = Asm::new(at);
        f.addi(A2, A2, step);
        f.inst(ret);
        f.finish().expect("assembles")
    };
    let mut r = Asm::new(REMAP);
    r.store(StoreOp::Sw, T3, T4, 0);
    r.inst(Inst::SfenceVma { rs1: Reg::ZERO, rs2: Reg::ZERO });
    r.inst(ret);

    let mut m = machine(&program, RAM);
    for (at, code) in [
        (CODE, l.finish().expect("assembles")),
        (OLD, callee(1, OLD)),
        (NEW, callee(100, OLD)),
        (REMAP, r.finish().expect("assembles")),
    ] {
        m.write_phys_bytes(RAM_BASE + at, &code).expect("in RAM");
    }
    let mut put = |addr: u32, v: u32| m.write_phys_bytes(addr, &v.to_le_bytes()).expect("in RAM");
    map_ram_megapage(&mut put);
    put(PT, pte(PT2, PTE_V));
    for page in [CODE, OLD, REMAP] {
        put(PT2 + 4 * (page >> 12), pte(RAM_BASE + page, rx));
    }
    assert_remap_is_followed(&m, |stats| stats.tail_calls > 500);
}
