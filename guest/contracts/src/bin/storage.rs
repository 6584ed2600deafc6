//! A counter and a key-value map in storage; `set_and_fail` writes and then
//! reverts, which `call_program` uses to show that a callee's revert undoes
//! only the callee's writes.
#![no_std]
#![no_main]

use avm_sdk::storage::{Map, Value};
use avm_sdk::{contract, String};

static VALUE: Value<u64> = Value::new(b"value");
static ENTRIES: Map<String, String> = Map::new(b"entry:");

contract! {
    fn set(value: u64) {
        VALUE.set(&value);
    }

    fn get() -> u64 {
        VALUE.get()
    }

    fn increment() -> u64 {
        let v = VALUE.get().wrapping_add(1);
        VALUE.set(&v);
        v
    }

    fn put(key: String, value: String) {
        ENTRIES.set(&key, &value);
    }

    fn lookup(key: String) -> String {
        ENTRIES.get(&key)
    }

    fn set_and_fail(value: u64) {
        VALUE.set(&value);
        avm_sdk::revert("set_and_fail: reverting on purpose");
    }
}
