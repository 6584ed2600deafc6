//! Tests of the engine's bookkeeping: keys, the compile queue, the
//! compile thread.

use super::keys::{key_blocks, key_matches, key_pages, region_entries, region_key};
use super::*;
use crate::abi::BlockFn;
use crate::cache::Entry;
use crate::plan::region::{OwnedBlock, OwnedRegion};
use avm_interp::Op;
use avm_isa::{AluImmOp, Inst, Reg};
use avm_mmu::memory::PAGE_SIZE;

/// A region of two blocks; the second lies 8 bytes before the entry,
/// in the entry's page or (`page` -1) in the page before.
fn region(page: i32) -> OwnedRegion {
    let addi =
        |rd| Op { inst: Inst::AluImm { op: AluImmOp::Addi, rd: Reg::new(rd), rs1: Reg::new(rd), imm: 1 }, len: 4 };
    let c_nop = Op { inst: Inst::AluImm { op: AluImmOp::Addi, rd: Reg::ZERO, rs1: Reg::ZERO, imm: 0 }, len: 2 };
    let block = |rel, ops, bytes, page, straddler| OwnedBlock { rel, ops, bytes, page, straddler };
    OwnedRegion {
        blocks: vec![
            block(0, vec![addi(5), c_nop], vec![0x93, 0x82, 0x12, 0x00, 0x01, 0x00], 0, Some(0x0000_0073)),
            block(-8, vec![addi(6)], vec![0x13, 0x03, 0x13, 0x00], page, None),
        ],
    }
}

#[test]
fn a_key_names_its_blocks_and_checks_memory() {
    let key = region_key(&region(0));
    let blocks: Vec<(i32, &[u8], bool, i32)> =
        key_blocks(&key).map(|b| (b.rel, b.bytes, b.straddler, b.page)).collect();
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[1], (-8, &[0x13, 0x03, 0x13, 0x00][..], false, 0));
    // Never called: only the bookkeeping around it is tested.
    // SAFETY: the contract is about calling it, which nothing does.
    let f = unsafe { BlockFn::from_code(std::ptr::NonNull::dangling()) };
    let lens: Vec<(u32, u32, i32)> = region_entries(&key, f).map(|c| (c.len, c.entry, c.rel)).collect();
    assert_eq!(lens, [(3, 0, 0), (1, 1, -8)], "a 4-byte and a 2-byte instruction and the straddler; one addi");
    let mut ram = vec![0u8; 64];
    ram[8..12].copy_from_slice(&[0x13, 0x03, 0x13, 0x00]);
    ram[16..22].copy_from_slice(&[0x93, 0x82, 0x12, 0x00, 0x01, 0x00]);
    assert!(key_matches(&key, &ram, 16));
    assert_eq!(key_pages(&key, 16), (0, None));
    assert!(!key_matches(&key, &ram, 18), "elsewhere");
    assert!(!key_matches(&key, &ram, 4), "block before RAM start");
    assert!(!key_matches(&key, &ram, 60), "past the end");
    ram[9] ^= 1;
    assert!(!key_matches(&key, &ram, 16), "rewritten code");
}

/// A compile thread that dies (here at once, in its set-up) is noticed:
/// the block queued on it goes back to cold, a new thread compiles it,
/// and the run ends as the interpreter's.
#[test]
fn a_dead_compile_thread_is_replaced() {
    let (mut m, reference) = counting_loop(100_000);

    let mut jit = JitEngine::new(JitConfig { threshold: 8, background: true, ..JitConfig::default() });
    jit.worker = Worker::spawn(|_| panic!("injected: the compile thread dies"));
    while jit.worker.as_ref().is_some_and(Worker::is_alive) {
        std::thread::yield_now();
    }
    assert_eq!(jit.run(&mut m, u64::MAX), Exit::WaitForInterrupt);
    assert_eq!(m.hart, reference.hart);
    assert_eq!(jit.stats().worker_restarts, 1);
    // The new thread's code arrives sooner or later.
    while !jit.pending.is_empty() {
        jit.poll(&mut m);
        std::thread::yield_now();
    }
    assert!(jit.stats().regions_compiled > 0, "{:?}", jit.stats());
}

