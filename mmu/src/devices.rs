//! Devices: the HTIF `tohost` mailbox and a console.
//!
//! **HTIF** (the host-target interface of Spike and QEMU's `spike` machine) is a
//! pair of 64-bit words in RAM, `tohost` and `fromhost`, found through the ELF
//! symbols of those names. RV32 code writes `tohost` as two 32-bit stores.
//! - A write of the low word with bit 0 set while the high word is zero is the
//!   *exit* command (device 0, command 0): the run ends at once with code
//!   `value >> 1`. The riscv-tests write the low word and then zero into the
//!   high word; minimal programs write only the low word; both end here.
//! - Any other command is complete when its high word is written. Device 1,
//!   command 1 is console putchar: aVM prints the low byte, then clears `tohost`
//!   and acknowledges in `fromhost`, as a guest waiting on it expects.
//!
//! The two rules collide for a putchar of an odd byte written low word first:
//! the low-word write already reads as an exit. A guest that prints through
//! HTIF therefore writes the high word (device and command) first and the low
//! word (the byte) second; aVM completes a command on whichever word write
//! leaves both halves set. aVM's own guests print through the console device
//! below, which has no such subtlety.
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
    /// Nothing to do yet.
    None,
    /// Exit with this code.
    Exit(u32),
    /// Print this byte, then clear `tohost`.
    Putchar(u8),
    /// An unknown command: acknowledge by clearing `tohost`.
    Ignored,
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
    /// True if the physical range `[paddr, paddr+len)` touches `tohost`.
    pub fn touches_tohost(&self, paddr: u32, len: u32) -> bool {
        match self.tohost {
            Some(t) => u64::from(paddr) < u64::from(t) + 8 && u64::from(t) < u64::from(paddr) + u64::from(len),
            None => false,
        }
    }

    /// Decide what a store to `tohost` means, given the 64-bit mailbox value
    /// after the store.
    pub fn command(value: u64) -> HtifEvent {
        let low = value as u32;
        let high = (value >> 32) as u32;
        if high == 0 {
            return if low & 1 == 1 { HtifEvent::Exit(low >> 1) } else { HtifEvent::None };
        }
        if low == 0 {
            // Device and command written first; the payload comes next.
            return HtifEvent::None;
        }
        match (high >> 24, (high >> 16) & 0xff) {
            (1, 1) => HtifEvent::Putchar(low as u8),
            _ => HtifEvent::Ignored,
        }
    }
}
