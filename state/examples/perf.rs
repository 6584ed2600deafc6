//! A perf sanity check, not a benchmark: prints how long signature recovery and a state root
//! over many accounts take on this machine.
//!
//! `cargo run --release -p avm-state --example perf [ACCOUNTS]`

use std::time::Instant;

use avm_state::k256::ecdsa::SigningKey;
use avm_state::{keccak256, recover_senders_parallel, state_root, Address, State, Transaction};

fn main() {
    let accounts: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let key = SigningKey::from_slice(&keccak256(b"alice")).expect("valid scalar");
    let txs: Vec<_> = (0..1000u64)
        .map(|n| {
            Transaction { chain_id: 1, nonce: n, gas_limit: 21_000, to: Some(Address([1; 20])), value: 1, data: vec![] }
                .sign(&key)
        })
        .collect();

    let t = Instant::now();
    let ok = txs.iter().filter(|tx| tx.recover_sender().is_ok()).count();
    let serial = t.elapsed();
    let t = Instant::now();
    let par = recover_senders_parallel(&txs);
    let parallel = t.elapsed();
    println!(
        "recover_sender: {:.1} us each serial, {:.1} us each with recover_senders_parallel ({} ok, {} threads)",
        serial.as_secs_f64() * 1e6 / txs.len() as f64,
        parallel.as_secs_f64() * 1e6 / txs.len() as f64,
        ok.min(par.iter().filter(|r| r.is_ok()).count()),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );

    let mut state = State::new();
    for i in 0..accounts {
        let a = Address::contract(&Address::ZERO, u64::from(i));
        state.set_balance(&a, u128::from(i));
        if i % 10 == 0 {
            state.storage_set(&a, &i.to_be_bytes(), b"value").expect("small slot");
        }
    }
    let t = Instant::now();
    let root = state_root(&state);
    println!(
        "state_root over {accounts} accounts ({} slots): {:.1} ms ({})",
        accounts / 10,
        t.elapsed().as_secs_f64() * 1e3,
        avm_state::to_hex(&root)
    );
}
