//! Transactions, signatures, validation, receipts and headers.

mod common;

use avm_state::k256::ecdsa::SigningKey;
use avm_state::{
    receipts_root, recover_senders_parallel, tx_root, Address, BlockHeader, DecodeError, Log, Receipt,
    SignedTransaction, State, Status, Transaction, TxError, EMPTY_ROOT, MAX_TX_DATA,
};
use common::{addr, key};

fn tx(nonce: u64) -> Transaction {
    Transaction {
        chain_id: 7,
        nonce,
        gas_limit: 50_000,
        to: Some(Address([9; 20])),
        value: 1_000,
        data: vec![1, 2, 3, 4],
    }
}

#[test]
fn encode_decode_roundtrip() {
    for t in [tx(0), Transaction { to: None, data: vec![], ..tx(u64::MAX) }] {
        let signed = t.clone().sign(&key("alice"));
        let bytes = signed.encode();
        assert_eq!(SignedTransaction::decode(&bytes), Ok(signed.clone()));
        assert_eq!(Transaction::decode(&t.encode()), Ok(t));
        assert_eq!(signed.hash(), avm_state::keccak256(&bytes));
    }
}

#[test]
fn decode_rejects_bad_input() {
    let bytes = tx(1).sign(&key("alice")).encode();
    for cut in 0..bytes.len() {
        assert!(
            matches!(SignedTransaction::decode(&bytes[..cut]), Err(TxError::Decode(DecodeError::UnexpectedEnd { .. }))),
            "truncated at {cut}"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(SignedTransaction::decode(&long), Err(TxError::Decode(DecodeError::TrailingBytes { count: 1 })));
    // A bad `to` tag.
    let mut bad = bytes.clone();
    bad[24] = 2;
    assert_eq!(SignedTransaction::decode(&bad), Err(TxError::Decode(DecodeError::InvalidTag { what: "to", tag: 2 })));
    // Oversize data: rejected from the length prefix, before reading it.
    let big = Transaction { data: vec![0; MAX_TX_DATA + 1], ..tx(1) };
    let bytes = big.encode();
    assert_eq!(Transaction::decode(&bytes), Err(TxError::DataTooLarge { len: MAX_TX_DATA + 1 }));
    assert_eq!(Transaction::decode(&bytes[..70]), Err(TxError::DataTooLarge { len: MAX_TX_DATA + 1 }));
    let max = Transaction { data: vec![0; MAX_TX_DATA], ..tx(1) };
    assert_eq!(Transaction::decode(&max.encode()), Ok(max));
    // A huge length prefix with no data behind it.
    let mut huge = tx(1).encode();
    let at = huge.len() - 4 - 4;
    huge[at..at + 4].copy_from_slice(&1000u32.to_be_bytes());
    assert!(matches!(Transaction::decode(&huge), Err(TxError::Decode(DecodeError::UnexpectedEnd { .. }))));
}

#[test]
fn sign_and_recover() {
    for name in ["alice", "bob", "carol"] {
        let signed = tx(3).sign(&key(name));
        assert!(signed.recovery_id <= 1);
        assert_eq!(signed.recover_sender(), Ok(addr(name)));
    }
    // Signing is deterministic (RFC 6979).
    assert_eq!(tx(3).sign(&key("alice")), tx(3).sign(&key("alice")));
}

#[test]
fn tampering_changes_or_breaks_the_sender() {
    let signed = tx(3).sign(&key("alice"));
    let alice = addr("alice");
    for byte in [0, 17, 31, 32, 50, 63] {
        let mut t = signed.clone();
        t.signature[byte] ^= 1;
        assert_ne!(t.recover_sender(), Ok(alice), "byte {byte}");
    }
    let mut t = signed.clone();
    t.recovery_id ^= 1;
    assert_ne!(t.recover_sender(), Ok(alice));
    let mut t = signed.clone();
    t.recovery_id = 4;
    assert_eq!(t.recover_sender(), Err(TxError::InvalidSignature));
    let mut t = signed.clone();
    t.tx.value += 1;
    assert_ne!(t.recover_sender(), Ok(alice));
    let mut t = signed.clone();
    t.signature = [0; 64];
    assert_eq!(t.recover_sender(), Err(TxError::InvalidSignature));
}

#[test]
fn high_s_is_rejected() {
    use avm_state::k256::elliptic_curve::ops::Neg;
    use avm_state::k256::elliptic_curve::PrimeField;
    let signed = tx(3).sign(&key("alice"));
    let s = avm_state::k256::Scalar::from_repr(<[u8; 32]>::try_from(&signed.signature[32..]).unwrap().into()).unwrap();
    let mut t = signed.clone();
    t.signature[32..].copy_from_slice(&s.neg().to_bytes());
    t.recovery_id ^= 1;
    assert_eq!(t.recover_sender(), Err(TxError::HighS));
}

#[test]
fn parallel_recovery_keeps_order() {
    let mut txs: Vec<_> = (0..13).map(|i| tx(i).sign(&key(["alice", "bob", "carol"][i as usize % 3]))).collect();
    txs[5].signature = [0; 64];
    let serial: Vec<_> = txs.iter().map(SignedTransaction::recover_sender).collect();
    assert_eq!(recover_senders_parallel(&txs), serial);
    assert_eq!(serial[4], Ok(addr("bob")));
    assert_eq!(serial[5], Err(TxError::InvalidSignature));
    assert!(recover_senders_parallel(&[]).is_empty());
}

#[test]
fn validation_errors() {
    let alice = addr("alice");
    let mut s = State::new();
    s.set_balance(&alice, 51_000);
    s.set_nonce(&alice, 3);
    let ok = tx(3);
    assert_eq!(ok.validate(&s, 7, &alice, 1_000_000), Ok(()));
    assert_eq!(ok.clone().sign(&key("alice")).validate(&s, 7, 1_000_000), Ok(alice));
    let e = tx(2).validate(&s, 7, &alice, 1_000_000).unwrap_err();
    assert_eq!(e, TxError::NonceTooLow { expected: 3, got: 2 });
    assert_eq!(e.to_string(), "nonce too low: expected 3, got 2");
    assert_eq!(tx(4).validate(&s, 7, &alice, 1_000_000), Err(TxError::NonceTooHigh { expected: 3, got: 4 }));
    assert_eq!(ok.validate(&s, 8, &alice, 1_000_000), Err(TxError::WrongChainId { expected: 8, got: 7 }));
    assert_eq!(
        ok.validate(&s, 7, &alice, 49_999),
        Err(TxError::GasLimitTooHigh { gas_limit: 50_000, block_gas_limit: 49_999 })
    );
    let pricey = Transaction { value: 1_001, ..tx(3) };
    let e = pricey.validate(&s, 7, &alice, 1_000_000).unwrap_err();
    assert_eq!(e, TxError::InsufficientBalance { need: 51_001, have: 51_000 });
    assert_eq!(e.to_string(), "insufficient balance: need 51001, have 51000");
    let overflow = Transaction { value: u128::MAX, ..tx(3) };
    assert_eq!(overflow.validate(&s, 7, &alice, 1_000_000), Err(TxError::CostOverflow));
    let big = Transaction { data: vec![0; MAX_TX_DATA + 1], ..tx(3) };
    assert_eq!(big.validate(&s, 7, &alice, 1_000_000), Err(TxError::DataTooLarge { len: MAX_TX_DATA + 1 }));
    s.set_nonce(&alice, u64::MAX);
    assert_eq!(tx(u64::MAX).validate(&s, 7, &alice, 1_000_000), Err(TxError::NonceOverflow));
    // A different signer is a different sender with its own nonce and balance.
    let by_bob = ok.sign(&key("bob"));
    assert_eq!(by_bob.validate(&s, 7, 1_000_000), Err(TxError::NonceTooHigh { expected: 0, got: 3 }));
}

fn receipt(status: Status) -> Receipt {
    Receipt {
        tx_hash: [3; 32],
        block: 12,
        index: 4,
        status,
        gas_used: 21_000,
        instructions: 123_456,
        logs: vec![
            Log { address: Address([1; 20]), topics: vec![[7; 32], [8; 32]], data: b"event".to_vec() },
            Log { address: Address([2; 20]), topics: vec![], data: vec![] },
        ],
        return_data: vec![0xaa; 40],
        contract_address: Some(Address([5; 20])),
    }
}

#[test]
fn receipts_roundtrip_and_root() {
    let all = [
        receipt(Status::Success),
        receipt(Status::Revert("insufficient allowance".into())),
        receipt(Status::OutOfGas),
        receipt(Status::Fault("load access fault at 0x0".into())),
        Receipt { contract_address: None, logs: vec![], ..receipt(Status::Success) },
    ];
    for r in &all {
        let bytes = r.encode();
        assert_eq!(Receipt::decode(&bytes).as_ref(), Ok(r));
        for cut in 0..bytes.len() {
            assert!(Receipt::decode(&bytes[..cut]).is_err());
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(Receipt::decode(&long).is_err());
    }
    assert_eq!(all[1].status.as_str(), "revert");
    assert_eq!(all[1].status.reason(), Some("insufficient allowance"));
    assert_eq!(all[2].status.as_str(), "out-of-gas");
    assert_eq!(all[0].status.reason(), None);
    assert_eq!(receipts_root(&[]), EMPTY_ROOT);
    assert_ne!(receipts_root(&all), receipts_root(&all[1..]));
    let mut swapped = all.clone();
    swapped.swap(0, 1);
    assert_ne!(receipts_root(&all), receipts_root(&swapped));
    // A hostile log count does not allocate.
    let mut hostile = all[0].encode();
    hostile.truncate(32 + 8 + 4 + 1 + 8 + 8);
    hostile.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(Receipt::decode(&hostile).is_err());
}

#[test]
fn headers_roundtrip_and_hash() {
    let txs = vec![tx(0).sign(&key("alice")), tx(1).sign(&key("alice"))];
    let h = BlockHeader {
        number: 5,
        parent_hash: [1; 32],
        state_root: [2; 32],
        receipts_root: [3; 32],
        tx_root: tx_root(&txs),
        gas_used: 42_000,
        gas_limit: 10_000_000,
        tx_count: 2,
    };
    let bytes = h.encode();
    assert_eq!(bytes.len(), avm_state::HEADER_SIZE);
    assert_eq!(BlockHeader::decode(&bytes), Ok(h.clone()));
    assert!(BlockHeader::decode(&bytes[1..]).is_err());
    assert_ne!(h.hash(), BlockHeader { gas_used: 1, ..h.clone() }.hash());
    let g = BlockHeader::genesis([4; 32], 1);
    assert_eq!((g.number, g.parent_hash, g.tx_root), (0, [0; 32], EMPTY_ROOT));
    let block = avm_state::Block { header: h, transactions: txs.clone() };
    assert_eq!(avm_state::Block::decode_body(&block.encode_body()), Ok(txs));
}

#[test]
fn any_key_signs() {
    let k = SigningKey::from_slice(&[0x42; 32]).unwrap();
    let a = Address::from_public_key(k.verifying_key());
    assert_eq!(tx(0).sign(&k).recover_sender(), Ok(a));
}

mod hostile_bytes {
    use avm_state::{Account, BlockHeader, Receipt, SignedTransaction, Transaction};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = SignedTransaction::decode(&bytes);
            let _ = Transaction::decode(&bytes);
            let _ = Receipt::decode(&bytes);
            let _ = BlockHeader::decode(&bytes);
            let _ = Account::decode(&bytes);
            let _ = avm_state::Block::decode_body(&bytes);
            if let Ok(tx) = SignedTransaction::decode(&bytes) {
                let _ = tx.recover_sender();
                prop_assert_eq!(tx.encode(), bytes);
            }
        }

        #[test]
        fn mutated_receipts_never_panic(flip in 0usize..200, bit in 0u8..8) {
            let r = Receipt {
                tx_hash: [1; 32], block: 1, index: 0, status: avm_state::Status::Revert("no".into()),
                gas_used: 1, instructions: 2,
                logs: vec![avm_state::Log { address: avm_state::Address([1; 20]), topics: vec![[2; 32]], data: vec![3; 5] }],
                return_data: vec![4; 3], contract_address: None,
            };
            let mut bytes = r.encode();
            let i = flip % bytes.len();
            bytes[i] ^= 1 << bit;
            if let Ok(d) = Receipt::decode(&bytes) {
                prop_assert_eq!(d.encode(), bytes);
            }
        }
    }
}

/// The sender recovery (libsecp256k1) and `avm-secp256k1`'s recovery (the
/// ecdsa contract's code, on k256's arithmetic) agree on the key, or on
/// failing, for valid signatures and for every tampered one: all four
/// recovery ids and flipped bits in r and s.
#[test]
fn libsecp256k1_recovery_agrees_with_avm_secp256k1() {
    use avm_state::k256::ecdsa::{RecoveryId, Signature};
    let mut checked = 0;
    for i in 0..64u64 {
        let signed = tx(i).sign(&key(["alice", "bob", "carol"][i as usize % 3]));
        for (flip, recid) in [(None, None), (Some(i as usize % 64), None), (None, Some(2)), (None, Some(3))]
            .into_iter()
            .chain((0..4).map(|r| (Some((i as usize * 7) % 64), Some(r))))
        {
            let mut t = signed.clone();
            if let Some(byte) = flip {
                t.signature[byte] ^= 1 << (i % 8);
            }
            if let Some(r) = recid {
                t.recovery_id = r;
            }
            let reference = Signature::from_slice(&t.signature)
                .ok()
                .filter(|s| s.normalize_s().is_none())
                .zip(RecoveryId::from_byte(t.recovery_id))
                .map(|(sig, id)| {
                    avm_secp256k1::recover_prehash(&t.tx.signing_hash(), &sig, id).map(|k| Address::from_public_key(&k))
                });
            match (t.recover_sender(), reference) {
                (Ok(sender), Some(Some(want))) => assert_eq!(sender, want, "tx {i}, flip {flip:?}, id {recid:?}"),
                (Err(TxError::RecoveryFailed), Some(None)) => {}
                (Err(TxError::InvalidSignature | TxError::HighS), None) => {}
                (got, want) => panic!("tx {i}, flip {flip:?}, id {recid:?}: {got:?} vs {want:?}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 64 * 8);
}
