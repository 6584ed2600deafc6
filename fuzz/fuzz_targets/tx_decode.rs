//! `tx_decode`: any bytes as a signed or unsigned transaction, or a signed
//! transaction built from the bytes and then damaged. Decoding, sender
//! recovery and validation never panic; whatever decodes re-encodes to the
//! same bytes. See `avm::fuzzing::tx`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = avm::fuzzing::tx::check_tx_decode(data) {
        panic!("{e}");
    }
});
