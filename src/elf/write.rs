//! A minimal ELF32 writer, so tests and fuzzers can wrap code assembled with
//! `avm_isa::asm::Asm` into a file the loader (and `avm exec`) accepts.
//!
//! It writes what a static linker would for a bare-metal program: the file
//! header, one program header per segment, the segment bytes, and a symbol
//! table (`.symtab`, `.strtab`, `.shstrtab`) with absolute symbols. It checks
//! nothing on purpose: a test can describe a hostile file (a segment with
//! `memsz` smaller than its data, a segment outside RAM) and get exactly
//! those bytes.
//!
//! ```
//! use avm::elf::write::{bare_metal, ElfBuilder};
//! use avm::elf::{ElfImage, ram_range, PF_R, PF_X};
//!
//! let code = [0x6f, 0x00, 0x00, 0x00]; // jal zero, 0 (spin)
//! let file = bare_metal(0x8000_0000, &code, 0x8000_1000);
//! let image = ElfImage::parse(&file, ram_range(1 << 20)).unwrap();
//! assert_eq!(image.tohost, Some(0x8000_1000));
//!
//! let bytes = ElfBuilder::new(0x8000_0000).segment(0x8000_0000, &code, 4, PF_R | PF_X).build();
//! assert!(ElfImage::parse(&bytes, ram_range(1 << 20)).is_ok());
//! ```

use super::{EHDR_SIZE, EM_RISCV, ET_EXEC, PF_R, PF_W, PF_X, PHDR_SIZE, PT_LOAD, SHDR_SIZE};

/// One segment to write.
#[derive(Clone, Debug)]
struct OutSegment {
    vaddr: u32,
    paddr: u32,
    data: Vec<u8>,
    memsz: u32,
    flags: u32,
}

/// Builds an ELF32 little-endian RISC-V executable.
#[derive(Clone, Debug)]
pub struct ElfBuilder {
    entry: u32,
    segments: Vec<OutSegment>,
    symbols: Vec<(String, u32)>,
}

/// Length or offset as an ELF32 field (writer input is small; saturates).
fn field(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends one section header.
#[allow(clippy::too_many_arguments)]
fn section_header(out: &mut Vec<u8>, name: u32, kind: u32, offset: u32, size: u32, link: u32, info: u32, entsize: u32) {
    for v in [name, kind, 0, 0, offset, size, link, info, 1, entsize] {
        put32(out, v);
    }
}

impl ElfBuilder {
    /// An executable with this entry point and nothing in it yet.
    pub fn new(entry: u32) -> ElfBuilder {
        ElfBuilder { entry, segments: Vec::new(), symbols: Vec::new() }
    }

    /// Adds a `PT_LOAD` segment at `vaddr` (= `paddr`) holding `data`, with
    /// memory size `memsz` and `PF_*` flags.
    pub fn segment(&mut self, vaddr: u32, data: &[u8], memsz: u32, flags: u32) -> &mut ElfBuilder {
        self.segments.push(OutSegment { vaddr, paddr: vaddr, data: data.to_vec(), memsz, flags });
        self
    }

    /// Like [`ElfBuilder::segment`] with a physical address different from
    /// the virtual one.
    pub fn segment_at(&mut self, vaddr: u32, paddr: u32, data: &[u8], memsz: u32, flags: u32) -> &mut ElfBuilder {
        self.segments.push(OutSegment { vaddr, paddr, data: data.to_vec(), memsz, flags });
        self
    }

    /// Adds a global absolute symbol.
    pub fn symbol(&mut self, name: &str, value: u32) -> &mut ElfBuilder {
        self.symbols.push((name.to_owned(), value));
        self
    }

    /// The file bytes.
    pub fn build(&self) -> Vec<u8> {
        let phnum = self.segments.len();
        let mut out = Vec::new();
        // Segment data goes after the headers; compute its offsets first.
        let mut offsets = Vec::with_capacity(phnum);
        let mut at = EHDR_SIZE as usize + phnum * PHDR_SIZE as usize;
        for s in &self.segments {
            at = at.next_multiple_of(4);
            offsets.push(at);
            at += s.data.len();
        }

        // Symbol and string tables.
        let mut strtab = vec![0u8];
        let mut symtab = vec![0u8; 16];
        for (name, value) in &self.symbols {
            let name_off = field(strtab.len());
            strtab.extend_from_slice(name.as_bytes());
            strtab.push(0);
            put32(&mut symtab, name_off);
            put32(&mut symtab, *value);
            put32(&mut symtab, 0);
            symtab.push(0x10); // STB_GLOBAL, STT_NOTYPE
            symtab.push(0);
            put16(&mut symtab, 0xfff1); // SHN_ABS
        }
        let shstrtab = b"\0.symtab\0.strtab\0.shstrtab\0";
        let symtab_off = at.next_multiple_of(4);
        let strtab_off = symtab_off + symtab.len();
        let shstrtab_off = strtab_off + strtab.len();
        let shoff = (shstrtab_off + shstrtab.len()).next_multiple_of(4);

        // File header.
        out.extend_from_slice(b"\x7fELF\x01\x01\x01\0\0\0\0\0\0\0\0\0");
        put16(&mut out, ET_EXEC);
        put16(&mut out, EM_RISCV);
        put32(&mut out, 1);
        put32(&mut out, self.entry);
        put32(&mut out, EHDR_SIZE as u32);
        put32(&mut out, field(shoff));
        put32(&mut out, 0x1); // EF_RISCV_RVC
        put16(&mut out, EHDR_SIZE as u16);
        put16(&mut out, PHDR_SIZE as u16);
        put16(&mut out, u16::try_from(phnum).unwrap_or(u16::MAX));
        put16(&mut out, SHDR_SIZE as u16);
        put16(&mut out, 4);
        put16(&mut out, 3);

        for (s, off) in self.segments.iter().zip(&offsets) {
            for v in [PT_LOAD, field(*off), s.vaddr, s.paddr, field(s.data.len()), s.memsz, s.flags, 4] {
                put32(&mut out, v);
            }
        }
        for (s, off) in self.segments.iter().zip(&offsets) {
            out.resize(*off, 0);
            out.extend_from_slice(&s.data);
        }
        out.resize(symtab_off, 0);
        out.extend_from_slice(&symtab);
        out.extend_from_slice(&strtab);
        out.extend_from_slice(shstrtab);
        pad4(&mut out);

        section_header(&mut out, 0, 0, 0, 0, 0, 0, 0);
        section_header(&mut out, 1, 2, field(symtab_off), field(symtab.len()), 2, 1, 16);
        section_header(&mut out, 9, 3, field(strtab_off), field(strtab.len()), 0, 0, 0);
        section_header(&mut out, 17, 3, field(shstrtab_off), field(shstrtab.len()), 0, 0, 0);
        out
    }
}

/// The usual shape of a test program: `code` at `base` (also the entry and
/// `_start`), and a 16-byte writable mailbox at `tohost` with the `tohost`
/// and `fromhost` (`tohost + 8`) symbols.
pub fn bare_metal(base: u32, code: &[u8], tohost: u32) -> Vec<u8> {
    ElfBuilder::new(base)
        .segment(base, code, field(code.len()), PF_R | PF_X)
        .segment(tohost, &[0; 16], 16, PF_R | PF_W)
        .symbol("_start", base)
        .symbol("tohost", tohost)
        .symbol("fromhost", tohost.wrapping_add(8))
        .build()
}
