//! `elf`: any bytes are an ELF file for a 64 MiB machine.
//!
//! Oracle: parsing never panics; an image that parses also loads (parse
//! checked it against the same RAM range), and the interpreter runs it for a
//! bounded number of instructions without panicking.

#![no_main]

use avm::elf::{ram_range, ElfImage};
use avm_interp::Interpreter;
use avm_mmu::{Engine, Machine, MachineConfig};
use libfuzzer_sys::fuzz_target;

/// RAM of the machine: the host's default, 64 MiB (mapped lazily).
const RAM_SIZE: u32 = 64 << 20;
/// Instructions the interpreter runs a loaded image for.
const LIMIT: u64 = 10_000;

fuzz_target!(|data: &[u8]| {
    let Ok(image) = ElfImage::parse(data, ram_range(RAM_SIZE)) else { return };
    let _ = image.entry_is_executable();
    let mut m = Machine::new(MachineConfig { ram_size: RAM_SIZE, ..MachineConfig::default() })
        .expect("host maps 64 MiB of guest RAM");
    if let Err(e) = image.load_into(&mut m) {
        panic!("parsed for {RAM_SIZE:#x} bytes of RAM but does not load: {e}");
    }
    let _exit = Interpreter::new().run(&mut m, LIMIT);
    assert!(m.hart.instret <= LIMIT, "ran {} instructions past the limit {LIMIT}", m.hart.instret);
});
