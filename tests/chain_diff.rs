//! Chain-level differential test: one block of 200+ mixed transactions
//! (every bundled contract, hostile ones included, plain transfers and
//! invalid transactions) on the interpreter and on the JIT must give
//! identical receipts (status, gas, instructions, logs, return data), the
//! same state root and the same block header.

use avm::chain::keys::{address_of, dev_key};
use avm::chain::{deploy_data, Chain, DEV_CHAIN_ID};
use avm::engine::EngineKind;
use avm::runtime::CodeImage;
use avm_abi::types::{Type, Value};
use avm_state::k256::ecdsa::SigningKey;
use avm_state::{Address, SignedTransaction, Status, Transaction};

const E18: u128 = 1_000_000_000_000_000_000;

fn elf(name: &str) -> Vec<u8> {
    let dir = avm::guest_dir().expect("guest programs are built by build.rs");
    std::fs::read(format!("{dir}/contract-{name}")).expect("bundled contract")
}

fn u128v(n: u128) -> Value {
    Value::Uint(Type::U128, n)
}

fn addr(a: Address) -> Value {
    Value::Address(a.0)
}

/// Builds signed transactions with per-sender nonces.
struct TxBuilder {
    nonces: std::collections::BTreeMap<Address, u64>,
    txs: Vec<SignedTransaction>,
}

impl TxBuilder {
    fn push(&mut self, key: &SigningKey, to: Option<Address>, value: u128, data: Vec<u8>, gas_limit: u64) -> Address {
        let sender = address_of(key);
        let nonce = self.nonces.entry(sender).or_default();
        let tx = Transaction { chain_id: DEV_CHAIN_ID, nonce: *nonce, gas_limit, to, value, data };
        let created = Address::contract(&sender, *nonce);
        *nonce += 1;
        self.txs.push(tx.sign(key));
        created
    }

    fn deploy(&mut self, key: &SigningKey, name: &str, init: &[Value]) -> Address {
        let code = elf(name);
        let meta = CodeImage::from_elf(&code).expect("valid contract").metadata;
        let init = meta.method("init").map(|m| m.call_data(init)).unwrap_or_default();
        self.push(key, None, 0, deploy_data(&code, &init), 50_000_000)
    }

    fn call(&mut self, key: &SigningKey, target: Address, name: &str, method: &str, args: &[Value], gas: u64) {
        let meta = CodeImage::from_elf(&elf(name)).expect("valid contract").metadata;
        let data = meta.method(method).unwrap_or_else(|| panic!("{name} has {method}")).call_data(args);
        self.push(key, Some(target), 0, data, gas);
    }
}

