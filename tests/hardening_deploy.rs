//! Hardening, "Bad input" classes *malformed ELF* and *oversized or
//! overlapping segments*, as contract code in signed deployment
//! transactions (see `tests/hardening.rs` for the map of every class to its
//! tests).
//!
//! Each test takes the bundled `simple` contract, patches one header field
//! so the file is exactly the kind of bad it is named after, and deploys it
//! in a block between ordinary transactions of the same sender, on the
//! interpreter, the JIT and the JIT at threshold 0 (which must agree on
//! every receipt and header). The executor's rule (`src/chain/executor.rs`,
//! rule 4) is that a deployment whose ELF `CodeImage::from_elf` refuses is
//! *included* with a `Fault("invalid contract: ...")` receipt: the sender
//! pays the intrinsic gas (base, data bytes and code bytes) and no more,
//! its nonce goes up, no code is stored, and the transactions around it
//! run as if it were not there. The chain then keeps producing blocks.

mod common;

use avm::chain::{deploy_data, split_deploy_data};
use avm_abi::gas;
use avm_abi::types::{Type, Value};
use avm_state::{Address, Receipt, Status};
use common::chain::{Nodes, Signer};

const E18: u128 = 1_000_000_000_000_000_000;
/// Gas limit of the deployments (well above their intrinsic gas).
const DEPLOY_GAS: u64 = 5_000_000;

fn simple() -> Vec<u8> {
    avm::chain::bundled::contract_elf("simple").expect("bundled contract")
}

fn u64v(v: u64) -> Value {
    Value::Uint(Type::U64, u128::from(v))
}

/// Field offsets of the ELF32 file header and program headers.
mod field {
    pub const CLASS: usize = 4;
    pub const DATA: usize = 5;
    pub const TYPE: usize = 16;
    pub const MACHINE: usize = 18;
    pub const ENTRY: usize = 24;
    pub const PHOFF: usize = 28;
    pub const SHOFF: usize = 32;
    pub const PHNUM: usize = 44;
    pub const SHENTSIZE: usize = 46;
    pub const SHNUM: usize = 48;
    pub const SHSTRNDX: usize = 50;
    // Inside a program header.
    pub const P_OFFSET: usize = 4;
    pub const P_VADDR: usize = 8;
    pub const P_PADDR: usize = 12;
    pub const P_FILESZ: usize = 16;
    pub const P_MEMSZ: usize = 20;
    pub const P_FLAGS: usize = 24;
}

/// A contract ELF to patch, field by field.
struct Elf(Vec<u8>);