/// A machine that counts `a0` up to `n` in a one-block loop and then
/// waits (`wfi`), and the same machine run to its end by the
/// interpreter.
fn counting_loop(n: u32) -> (Machine, Machine) {
    use avm_isa::asm::Asm;
    use avm_isa::BranchOp;
    use avm_mmu::{MachineConfig, RAM_BASE};
    let (a0, s0) = (Reg::new(10), Reg::new(8));
    let mut a = Asm::new(RAM_BASE);
    a.li(s0, n);
    let top = a.here();
    a.addi(a0, a0, 1);
    a.branch_label(BranchOp::Bne, a0, s0, top);
    a.inst(Inst::Wfi);
    let mut m = Machine::new(MachineConfig { ram_size: 1 << 20, ..MachineConfig::default() }).expect("machine");
    m.write_phys_bytes(RAM_BASE, &a.finish().expect("assembles")).expect("fits");
    let mut reference = m.try_clone().expect("clone");
    assert_eq!(Interpreter::new().run(&mut reference, u64::MAX), Exit::WaitForInterrupt);
    (m, reference)
}

/// Regression: with a compile thread, the later blocks of a region
/// got hot while the region was still compiling (a loop's blocks get
/// hot together) and were queued as regions of their own, compiling
/// the same code again: ~30% of all compiled instructions of a one-shot
/// ecdsa run. Now they wait for the region, whose code they share.
#[test]
fn blocks_of_a_region_being_compiled_wait_for_it() {
    use avm_isa::asm::Asm;
    use avm_isa::BranchOp;
    use avm_mmu::{MachineConfig, RAM_BASE};
    // A loop of three blocks: `top` (ends in the branch to `skip`),
    // the `addi a1` taken every other iteration, and `skip`.
    let (a0, a1, t1, s0) = (Reg::new(10), Reg::new(11), Reg::new(6), Reg::new(8));
    let mut a = Asm::new(RAM_BASE);
    a.li(s0, 100_000);
    let top = a.here();
    let skip = a.new_label();
    a.addi(a0, a0, 1);
    a.alu_imm(AluImmOp::Andi, t1, a0, 1);
    a.branch_label(BranchOp::Beq, t1, Reg::ZERO, skip);
    a.addi(a1, a1, 1);
    a.bind(skip);
    a.branch_label(BranchOp::Bne, a0, s0, top);
    a.inst(Inst::Wfi);
    let (top, skip) = (a.address_of(top).expect("bound"), a.address_of(skip).expect("bound"));
    let mut m = Machine::new(MachineConfig { ram_size: 1 << 20, ..MachineConfig::default() }).expect("machine");
    m.write_phys_bytes(RAM_BASE, &a.finish().expect("assembles")).expect("fits");
    let mut reference = m.try_clone().expect("clone");
    assert_eq!(Interpreter::new().run(&mut reference, u64::MAX), Exit::WaitForInterrupt);

    // `top` gets hot first; `skip` reaches the threshold a few
    // iterations later, long before its region can have compiled.
    let mut jit = JitEngine::new(JitConfig { threshold: 8, background: true, ..JitConfig::default() });
    let entry = |jit: &JitEngine, pc: u32| jit.map.peek(pc - RAM_BASE);
    assert_eq!(jit.run(&mut m, u64::MAX), Exit::WaitForInterrupt);
    assert_eq!(m.hart, reference.hart);
    while !jit.pending.is_empty() {
        jit.poll(&mut m);
        std::thread::yield_now();
    }
    let stats = jit.stats();
    assert_eq!((stats.regions_compiled, stats.region_blocks), (1, 3), "{stats:?}");
    match (entry(&jit, top), entry(&jit, skip)) {
        (Some(Entry::Hot(a)), Some(Entry::Hot(b))) => assert_eq!(a.func, b.func, "one function"),
        other => panic!("{other:?}"),
    }
}

/// A compile that fails (here Cranelift panics) leaves its block to the
/// interpreter, is counted, and its error is kept for the host to report.
#[test]
fn a_freed_compile_queue_place_goes_to_the_block_that_asked_most() {
    use avm_isa::asm::Asm;
    use avm_mmu::{MachineConfig, RAM_BASE};
    // Three blocks of one `addi` and a `wfi`, at offsets 0, 8 and 16.
    let a0 = Reg::new(10);
    let mut a = Asm::new(RAM_BASE);
    for _ in 0..3 {
        a.addi(a0, a0, 1);
        a.inst(Inst::Wfi);
    }
    let mut m = Machine::new(MachineConfig { ram_size: 1 << 20, ..MachineConfig::default() }).expect("machine");
    m.write_phys_bytes(RAM_BASE, &a.finish().expect("assembles")).expect("fits");
    let threshold = 4;
    let mut jit = JitEngine::new(JitConfig { threshold, background: true, ..JitConfig::default() });
    jit.attach(&m);
    for off in [0, 8, 16] {
        *jit.map.entry(off) = Entry::Cold(threshold);
    }
    // The queue is full of regions that never arrive.
    let stand_in = |k: u8| vec![k].into_boxed_slice();
    for k in 0..MAX_QUEUED_REGIONS as u8 {
        jit.pending.insert(stand_in(k), Vec::new());
    }
    for (off, asks) in [(0, 1), (8, 3), (16, 2)] {
        for _ in 0..asks {
            assert!(jit.lookup(&mut m, off).is_none());
        }
    }
    assert_eq!(jit.backlog, [(0, 1), (8, 3), (16, 2)]);
    assert!(jit.map.peek(8).is_some_and(|e| matches!(e, Entry::Cold(_))));
    // One place frees: the block that asked most is queued at once.
    jit.pending.remove(&stand_in(0));
    jit.queue_backlog(&mut m);
    assert!(matches!(jit.map.peek(8), Some(Entry::Pending)), "{:?}", jit.map.peek(8));
    assert_eq!(jit.backlog, [(0, 1), (16, 2)]);
    assert_eq!(jit.pending.len(), MAX_QUEUED_REGIONS);
}

