//! Blocks of 1,000 signed ERC-20 transfers on a warm chain, in memory or
//! committed to a redb store, with the block's phases timed apart:
//! signature recovery (in parallel across cores, as `Chain::produce_block`
//! does), then execution, roots and the store commit
//! (`Chain::produce_block_recovered`).
//!
//! `cargo run --release --example block_rate [interp|jit] [store|memory] [BLOCKS]`
use std::time::{Duration, Instant};

use avm::chain::bundled::contract_elf;
use avm::chain::keys::{address_of, dev_key};
use avm::chain::{deploy_data, Chain, DEV_CHAIN_ID};
use avm::runtime::CodeImage;
use avm::EngineKind;
use avm_abi::types::{Type, Value};
use avm_state::{recover_senders_parallel, Address, Transaction};

const TXS_PER_BLOCK: u64 = 1000;

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let kind = if args.next().as_deref() == Some("interp") { EngineKind::Interp } else { EngineKind::Jit };
    let store = args.next().as_deref() != Some("memory");
    let blocks: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);

    let alice = dev_key("alice");
    let sender = address_of(&alice);
    let dir = std::env::temp_dir().join(format!("avm-block-rate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let balances = [(sender, u128::MAX / 4)];
    let mut chain = if store {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        Chain::create(&dir, kind, &balances)
    } else {
        Chain::in_memory(kind, &balances)
    }
    .map_err(|e| e.to_string())?;

    let elf = contract_elf("erc20")?;
    let meta = CodeImage::from_elf(&elf).map_err(|e| e.to_string())?.metadata;
    let init = [
        Value::String("T".into()),
        Value::String("T".into()),
        Value::Uint(Type::U8, 18),
        Value::Uint(Type::U128, u128::MAX / 2),
    ];
    let init = meta.method("init").ok_or("init")?.call_data(&init);
    let deploy = Transaction {
        chain_id: DEV_CHAIN_ID,
        nonce: 0,
        gas_limit: 50_000_000,
        to: None,
        value: 0,
        data: deploy_data(&elf, &init),
    };
    chain.produce_block(vec![deploy.sign(&alice)]).map_err(|e| e.to_string())?;
    let token = Address::contract(&sender, 0);
    let transfer = meta.method("transfer").ok_or("transfer")?;

    // Block 0 warms the engine (the JIT compiles the kernel and the token);
    // the rest are measured.
    let mut nonce = 1;
    let (mut recover, mut produce) = (Duration::ZERO, Duration::ZERO);
    for block in 0..=blocks {
        let txs: Vec<_> = (0..TXS_PER_BLOCK)
            .map(|i| {
                let mut to = [3u8; 20];
                to[..8].copy_from_slice(&(block * TXS_PER_BLOCK + i).to_le_bytes());
                let data = transfer.call_data(&[Value::Address(to), Value::Uint(Type::U128, 5)]);
                nonce += 1;
                Transaction {
                    chain_id: DEV_CHAIN_ID,
                    nonce: nonce - 1,
                    gas_limit: 100_000,
                    to: Some(token),
                    value: 0,
                    data,
                }
                .sign(&alice)
            })
            .collect();
        let t0 = Instant::now();
        let senders = recover_senders_parallel(&txs);
        let t1 = Instant::now();
        let (header, results) = chain.produce_block_recovered(txs, senders).map_err(|e| e.to_string())?;
        let t2 = Instant::now();
        if results.iter().any(|r| r.as_ref().map_or(true, |r| !r.status.is_success())) {
            return Err(format!("block {}: a transfer failed", header.number));
        }
        if block > 0 {
            recover += t1 - t0;
            produce += t2 - t1;
        }
    }
    let n = (blocks * TXS_PER_BLOCK) as f64;
    let rate = |d: Duration| n / d.as_secs_f64();
    println!(
        "{kind} {}: {blocks} blocks of {TXS_PER_BLOCK} transfers: recovery {:.1} µs/tx ({:.0} tx/s on {} threads), \
         execution + roots + commit {:.1} µs/tx ({:.0} tx/s), both {:.0} tx/s",
        if store { "store" } else { "memory" },
        recover.as_secs_f64() * 1e6 / n,
        rate(recover),
        std::thread::available_parallelism().map_or(1, |p| p.get()),
        produce.as_secs_f64() * 1e6 / n,
        rate(produce),
        rate(recover + produce),
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
