//! The smallest useful contract: pure functions, no storage.
#![no_std]
#![no_main]

use avm_sdk::{contract, String};

contract! {
    /// A greeting.
    fn hello() -> String {
        String::from("hello from aVM")
    }

    /// Sum of two numbers (reverts on overflow).
    fn add(a: u64, b: u64) -> u64 {
        match a.checked_add(b) {
            Some(s) => s,
            None => avm_sdk::revert("overflow"),
        }
    }
}
