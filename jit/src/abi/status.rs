//! What a call into compiled code returns, and where a side exit left.

/// How a call into compiled code ended (a region or a baseline block), or,
/// from a helper, how the block goes on. Compiled code returns it as a
/// `u32` ([`Status::code`]); the engine reads it back with
/// [`Status::from_code`].
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Only from helpers: the instruction retired and fell through; the
    /// block goes on.
    Continue = 0,
    /// Compiled code left its region (a branch or jump out, `jalr`, a
    /// system instruction, a budget too small for the next block, or a
    /// store after a helper that set `m.stop_block`): `hart.pc` and
    /// `hart.instret` are set, the dispatcher continues.
    End = 1,
    /// An instruction faulted: `hart.pc` is the faulting instruction,
    /// `instret` counts the instructions before it, [`JitCtx::trap`] holds
    /// the trap.
    ///
    /// [`JitCtx::trap`]: crate::abi::JitCtx::trap
    Trap = 2,
    /// The engine must stop: [`JitCtx::exit`] holds the exit (`wfi` with
    /// nothing pending). `pc`/`instret` are already past the instruction.
    ///
    /// [`JitCtx::exit`]: crate::abi::JitCtx::exit
    Exit = 3,
    /// A load or store missed the inline TLB (or, in baseline code, an
    /// instruction the tier leaves to the interpreter comes next). The
    /// registers are written back, `hart.instret` is the count at the start
    /// of the instruction's guest block, and [`JitCtx::rest`] holds the
    /// packed [`MissSite`]: the engine sets `pc` and `instret` for that
    /// instruction and runs the rest of the guest block in the interpreter,
    /// which performs the access the slow way (page walk, TLB fill, device,
    /// code-page write, fault).
    ///
    /// [`JitCtx::rest`]: crate::abi::JitCtx::rest
    Miss = 4,
}

impl Status {
    /// The value compiled code returns.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The status compiled code returned, `None` for a value that is none
    /// (never produced; the engine then returns to the dispatcher).
    pub const fn from_code(code: u32) -> Option<Status> {
        Some(match code {
            0 => Status::Continue,
            1 => Status::End,
            2 => Status::Trap,
            3 => Status::Exit,
            4 => Status::Miss,
            _ => return None,
        })
    }
}

/// Where a side exit left compiled code, packed into one 32-bit constant so
/// the miss path is a single jump: the instruction's byte offset from the
/// region's entry (a region lies in two pages at most: |at| < 8192), how
/// many instructions of its guest block retired before it, and how many
/// are left (both at most the block length cap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissSite {
    /// Byte offset of the instruction from the region's entry pc.
    pub at: i32,
    /// Instructions of the guest block before it.
    pub retired: u32,
    /// Instructions of the guest block from it to the end.
    pub rest: u32,
}

const _: () = assert!(avm_interp::MAX_BLOCK_LEN < 128);

impl MissSite {
    /// Bits 0..14: `at + 8192`; 14..21: `retired`; 21..28: `rest`.
    pub fn pack(self) -> u32 {
        ((self.at + 8192) as u32 & 0x3fff) | (self.retired & 0x7f) << 14 | (self.rest & 0x7f) << 21
    }

    /// The inverse of [`MissSite::pack`].
    pub fn unpack(v: u32) -> MissSite {
        MissSite { at: (v & 0x3fff) as i32 - 8192, retired: (v >> 14) & 0x7f, rest: (v >> 21) & 0x7f }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn miss_site_packs_every_reachable_site() {
        let len = avm_interp::MAX_BLOCK_LEN as u32;
        for at in (-8190..8192).step_by(2) {
            for retired in 0..len {
                let site = MissSite { at, retired, rest: len - retired };
                assert_eq!(MissSite::unpack(site.pack()), site);
            }
        }
    }

    #[test]
    fn statuses_round_trip() {
        for s in [Status::Continue, Status::End, Status::Trap, Status::Exit, Status::Miss] {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        assert_eq!(Status::from_code(5), None);
    }
}