fn block_of_mixed_transactions() -> (Vec<(Address, u128)>, Vec<SignedTransaction>) {
    let keys: Vec<SigningKey> = ["alice", "bob", "carol", "dave"].iter().map(|n| dev_key(n)).collect();
    let (alice, bob, carol) = (&keys[0], &keys[1], &keys[2]);
    let balances = keys.iter().map(|k| (address_of(k), 1_000 * E18)).collect();
    let mut b = TxBuilder { nonces: Default::default(), txs: Vec::new() };

    let tka = b.deploy(
        alice,
        "erc20",
        &[Value::String("A".into()), Value::String("A".into()), Value::Uint(Type::U8, 18), u128v(1_000_000 * E18)],
    );
    let tkb = b.deploy(
        alice,
        "erc20",
        &[Value::String("B".into()), Value::String("B".into()), Value::Uint(Type::U8, 18), u128v(1_000_000 * E18)],
    );
    let dex = b.deploy(alice, "dex", &[addr(tka), addr(tkb)]);
    let storage = b.deploy(alice, "storage", &[]);
    let caller = b.deploy(alice, "call_program", &[]);
    let hostile: Vec<(Address, &str)> = [
        "hostile_loop",
        "hostile_memory",
        "hostile_pointers",
        "hostile_privileged",
        "hostile_recursion",
        "hostile_reentrancy",
        "hostile_peek",
    ]
    .into_iter()
    .map(|n| (b.deploy(carol, n, &[]), n))
    .collect();

    b.call(alice, tka, "erc20", "transfer", &[addr(address_of(bob)), u128v(50_000 * E18)], 1_000_000);
    b.call(alice, tkb, "erc20", "transfer", &[addr(address_of(bob)), u128v(50_000 * E18)], 1_000_000);
    for k in [alice, bob] {
        b.call(k, tka, "erc20", "approve", &[addr(dex), u128v(u128::MAX)], 1_000_000);
        b.call(k, tkb, "erc20", "approve", &[addr(dex), u128v(u128::MAX)], 1_000_000);
    }
    b.call(alice, dex, "dex", "addLiquidity", &[u128v(100_000 * E18), u128v(300_000 * E18)], 5_000_000);

    let mut i = 0u128;
    while b.txs.len() < 230 {
        i += 1;
        match i % 10 {
            0 => b.call(bob, dex, "dex", "swap", &[addr(tka), u128v(i * E18), u128v(1)], 5_000_000),
            1 => b.call(bob, dex, "dex", "swap", &[addr(tkb), u128v(i * E18), u128v(1)], 5_000_000),
            // minOut cannot be met: a revert
            2 => b.call(bob, dex, "dex", "swap", &[addr(tka), u128v(E18), u128v(1_000_000 * E18)], 5_000_000),
            3 => b.call(carol, tka, "erc20", "transfer", &[addr(address_of(bob)), u128v(1)], 1_000_000),
            4 => b.call(alice, storage, "storage", "set", &[Value::Uint(Type::U64, i)], 1_000_000),
            5 => b.call(
                alice,
                caller,
                "call_program",
                "call_failing",
                &[addr(storage), Value::Uint(Type::U64, i)],
                2_000_000,
            ),
            6 => {
                let (target, name) = hostile[(i as usize / 10) % hostile.len()];
                let (method, args): (&str, Vec<Value>) = match name {
                    "hostile_loop" => ("spin", vec![]),
                    "hostile_memory" => ("past_heap", vec![]),
                    "hostile_pointers" => ("wild", vec![Value::Uint(Type::U8, i % 6)]),
                    "hostile_privileged" => ("run", vec![Value::Uint(Type::U8, i % 8)]),
                    "hostile_recursion" => ("recurse", vec![Value::Uint(Type::U32, 1_000_000)]),
                    "hostile_reentrancy" => ("reenter", vec![Value::Uint(Type::U32, 0)]),
                    _ => ("peek", vec![Value::Uint(Type::U32, 0x8000_0000)]),
                };
                b.call(carol, target, name, method, &args, 3_000_000);
            }
            7 => {
                b.push(bob, Some(address_of(carol)), 1_000 + i, Vec::new(), 1_000);
            }
            8 => b.call(
                bob,
                tka,
                "erc20",
                "transferFrom",
                &[addr(address_of(alice)), addr(address_of(bob)), u128v(7)],
                1_000_000,
            ),
            _ => b.call(alice, tkb, "erc20", "transfer", &[addr(address_of(carol)), u128v(i)], 1_000),
        }
    }
    (balances, b.txs)
}

#[test]
fn a_block_of_mixed_transactions_gives_identical_receipts_and_roots_on_both_engines() {
    let (balances, txs) = block_of_mixed_transactions();
    let mut results = Vec::new();
    for kind in [EngineKind::Interp, EngineKind::Jit] {
        let mut chain = Chain::in_memory(kind, &balances).expect("chain");
        let (header, included) = chain.produce_block(txs.clone()).expect("block");
        results.push((kind, header, included));
    }
    let (_, h_interp, r_interp) = &results[0];
    let (_, h_jit, r_jit) = &results[1];
    assert_eq!(r_interp.len(), r_jit.len());
    for (i, (a, b)) in r_interp.iter().zip(r_jit).enumerate() {
        match (a, b) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "receipt {i} differs between the engines"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            _ => panic!("transaction {i} was included on one engine only"),
        }
    }
    assert_eq!(h_interp, h_jit, "block headers (state root, receipts root, gas) differ");

    // The block really is mixed: successes, reverts, faults and out-of-gas.
    let receipts: Vec<_> = r_interp.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert!(receipts.len() >= 200, "only {} transactions were included", receipts.len());
    let count = |f: &dyn Fn(&Status) -> bool| receipts.iter().filter(|r| f(&r.status)).count();
    assert!(count(&|s| s.is_success()) > 100);
    assert!(count(&|s| matches!(s, Status::Revert(_))) > 10);
    assert!(count(&|s| matches!(s, Status::Fault(_))) > 5);
    assert!(count(&|s| matches!(s, Status::OutOfGas)) > 0);
    assert!(receipts.iter().any(|r| !r.logs.is_empty()));
}