impl Elf {
    fn get32(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.0[at..at + 4].try_into().expect("4 bytes"))
    }

    fn get16(&self, at: usize) -> u16 {
        u16::from_le_bytes([self.0[at], self.0[at + 1]])
    }

    fn set32(&mut self, at: usize, v: u32) {
        self.0[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn set16(&mut self, at: usize, v: u16) {
        self.0[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }

    /// File offset of the `PT_LOAD` program header whose flags are `flags`
    /// (`simple` has one each: R+X code, R data, R+W bss).
    fn load(&self, flags: u32) -> usize {
        let (phoff, phnum) = (self.get32(field::PHOFF) as usize, usize::from(self.get16(field::PHNUM)));
        (0..phnum)
            .map(|i| phoff + i * 32)
            .find(|&at| self.get32(at) == 1 && self.get32(at + field::P_FLAGS) == flags)
            .unwrap_or_else(|| panic!("no PT_LOAD segment with flags {flags}"))
    }

    /// Set a segment's virtual and physical address together.
    fn move_segment(&mut self, flags: u32, to: u32) {
        let at = self.load(flags);
        self.set32(at + field::P_VADDR, to);
        self.set32(at + field::P_PADDR, to);
    }

    /// File offset of the section header called `name`.
    fn section(&self, name: &str) -> usize {
        let shoff = self.get32(field::SHOFF) as usize;
        let shnum = usize::from(self.get16(field::SHNUM));
        let names = self.get32(shoff + usize::from(self.get16(field::SHSTRNDX)) * 40 + 16) as usize;
        (0..shnum)
            .map(|i| shoff + i * 40)
            .find(|&at| {
                let start = names + self.get32(at) as usize;
                self.0[start..].starts_with(name.as_bytes()) && self.0[start + name.len()] == 0
            })
            .unwrap_or_else(|| panic!("no section {name}"))
    }

    /// The contents of section `name`, to overwrite.
    fn section_bytes(&mut self, name: &str) -> &mut [u8] {
        let at = self.section(name);
        let (off, len) = (self.get32(at + 16) as usize, self.get32(at + 20) as usize);
        &mut self.0[off..off + len]
    }
}

const CODE: u32 = avm::elf::PF_R | avm::elf::PF_X;
const DATA: u32 = avm::elf::PF_R;
const BSS: u32 = avm::elf::PF_R | avm::elf::PF_W;

fn patched(patch: impl FnOnce(&mut Elf)) -> Vec<u8> {
    let mut elf = Elf(simple());
    patch(&mut elf);
    elf.0
}

/// Intrinsic gas of a deployment transaction with this data.
fn intrinsic(data: &[u8]) -> u64 {
    let code = split_deploy_data(data).map_or(0, |(elf, _)| elf.len() as u64);
    gas::TX_BASE + gas::TX_DATA_BYTE * data.len() as u64 + gas::DEPLOY_BYTE * code
}

/// Deploy `data` (raw deployment data) in a block between ordinary
/// transactions of the same sender on every engine, and check everything
/// the executor promises for a refused deployment. Returns the failed
/// deployment's fault message.
#[track_caller]
fn refused_deployment(data: Vec<u8>) -> String {
    let mut alice = Signer::new("alice");
    let bob = Signer::new("bob");
    let mut nodes = Nodes::in_memory(&[(alice.address, 1_000 * E18), (bob.address, E18)]);
    let genesis = nodes.head();

    let before = alice.transfer(bob.address, 1_000);
    let bad_at = Address::contract(&alice.address, alice.nonce);
    let bad = alice.tx(None, 0, data.clone(), DEPLOY_GAS);
    let (good, good_at) = alice.deploy(&simple(), DEPLOY_GAS);
    let after = alice.transfer(bob.address, 2_000);
    let r = nodes.produce_all(vec![before, bad, good, after]);

    let failed = &r[1];
    let Status::Fault(message) = &failed.status else { panic!("the deployment did not fail: {failed:?}") };
    assert_eq!(failed.gas_used, intrinsic(&data), "a refused deployment costs its intrinsic gas only");
    assert_eq!((failed.instructions, failed.contract_address), (0, None));
    assert!(failed.logs.is_empty() && failed.return_data.is_empty());
    assert!(!nodes.has_code(&bad_at), "code was stored for a refused deployment");

    // The transactions around it are unaffected.
    assert!(r[0].status.is_success() && r[2].status.is_success() && r[3].status.is_success(), "{r:?}");
    assert_eq!(r[2].contract_address, Some(good_at));
    assert!(nodes.has_code(&good_at));
    assert_eq!(nodes.nonce(&alice.address), 4, "the refused deployment used its nonce");
    let fees: u64 = r.iter().map(|r: &Receipt| r.gas_used).sum();
    assert_eq!(nodes.balance(&alice.address), 1_000 * E18 - 3_000 - u128::from(fees));
    assert_eq!(nodes.balance(&bob.address), E18 + 3_000);

    // The chain goes on: the next block calls the contract deployed beside
    // the refused one.
    let call = alice.call(&simple(), good_at, "add", &[u64v(2), u64v(3)], 1_000_000);
    let r = nodes.produce_all(vec![call]);
    assert_eq!(r[0].status, Status::Success);
    assert_eq!(r[0].return_data, 5u64.to_le_bytes());
    assert_eq!(nodes.head().number, genesis.number + 2);
    message.clone()
}

/// [`refused_deployment`] of an ELF; the fault must name `want`.
#[track_caller]
fn assert_refused(elf: Vec<u8>, want: &str) {
    let message = refused_deployment(deploy_data(&elf, &[]));
    assert!(message.starts_with("invalid contract: "), "{message:?}");
    assert!(message.contains(want), "{message:?} does not mention {want:?}");
}

#[test]
fn the_unpatched_contract_deploys_and_runs() {
    // The baseline every other test patches: accepted as is.
    let mut alice = Signer::new("alice");
    let mut nodes = Nodes::in_memory(&[(alice.address, E18)]);
    let (tx, at) = alice.deploy(&simple(), DEPLOY_GAS);
    let r = nodes.produce_all(vec![tx]);
    assert_eq!((r[0].status.clone(), r[0].contract_address), (Status::Success, Some(at)));
    let r = nodes.produce_all(vec![alice.call(&simple(), at, "add", &[u64v(40), u64v(2)], 1_000_000)]);
    assert_eq!(r[0].return_data, 42u64.to_le_bytes());
}

#[test]
fn deploy_of_garbage_bytes_fails_with_bad_magic() {
    assert_refused(b"this is not an ELF file, only some bytes".repeat(50), "bad magic number");
    assert_refused(Vec::new(), "truncated ELF file");
    // An ELF with no loadable segment: every `PT_LOAD` made a `PT_NULL`.
    let nothing = patched(|e| {
        for flags in [CODE, DATA, BSS] {
            let at = e.load(flags);
            e.set32(at, 0);
        }
    });
    assert_refused(nothing, "no loadable (PT_LOAD) segment");
}

#[test]
fn deploy_with_malformed_deploy_data_fails_and_charges_only_the_base_and_data_gas() {
    // Shorter than the length prefix, and a length prefix past the data:
    // no ELF can be split off, so no code bytes are charged.
    for data in [vec![1, 2], [&u32::MAX.to_le_bytes()[..], &simple()].concat()] {
        let message = refused_deployment(data);
        assert_eq!(message, "deployment data is malformed");
    }
}

#[test]
fn deploy_of_a_truncated_elf_fails_without_touching_state() {
    let elf = simple();
    // Inside the file header, inside the code segment's bytes, and just
    // before the section headers (where the symbols and the ABI metadata
    // are found).
    assert_refused(elf[..30].to_vec(), "truncated ELF file");
    assert_refused(elf[..0x1800].to_vec(), "extend past the end of the file");
    let shoff = Elf(elf.clone()).get32(field::SHOFF) as usize;
    assert_refused(elf[..shoff + 8].to_vec(), "section header table");
}

#[test]
fn deploy_with_a_wrong_class_machine_type_or_byte_order_fails() {
    assert_refused(patched(|e| e.0[field::CLASS] = 2), "not a 32-bit ELF file");
    assert_refused(patched(|e| e.0[field::DATA] = 2), "not a little-endian ELF file");
    assert_refused(patched(|e| e.set16(field::MACHINE, 62)), "not a RISC-V program (e_machine = 62");
    assert_refused(patched(|e| e.set16(field::TYPE, 3)), "not an executable (e_type = 3");
}

/// The largest code image a contract may have (`MAX_CODE_SIZE`, here a
/// bss grown to fill it) deploys and runs on every engine: the kernel has
/// the frames to load it. One byte more is refused at deployment.
#[test]
fn the_largest_code_image_deploys_and_runs_and_one_byte_more_fails() {
    use avm_abi::layout::{MAX_CODE_SIZE, PAGE_SIZE};
    let image = avm::runtime::CodeImage::from_elf(&simple()).expect("valid");
    let elf = Elf(simple());
    let bss = elf.load(BSS);
    let bss_pages = elf.get32(bss + field::P_MEMSZ).div_ceil(PAGE_SIZE);
    let largest = MAX_CODE_SIZE - (image.pages() - bss_pages) * PAGE_SIZE;
    let full = patched(|e| e.set32(bss + field::P_MEMSZ, largest));
    assert_eq!(avm::runtime::CodeImage::from_elf(&full).expect("accepted").bytes.len(), MAX_CODE_SIZE as usize);

    let mut alice = Signer::new("alice");
    let mut nodes = Nodes::in_memory(&[(alice.address, E18)]);
    let (tx, at) = alice.deploy(&full, DEPLOY_GAS);
    let r = nodes.produce_all(vec![tx]);
    assert_eq!(r[0].status, Status::Success);
    let call = alice.call(&simple(), at, "add", &[u64v(2), u64v(3)], 1_000_000);
    let r = nodes.produce_all(vec![call]);
    assert_eq!((r[0].status.clone(), r[0].return_data.clone()), (Status::Success, 5u64.to_le_bytes().to_vec()));

    let over = patched(|e| e.set32(bss + field::P_MEMSZ, largest + 1));
    assert_refused(over, &format!("the code image is {} bytes; at most {MAX_CODE_SIZE}", MAX_CODE_SIZE + PAGE_SIZE));
}

#[test]
fn deploy_with_an_oversized_segment_fails_without_allocating_it() {
    // Memory sizes that fit the code region but not a code image, that
    // exceed the region, and a file size larger than the memory size.
    let huge_bss = patched(|e| e.set32(e.load(BSS) + field::P_MEMSZ, 0x3000_0000));
    assert_refused(huge_bss, "the code image is 805318656 bytes; at most 1048576 are allowed");
    assert_refused(
        patched(|e| e.set32(e.load(BSS) + field::P_MEMSZ, u32::MAX)),
        "the code image is 4294967295 bytes; at most 1048576 are allowed",
    );
    assert_refused(patched(|e| e.set32(e.load(CODE) + field::P_FILESZ, 0x10_0000)), "is larger than its memory size");
    // A file size past the end of the file.
    assert_refused(
        patched(|e| {
            let at = e.load(DATA);
            e.set32(at + field::P_FILESZ, 0x10_0000);
            e.set32(at + field::P_MEMSZ, 0x10_0000);
        }),
        "extend past the end of the file",
    );
    assert_refused(patched(|e| e.set32(e.load(DATA) + field::P_OFFSET, u32::MAX)), "extend past the end of the file");
    // More segments than a task's segment table holds.
    let code = returning(0x1_0000, 1);
    let mut many = avm::elf::write::ElfBuilder::new(0x1_0000);
    many.segment(0x1_0000, &code, code.len() as u32, CODE);
    for i in 1..=avm_abi::layout::MAX_SEGMENTS {
        many.segment(0x1_0000 + i * 0x1000, &[], 4, BSS);
    }
    assert_refused(many.build(), "the contract has 9 loadable segments; at most 8 are allowed");
}

#[test]
fn deploy_with_overlapping_segments_fails_without_touching_state() {
    // The read-only data moved into the middle of the code.
    assert_refused(patched(|e| e.move_segment(DATA, 0x1_1000)), "overlap");
    // Not overlapping, but sharing the code's last page (one page gets one
    // set of permissions).
    assert_refused(patched(|e| e.move_segment(DATA, 0x1_1800)), "share a page");
    // The bss on top of the code, with its own (writable) permissions.
    assert_refused(patched(|e| e.move_segment(BSS, 0x1_0000)), "overlap");
}

#[test]
fn deploy_with_segments_outside_the_code_region_fails() {
    let region = "is outside the code region 0x10000..0x40000000";
    // Below the region (the null page), the heap, the stack, the kernel and
    // the top of the address space.
    for at in [0, 0x4000_0000, 0x7ffe_0000, 0x8000_0000, 0xffff_f000] {
        assert_refused(patched(|e| e.move_segment(BSS, at)), region);
    }
    // A segment that starts inside the region and runs past its end.
    let straddling = patched(|e| {
        let at = e.load(BSS);
        e.move_segment(BSS, 0x3fff_f000);
        e.set32(at + field::P_MEMSZ, 0x2000);
    });
    assert_refused(straddling, region);
}

/// Regression: the ELF loader checks a segment's *physical* address
/// (`p_paddr`, where a bare-metal program is loaded) and `CodeImage` laid
/// the contract out by its *virtual* address (`p_vaddr`, which the kernel
/// maps) without checking it. A contract whose physical addresses were in
/// the code region but whose bss had the kernel's, the heap's or the
/// stack's virtual address was deployed (`Success`, code stored), and every
/// call to it then faulted in the kernel's own check with the misleading
/// "the contract's code could not be loaded (bad pointer or length)". Now
/// the deployment is refused.
#[test]
fn deploy_with_only_the_physical_address_in_the_code_region_fails_instead_of_storing_uncallable_code() {
    let simple = Elf(simple());
    let memsz = u64::from(simple.get32(simple.load(BSS) + field::P_MEMSZ));
    for at in [0x8000_0000u32, 0x4000_0000, 0x7ffe_0000, 0, 0xffff_f000] {
        let elf = patched(|e| e.set32(e.load(BSS) + field::P_VADDR, at));
        let end = u64::from(at) + memsz;
        assert_refused(
            elf,
            &format!("the segment at {at:#x}..{end:#x} is outside the code region 0x10000..0x40000000"),
        );
    }
}

#[test]
fn deploy_with_a_writable_code_segment_fails() {
    let elf = patched(|e| e.set32(e.load(CODE) + field::P_FLAGS, CODE | avm::elf::PF_W));
    assert_refused(elf, "is both writable and executable");
}

#[test]
fn deploy_with_an_entry_point_outside_the_code_fails() {
    // In the read-only data, in the bss, outside every segment, in the
    // kernel, and odd.
    assert_refused(patched(|e| e.set32(field::ENTRY, 0x1_2000)), "is not in an executable segment");
    assert_refused(patched(|e| e.set32(field::ENTRY, 0x1_3000)), "is not in an executable segment");
    assert_refused(patched(|e| e.set32(field::ENTRY, 0x2_0000)), "is not in an executable segment");
    assert_refused(
        patched(|e| e.set32(field::ENTRY, 0x8000_0000)),
        "the entry point 0x80000000 is not in an executable segment",
    );
    assert_refused(patched(|e| e.set32(field::ENTRY, 0x1_0001)), "is odd");
}

#[test]
fn deploy_with_garbled_abi_metadata_fails() {
    // Not UTF-8, and UTF-8 that is not metadata.
    assert_refused(patched(|e| e.section_bytes(".avm_abi").fill(0xff)), "ABI metadata is malformed: not UTF-8");
    assert_refused(
        patched(|e| e.section_bytes(".avm_abi")[..12].copy_from_slice(b"fn (((((((( ")),
        "ABI metadata is malformed",
    );
    // The metadata section's size pointing past the end of the file.
    assert_refused(
        patched(|e| {
            let at = e.section(".avm_abi");
            e.set32(at + 20, 0x10_0000);
        }),
        "truncated ELF file",
    );
}

#[test]
fn deploy_with_garbled_section_headers_fails() {
    assert_refused(patched(|e| e.set16(field::SHENTSIZE, 20)), "entries are 20 bytes");
    assert_refused(patched(|e| e.set32(field::SHOFF, 0xffff_ff00)), "section header table");
    assert_refused(patched(|e| e.set16(field::SHSTRNDX, 0xfff0)), "section name table index is out of range");
}

/// Missing metadata is not an error: the ABI metadata only tells tools how
/// to encode calls and decode results, and a contract without it (built
/// without the SDK, or stripped) still dispatches its own call data. The
/// deployment succeeds and the contract answers calls by selector.
#[test]
fn deploy_without_abi_metadata_succeeds_and_the_contract_still_runs() {
    let stripped = patched(|e| {
        // Rename the section: `.avm_abi` -> `.avm_xyz`.
        let shoff = e.get32(field::SHOFF) as usize;
        let names = e.get32(shoff + usize::from(e.get16(field::SHSTRNDX)) * 40 + 16) as usize;
        let name = names + e.get32(e.section(".avm_abi")) as usize;
        e.0[name + 5..name + 8].copy_from_slice(b"xyz");
    });
    assert!(avm::runtime::CodeImage::from_elf(&stripped).expect("accepted").metadata.methods.is_empty());
    let mut alice = Signer::new("alice");
    let mut nodes = Nodes::in_memory(&[(alice.address, E18)]);
    let (tx, at) = alice.deploy(&stripped, DEPLOY_GAS);
    let r = nodes.produce_all(vec![tx]);
    assert_eq!((r[0].status.clone(), r[0].contract_address), (Status::Success, Some(at)));
    // The call data is built from the original's metadata.
    let r = nodes.produce_all(vec![alice.call(&simple(), at, "add", &[u64v(20), u64v(22)], 1_000_000)]);
    assert_eq!((r[0].status.clone(), r[0].return_data.clone()), (Status::Success, 42u64.to_le_bytes().to_vec()));
}

/// Code at `base` that returns `value` as 4 bytes.
fn returning(base: u32, value: u32) -> Vec<u8> {
    use avm_isa::{Reg, StoreOp};
    let (a0, a1, a7) = (Reg::new(10), Reg::new(11), Reg::new(17));
    let mut a = avm_isa::asm::Asm::new(base);
    a.addi(Reg::SP, Reg::SP, -16);
    a.li(a0, value);
    a.store(StoreOp::Sw, a0, Reg::SP, 0);
    a.addi(a0, Reg::SP, 0);
    a.li(a1, 4);
    a.li(a7, avm_abi::syscall::RETURN);
    a.inst(avm_isa::Inst::Ecall);
    a.finish().expect("assembles")
}

/// Regression: the ELF loader turns the entry point into a physical
/// address (for bare-metal programs, which run unmapped), and `CodeImage`
/// used that physical entry in a contract, whose segments are mapped at
/// their virtual addresses. In a contract whose physical addresses differ
/// from its virtual ones, the task started in the wrong code: here the
/// segment at the physical address of the entry, which returns 2, instead
/// of the one at the virtual entry, which returns 1.
#[test]
fn a_contract_starts_at_its_virtual_entry_point_when_physical_addresses_differ() {
    use avm::elf::write::ElfBuilder;
    use avm::elf::{PF_R, PF_X};
    let (first, second) = (returning(0x1_0000, 1), returning(0x2_0000, 2));
    let elf = ElfBuilder::new(0x1_0000)
        .segment_at(0x1_0000, 0x2_0000, &first, first.len() as u32, PF_R | PF_X)
        .segment_at(0x2_0000, 0x1_0000, &second, second.len() as u32, PF_R | PF_X)
        .build();
    let mut alice = Signer::new("alice");
    let mut nodes = Nodes::in_memory(&[(alice.address, E18)]);
    let (tx, at) = alice.deploy(&elf, DEPLOY_GAS);
    let r = nodes.produce_all(vec![tx]);
    assert_eq!(r[0].status, Status::Success);
    let r = nodes.produce_all(vec![alice.tx(Some(at), 0, Vec::new(), 1_000_000)]);
    assert_eq!((r[0].status.clone(), r[0].return_data.clone()), (Status::Success, 1u32.to_le_bytes().to_vec()));
}
