//! The ELF loader against hostile input: every truncation of a valid file,
//! thousands of random bit flips, and hand-made headers that lie about sizes,
//! counts and addresses. Each must give a clean `Err` (or, for a harmless
//! change, `Ok` and a loadable image); nothing may panic.

use avm::elf::write::{bare_metal, ElfBuilder};
use avm::elf::{ram_range, ElfError, ElfImage, PF_R, PF_W, PF_X};
use avm_interp::Interpreter;
use avm_jit::{JitConfig, JitEngine};
use avm_mmu::{Engine, Machine, MachineConfig};

const BASE: u32 = 0x8000_0000;
const TOHOST: u32 = 0x8000_1000;
const RAM: u32 = 1 << 20;

/// A small valid program: `li a0, 1; sw a0, 0(tohost); sw zero, 4(tohost); spin`.
fn valid() -> Vec<u8> {
    let code: [u32; 5] = [
        0x0010_0513, // addi a0, zero, 1
        0x8000_12b7, // lui t0, 0x80001
        0x00a2_a023, // sw a0, 0(t0)
        0x0002_a223, // sw zero, 4(t0)
        0x0000_006f, // jal zero, 0
    ];
    let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    bare_metal(BASE, &bytes, TOHOST)
}

fn parse(bytes: &[u8]) -> Result<ElfImage, ElfError> {
    ElfImage::parse(bytes, ram_range(RAM))
}

/// The project's test PRNG with a fixed seed, so failures reproduce.
struct Rng(avm_testgen::SplitMix64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(avm_testgen::SplitMix64::new(seed))
    }

    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// An accepted image must load into a machine of the same RAM size and run
/// a few instructions without panicking, ending the same on both engines.
fn load_and_poke(image: &ElfImage, m: &mut Machine) {
    image.load_into(m).expect("an image that parsed must load into RAM of the checked size");
    assert!(image.segments.iter().all(|s| s.data.len() <= s.memsz as usize));
    let mut on_jit = m.try_clone().expect("clone");
    let limit = m.hart.instret + 1000;
    let exit = Interpreter::new().run(m, limit);
    let jit_exit = JitEngine::new(JitConfig { threshold: 0, ..JitConfig::default() }).run(&mut on_jit, limit);
    assert_eq!((exit, &m.hart), (jit_exit, &on_jit.hart), "engines differ on an accepted image");
    assert_eq!(m.ram.digest(), on_jit.ram.digest());
}

#[test]
fn the_valid_program_parses_loads_and_passes() {
    let image = parse(&valid()).expect("valid");
    assert_eq!(image.entry, BASE);
    assert_eq!(image.tohost, Some(TOHOST));
    assert_eq!(image.fromhost, Some(TOHOST + 8));
    let mut m = Machine::new(MachineConfig { ram_size: RAM, ..MachineConfig::default() }).expect("machine");
    let mut on_jit = m.try_clone().expect("clone");
    image.load_into(&mut m).expect("load");
    image.load_into(&mut on_jit).expect("load");
    assert_eq!(Interpreter::new().run(&mut m, 100), avm_mmu::Exit::Halt { code: 0 });
    assert_eq!(
        JitEngine::new(JitConfig { threshold: 0, ..JitConfig::default() }).run(&mut on_jit, 100),
        avm_mmu::Exit::Halt { code: 0 }
    );
    assert_eq!(m.hart, on_jit.hart);
}

#[test]
fn every_truncation_is_an_error() {
    let elf = valid();
    for len in 0..elf.len() {
        let r = parse(&elf[..len]);
        // Only the trailing section-header padding could be cut harmlessly,
        // and the section headers are the last thing in the file.
        assert!(r.is_err(), "truncation to {len} of {} bytes was accepted", elf.len());
    }
    assert!(parse(&elf).is_ok());
}

#[test]
fn truncations_of_a_bundled_program_never_panic() {
    let Some(dir) = avm::guest_dir() else { return };
    let Ok(elf) = std::fs::read(std::path::Path::new(dir).join("rv32i")) else {
        return;
    };
    let ram = ram_range(64 << 20);
    assert!(ElfImage::parse(&elf, ram.clone()).is_ok());
    for len in 0..elf.len() {
        let _ = ElfImage::parse(&elf[..len], ram.clone());
    }
}

