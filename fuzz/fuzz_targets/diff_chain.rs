//! `diff_chain`: any bytes are a sequence of signed transactions against
//! every bundled contract (hostile ones included), after a fixed setup
//! block. The interpreter, the JIT at threshold 0 and the default JIT must
//! give the same receipts, gas, logs and state root; the same sequence split
//! across blocks on a store that is closed and reopened in between must give
//! the same receipts and state root. See `avm::fuzzing::chain`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = avm::fuzzing::chain::check_diff_chain(data) {
        panic!("{e}");
    }
});
