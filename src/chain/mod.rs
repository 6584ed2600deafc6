//! # The chain: transactions, blocks and receipts on top of the runtime
//!
//! The runtime ([`crate::runtime`]) runs one call. A blockchain adds the
//! rules around it: who pays, in which order things happen, what is kept
//! when a call fails, and how everyone agrees on the result afterwards.
//!
//! - [`world`] connects the runtime's host calls to the journaled
//!   [`avm_state::State`].
//! - [`executor`] applies one signed transaction: the fee, the nonce, a
//!   deployment, a call or a plain transfer, and its receipt.
//! - [`node`] is a chain: it turns transactions into blocks whose headers
//!   commit to the state root and the receipts root, and keeps them in the
//!   store.
//! - [`keys`] derives development keys from names; [`bundled`] finds the
//!   bundled contracts and installs one into a state directly.
//!
//! Nothing here reads the clock, iterates a hash map into state or depends
//! on the engine: the same transactions give the same receipts, gas and
//! roots on the interpreter and the JIT.

pub mod bundled;
pub mod executor;
pub mod keys;
pub mod node;
pub mod world;

pub use executor::{deploy_data, split_deploy_data};
pub use node::{Chain, ChainError, BLOCK_GAS_LIMIT, DEV_CHAIN_ID};
