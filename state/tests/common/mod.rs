//! A tiny deterministic chain for the store and crash tests: named keys, a funded genesis,
//! and blocks of transfers, storage writes and deletions, code and reverted calls, all
//! derived from the block number alone.
#![allow(dead_code)]

use avm_state::k256::ecdsa::SigningKey;
use avm_state::{
    keccak256, receipts_root, state_root, tx_root, Address, Block, BlockHeader, Receipt, State, Status, Transaction,
};

pub const CHAIN_ID: u64 = 7;
pub const BLOCK_GAS_LIMIT: u64 = 10_000_000;
pub const TX_GAS: u64 = 21_000;
pub const NAMES: [&str; 3] = ["alice", "bob", "carol"];

/// A key derived from a name.
pub fn key(name: &str) -> SigningKey {
    SigningKey::from_slice(&keccak256(name.as_bytes())).expect("keccak of a name is a valid scalar")
}

pub fn addr(name: &str) -> Address {
    Address::from_public_key(key(name).verifying_key())
}

/// The genesis state and block.
pub fn genesis() -> (State, Block) {
    let mut state = State::new();
    for n in NAMES {
        state.set_balance(&addr(n), 1_000_000_000_000);
    }
    let header = BlockHeader::genesis(state_root(&state), BLOCK_GAS_LIMIT);
    (state, Block { header, transactions: vec![] })
}

/// Builds and executes block `number` on top of `parent`, mutating `state`.
pub fn next_block(parent: &BlockHeader, state: &mut State) -> (Block, Vec<Receipt>) {
    let number = parent.number + 1;
    let count = 1 + (number % 3) as usize;
    let mut txs = Vec::new();
    let mut receipts = Vec::new();
    let mut gas_used = 0;
    for j in 0..count {
        let from = (number as usize + j) % 3;
        let to = (from + 1) % 3;
        let sender = addr(NAMES[from]);
        let tx = Transaction {
            chain_id: CHAIN_ID,
            nonce: state.nonce(&sender),
            gas_limit: TX_GAS,
            to: Some(addr(NAMES[to])),
            value: u128::from(number) * 10 + j as u128,
            data: number.to_be_bytes().to_vec(),
        }
        .sign(&key(NAMES[from]));
        assert_eq!(tx.validate(state, CHAIN_ID, BLOCK_GAS_LIMIT), Ok(sender));
        state.sub_balance(&sender, u128::from(TX_GAS)).unwrap();
        state.increment_nonce(&sender).unwrap();
        let cp = state.checkpoint();
        state.transfer(&sender, tx.tx.to.as_ref().unwrap(), tx.tx.value).unwrap();
        state.storage_set(&sender, b"last", &number.to_be_bytes()).unwrap();
        state.storage_set(&sender, &[j as u8; 3], &vec![number as u8; 1 + (number % 40) as usize]).unwrap();
        if number.is_multiple_of(5) {
            state.storage_set(&addr(NAMES[to]), b"last", b"").unwrap();
        }
        if number.is_multiple_of(7) {
            let c = Address::contract(&sender, number);
            state.set_code(&c, format!("code {number}").into_bytes());
            state.storage_set(&c, b"owner", &sender.0).unwrap();
        }
        let status = if (number + j as u64).is_multiple_of(4) {
            state.revert(cp);
            Status::Revert(format!("reverted in block {number}"))
        } else {
            state.commit(cp);
            Status::Success
        };
        gas_used += TX_GAS;
        receipts.push(Receipt {
            tx_hash: tx.hash(),
            block: number,
            index: j as u32,
            status,
            gas_used: TX_GAS,
            instructions: number * 100,
            logs: vec![],
            return_data: vec![j as u8],
            contract_address: None,
        });
        txs.push(tx);
    }
    let header = BlockHeader {
        number,
        parent_hash: parent.hash(),
        state_root: state_root(state),
        receipts_root: receipts_root(&receipts),
        tx_root: tx_root(&txs),
        gas_used,
        gas_limit: BLOCK_GAS_LIMIT,
        tx_count: txs.len() as u32,
    };
    (Block { header, transactions: txs }, receipts)
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("avm-state-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
