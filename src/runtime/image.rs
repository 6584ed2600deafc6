//! Contract code images: a contract ELF checked once and laid out as the
//! kernel maps it.
//!
//! At deployment the host parses the ELF (with the same hardened loader as
//! `avm exec`), requires every loadable segment to lie in the user code
//! region, rounds segments out to whole pages (two segments may not share a
//! page, since each page gets one set of permissions), and lays the pages
//! out back to back: the *image*. Loading a contract for a call is then a
//! single copy of the image into the frames the kernel provides plus a small
//! segment table. The ABI metadata section is parsed here too, so a contract
//! whose metadata does not parse is rejected at deployment, not later.
//!
//! The loader checks the *physical* addresses a bare-metal program is loaded
//! at; a contract is mapped by the kernel at its *virtual* addresses, so the
//! image checks those again (they too must lie in the code region) and
//! starts the contract at `e_entry` as written, not at its physical
//! translation.

use avm_abi::layout::{self, pte, Segment, MAX_CODE_SIZE, MAX_SEGMENTS, PAGE_SIZE, USER_CODE_END, USER_CODE_START};
use avm_abi::types::{Metadata, METADATA_SECTION};

use crate::elf::{section_by_name, ElfError, ElfImage, Reader};

const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
/// Offset of `e_entry` in the ELF32 file header.
const E_ENTRY: u64 = 24;

/// Why a contract ELF was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The ELF itself is malformed.
    #[error("not a valid contract ELF: {0}")]
    Elf(#[from] ElfError),
    /// The ELF has no loadable segment.
    #[error("the contract has no loadable segments")]
    Empty,
    /// Too many segments.
    #[error("the contract has {0} loadable segments; at most {MAX_SEGMENTS} are allowed")]
    TooManySegments(usize),
    /// A segment's addresses, physical or virtual, are not all in the user
    /// code region.
    #[error("the segment at {0:#x}..{1:#x} is outside the code region {USER_CODE_START:#x}..{USER_CODE_END:#x}")]
    OutsideCodeRegion(u64, u64),
    /// Two segments share a page.
    #[error("segments at {0:#x} and {1:#x} share a page (link contracts with the SDK's avm-contract.x)")]
    SharedPage(u32, u32),
    /// The image is too large.
    #[error("the code image is {0} bytes; at most {MAX_CODE_SIZE} are allowed")]
    TooLarge(u64),
    /// The entry point is not in an executable segment.
    #[error("the entry point {0:#x} is not in an executable segment")]
    BadEntry(u32),
    /// A segment is writable and executable.
    #[error("the segment at {0:#x} is both writable and executable")]
    WritableCode(u32),
    /// The ABI metadata does not parse.
    #[error("the contract's ABI metadata is malformed: {0}")]
    Metadata(String),
}

/// A validated contract, ready to be copied into a task.
#[derive(Clone, Debug)]
pub struct CodeImage {
    /// The pages of all segments, back to back.
    pub bytes: Vec<u8>,
    /// Where each segment goes and with which permissions.
    pub segments: Vec<Segment>,
    /// The entry point (virtual).
    pub entry: u32,
    /// The parsed ABI metadata (empty if the contract has none).
    pub metadata: Metadata,
}

impl CodeImage {
    /// Check a contract ELF and build its image.
    pub fn from_elf(elf: &[u8]) -> Result<CodeImage, ImageError> {
        // The loader checks against "RAM"; for a contract that is the code
        // region, and the errors say so.
        let parsed =
            ElfImage::parse(elf, u64::from(USER_CODE_START)..u64::from(USER_CODE_END)).map_err(|e| match e {
                ElfError::SegmentOutsideRam { start, end, .. } => ImageError::OutsideCodeRegion(start, end),
                ElfError::SegmentTooLarge { memsz, .. } => ImageError::TooLarge(u64::from(memsz)),
                ElfError::EntryOutsideRam { entry, .. } => ImageError::BadEntry(entry),
                e => ImageError::Elf(e),
            })?;
        if parsed.segments.is_empty() {
            return Err(ImageError::Empty);
        }
        if parsed.segments.len() > MAX_SEGMENTS as usize {
            return Err(ImageError::TooManySegments(parsed.segments.len()));
        }
        let mut segs: Vec<_> = parsed.segments.iter().collect();
        segs.sort_by_key(|s| s.vaddr);
        let mut bytes = Vec::new();
        let mut segments = Vec::new();
        let mut prev_end = 0u64;
        for s in segs {
            let start = u64::from(s.vaddr) & !u64::from(PAGE_SIZE - 1);
            let end = (u64::from(s.vaddr) + u64::from(s.memsz)).next_multiple_of(u64::from(PAGE_SIZE));
            // The loader checked the physical addresses; the kernel maps
            // the virtual ones.
            if start < u64::from(USER_CODE_START) || end > u64::from(USER_CODE_END) {
                return Err(ImageError::OutsideCodeRegion(u64::from(s.vaddr), u64::from(s.vaddr) + u64::from(s.memsz)));
            }
            if start < prev_end {
                return Err(ImageError::SharedPage(s.vaddr, (prev_end - u64::from(PAGE_SIZE)) as u32));
            }
            prev_end = end;
            if bytes.len() as u64 + (end - start) > u64::from(MAX_CODE_SIZE) {
                return Err(ImageError::TooLarge(bytes.len() as u64 + (end - start)));
            }
            if s.flags & PF_W != 0 && s.flags & PF_X != 0 {
                return Err(ImageError::WritableCode(s.vaddr));
            }
            let image_page = (bytes.len() as u32) / PAGE_SIZE;
            let base = bytes.len();
            bytes.resize(base + (end - start) as usize, 0);
            let at = base + (u64::from(s.vaddr) - start) as usize;
            bytes[at..at + s.data.len()].copy_from_slice(&s.data);
            let mut flags = 0;
            if s.flags & PF_R != 0 {
                flags |= pte::R;
            }
            if s.flags & PF_W != 0 {
                flags |= pte::W | pte::R;
            }
            if s.flags & PF_X != 0 {
                flags |= pte::X;
            }
            segments.push(Segment {
                vaddr: start as u32,
                pages: ((end - start) / u64::from(PAGE_SIZE)) as u32,
                image_page,
                flags,
            });
        }
        // `ElfImage` turned the entry into a physical address, where a
        // bare-metal program starts; a contract's segments are mapped at
        // their virtual addresses, so it starts at `e_entry` as written.
        let entry = Reader { bytes: elf }.u32(E_ENTRY)?;
        let entry_ok =
            segments.iter().any(|s| s.flags & pte::X != 0 && entry.wrapping_sub(s.vaddr) < s.pages * PAGE_SIZE);
        if !entry_ok || entry % 2 != 0 {
            return Err(ImageError::BadEntry(entry));
        }
        let metadata = match section_by_name(elf, METADATA_SECTION)? {
            Some(text) => {
                let text = std::str::from_utf8(text).map_err(|_| ImageError::Metadata("not UTF-8".into()))?;
                // The linker may pad the section with NUL bytes.
                Metadata::parse(text.trim_end_matches('\0')).map_err(|e| ImageError::Metadata(e.0))?
            }
            None => Metadata::default(),
        };
        Ok(CodeImage { bytes, segments, entry, metadata })
    }

    /// Pages in the image.
    pub fn pages(&self) -> u32 {
        (self.bytes.len() / PAGE_SIZE as usize) as u32
    }
}

/// The user region a contract's segments must lie in, for messages.
pub const CODE_REGION: std::ops::Range<u32> = layout::USER_CODE_START..layout::USER_CODE_END;
