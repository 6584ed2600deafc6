//! `tx_decode`: whatever bytes arrive as a transaction, decoding, sender
//! recovery and validation return values, never panics; a transaction that
//! decodes re-encodes to exactly the same bytes (the encoding is canonical,
//! so a transaction hash names one byte string), and signing what decoded
//! gives a transaction that recovers to the signer.

use avm_state::{SignedTransaction, State, Transaction};

use super::Source;
use crate::chain::keys::{address_of, dev_key};
use crate::chain::{BLOCK_GAS_LIMIT, DEV_CHAIN_ID};

/// Check one input. The first byte picks the mode: raw bytes as a signed
/// transaction, raw bytes as an unsigned one, or a transaction built from
/// the bytes, signed, encoded and then damaged at one byte.
pub fn check_tx_decode(data: &[u8]) -> Result<(), String> {
    let mut src = Source::new(data);
    match src.u8() % 4 {
        0 | 1 => signed(src.rest()),
        2 => unsigned(src.rest()),
        _ => damaged(&mut src),
    }
}

fn state_for(sender: &avm_state::Address, balance: u128, nonce: u64) -> State {
    let mut state = State::new();
    state.set_balance(sender, balance);
    for _ in 0..nonce.min(3) {
        state.increment_nonce(sender).ok();
    }
    state
}

fn signed(bytes: &[u8]) -> Result<(), String> {
    let Ok(stx) = SignedTransaction::decode(bytes) else { return Ok(()) };
    let again = stx.encode();
    if again != bytes {
        return Err(format!(
            "a signed transaction re-encodes differently:\n input {}\nagain {}",
            avm_state::to_hex(bytes),
            avm_state::to_hex(&again)
        ));
    }
    if SignedTransaction::decode(&again).as_ref() != Ok(&stx) {
        return Err("the re-encoding decodes to another transaction".into());
    }
    let _ = stx.hash();
    if let Ok(sender) = stx.recover_sender() {
        let state = state_for(&sender, u128::from(stx.tx.gas_limit).saturating_add(stx.tx.value), stx.tx.nonce);
        let _ = stx.validate(&state, stx.tx.chain_id, BLOCK_GAS_LIMIT);
        let _ = stx.validate(&State::new(), DEV_CHAIN_ID, u64::MAX);
    }
    Ok(())
}

fn unsigned(bytes: &[u8]) -> Result<(), String> {
    let Ok(tx) = Transaction::decode(bytes) else { return Ok(()) };
    if tx.encode() != bytes {
        return Err(format!("a transaction re-encodes differently: {}", avm_state::to_hex(bytes)));
    }
    let _ = tx.max_cost();
    let _ = tx.max_cost_at(u128::MAX);
    // Signing what decoded must give a transaction that recovers its signer.
    let key = dev_key("alice");
    let stx = tx.sign(&key);
    match stx.recover_sender() {
        Ok(a) if a == address_of(&key) => {}
        other => return Err(format!("a freshly signed transaction recovers to {other:?}")),
    }
    match SignedTransaction::decode(&stx.encode()) {
        Ok(back) if back == stx => Ok(()),
        other => Err(format!("a freshly signed transaction does not round-trip: {other:?}")),
    }
}

fn damaged(src: &mut Source<'_>) -> Result<(), String> {
    let key = dev_key(["alice", "bob", "carol"][src.below(3)]);
    let to = if src.u8() & 1 == 0 { None } else { Some(avm_state::Address(src.array())) };
    let tx = Transaction {
        chain_id: if src.u8() & 3 == 0 { src.u64() } else { DEV_CHAIN_ID },
        nonce: u64::from(src.u8() % 4),
        gas_limit: src.u64() >> src.below(64),
        to,
        value: src.u128() >> src.below(128),
        data: src.bytes(200),
    };
    let stx = tx.sign(&key);
    let sender = address_of(&key);
    match stx.recover_sender() {
        Ok(a) if a == sender => {}
        other => return Err(format!("a signed transaction recovers to {other:?}, not {sender}")),
    }
    let state = state_for(&sender, src.u128(), stx.tx.nonce);
    let _ = stx.validate(&state, DEV_CHAIN_ID, BLOCK_GAS_LIMIT);
    let mut bytes = stx.encode();
    // Damage: flip a byte, cut the tail or append junk.
    match src.u8() % 3 {
        0 => {
            let i = src.below(bytes.len());
            bytes[i] ^= src.u8() | 1;
        }
        1 => bytes.truncate(src.below(bytes.len())),
        _ => bytes.extend_from_slice(&src.bytes(8)),
    }
    signed(&bytes)?;
    // A damaged signature or body may still recover, but never to the signer
    // unless the damage missed everything signed (the hash covers it all).
    if let Ok(d) = SignedTransaction::decode(&bytes) {
        if d != stx && d.tx == stx.tx && d.recover_sender().as_ref() == Ok(&sender) && d.signature == stx.signature {
            return Err("a changed recovery id still recovers the signer".into());
        }
    }
    Ok(())
}