#[test]
fn random_bit_flips_never_panic() {
    let elf = valid();
    let mut rng = Rng::new(0x5eed_e1f0);
    let mut m = Machine::new(MachineConfig { ram_size: RAM, ..MachineConfig::default() }).expect("machine");
    let (mut ok, mut err) = (0, 0);
    for _ in 0..5000 {
        let mut bytes = elf.clone();
        for _ in 0..=rng.below(4) {
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
        }
        match parse(&bytes) {
            Ok(image) => {
                ok += 1;
                load_and_poke(&image, &mut m);
            }
            Err(e) => {
                err += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(ok > 0 && err > 0, "flips should give both outcomes: {ok} ok, {err} err");
}

#[test]
fn random_garbage_and_random_header_fields_never_panic() {
    let elf = valid();
    let mut rng = Rng::new(42);
    for _ in 0..3000 {
        // Keep the identification valid so the parser gets past the magic,
        // then scribble whole words over the headers.
        let mut bytes = elf.clone();
        for _ in 0..=rng.below(3) {
            let at = rng.below(bytes.len().saturating_sub(4)) & !3;
            let word = match rng.below(4) {
                0 => u32::MAX,
                1 => 0x8000_0000,
                2 => 0xffff_f000,
                _ => rng.next() as u32,
            };
            bytes[at..at + 4].copy_from_slice(&word.to_le_bytes());
        }
        let _ = parse(&bytes);
    }
    for len in 0..200 {
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        assert!(parse(&bytes).is_err());
    }
}

/// Offsets of ELF32 header fields.
const E_TYPE: usize = 16;
const E_MACHINE: usize = 18;
const E_ENTRY: usize = 24;
const E_PHOFF: usize = 28;
const E_SHOFF: usize = 32;
const E_PHENTSIZE: usize = 42;
const E_PHNUM: usize = 44;
const E_SHNUM: usize = 48;

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn header_identification_errors() {
    let mut b = valid();
    b[0] = b'\x7e';
    assert_eq!(parse(&b), Err(ElfError::BadMagic));

    let mut b = valid();
    b[4] = 2;
    assert_eq!(parse(&b), Err(ElfError::WrongClass(2)));

    let mut b = valid();
    b[5] = 2;
    assert_eq!(parse(&b), Err(ElfError::WrongEndianness(2)));

    let mut b = valid();
    put16(&mut b, E_MACHINE, 62);
    assert_eq!(parse(&b), Err(ElfError::WrongMachine(62)));

    let mut b = valid();
    put16(&mut b, E_TYPE, 3); // ET_DYN
    assert_eq!(parse(&b), Err(ElfError::NotExecutable(3)));

    assert!(matches!(parse(b"\x7fEL"), Err(ElfError::Truncated { .. })));
    assert_eq!(parse(b"MZ\x90\0"), Err(ElfError::BadMagic));
}

#[test]
fn hostile_program_header_tables() {
    let mut b = valid();
    put16(&mut b, E_PHNUM, u16::MAX);
    assert!(matches!(parse(&b), Err(ElfError::ProgramHeadersOutOfBounds { .. })));

    let mut b = valid();
    put32(&mut b, E_PHOFF, u32::MAX - 8);
    assert!(matches!(parse(&b), Err(ElfError::ProgramHeadersOutOfBounds { .. })));

    let mut b = valid();
    put16(&mut b, E_PHENTSIZE, 31);
    assert!(matches!(parse(&b), Err(ElfError::BadEntrySize { .. })));

    let mut b = valid();
    put16(&mut b, E_PHNUM, 0);
    assert_eq!(parse(&b), Err(ElfError::NoLoadableSegments));

    let mut b = valid();
    put32(&mut b, E_SHOFF, u32::MAX);
    assert!(matches!(parse(&b), Err(ElfError::SectionHeadersOutOfBounds { .. })));

    // No section headers at all: loads, without a mailbox.
    let mut b = valid();
    put16(&mut b, E_SHNUM, 0);
    let image = parse(&b).expect("stripped program");
    assert_eq!(image.tohost, None);
}

#[test]
fn hostile_segments() {
    let code = [0x6f, 0, 0, 0];
    let rx = PF_R | PF_X;

    // A segment that wraps the 32-bit address space.
    let b = ElfBuilder::new(BASE).segment(BASE, &code, 4, rx).segment(0xffff_f000, &[], 0x2000, PF_R | PF_W).build();
    assert!(matches!(parse(&b), Err(ElfError::SegmentOutsideRam { index: 1, .. })));

    // Larger than RAM.
    let b = ElfBuilder::new(BASE).segment(BASE, &code, u32::MAX, rx).build();
    assert!(matches!(parse(&b), Err(ElfError::SegmentTooLarge { .. })));

    // Running off the end of RAM.
    let b = ElfBuilder::new(BASE).segment(BASE + RAM - 2, &code, 4, rx).build();
    assert!(matches!(parse(&b), Err(ElfError::SegmentOutsideRam { .. })));

    // Below RAM.
    let b = ElfBuilder::new(BASE).segment(BASE, &code, 4, rx).segment(0x1000, &code, 4, rx).build();
    assert!(matches!(parse(&b), Err(ElfError::SegmentOutsideRam { .. })));

    // Overlapping, in either order.
    let b = ElfBuilder::new(BASE).segment(BASE, &code, 0x100, rx).segment(BASE + 0xfc, &code, 4, rx).build();
    assert!(matches!(parse(&b), Err(ElfError::OverlappingSegments { first: 0, second: 1, .. })));
    let b = ElfBuilder::new(BASE).segment(BASE + 0x80, &code, 4, rx).segment(BASE, &code, 0x1000, rx).build();
    assert!(matches!(parse(&b), Err(ElfError::OverlappingSegments { .. })));

    // Touching is fine.
    let b = ElfBuilder::new(BASE).segment(BASE, &code, 4, rx).segment(BASE + 4, &code, 4, rx).build();
    assert!(parse(&b).is_ok());

    // filesz > memsz.
    let b = ElfBuilder::new(BASE).segment(BASE, &code, 2, rx).build();
    assert!(matches!(parse(&b), Err(ElfError::FileSizeExceedsMemSize { filesz: 4, memsz: 2, .. })));

    // File bytes beyond the end of the file.
    let mut b = ElfBuilder::new(BASE).segment(BASE, &code, 4, rx).build();
    put32(&mut b, 52 + 4, u32::MAX - 2); // p_offset
    assert!(matches!(parse(&b), Err(ElfError::SegmentFileRange { .. })));
    let mut b = ElfBuilder::new(BASE).segment(BASE, &code, 0x10_0000, rx).build();
    put32(&mut b, 52 + 16, 0x8_0000); // p_filesz
    assert!(matches!(parse(&b), Err(ElfError::SegmentFileRange { .. })));

    // Entry outside RAM.
    let mut b = valid();
    put32(&mut b, E_ENTRY, 0x1000);
    assert!(matches!(parse(&b), Err(ElfError::EntryOutsideRam { .. })));

    // tohost outside RAM.
    let b = ElfBuilder::new(BASE).segment(BASE, &code, 4, rx).symbol("tohost", 0x4000_0000).build();
    assert!(matches!(parse(&b), Err(ElfError::HtifOutsideRam { symbol: "tohost", .. })));

    // A huge bss in RAM is fine and allocates nothing up front.
    let b = ElfBuilder::new(BASE).segment(BASE, &code, RAM, rx | PF_W).build();
    let image = parse(&b).expect("bss up to the RAM size");
    assert_eq!(image.segments[0].data.len(), 4);
}

#[test]
fn virtual_addresses_map_through_segments() {
    // Linked at 0x1000 virtual, loaded at RAM_BASE physical.
    let code = [0x6f, 0, 0, 0];
    let b = ElfBuilder::new(0x1000).segment_at(0x1000, BASE, &code, 0x20, PF_R | PF_X).symbol("tohost", 0x1010).build();
    let image = parse(&b).expect("paddr != vaddr");
    assert_eq!(image.entry, BASE);
    assert_eq!(image.tohost, Some(BASE + 0x10));
}

#[test]
fn loading_into_a_smaller_machine_is_an_error() {
    let b = ElfBuilder::new(BASE).segment(BASE + RAM - 0x1000, &[1, 2, 3, 4], 0x1000, PF_R).build();
    let image = ElfImage::parse(&b, ram_range(RAM)).expect("fits 1 MiB");
    // Entry at BASE is in RAM even though no segment holds it.
    let mut small = Machine::new(MachineConfig { ram_size: RAM / 2, ..MachineConfig::default() }).expect("machine");
    assert!(matches!(image.load_into(&mut small), Err(ElfError::DoesNotFit { .. })));
}

#[test]
fn bss_is_zeroed_when_loading_over_old_contents() {
    let b = ElfBuilder::new(BASE).segment(BASE, &[0x6f, 0, 0, 0], 0x3000, PF_R | PF_X | PF_W).build();
    let image = parse(&b).expect("valid");
    let mut m = Machine::new(MachineConfig { ram_size: RAM, ..MachineConfig::default() }).expect("machine");
    m.write_phys_bytes(BASE + 0x2ffc, &[9; 4]).expect("in RAM");
    image.load_into(&mut m).expect("load");
    assert_eq!(&m.ram.bytes()[0x2ffc..0x3000], &[0; 4]);
    assert_eq!(&m.ram.bytes()[..4], &[0x6f, 0, 0, 0]);
}

// ---- issue 14: an odd entry at the end of RAM panicked both engines ----

/// RAM of the machine `avm exec` and the `elf` fuzz target use (64 MiB).
const BIG_RAM: u32 = 64 << 20;
/// The last page of 64 MiB of RAM.
const LAST_PAGE: u32 = BASE + BIG_RAM - 4096;

/// A segment that fills the last page of 64 MiB of RAM (zeros, then in the
/// last two bytes the low parcel of a 32-bit `addi`), entered at `entry`.
fn last_page_image(entry: u32) -> Vec<u8> {
    let mut page = vec![0u8; 4096];
    page[4094] = 0x13; // 0x0513: the low parcel of `addi a0, ...` (32-bit)
    page[4095] = 0x05;
    ElfBuilder::new(entry).segment(LAST_PAGE, &page, 4096, PF_R | PF_X).build()
}

/// The hostile images of issue 14, by the name their file has in
/// `fuzz/regressions/elf/` (the `elf` fuzz target's seed corpus).
fn issue14_images() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("odd_entry_3_bytes_before_end_of_ram", last_page_image(BASE + BIG_RAM - 3)),
        ("odd_entry_1_byte_before_end_of_ram", last_page_image(BASE + BIG_RAM - 1)),
        ("entry_2_bytes_before_end_of_ram_32_bit_parcel", last_page_image(BASE + BIG_RAM - 2)),
    ]
}

fn big_machine() -> Machine {
    Machine::new(MachineConfig { ram_size: BIG_RAM, ..MachineConfig::default() }).expect("machine")
}

#[test]
fn odd_entry_3_bytes_before_end_of_ram_is_rejected_by_the_loader() {
    for entry in [BASE + BIG_RAM - 3, BASE + BIG_RAM - 1, BASE + 1] {
        let b = last_page_image(entry);
        let err = ElfImage::parse(&b, ram_range(BIG_RAM)).expect_err("odd entry");
        assert!(matches!(err, ElfError::OddEntry { entry: e } if e == entry), "{err:?}");
        assert!(err.to_string().contains("odd"), "a clear message: {err}");
    }
}

#[test]
fn a_32_bit_instruction_running_off_the_end_of_ram_is_a_fetch_fault_on_both_engines() {
    let b = last_page_image(BASE + BIG_RAM - 2);
    let image = ElfImage::parse(&b, ram_range(BIG_RAM)).expect("an even entry in RAM parses");
    let mut m = big_machine();
    load_and_poke(&image, &mut m);
    // mtvec is 0: the fault at the end of RAM leads into a trap loop.
    assert_eq!(m.hart.csr.mcause, 1, "instruction access fault");
    assert_eq!(m.hart.csr.mepc, 0, "the fault of fetching at mtvec = 0 is the last one");
}

#[test]
fn fetch_at_an_odd_pc_near_the_end_of_ram_faults_instead_of_panicking_on_both_engines() {
    // The loader refuses odd entries; a host that sets pc itself must still
    // never panic the engines.
    for back in [1, 3, 5] {
        let image = ElfImage::parse(&last_page_image(LAST_PAGE), ram_range(BIG_RAM)).expect("parses");
        let mut m = big_machine();
        image.load_into(&mut m).expect("loads");
        m.hart.pc = BASE + BIG_RAM - back;
        let on_jit = m.try_clone().expect("clone");
        let exit = Interpreter::new().run(&mut m, 100);
        for config in [JitConfig { threshold: 0, ..JitConfig::default() }, JitConfig::baseline_only()] {
            let mut j = on_jit.try_clone().expect("clone");
            assert_eq!((JitEngine::new(config).run(&mut j, 100), &j.hart), (exit, &m.hart), "pc end - {back}");
        }
        assert!(matches!(exit, avm_mmu::Exit::TrapLoop { .. }), "pc end - {back}: {exit:?}");
    }
}

#[test]
fn issue14_images_are_in_the_elf_fuzz_seed_corpus() {
    // Set AVM_BLESS=1 to (re)write the files.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/elf");
    for (name, bytes) in issue14_images() {
        let path = dir.join(name);
        if std::env::var_os("AVM_BLESS").is_some() {
            std::fs::create_dir_all(&dir).expect("create the seed corpus directory");
            std::fs::write(&path, &bytes).expect("write a seed");
        }
        let stored = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run with AVM_BLESS=1)", path.display()));
        assert_eq!(stored, bytes, "{name} is out of date (run with AVM_BLESS=1)");
        // The fuzz target's oracle: parse, load, run without a panic.
        if let Ok(image) = ElfImage::parse(&bytes, ram_range(BIG_RAM)) {
            load_and_poke(&image, &mut big_machine());
        }
    }
}
