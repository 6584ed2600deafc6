//! # avm-sdk: writing aVM contracts
//!
//! A contract is a `no_std` Rust binary for `riscv32imac-unknown-none-elf`
//! that runs in U-mode under the aVM kernel. This crate is everything it
//! needs:
//!
//! - [`contract!`]: list the methods as plain Rust functions; the macro
//!   derives each method's selector from its signature at compile time,
//!   decodes arguments, encodes the return value, makes `init` the
//!   constructor (callable only at deployment) and embeds the **ABI
//!   metadata** in the ELF, so `avm` can call the contract and decode its
//!   results and events without the source.
//! - [`event!`]: declare an event with indexed fields; `.emit()` logs it.
//! - [`storage`]: typed [`storage::Value`]s and [`storage::Map`]s over the
//!   contract's key-value storage.
//! - [`env`]: caller, own address, value sent, block number, balances and
//!   transfers.
//! - [`call`]: typed calls to other contracts; a revert there is an `Err`
//!   here, and only the callee's effects are undone.
//! - a bounded bump allocator (so `Vec` and `String` work) and a panic
//!   handler that turns a panic into a revert carrying its message.
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! use avm_sdk::{contract, storage::Value};
//!
//! static COUNT: Value<u64> = Value::new(b"count");
//!
//! contract! {
//!     fn increment(by: u64) -> u64 {
//!         let n = COUNT.get() + by;
//!         COUNT.set(&n);
//!         n
//!     }
//! }
//! ```
//!
//! Types in method signatures must be spelled as the ABI knows them:
//! `u8`, `u16`, `u32`, `u64`, `u128`, `bool`, `Address`, `Bytes`, `String`,
//! `[u8; N]` and tuples of these.
#![no_std]

extern crate alloc;

pub mod buf;
pub mod call;
pub mod env;
pub mod event;
#[doc(hidden)]
pub mod macros;
pub mod rt;
pub mod storage;
pub mod sys;

pub use alloc::string::String;
pub use alloc::vec::Vec;
pub use avm_abi::codec::{to_vec, Bytes, Decode, Encode, Reader};
pub use avm_abi::{event_id, selector, Address, Selector};
pub use env::{balance, block_number, caller, is_deploying, self_address, transfer, value};
pub use rt::{require, revert};
