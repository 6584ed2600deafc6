//! Unit tests of the shared machine: translation, TLB, CSR rules, HTIF and
//! trap entry, without any engine.

use avm_isa::csr;
use avm_mmu::csr::mstatus;
use avm_mmu::devices::{Htif, HtifEvent};
use avm_mmu::sv32::{PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X};
use avm_mmu::tlb::Access;
use avm_mmu::{ExecMode, Exit, Machine, MachineConfig, Privilege, Trap, TrapCause};

const ROOT: u32 = 0x8010_0000;
const L0: u32 = 0x8010_1000;

fn machine() -> Machine {
    Machine::new(MachineConfig { ram_size: 4 << 20, mode: ExecMode::BareMetal }).expect("machine")
}

fn write_u32(m: &mut Machine, paddr: u32, v: u32) {
    m.write_phys_bytes(paddr, &v.to_le_bytes()).expect("in RAM");
}

fn read_u32(m: &Machine, paddr: u32) -> u32 {
    let off = (paddr - 0x8000_0000) as usize;
    u32::from_le_bytes(m.ram.bytes()[off..off + 4].try_into().expect("4 bytes"))
}

/// Map virtual page 0x4000_0000 to physical 0x8020_0000 with `flags`, and
/// switch to S-mode with Sv32 on.
fn sv32_with_page(flags: u32) -> Machine {
    let mut m = machine();
    let vpn1 = 0x4000_0000u32 >> 22;
    write_u32(&mut m, ROOT + vpn1 * 4, ((L0 >> 12) << 10) | PTE_V);
    write_u32(&mut m, L0, ((0x8020_0000u32 >> 12) << 10) | flags);
    m.hart.csr.satp = (1 << 31) | (ROOT >> 12);
    m.set_privilege(Privilege::Supervisor);
    m
}

#[test]
fn sv32_sets_accessed_on_load_and_dirty_on_store() {
    let mut m = sv32_with_page(PTE_V | PTE_R | PTE_W);
    write_u32(&mut m, 0x8020_0010, 0xdead_beef);
    assert_eq!(m.load::<4>(0x4000_0010), Ok(0xdead_beefu32.to_le_bytes()));
    assert_eq!(read_u32(&m, L0) & (PTE_A | PTE_D), PTE_A);
    m.store::<4>(0x4000_0014, [1, 2, 3, 4]).expect("writable");
    assert_eq!(read_u32(&m, L0) & (PTE_A | PTE_D), PTE_A | PTE_D);
    assert_eq!(read_u32(&m, 0x8020_0014), 0x0403_0201);
}

#[test]
fn sv32_faults_carry_cause_and_virtual_address() {
    let mut m = sv32_with_page(PTE_V | PTE_R);
    assert_eq!(m.store::<4>(0x4000_0008, [0; 4]), Err(Trap::new(TrapCause::StorePageFault, 0x4000_0008)));
    assert_eq!(m.fetch_offset(0x4000_0000), Err(Trap::new(TrapCause::InstructionPageFault, 0x4000_0000)));
    assert_eq!(m.load::<1>(0x4040_0000), Err(Trap::new(TrapCause::LoadPageFault, 0x4040_0000)));
    // A refused access sets neither A nor D.
    assert_eq!(read_u32(&m, L0) & (PTE_A | PTE_D), 0);
}

#[test]
fn supervisor_touches_user_pages_only_with_sum_and_never_executes_them() {
    let mut m = sv32_with_page(PTE_V | PTE_R | PTE_X | PTE_U);
    assert_eq!(m.load::<4>(0x4000_0000).map(|_| ()), Err(Trap::new(TrapCause::LoadPageFault, 0x4000_0000)));
    m.csr_write(csr::SSTATUS, mstatus::SUM);
    assert!(m.load::<4>(0x4000_0000).is_ok());
    assert_eq!(m.fetch_offset(0x4000_0000), Err(Trap::new(TrapCause::InstructionPageFault, 0x4000_0000)));
}

