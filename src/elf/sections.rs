//! Finding a section by name, for the ABI metadata (`.avm_abi`) the SDK
//! embeds in contracts.
//!
//! Section names live in the string table named by the header's
//! `e_shstrndx`. As everywhere in the loader, every offset and size is
//! checked against the file, and a malformed table is an error, not a panic.

use super::{ElfError, Reader, SHDR_SIZE};

/// The contents of the section called `name`, if the file has one.
pub fn section_by_name<'a>(bytes: &'a [u8], name: &str) -> Result<Option<&'a [u8]>, ElfError> {
    let r = Reader { bytes };
    let shoff = u64::from(r.u32(32)?);
    let shentsize = r.u16(46)?;
    let shnum = u64::from(r.u16(48)?);
    let shstrndx = u64::from(r.u16(50)?);
    if shnum == 0 {
        return Ok(None);
    }
    if u64::from(shentsize) != SHDR_SIZE {
        return Err(ElfError::BadEntrySize { table: "section header", size: shentsize, expected: SHDR_SIZE as u16 });
    }
    if shstrndx >= shnum {
        return Err(ElfError::BadSymbolTable("the section name table index is out of range"));
    }
    let header = |i: u64| -> Result<(u32, u64, u64), ElfError> {
        let at = shoff + i * SHDR_SIZE;
        Ok((r.u32(at)?, u64::from(r.u32(at + 16)?), u64::from(r.u32(at + 20)?)))
    };
    let (_, names_off, names_len) = header(shstrndx)?;
    let names = r.slice("section name table", names_off, names_len)?;
    for i in 0..shnum {
        let (name_off, off, len) = header(i)?;
        let Some(text) = usize::try_from(name_off).ok().and_then(|n| names.get(n..)) else {
            continue;
        };
        let w = name.as_bytes();
        if text.len() > w.len() && text.starts_with(w) && text[w.len()] == 0 {
            let start = usize::try_from(off).ok();
            let end = off.checked_add(len).and_then(|e| usize::try_from(e).ok());
            return match (start, end) {
                (Some(s), Some(e)) if e <= bytes.len() => Ok(Some(&bytes[s..e])),
                _ => {
                    Err(ElfError::Truncated { what: "section", need: off.saturating_add(len), len: bytes.len() as u64 })
                }
            };
        }
    }
    Ok(None)
}
