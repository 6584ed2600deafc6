//! Hostile: never stops. Gas must end it, at the same instruction on both
//! engines.
#![no_std]
#![no_main]

use avm_sdk::contract;

contract! {
    fn spin() -> u64 {
        let mut n = 0u64;
        loop {
            n = core::hint::black_box(n.wrapping_add(1));
        }
    }
}