#[test]
fn a_failed_compile_is_counted_and_reported() {
    let (mut m, reference) = counting_loop(1000);

    let mut jit = JitEngine::new(JitConfig { threshold: 4, ..JitConfig::default() });
    let mut t = Translator::new().expect("host supported");
    t.fail_next_compile();
    jit.translator = Some(t);
    assert!(jit.compile_error().is_none());
    assert_eq!(jit.run(&mut m, u64::MAX), Exit::WaitForInterrupt);
    assert_eq!(m.hart, reference.hart);
    let stats = jit.stats();
    assert_eq!(stats.compile_failures, 1, "{stats:?}");
    assert!(matches!(jit.compile_error(), Some(CompileError::Panic(what)) if what.contains("injected")));
}

/// Regression: when the compile thread could not be started, the engine
/// stopped compiling altogether instead of compiling on its own thread.
#[test]
fn no_compile_thread_means_compiling_on_the_engine_thread() {
    let (mut m, reference) = counting_loop(1000);

    let mut jit = JitEngine::new(JitConfig { threshold: 4, background: true, ..JitConfig::default() });
    jit.refuse_threads = true;
    assert_eq!(jit.run(&mut m, u64::MAX), Exit::WaitForInterrupt);
    assert_eq!(m.hart, reference.hart);
    let stats = jit.stats();
    assert!(jit.worker.is_none() && stats.regions_compiled > 0 && stats.insts_run_compiled > 900, "{stats:?}");
}

/// A region over two pages matches only where its blocks fall into the
/// same pages, and claims both.
#[test]
fn a_two_page_key_matches_only_with_the_same_page_split() {
    let key = region_key(&region(-1));
    let mut ram = vec![0u8; 3 * PAGE_SIZE as usize];
    let place = |ram: &mut Vec<u8>, entry: usize| {
        ram[entry - 8..entry - 4].copy_from_slice(&[0x13, 0x03, 0x13, 0x00]);
        ram[entry..entry + 6].copy_from_slice(&[0x93, 0x82, 0x12, 0x00, 0x01, 0x00]);
    };
    place(&mut ram, 0x1002);
    assert!(key_matches(&key, &ram, 0x1002));
    assert_eq!(key_pages(&key, 0x1002), (1, Some(0)));
    place(&mut ram, 0x1800);
    assert!(!key_matches(&key, &ram, 0x1800), "the same bytes, all in one page");
    assert!(key_matches(&region_key(&region(0)), &ram, 0x1800));
}

/// The compile thread starts when the engine first runs, before any block
/// is hot (its own start then overlaps the program's); with threads
/// refused, or compiling in the foreground, there is none.
#[test]
fn the_compile_thread_starts_with_the_first_run() {
    let (mut m, reference) = counting_loop(10);
    let mut jit = JitEngine::new(JitConfig { threshold: u32::MAX, background: true, ..JitConfig::default() });
    assert!(jit.worker.is_none());
    assert_eq!(jit.run(&mut m, u64::MAX), Exit::WaitForInterrupt);
    assert_eq!(m.hart, reference.hart);
    assert!(jit.worker.is_some() && jit.stats().regions_compiled == 0, "{:?}", jit.stats());

    for (background, refuse) in [(false, false), (true, true)] {
        let (mut m, _) = counting_loop(10);
        let mut jit = JitEngine::new(JitConfig { threshold: u32::MAX, background, ..JitConfig::default() });
        jit.refuse_threads = refuse;
        jit.run(&mut m, u64::MAX);
        assert!(jit.worker.is_none(), "background {background}, threads refused {refuse}");
    }
}
