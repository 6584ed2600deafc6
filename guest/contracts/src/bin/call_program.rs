//! Nested calls: this contract calls a `storage` contract. When the callee
//! reverts, only its writes are undone; this contract's own write stays.
#![no_std]
#![no_main]

use avm_sdk::call::call;
use avm_sdk::storage::Value;
use avm_sdk::{contract, selector, Address, Selector, String};

static LOCAL: Value<u64> = Value::new(b"local");

const SET: Selector = selector("set(u64)");
const GET: Selector = selector("get()");
const SET_AND_FAIL: Selector = selector("set_and_fail(u64)");

contract! {
    /// Set `value` in the callee and read it back through a second call.
    fn call_set(target: Address, value: u64) -> u64 {
        if let Err(e) = call::<()>(&target, SET, &(value,), 0) {
            avm_sdk::revert(e.message());
        }
        call::<u64>(&target, GET, &(), 0).unwrap_or_else(|e| avm_sdk::revert(e.message()))
    }

    /// Write `value` locally, then call the callee's `set_and_fail`, which
    /// writes and reverts. Returns the callee's revert message; the local
    /// write is kept.
    fn call_failing(target: Address, value: u64) -> String {
        LOCAL.set(&value);
        match call::<()>(&target, SET_AND_FAIL, &(value,), 0) {
            Ok(()) => avm_sdk::revert("the callee was expected to revert"),
            Err(e) => String::from(e.message()),
        }
    }

    fn local() -> u64 {
        LOCAL.get()
    }
}
