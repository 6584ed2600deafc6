//! Physical memory protection (PMP): the registers, with the spec's WARL rules.
//!
//! A RISC-V hart may have up to 16 PMP entries (RV32). Entry `i` has an 8-bit
//! configuration `pmp{i}cfg` (packed four to a register in `pmpcfg0..3`) and an
//! address register `pmpaddr{i}` holding bits 33:2 of a physical address:
//!
//! ```text
//! pmp{i}cfg:  L(7) 0 0 A(4:3) X(2) W(1) R(0)    A: 0 OFF, 1 TOR, 2 NA4, 3 NAPOT
//! ```
//!
//! What aVM models, and why:
//! - **Storage with WARL rules**, because software probes it: M-mode firmware
//!   writes all ones to `pmpaddr0` and reads back to learn the granularity, and
//!   expects a locked entry to stay as it was.
//! - **Granularity** G = [`G`] = 0 (4-byte regions), as QEMU and Spike by
//!   default, so every `pmpaddr` bit is writable and NA4 is selectable. The
//!   read-back rule for coarser grains (G >= 1: bits G-1..0 read as zero in
//!   OFF/TOR mode; G >= 2: bits G-2..0 read as ones in NAPOT mode, while the
//!   stored value keeps what was written) is implemented by
//!   [`addr_read_back`] for any G and unit-tested with G = 2.
//! - **Locking**: once `L` is set, writes to that entry's `cfg` byte and its
//!   `pmpaddr` are ignored until reset (M-mode cannot unlock); if the entry
//!   is also TOR, writes to the previous `pmpaddr` (its bottom) are ignored.
//! - **Reserved encodings**: a `cfg` byte with R = 0 and W = 1 is reserved;
//!   such a write leaves that entry's `cfg` byte unchanged (as QEMU does). Bits
//!   6:5 are reserved and read as zero.
//! - **Not enforced**: aVM does not check accesses against the entries (no
//!   PMP fault is ever raised, in any mode). With no entries armed this is
//!   exactly the spec's behaviour for M-mode; S- and U-mode accesses are
//!   allowed as if one entry covered all memory with RWX, which is what
//!   firmware like OpenSBI sets up anyway.

/// Number of PMP entries.
pub const ENTRIES: usize = 16;
/// The PMP granularity exponent: regions are `2^(G+2)` bytes at the smallest.
pub const G: u32 = 0;

/// Read permission.
pub const R: u8 = 1 << 0;
/// Write permission.
pub const W: u8 = 1 << 1;
/// Execute permission.
pub const X: u8 = 1 << 2;
/// Shift of the 2-bit address-matching mode `A`.
pub const A_SHIFT: u32 = 3;
/// The address-matching mode field.
pub const A: u8 = 3 << A_SHIFT;
/// Lock: the entry is read-only (and enforced in M-mode) until reset.
pub const L: u8 = 1 << 7;
/// Bits of a `cfg` byte that hold state (6:5 are reserved).
pub const CFG_WRITABLE: u8 = L | A | X | W | R;

/// Address-matching mode: disabled.
pub const OFF: u8 = 0;
/// Address-matching mode: top of range (`pmpaddr{i-1} <= a < pmpaddr{i}`).
pub const TOR: u8 = 1;
/// Address-matching mode: naturally aligned four-byte region.
pub const NA4: u8 = 2;
/// Address-matching mode: naturally aligned power-of-two region.
pub const NAPOT: u8 = 3;

/// The address-matching mode of a `cfg` byte.
pub const fn mode(cfg: u8) -> u8 {
    (cfg & A) >> A_SHIFT
}

/// The legal `cfg` byte after software writes `new` over `old` (the entry is
/// not locked) on a hart with granularity `g`.
pub fn legalize_cfg(new: u8, old: u8, g: u32) -> u8 {
    let new = new & CFG_WRITABLE;
    if new & (R | W) == W {
        // R = 0, W = 1 is reserved: the write is dropped.
        return old;
    }
    if g >= 1 && mode(new) == NA4 {
        // NA4 is not selectable above G = 0: keep the previous mode.
        return (new & !A) | (old & A);
    }
    new
}

/// What software reads from a `pmpaddr` register holding `stored` whose
/// entry is in address-matching `mode`, on a hart with granularity `g`.
pub fn addr_read_back(stored: u32, mode: u8, g: u32) -> u32 {
    let napot = mode & 0b10 != 0;
    if napot {
        if g >= 2 {
            return stored | ((1u32 << (g - 1)) - 1);
        }
    } else if g >= 1 {
        return stored & !((1u32 << g) - 1);
    }
    stored
}

