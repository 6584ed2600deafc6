//! `syscall`: any bytes are a gas limit and a script of raw syscalls (random
//! numbers, pointers and lengths) that the `hostile_syscall` contract runs.
//! The kernel never crashes, the call ends in a receipt, a plain call after
//! it still succeeds, and both engines agree. See `avm::fuzzing::syscall`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = avm::fuzzing::syscall::check_syscall(data) {
        panic!("{e}");
    }
});
