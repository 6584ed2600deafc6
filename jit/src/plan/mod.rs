//! The *plan*: what the compiled tiers emit, decided before any code is
//! generated, above the ABI ([`crate::abi`]) and below both code
//! generators, which share it.
//!
//! - [`lower`]: which instructions each tier emits itself and which it
//!   leaves to a helper or the interpreter, and which registers the emitted
//!   ones use (from the per-instruction facts of [`avm_isa::facts`]);
//! - [`group`]: access groups, one TLB check for several loads and stores
//!   through one base register;
//! - [`region`]: the unit of compilation, a region of guest blocks, how it
//!   is formed from the blocks that ran, and its shape decisions (loops that
//!   keep registers, self-loops that are unrolled).
//!
//! Nothing here knows Cranelift or x86-64: both tiers make the same
//! decisions from the same plan, so they cut blocks, group accesses and
//! leave instructions to the interpreter at the same places.

pub mod group;
pub mod lower;
pub mod region;
