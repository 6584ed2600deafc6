//! # avm-testgen: random programs and differential oracles
//!
//! aVM has two engines that must agree on every bit of machine state after
//! every exit. Hand-written tests cover the cases someone thought of; this
//! crate covers the rest by *generating* programs and *comparing* engines on
//! them. It is the library half of the fuzz ladder (STYLE.md point 6): the
//! property tests in `tests/differential.rs` and the cargo-fuzz targets are
//! thin wrappers around it.
//!
//! - [`rng`]: where choices come from, a seeded generator for property tests
//!   or a fuzzer's raw bytes, behind one [`Entropy`] trait;
//! - [`generate`] (module `gen`): a random bare-metal M-mode program with
//!   trap handlers, privilege changes, Sv32 paging, loads and stores across
//!   pages, atomics, CSR traffic, compressed code, loops and self-modifying
//!   code. Every generated program is valid for every engine *whatever it
//!   does*: it never relies on anything but the architecture;
//! - [`program`]: the [`Program`] image, its memory map and [`machine_for`];
//! - [`snapshot`]: the comparable state ([`Snapshot`]) and [`compare`], which
//!   names the first differing field (`x10 (a0)`, `csr mepc`, `pc`, ...);
//! - [`runner`]: [`run_engines`] runs several engines on fresh machines and
//!   compares them; [`run_engines_sliced`] does the same with the instruction
//!   budget cut into slices, so limits land in the middle of blocks and
//!   exact metering is checked too.
//!
//! ```
//! use avm_testgen::{generate_seeded, machine_for};
//!
//! let program = generate_seeded(42);
//! let m = machine_for(&program);
//! assert_eq!(m.hart.pc, 0x8000_0000);
//! assert!(program.unexpected_illegals().is_empty());
//! ```
#![forbid(unsafe_code)]

mod gen;
pub mod program;
pub mod rng;
pub mod runner;
pub mod snapshot;

pub use gen::{generate, generate_from_bytes, generate_seeded, generate_with, GenConfig};
pub use program::{machine_for, Program};
pub use rng::{ByteEntropy, Entropy, SplitMix64};
pub use runner::{run_engines, run_engines_sliced, run_to_end};
pub use snapshot::{compare, Divergence, Outcome, Snapshot};
