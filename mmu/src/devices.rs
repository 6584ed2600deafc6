//! Devices: the HTIF `tohost` mailbox and a console.
//!
//! **HTIF** (the host-target interface of Spike and QEMU's `spike` machine) is a
//! pair of 64-bit words in RAM, `tohost` and `fromhost`, found through the ELF
//! symbols of those names. The value written to `tohost` is a command: bits
//! 63:56 name a device, bits 55:48 a command, bits 47:0 are the payload. aVM
//! follows QEMU (`hw/char/riscv_htif.c`) and TinyEMU, so programs built for
//! them run unchanged:
//! - RV32 code writes `tohost` as two 32-bit stores, low word first. A store to
//!   the low word only stores it; the command in the full 64-bit value runs when
//!   the **high word** is written (any store that touches bytes 4..8 of
//!   `tohost`, which is the second of the two stores).
//! - Device 0, command 0 with payload bit 0 set is *exit*: the run ends with
//!   code `payload >> 1` (riscv-tests write `TESTNUM` into the low word, then 0
//!   into the high word: 1 = pass, `N << 1 | 1` = test N failed).
//! - Device 1, command 1 is console *putchar*: the low byte of the payload is
//!   printed (any byte, 0 and odd ones included).
//! - After any command but exit, `tohost` is cleared (the guest spins until it
//!   reads 0) and `fromhost` receives the acknowledgement, as QEMU writes it:
//!   the command's device and command bits with response `0x100 | byte` for
//!   putchar and 0 for anything else. Device 1 command 0 (getchar) is only
//!   taken (cleared): aVM has no input, so it never answers in `fromhost`.
//! - An all-zero value is no command (writing 0 into an empty mailbox does
//!   nothing). QEMU would run it as a proxied syscall with no effect.
//!
//! **Console**: a byte written to [`CONSOLE_BASE`] is appended to the console
//! output (like the transmit register of a 16550 UART at QEMU `virt`'s
//! address); reading offset 5 (line status) says "ready". Output is buffered in
//! the machine, never written to the host's stdout directly, so a run is
//! deterministic and the host decides where output goes.

/// Physical address of the console device.
pub const CONSOLE_BASE: u32 = 0x1000_0000;
/// Bytes of address space the console occupies.
pub const CONSOLE_SIZE: u32 = 8;

/// What a write to the HTIF mailbox asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HtifEvent {
    /// Nothing to do (the high word was not written, or the mailbox is empty).
    None,
    /// Exit with this code.
    Exit(u32),
    /// Print this byte, then clear `tohost` and acknowledge in `fromhost`.
    Putchar(u8),
    /// Console getchar: clear `tohost`; no input ever arrives in `fromhost`.
    Getchar,
    /// An unknown command: clear `tohost`, acknowledge with response 0.
    Ignored,
}

impl HtifEvent {
    /// The value written to `fromhost` after this command (`value` is the
    /// command as it was in `tohost`), if any.
    pub fn ack(self, value: u64) -> Option<u64> {
        let head = value >> 48 << 48;
        match self {
            HtifEvent::Putchar(c) => Some(head | 0x100 | u64::from(c)),
            HtifEvent::Ignored => Some(head),
            HtifEvent::None | HtifEvent::Exit(_) | HtifEvent::Getchar => None,
        }
    }
}

/// The HTIF mailbox location, if the program has one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Htif {
    /// Physical address of `tohost`.
    pub tohost: Option<u32>,
    /// Physical address of `fromhost`.
    pub fromhost: Option<u32>,
}

impl Htif {
    /// True if the physical range `[paddr, paddr+len)` touches the high word
    /// of `tohost`: the store that makes a command run.
    pub fn touches_tohost_high(&self, paddr: u32, len: u32) -> bool {
        match self.tohost {
            Some(t) => overlaps(paddr, len, t.wrapping_add(4), 4),
            None => false,
        }
    }

    /// Decide what the 64-bit mailbox value means once its high word has
    /// been written.
    pub fn command(value: u64) -> HtifEvent {
        let device = value >> 56;
        let command = (value >> 48) & 0xff;
        let payload = value & 0xffff_ffff_ffff;
        match (device, command) {
            _ if value == 0 => HtifEvent::None,
            // Exit codes are 32-bit in aVM; a wider code keeps its low bits.
            (0, 0) if payload & 1 == 1 => HtifEvent::Exit((payload >> 1) as u32),
            (1, 1) => HtifEvent::Putchar(payload as u8),
            (1, 0) => HtifEvent::Getchar,
            _ => HtifEvent::Ignored,
        }
    }
}

fn overlaps(a: u32, alen: u32, b: u32, blen: u32) -> bool {
    u64::from(a) < u64::from(b) + u64::from(blen) && u64::from(b) < u64::from(a) + u64::from(alen)
}