#[test]
fn mxr_makes_execute_only_pages_readable() {
    let mut m = sv32_with_page(PTE_V | PTE_X);
    assert!(m.load::<4>(0x4000_0000).is_err());
    m.csr_write(csr::SSTATUS, mstatus::MXR);
    assert!(m.load::<4>(0x4000_0000).is_ok());
}

#[test]
fn misaligned_megapage_is_a_page_fault() {
    let mut m = machine();
    let vpn1 = 0x4000_0000u32 >> 22;
    // PPN[0] != 0 in a level-1 leaf.
    write_u32(&mut m, ROOT + vpn1 * 4, ((0x8000_1000u32 >> 12) << 10) | PTE_V | PTE_R);
    m.hart.csr.satp = (1 << 31) | (ROOT >> 12);
    m.set_privilege(Privilege::Supervisor);
    assert_eq!(m.load::<4>(0x4000_0000), Err(Trap::new(TrapCause::LoadPageFault, 0x4000_0000)));
}

#[test]
fn misaligned_store_across_pages_writes_nothing_when_the_second_page_faults() {
    let mut m = sv32_with_page(PTE_V | PTE_R | PTE_W);
    write_u32(&mut m, 0x8020_0ffc, 0x1111_1111);
    // 0x4000_1000 is unmapped: the whole store must fault with the second page's address.
    assert_eq!(m.store::<4>(0x4000_0ffe, [9; 4]), Err(Trap::new(TrapCause::StorePageFault, 0x4000_1000)));
    assert_eq!(read_u32(&m, 0x8020_0ffc), 0x1111_1111);
}

