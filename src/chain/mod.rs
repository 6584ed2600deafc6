//! # The chain: transactions, blocks and receipts on top of the runtime
//!
//! [`world`] connects the runtime's host calls to [`avm_state::State`].
pub mod world;
