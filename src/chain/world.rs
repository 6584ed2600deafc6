//! The chain state as the runtime's [`World`]: the journaled
//! [`avm_state::State`] behind the host-call interface.

use std::sync::Arc;

use avm_state::journal::Checkpoint;
use avm_state::State;

use crate::runtime::World;

/// An ABI address as a state address (same 20 bytes).
pub fn to_state(a: &avm_abi::Address) -> avm_state::Address {
    avm_state::Address(a.0)
}

/// A state address as an ABI address.
pub fn to_abi(a: &avm_state::Address) -> avm_abi::Address {
    avm_abi::Address(a.0)
}

impl World for State {
    type Checkpoint = Checkpoint;

    fn balance(&self, who: &avm_abi::Address) -> u128 {
        State::balance(self, &to_state(who))
    }

    fn transfer(&mut self, from: &avm_abi::Address, to: &avm_abi::Address, amount: u128) -> bool {
        State::transfer(self, &to_state(from), &to_state(to), amount).is_ok()
    }

    fn storage_get(&self, owner: &avm_abi::Address, key: &[u8]) -> Option<Vec<u8>> {
        State::storage_get(self, &to_state(owner), key).map(<[u8]>::to_vec)
    }

    fn storage_set(&mut self, owner: &avm_abi::Address, key: &[u8], value: &[u8]) {
        // The runtime enforces the same key and value limits before it gets
        // here (avm_abi::layout::MAX_KEY/MAX_VALUE are the state's limits),
        // so this cannot fail; if it did, the write is dropped and the
        // state stays consistent.
        let _ = State::storage_set(self, &to_state(owner), key, value);
    }

    fn code(&self, who: &avm_abi::Address) -> Option<([u8; 32], Arc<Vec<u8>>)> {
        let a = to_state(who);
        Some((self.code_hash(&a)?, State::code(self, &a)?))
    }

    fn checkpoint(&mut self) -> Checkpoint {
        State::checkpoint(self)
    }

    fn commit(&mut self, cp: Checkpoint) {
        State::commit(self, cp)
    }

    fn revert(&mut self, cp: Checkpoint) {
        State::revert(self, cp)
    }
}
