//! One method per ABI type, to show how arguments and results are encoded.
#![no_std]
#![no_main]

use avm_sdk::{contract, Address, Bytes, String};

contract! {
    fn echo_u8(v: u8) -> u8 { v }
    fn echo_u32(v: u32) -> u32 { v }
    fn echo_u64(v: u64) -> u64 { v }
    fn echo_u128(v: u128) -> u128 { v }
    fn echo_bool(v: bool) -> bool { v }
    fn echo_address(v: Address) -> Address { v }
    fn echo_bytes(v: Bytes) -> Bytes { v }
    fn echo_string(v: String) -> String { v }
    fn echo_array(v: [u8; 4]) -> [u8; 4] { v }
    fn swap_pair(a: u64, b: String) -> (String, u64) { (b, a) }
    fn whoami() -> (Address, Address, u64) {
        (avm_sdk::caller(), avm_sdk::self_address(), avm_sdk::block_number())
    }
    fn sum(values: Bytes) -> u64 {
        values.0.iter().map(|&b| u64::from(b)).sum()
    }
}