/// The 16 PMP entries.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
#[repr(C)]
pub struct Pmp {
    /// `pmp{i}cfg` bytes; `pmpcfg{n}` is bytes `4n..4n+4`, little-endian.
    pub cfg: [u8; ENTRIES],
    /// `pmpaddr{i}` as stored (reads go through [`addr_read_back`]).
    pub addr: [u32; ENTRIES],
}

impl Pmp {
    fn locked(&self, i: usize) -> bool {
        self.cfg[i] & L != 0
    }

    /// Read `pmpcfg{n}` (n < 4).
    pub fn read_cfg(&self, n: usize) -> u32 {
        let b = &self.cfg[4 * n..4 * n + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Write `pmpcfg{n}` (n < 4): each of its four entries is legalized on
    /// its own, and locked ones are left alone.
    pub fn write_cfg(&mut self, n: usize, value: u32) {
        for (k, byte) in value.to_le_bytes().into_iter().enumerate() {
            let i = 4 * n + k;
            if !self.locked(i) {
                self.cfg[i] = legalize_cfg(byte, self.cfg[i], G);
            }
        }
    }

    /// Read `pmpaddr{i}` (i < 16).
    pub fn read_addr(&self, i: usize) -> u32 {
        addr_read_back(self.addr[i], mode(self.cfg[i]), G)
    }

    /// Write `pmpaddr{i}` (i < 16), unless its entry is locked or the next
    /// entry is a locked TOR region whose bottom it is.
    pub fn write_addr(&mut self, i: usize, value: u32) {
        let next_locked_tor = i + 1 < ENTRIES && self.locked(i + 1) && mode(self.cfg[i + 1]) == TOR;
        if !self.locked(i) && !next_locked_tor {
            self.addr[i] = value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_r0_w1_keeps_the_old_cfg() {
        assert_eq!(legalize_cfg(W, R | X, 0), R | X);
        assert_eq!(legalize_cfg(W | X | (TOR << A_SHIFT), 0, 0), 0);
        assert_eq!(legalize_cfg(R | W, 0, 0), R | W);
    }

    #[test]
    fn reserved_cfg_bits_read_as_zero() {
        assert_eq!(legalize_cfg(0x60 | R, 0, 0), R);
    }

    #[test]
    fn na4_is_not_selectable_above_g0() {
        assert_eq!(mode(legalize_cfg(NA4 << A_SHIFT, TOR << A_SHIFT, 0)), NA4);
        assert_eq!(mode(legalize_cfg(NA4 << A_SHIFT, TOR << A_SHIFT, 1)), TOR);
    }

    #[test]
    fn granularity_read_back_depends_on_the_mode_not_the_stored_value() {
        // G = 2 (16-byte grain): bit G-1 = 1 reads as one in NAPOT, bits 1:0 as zero in OFF/TOR.
        assert_eq!(addr_read_back(0, NAPOT, 2), 0b1);
        assert_eq!(addr_read_back(0xffff_ffff, OFF, 2), 0xffff_fffc);
        assert_eq!(addr_read_back(0xffff_ffff, TOR, 2), 0xffff_fffc);
        assert_eq!(addr_read_back(0x1234_5670, NAPOT, 2), 0x1234_5671);
        // G = 0: everything reads as written.
        assert_eq!(addr_read_back(0xffff_ffff, OFF, 0), 0xffff_ffff);
        assert_eq!(addr_read_back(0x1234_5670, NAPOT, 0), 0x1234_5670);
    }

    #[test]
    fn a_locked_entry_ignores_writes_to_cfg_and_addr() {
        let mut p = Pmp::default();
        p.write_addr(0, 0x1000);
        p.write_cfg(0, u32::from(L | R | (NAPOT << A_SHIFT)));
        p.write_addr(0, 0x2000);
        p.write_cfg(0, 0);
        assert_eq!((p.read_addr(0), p.read_cfg(0)), (0x1000, u32::from(L | R | (NAPOT << A_SHIFT))));
    }

    #[test]
    fn a_locked_tor_entry_also_locks_the_previous_addr() {
        let mut p = Pmp::default();
        p.write_cfg(0, u32::from(L | R | (TOR << A_SHIFT)) << 8); // entry 1
        p.write_addr(0, 0x5000);
        p.write_addr(1, 0x6000);
        assert_eq!((p.read_addr(0), p.read_addr(1)), (0, 0));
        // Entry 0 itself is not locked: its cfg byte still changes.
        p.write_cfg(0, u32::from(L | R | (TOR << A_SHIFT)) << 8 | u32::from(R));
        assert_eq!(p.read_cfg(0) & 0xff, u32::from(R));
    }

    #[test]
    fn a_locked_napot_entry_does_not_lock_the_previous_addr() {
        let mut p = Pmp::default();
        p.write_cfg(0, u32::from(L | R | (NAPOT << A_SHIFT)) << 8);
        p.write_addr(0, 0x5000);
        assert_eq!(p.read_addr(0), 0x5000);
    }
}
