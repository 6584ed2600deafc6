//! Events: logs with indexed topics, declared with [`crate::event!`].
//!
//! Topic 0 is the event id (Keccak-256 of `Name(T1,...)`, computed at compile
//! time); each indexed field is a topic holding its encoding zero-padded to
//! 32 bytes; the other fields, encoded as a tuple, are the log data.

use avm_abi::codec::{Encode, SliceSink};
use avm_abi::layout::MAX_TOPICS;
use avm_abi::syscall as sc;

use crate::rt::revert;
use crate::sys::{addr, syscall};

/// The topics of one log being built.
pub struct Topics {
    topics: [[u8; 32]; MAX_TOPICS as usize],
    count: usize,
}

impl Topics {
    /// Topics starting with the event id.
    pub fn new(id: [u8; 32]) -> Topics {
        let mut topics = [[0u8; 32]; MAX_TOPICS as usize];
        topics[0] = id;
        Topics { topics, count: 1 }
    }

    /// Add an indexed field (its encoding must fit 32 bytes).
    pub fn push<T: Encode + ?Sized>(&mut self, value: &T) {
        if self.count == self.topics.len() {
            revert("too many indexed event fields");
        }
        let mut sink = SliceSink::new(&mut self.topics[self.count]);
        value.encode(&mut sink);
        if sink.written().is_none() {
            revert("an indexed event field is longer than 32 bytes");
        }
        self.count += 1;
    }
}

/// Emit a log.
pub fn emit(topics: &Topics, data: &[u8]) {
    let t = &topics.topics[..topics.count];
    let (status, _) = syscall(sc::EMIT, addr(t.as_ptr()), t.len() as u32, addr(data), data.len() as u32);
    if status != avm_abi::status::OK {
        revert(avm_abi::status::describe(status));
    }
}
