//! Chain workloads: an ERC-20 transfer through the runtime (in-memory state,
//! no signature) on each engine, a block of 1,000 signed transfers (in
//! memory and committed to a redb store), and signature recovery alone.
//!
//! `cargo bench --bench chain`. Throughput figures (transfers per second)
//! are criterion's `thrpt` lines.

use std::time::Duration;

use avm::chain::bundled::{contract_elf, install};
use avm::chain::keys::{address_of, dev_key};
use avm::chain::{deploy_data, Chain, DEV_CHAIN_ID};
use avm::engine::EngineKind;
use avm::runtime::{CodeImage, Message, Vm};
use avm_abi::types::{Type, Value};
use avm_state::{recover_senders_parallel, Address, SignedTransaction, State, Transaction};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};

fn erc20_elf() -> Vec<u8> {
    contract_elf("erc20").expect("the bundled erc20")
}

fn init_args() -> Vec<Value> {
    vec![
        Value::String("T".into()),
        Value::String("T".into()),
        Value::Uint(Type::U8, 18),
        Value::Uint(Type::U128, u128::MAX / 2),
    ]
}

/// A VM with a deployed token and the transfer messages to run.
fn token_vm(kind: EngineKind) -> (Vm, State, Vec<Message>) {
    let (alice, token) = (avm_abi::Address([1; 20]), avm_abi::Address([9; 20]));
    let mut state = State::new();
    let mut vm = Vm::new(kind).expect("vm");
    let meta = install(&mut vm, &mut state, alice, token, erc20_elf(), &init_args()).expect("erc20");
    let transfer = meta.method("transfer").expect("transfer").clone();
    let msgs = (0..1000u64)
        .map(|i| {
            let mut to = [2u8; 20];
            to[..8].copy_from_slice(&i.to_le_bytes());
            Message::call(alice, token, transfer.call_data(&[Value::Address(to), Value::Uint(Type::U128, 1)]))
        })
        .collect();
    (vm, state, msgs)
}

fn erc20_transfer(c: &mut Criterion) {
    let mut g = c.benchmark_group("erc20_transfer");
    g.throughput(Throughput::Elements(1));
    for kind in [EngineKind::Interp, EngineKind::Jit] {
        let (mut vm, mut state, msgs) = token_vm(kind);
        for m in &msgs {
            vm.execute(&mut state, m);
        }
        let mut i = 0;
        g.bench_function(BenchmarkId::from_parameter(kind.name()), |b| {
            b.iter(|| {
                i = (i + 1) % msgs.len();
                vm.execute(&mut state, &msgs[i])
            })
        });
    }
    g.finish();
}

/// A chain with a token and 1,000 signed transfers for the next block.
fn block_setup(kind: EngineKind, dir: Option<&std::path::Path>) -> (Chain, Vec<SignedTransaction>) {
    let alice = dev_key("alice");
    let balances = [(address_of(&alice), u128::MAX / 4)];
    let mut chain = match dir {
        Some(d) => Chain::create(d, kind, &balances).expect("chain"),
        None => Chain::in_memory(kind, &balances).expect("chain"),
    };
    let elf = erc20_elf();
    let meta = CodeImage::from_elf(&elf).expect("erc20").metadata;
    let init = meta.method("init").expect("init").call_data(&init_args());
    let sender = address_of(&alice);
    let deploy = Transaction {
        chain_id: DEV_CHAIN_ID,
        nonce: 0,
        gas_limit: 50_000_000,
        to: None,
        value: 0,
        data: deploy_data(&elf, &init),
    };
    chain.produce_block(vec![deploy.sign(&alice)]).expect("deploy");
    let token = Address::contract(&sender, 0);
    let transfer = meta.method("transfer").expect("transfer");
    let txs = (0..1000u64)
        .map(|i| {
            let mut to = [3u8; 20];
            to[..8].copy_from_slice(&i.to_le_bytes());
            let data = transfer.call_data(&[Value::Address(to), Value::Uint(Type::U128, 5)]);
            Transaction { chain_id: DEV_CHAIN_ID, nonce: 1 + i, gas_limit: 100_000, to: Some(token), value: 0, data }
                .sign(&alice)
        })
        .collect();
    (chain, txs)
}

fn block_of_transfers(c: &mut Criterion) {
    let mut g = c.benchmark_group("block_1000_transfers");
    g.throughput(Throughput::Elements(1000));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    for (name, store) in [("jit-memory", false), ("jit-store", true)] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let dir = store.then(|| tempdir(name));
                    let (chain, txs) = block_setup(EngineKind::Jit, dir.as_deref());
                    (chain, txs, dir)
                },
                |(mut chain, txs, dir)| {
                    let (header, _) = chain.produce_block(txs).expect("block");
                    if let Some(d) = dir {
                        let _ = std::fs::remove_dir_all(d);
                    }
                    header
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("avm-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn signature_recovery(c: &mut Criterion) {
    let (_, txs) = block_setup(EngineKind::Interp, None);
    let mut g = c.benchmark_group("signature_recovery");
    g.throughput(Throughput::Elements(1));
    g.bench_function("one", |b| b.iter(|| txs[0].recover_sender()));
    g.throughput(Throughput::Elements(txs.len() as u64));
    g.sample_size(10);
    g.bench_function("1000-parallel", |b| b.iter(|| recover_senders_parallel(&txs)));
    g.finish();
}

/// The chain benches.
mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion_group!(benches, erc20_transfer, block_of_transfers, signature_recovery);
}
criterion_main!(group::benches);
