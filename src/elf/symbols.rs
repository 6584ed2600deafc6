//! Finding named symbols (`tohost`, `fromhost`) in an ELF32 symbol table.
//!
//! The section header table locates the first `SHT_SYMTAB` section; its
//! `sh_link` names the string table holding the symbol names. Every range is
//! checked against the file before use, and a name is matched by comparing
//! the string table *at* the name offset with the wanted name plus its NUL, so
//! the work per symbol is bounded by the length of the wanted name, whatever
//! the file says.

use super::{ElfError, Reader, SHDR_SIZE};

/// `sh_type` of a symbol table.
const SHT_SYMTAB: u32 = 2;
/// `sh_type` of a string table.
const SHT_STRTAB: u32 = 3;
/// Size of one ELF32 symbol.
const SYM_SIZE: u64 = 16;
/// `st_shndx` of an undefined symbol.
const SHN_UNDEF: u16 = 0;

/// Offset, size and link of a section.
struct Section {
    kind: u32,
    offset: u64,
    size: u64,
    link: u32,
    entsize: u32,
}

fn section(r: &Reader<'_>, shoff: u32, index: u64) -> Result<Section, ElfError> {
    let at = u64::from(shoff) + index * SHDR_SIZE;
    Ok(Section {
        kind: r.u32(at + 4)?,
        offset: u64::from(r.u32(at + 16)?),
        size: u64::from(r.u32(at + 20)?),
        link: r.u32(at + 24)?,
        entsize: r.u32(at + 36)?,
    })
}

/// The values of the defined symbols called `names` (the first of each
/// name wins), or `None` for those absent. A file without section headers
/// or without a symbol table has no symbols; a malformed table is an error.
pub(super) fn find<const N: usize>(
    r: &Reader<'_>,
    shoff: u32,
    shentsize: u16,
    shnum: u16,
    names: &[&str; N],
) -> Result<[Option<u32>; N], ElfError> {
    let mut found = [None; N];
    if shnum == 0 {
        return Ok(found);
    }
    if u64::from(shentsize) != SHDR_SIZE {
        return Err(ElfError::BadEntrySize { table: "section header", size: shentsize, expected: SHDR_SIZE as u16 });
    }
    if u64::from(shoff) + u64::from(shnum) * SHDR_SIZE > r.len() {
        return Err(ElfError::SectionHeadersOutOfBounds { offset: shoff, count: shnum, len: r.len() });
    }
    let mut symtab = None;
    for i in 0..u64::from(shnum) {
        let s = section(r, shoff, i)?;
        if s.kind == SHT_SYMTAB {
            symtab = Some(s);
            break;
        }
    }
    let Some(symtab) = symtab else {
        return Ok(found);
    };
    if u64::from(symtab.entsize) != SYM_SIZE {
        return Err(ElfError::BadSymbolTable("symbol entries are not 16 bytes"));
    }
    if symtab.link >= u32::from(shnum) {
        return Err(ElfError::BadSymbolTable("the string table index is out of range"));
    }
    let strtab = section(r, shoff, u64::from(symtab.link))?;
    if strtab.kind != SHT_STRTAB {
        return Err(ElfError::BadSymbolTable("the linked section is not a string table"));
    }
    let syms = r.slice("symbol table", symtab.offset, symtab.size)?;
    let strings = r.slice("string table", strtab.offset, strtab.size)?;

    for sym in syms.chunks_exact(SYM_SIZE as usize) {
        let name = u32::from_le_bytes([sym[0], sym[1], sym[2], sym[3]]);
        let value = u32::from_le_bytes([sym[4], sym[5], sym[6], sym[7]]);
        let shndx = u16::from_le_bytes([sym[14], sym[15]]);
        if name == 0 || shndx == SHN_UNDEF {
            continue;
        }
        let Some(text) = usize::try_from(name).ok().and_then(|n| strings.get(n..)) else {
            return Err(ElfError::BadSymbolTable("a symbol name lies outside the string table"));
        };
        for (slot, wanted) in found.iter_mut().zip(names) {
            let w = wanted.as_bytes();
            if slot.is_none() && text.len() > w.len() && text.starts_with(w) && text[w.len()] == 0 {
                *slot = Some(value);
            }
        }
    }
    Ok(found)
}
