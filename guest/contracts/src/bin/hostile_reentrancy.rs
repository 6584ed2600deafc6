//! Hostile: re-enters itself through nested calls until the call-depth
//! limit refuses. Each level writes storage; the levels that the depth limit
//! refused never ran, and the outcome is reported, not hidden.
#![no_std]
#![no_main]

use avm_sdk::call::{call, CallError};
use avm_sdk::storage::Value;
use avm_sdk::{contract, self_address, selector, Selector};

static DEEPEST: Value<u32> = Value::new(b"deepest");
const REENTER: Selector = selector("reenter(u32)");

contract! {
    /// Call `reenter(level + 1)` on this same contract until refused;
    /// returns the deepest level that ran.
    fn reenter(level: u32) -> u32 {
        if level > DEEPEST.get() {
            DEEPEST.set(&level);
        }
        match call::<u32>(&self_address(), REENTER, &(level + 1,), 0) {
            Ok(deepest) => deepest,
            Err(CallError::Rejected(_)) => level,
            Err(e) => avm_sdk::revert(e.message()),
        }
    }

    fn deepest() -> u32 { DEEPEST.get() }
}
