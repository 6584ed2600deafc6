//! # avm-mmu: the machine both engines share
//!
//! An emulator with two engines is only as trustworthy as the part they share.
//! This crate is that part: everything about the emulated RISC-V hart *except*
//! the meaning of individual instructions.
//!
//! - [`memory`]: physical RAM, a lazily-zeroed anonymous `mmap` at
//!   [`RAM_BASE`], plus per-page flags that route writes to code pages and
//!   device pages through a slow path.
//! - [`devices`]: the HTIF `tohost`/`fromhost` mailbox and a console.
//! - [`hart`]: the architectural registers: `x[32]`, `pc`, privilege level,
//!   instret and the LR/SC reservation.
//! - [`csr`]: the control and status registers as named fields, with the access
//!   rules (privilege, read-only, WARL masks) of the privileged spec.
//! - [`pmp`]: the physical memory protection registers and their WARL rules
//!   (stored, not enforced).
//! - [`trap`]: exceptions, interrupts, delegation, trap entry and `mret`/`sret`.
//! - [`sv32`]: the Sv32 page-table walker (4 KiB pages and 4 MiB megapages,
//!   A/D updates, SUM, MXR, MPRV).
//! - [`tlb`]: a direct-mapped software TLB that makes a translated access a
//!   compare and an add; the JIT inlines the same lookup.
//! - [`machine`]: [`Machine`] ties it together and offers the memory operations
//!   engines call: `load_*`, `store_*`, `fetch`, atomics and CSR access.
//!
//! Faults are values: every operation that can fail returns `Result<_, Trap>`
//! and nothing a guest does can make the host panic.
//!
//! Two modes run the same machine ([`ExecMode`]): *bare-metal*, where guest code
//! owns M-mode and handles its own traps, and *firmware*, where M-mode is the
//! host: a trap that would enter M-mode stops the engine and is reported as an
//! [`Exit::Trap`] for the host to service (SBI-style calls from the kernel).
#![forbid(unsafe_code)]

pub mod csr;
pub mod devices;
pub mod hart;
pub mod machine;
pub mod memory;
pub mod pmp;
pub mod sv32;
pub mod tlb;
pub mod trap;

pub use csr::Csrs;
pub use hart::{Hart, Privilege};
pub use machine::{ExecMode, Machine, MachineConfig, MachineError};
pub use memory::{Ram, RAM_BASE};
pub use tlb::{Tlb, TlbEntry};
pub use trap::{Exit, Interrupt, Trap, TrapCause};

/// An execution engine: something that runs the machine until an exit.
///
/// Both the interpreter and the JIT implement this, and must leave the machine
/// in identical state for identical inputs.
pub trait Engine {
    /// Run until an exit. `limit` is an absolute value of
    /// [`Hart::instret`]: the engine stops with [`Exit::InstructionLimit`] once
    /// that many instructions have retired, never one more.
    fn run(&mut self, m: &mut Machine, limit: u64) -> Exit;

    /// Short name (`interp`, `jit`) for messages.
    fn name(&self) -> &'static str;
}