#[test]
fn tlb_keeps_translations_until_sfence() {
    let mut m = sv32_with_page(PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    assert!(m.load::<4>(0x4000_0000).is_ok());
    assert!(m.tlb.lookup(Access::Read, 0x4000_0000, 4).is_some());
    m.tlb.flush();
    assert!(m.tlb.lookup(Access::Read, 0x4000_0000, 4).is_none());
}

#[test]
fn every_write_to_a_code_page_is_reported_however_often_it_is_marked() {
    let mut m = machine();
    let (vaddr, off) = (0x8000_3010, 0x3010);
    // A plain page: the store fills a write entry.
    m.store::<4>(vaddr, [1; 4]).expect("store");
    assert!(m.tlb.lookup(Access::Write, vaddr, 4).is_some());
    for round in 0..3 {
        // An engine translates code there (twice: the second mark finds the
        // page marked already).
        m.mark_code(off);
        m.mark_code(off + 8);
        assert!(m.tlb.lookup(Access::Write, vaddr, 4).is_none(), "round {round}");
        m.store::<4>(vaddr, [round; 4]).expect("store");
        assert_eq!(m.ram.take_invalidated(), [3], "round {round}");
        // Unmarked again by that write: the next store fills the write
        // entry, which the next mark must drop.
        m.store::<4>(vaddr, [round; 4]).expect("store");
        assert!(m.tlb.lookup(Access::Write, vaddr, 4).is_some(), "round {round}");
        assert!(m.ram.take_invalidated().is_empty());
    }
}

#[test]
fn access_outside_ram_and_devices_is_an_access_fault() {
    let mut m = machine();
    assert_eq!(m.load::<4>(0x4000_0000), Err(Trap::new(TrapCause::LoadAccessFault, 0x4000_0000)));
    assert_eq!(m.store::<4>(0x0, [0; 4]), Err(Trap::new(TrapCause::StoreAccessFault, 0)));
    assert_eq!(m.fetch_offset(0x1000_0000), Err(Trap::new(TrapCause::InstructionAccessFault, 0x1000_0000)));
}

#[test]
fn misaligned_amo_traps_but_misaligned_load_is_performed() {
    let mut m = machine();
    write_u32(&mut m, 0x8000_0100, 0x4433_2211);
    write_u32(&mut m, 0x8000_0104, 0x8877_6655);
    assert_eq!(m.load::<4>(0x8000_0101), Ok([0x22, 0x33, 0x44, 0x55]));
    assert_eq!(m.amo(0x8000_0102, |v| v), Err(Trap::new(TrapCause::StoreMisaligned, 0x8000_0102)));
    assert_eq!(m.load_reserved(0x8000_0101), Err(Trap::new(TrapCause::LoadMisaligned, 0x8000_0101)));
}

#[test]
fn store_conditional_needs_the_reservation_of_the_same_address() {
    let mut m = machine();
    assert_eq!(m.store_conditional(0x8000_0200, 5), Ok(1));
    m.load_reserved(0x8000_0200).expect("aligned");
    assert_eq!(m.store_conditional(0x8000_0204, 5), Ok(1), "other address fails and clears");
    assert_eq!(m.store_conditional(0x8000_0200, 5), Ok(1), "reservation is gone");
    m.load_reserved(0x8000_0200).expect("aligned");
    assert_eq!(m.store_conditional(0x8000_0200, 7), Ok(0));
    assert_eq!(read_u32(&m, 0x8000_0200), 7);
}

#[test]
fn csr_rules_privilege_read_only_and_warl() {
    let mut m = machine();
    assert_eq!(m.csr_read(csr::CYCLE, true), None, "read-only CSR written");
    assert!(m.csr_read(csr::CYCLE, false).is_some());
    assert_eq!(m.csr_read(0x7c0, false), None, "unknown CSR");
    m.csr_write(csr::MSTATUS, 2 << mstatus::MPP_SHIFT);
    assert_ne!((m.hart.csr.mstatus >> mstatus::MPP_SHIFT) & 3, 2, "MPP=2 is not legal");
    m.csr_write(csr::MEPC, 0x8000_0003);
    assert_eq!(m.hart.csr.mepc, 0x8000_0002);
    m.set_privilege(Privilege::Supervisor);
    assert_eq!(m.csr_read(csr::MSTATUS, false), None, "S-mode reading an M CSR");
    assert_eq!(m.csr_read(csr::CYCLE, false), None, "mcounteren clear");
}

#[test]
fn minstret_write_is_seen_by_the_next_instruction() {
    let mut m = machine();
    m.hart.instret = 100;
    m.csr_write(csr::MINSTRET, 5000);
    m.hart.instret = 101; // the writing instruction retired
    assert_eq!(m.csr_read(csr::MINSTRET, false), Some(5000));
    assert_eq!(m.hart.instret, 101, "the metering counter is untouched");
}

#[test]
fn minstret_and_minstreth_writes_suppress_the_writing_instructions_increment() {
    // csrw minstret,-1; csrw minstreth,-1; nop; csrr minstret; csrr minstreth
    for (low, high) in [(csr::MINSTRET, csr::MINSTRETH), (csr::MCYCLE, csr::MCYCLEH)] {
        let mut m = machine();
        m.hart.instret = 7;
        m.csr_write(low, u32::MAX);
        m.hart.instret = 8;
        assert_eq!(m.csr_read(low, false), Some(u32::MAX), "the next instruction sees the value written");
        m.csr_write(high, u32::MAX);
        m.hart.instret = 9; // the nop sees all ones
        assert_eq!((m.csr_read(low, false), m.csr_read(high, false)), (Some(u32::MAX), Some(u32::MAX)));
        m.hart.instret = 10; // after the nop: wrapped to 0
        assert_eq!(m.csr_read(low, false), Some(0));
        m.hart.instret = 11;
        assert_eq!(m.csr_read(high, false), Some(0));
    }
}

#[test]
fn a_low_counter_write_does_not_carry_the_writing_instructions_increment() {
    let mut m = machine();
    m.hart.instret = 0xffff_ffff; // minstret low word is all ones for this instruction
    m.csr_write(csr::MINSTRET, 5);
    m.hart.instret = 0x1_0000_0000;
    assert_eq!((m.csr_read(csr::MINSTRET, false), m.csr_read(csr::MINSTRETH, false)), (Some(5), Some(0)));
}

#[test]
fn debug_trigger_csrs_exist_in_m_mode_with_no_triggers() {
    let mut m = machine();
    for c in [csr::TSELECT, csr::TDATA1, csr::TDATA2, csr::TDATA3, csr::TINFO] {
        assert!(m.csr_read(c, true).is_some(), "{c:#x} accessible in M-mode");
        m.csr_write(c, u32::MAX);
    }
    assert_eq!(m.csr_read(csr::TSELECT, false), Some(0));
    assert_eq!(m.csr_read(csr::TDATA1, false), Some(0), "type 0 after any write");
    assert_eq!(m.csr_read(csr::TINFO, false), Some(1));
    m.set_privilege(Privilege::Supervisor);
    assert_eq!(m.csr_read(csr::TSELECT, false), None, "M-mode only");
}

#[test]
fn mcountinhibit_is_warl_zero() {
    let mut m = machine();
    m.csr_write(csr::MCOUNTINHIBIT, u32::MAX);
    assert_eq!(m.csr_read(csr::MCOUNTINHIBIT, false), Some(0));
}

#[test]
fn pmp_registers_hold_values_through_csr_access() {
    let mut m = machine();
    m.csr_write(csr::PMPADDR0, u32::MAX);
    assert_eq!(m.csr_read(csr::PMPADDR0, false), Some(u32::MAX), "G = 0: every bit writable");
    m.csr_write(csr::PMPCFG0, 0x9f_1b_02_0f);
    // Entry 1 is R=0 W=1 (reserved): kept at 0. Entry 3: L|A=NAPOT|XWR.
    assert_eq!(m.csr_read(csr::PMPCFG0, false), Some(0x9f_1b_00_0f));
    m.csr_write(csr::PMPADDR3, 0x1234);
    assert_eq!(m.csr_read(csr::PMPADDR3, false), Some(0), "locked");
    m.csr_write(csr::PMPCFG0, 0);
    assert_eq!(m.csr_read(csr::PMPCFG0, false), Some(0x9f_00_00_00), "locked byte kept");
}

#[test]
fn htif_exit_and_putchar_protocol() {
    assert_eq!(Htif::command(1), HtifEvent::Exit(0));
    assert_eq!(Htif::command(7), HtifEvent::Exit(3));
    assert_eq!(Htif::command(0), HtifEvent::None, "an empty mailbox is no command");
    assert_eq!(Htif::command(0x0101_0000_0000_0041), HtifEvent::Putchar(b'A'));
    assert_eq!(Htif::command(0x0101_0000_0000_0000), HtifEvent::Putchar(0), "byte 0 is printed too");
    assert_eq!(Htif::command(0x0100_0000_0000_0000), HtifEvent::Getchar);
    assert_eq!(Htif::command(0x0000_0000_0000_0002), HtifEvent::Ignored, "even payload: not an exit");
    assert_eq!(HtifEvent::Putchar(b'A').ack(0x0101_0000_0000_0041), Some(0x0101_0000_0000_0141));
}

#[test]
fn tohost_low_word_only_stores_and_the_high_word_runs_the_command() {
    let mut m = machine();
    m.set_htif(Some(0x8000_1000), Some(0x8000_1040));
    // An odd byte, low word first (QEMU's order): no exit.
    m.store::<4>(0x8000_1000, u32::from(b'e').to_le_bytes()).expect("store");
    assert_eq!(m.take_pending_exit(), None, "the low word alone only stores");
    assert_eq!(read_u32(&m, 0x8000_1000), u32::from(b'e'));
    m.store::<4>(0x8000_1004, 0x0101_0000u32.to_le_bytes()).expect("store");
    assert_eq!(m.console, b"e");
    assert_eq!(m.take_pending_exit(), None);
    assert_eq!((read_u32(&m, 0x8000_1000), read_u32(&m, 0x8000_1004)), (0, 0), "tohost cleared");
    assert_eq!((read_u32(&m, 0x8000_1040), read_u32(&m, 0x8000_1044)), (0x165, 0x0101_0000), "fromhost acknowledged");
    // The riscv-tests exit: TESTNUM into the low word, then 0 into the high word.
    m.store::<4>(0x8000_1000, 7u32.to_le_bytes()).expect("store");
    assert_eq!(m.take_pending_exit(), None);
    m.store::<4>(0x8000_1004, 0u32.to_le_bytes()).expect("store");
    assert_eq!(m.take_pending_exit(), Some(Exit::Halt { code: 3 }));
}

#[test]
fn trap_entry_delegates_from_s_to_s_and_stacks_status() {
    let mut m = machine();
    m.hart.csr.medeleg = 1 << TrapCause::EcallFromU.code();
    m.hart.csr.stvec = 0x8000_4000;
    m.hart.csr.mtvec = 0x8000_8000;
    m.set_privilege(Privilege::User);
    m.hart.pc = 0x8000_0040;
    assert_eq!(m.raise(Trap::new(TrapCause::EcallFromU, 0)), None);
    assert_eq!(
        (m.hart.privilege, m.hart.pc, m.hart.csr.sepc, m.hart.csr.scause),
        (Privilege::Supervisor, 0x8000_4000, 0x8000_0040, 8)
    );
    assert_eq!(m.hart.csr.mstatus & mstatus::SPP, 0, "came from U");
    // Not delegated: goes to M even from S.
    m.hart.pc = 0x8000_4010;
    assert_eq!(m.raise(Trap::new(TrapCause::IllegalInstruction, 0x1234)), None);
    assert_eq!((m.hart.privilege, m.hart.pc, m.hart.csr.mtval), (Privilege::Machine, 0x8000_8000, 0x1234));
    assert_eq!((m.hart.csr.mstatus & mstatus::MPP) >> mstatus::MPP_SHIFT, 1, "came from S");
    assert!(m.mret());
    assert_eq!((m.hart.privilege, m.hart.pc), (Privilege::Supervisor, 0x8000_4010));
}

#[test]
fn firmware_mode_reports_traps_into_m_mode_to_the_host() {
    let mut m = Machine::new(MachineConfig { ram_size: 1 << 20, mode: ExecMode::Firmware }).expect("machine");
    m.set_privilege(Privilege::Supervisor);
    m.hart.pc = 0x8000_0100;
    let trap = Trap::new(TrapCause::EcallFromS, 0);
    assert_eq!(m.raise(trap), Some(Exit::Trap { trap, from: Privilege::Supervisor }));
    assert_eq!(m.hart.pc, 0x8000_0100, "hart untouched for the host");
}

#[test]
fn a_trap_vector_that_faults_is_reported_as_a_trap_loop() {
    let mut m = machine();
    m.hart.csr.mtvec = 0x4000_0000; // nothing there
    let mut exit = None;
    for _ in 0..100 {
        let trap = match m.fetch_offset(m.hart.pc) {
            Err(t) => t,
            Ok(_) => Trap::illegal(0),
        };
        exit = m.raise(trap);
        if exit.is_some() {
            break;
        }
    }
    assert!(matches!(exit, Some(Exit::TrapLoop { .. })), "{exit:?}");
}

#[test]
fn bad_ram_sizes_are_rejected() {
    for size in [0, 100, 0x8000_1000] {
        assert!(Machine::new(MachineConfig { ram_size: size, mode: ExecMode::BareMetal }).is_err());
    }
}

#[test]
fn fetch_word_at_the_end_of_ram_checks_every_byte_of_each_parcel() {
    // Issue 14: an odd pc 3 bytes before the end of RAM made `fetch_word`
    // read past the mapping (a host panic). Every parcel is checked now.
    let mut m = machine();
    let end = 0x8000_0000u32 + (4 << 20);
    m.write_phys_bytes(end - 4, &[0x13; 4]).expect("in RAM");
    let fault = |pc| Err(Trap::new(TrapCause::InstructionAccessFault, pc));
    assert_eq!(m.fetch_word(end - 3), fault(end - 1), "odd pc: the second parcel straddles the end");
    assert_eq!(m.fetch_word(end - 1), fault(end - 1), "odd pc: the first parcel straddles the end");
    assert_eq!(m.fetch_word(end - 2), fault(end), "a 32-bit parcel pair running off the end");
    assert_eq!(m.fetch_word(end - 4), Ok(0x1313_1313), "the last whole instruction in RAM");
}
