//! The ABI between compiled code and the engine: the lowest layer of the
//! JIT, which every other part builds on and which imports none of them.
//!
//! Compiled code (a Cranelift region or a baseline block) and the engine
//! that calls it agree on four things, each in its own module:
//! - [`func`]: the types of compiled functions ([`BlockFn`], [`BaseFn`],
//!   the [`TrampolineFn`] through which Rust enters a region) and the
//!   handles the engine keeps on them ([`CodeRef`], [`BaseCode`]);
//! - [`ctx`]: the context a call receives besides the machine
//!   ([`JitCtx`]) and the two direct-mapped tables compiled code reads to
//!   chain to the next block ([`SuccSlot`], [`BaseSlot`]);
//! - [`status`]: what a call returns ([`Status`]) and where a side exit
//!   left ([`MissSite`]);
//! - `layout`: the byte offsets of the fields compiled code reads and
//!   writes, taken from the Rust structs themselves.
//!
//! Everything here is data: no code generation, no engine policy. That is
//! what lets both tiers and the engine depend on it without depending on
//! each other.

pub mod ctx;
pub mod func;
pub(crate) mod layout;
pub mod status;

pub use ctx::{succ_index, BaseSlot, JitCtx, SuccSlot, CHAIN_STUBS, SUCC_SLOTS};
pub use func::{BaseCode, BaseFn, BlockFn, CodeRef, TrampolineFn};
pub use status::{MissSite, Status};
