//! A generated program: the image, where things are in it, and how to load it.
//!
//! Physical memory map of every generated program (RAM starts at
//! [`RAM_BASE`] = `0x8000_0000`; offsets below are from there):
//!
//! | offset            | what                                                   |
//! |-------------------|--------------------------------------------------------|
//! | `0x0000`          | prologue, M- and S-mode trap handlers, padding, body    |
//! | `0x4000..0x6000`  | data area (two pages, random contents)                 |
//! | `0x6000`          | handler save area and trap log (`gp` points here)      |
//! | `0x7000`          | `tohost` (a page of its own: a device page)            |
//! | `0x8000`          | Sv32 root page table                                   |
//! | `0x9000`          | Sv32 second-level table for virtual `0x0000_0000..0x0001_0000` |
//!
//! The body starts a little before `0x1000`, at a random offset, so it
//! crosses a page boundary somewhere (sometimes inside a 32-bit instruction).

use std::fmt::Write as _;

use avm_isa::disasm::disasm;
use avm_isa::{decode, Decoded, Inst};
use avm_mmu::{ExecMode, Machine, MachineConfig, Privilege, RAM_BASE};

/// RAM of the machine a program runs on. Small, so that cloning, comparing
/// and digesting a machine costs microseconds.
pub const RAM_SIZE: u32 = 64 << 10;
/// Offset of the data area that loads and stores aim at.
pub const DATA_OFFSET: u32 = 0x4000;
/// Size of the data area (two pages).
pub const DATA_SIZE: u32 = 0x2000;
/// Offset of the handlers' save area and trap log.
pub const SAVE_OFFSET: u32 = 0x6000;
/// Offset of the `tohost` mailbox.
pub const TOHOST_OFFSET: u32 = 0x7000;
/// Offset of the Sv32 root page table.
pub const ROOT_PT_OFFSET: u32 = 0x8000;
/// Offset of the second-level page table.
pub const LEAF_PT_OFFSET: u32 = 0x9000;
/// Image size: everything above, up to the end of the second-level table.
pub const IMAGE_SIZE: u32 = 0xa000;

/// A generated bare-metal program, loaded at [`RAM_BASE`] and started there in
/// M-mode. It ends by writing `tohost` (or runs into the instruction limit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// The memory image, loaded at [`RAM_BASE`].
    pub image: Vec<u8>,
    /// Physical address of the 8-byte `tohost` mailbox.
    pub tohost: u32,
    /// Physical addresses `[start, end)` holding instructions.
    pub code: (u32, u32),
    /// Where deliberately undecodable or arbitrary words were placed, as
    /// (address, length in bytes). Everything else in `code` decodes.
    pub raw: Vec<(u32, u32)>,
    /// Address of the first body instruction.
    pub body: u32,
    /// Privilege the body starts in.
    pub privilege: Privilege,
    /// Whether the prologue turns on Sv32 translation.
    pub paging: bool,
}

/// A machine with `program` loaded, `tohost` installed and the hart at the
/// entry point in M-mode (bare-metal mode).
///
/// # Panics
/// If the host cannot map the (64 KiB) RAM.
pub fn machine_for(program: &Program) -> Machine {
    let config = MachineConfig { ram_size: RAM_SIZE, mode: ExecMode::BareMetal };
    let mut m = Machine::new(config).expect("host could not map 64 KiB of guest RAM");
    m.write_phys_bytes(RAM_BASE, &program.image).expect("a program image fits the machine's RAM");
    m.set_htif(Some(program.tohost), None);
    m.hart.pc = RAM_BASE;
    m
}

impl Program {
    /// The instruction starting at physical address `addr`, read from the image.
    fn decode_at(&self, addr: u32) -> Option<Decoded> {
        let off = addr.checked_sub(RAM_BASE)? as usize;
        let bytes = self.image.get(off..)?;
        let mut word = [0u8; 4];
        let n = bytes.len().min(4);
        word[..n].copy_from_slice(&bytes[..n]);
        Some(decode(u32::from_le_bytes(word)))
    }

    /// Every instruction of the code area in address order, as
    /// (address, decoded, deliberately raw). Raw words are reported as
    /// decoded but flagged, and skipped by their recorded length.
    pub fn instructions(&self) -> Vec<(u32, Decoded, bool)> {
        let mut out = Vec::new();
        let mut addr = self.code.0;
        while addr < self.code.1 {
            let Some(d) = self.decode_at(addr) else { break };
            match self.raw.iter().find(|&&(a, _)| a == addr) {
                Some(&(_, len)) => {
                    out.push((addr, d, true));
                    addr += len;
                }
                None => {
                    out.push((addr, d, false));
                    addr += u32::from(d.len);
                }
            }
        }
        out
    }

    /// Addresses of instructions that decode as illegal although they were
    /// not deliberately placed: always empty for a correct generator.
    pub fn unexpected_illegals(&self) -> Vec<u32> {
        self.instructions()
            .into_iter()
            .filter(|(_, d, raw)| !raw && matches!(d.inst, Inst::Illegal { .. }))
            .map(|(a, _, _)| a)
            .collect()
    }

    /// objdump-style listing of the code (nop padding folded), for failure
    /// reports.
    pub fn disassembly(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "; body at {:#010x} in {:?} mode, paging {}, tohost {:#010x}",
            self.body, self.privilege, self.paging, self.tohost
        );
        let mut nops = 0;
        for (addr, d, raw) in self.instructions() {
            let is_nop = matches!(d.inst, Inst::AluImm { rd, rs1, imm: 0, .. } if rd.num() == 0 && rs1.num() == 0);
            if is_nop && !raw && addr < self.body {
                nops += 1;
                continue;
            }
            if nops > 0 {
                let _ = writeln!(s, "          ... {nops} nops");
                nops = 0;
            }
            let _ = writeln!(s, "{addr:08x}: {}{}", disasm(&d, addr), if raw { "   ; raw" } else { "" });
        }
        s
    }
}
