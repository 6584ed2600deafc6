//! ERC-20 transfers per second through the runtime (in-memory state, no
//! signatures): `cargo run --release --example transfer_rate [interp|jit] [N]`.
use std::time::Instant;

use avm::chain::bundled::{contract_elf, install};
use avm::runtime::{Message, Vm};
use avm::EngineKind;
use avm_abi::types::{Type, Value};
use avm_abi::Address;
use avm_state::State;

fn main() -> Result<(), String> {
    let kind = if std::env::args().nth(1).as_deref() == Some("interp") { EngineKind::Interp } else { EngineKind::Jit };
    let n: u64 = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let (alice, token) = (Address([1; 20]), Address([9; 20]));
    let mut state = State::new();
    let mut vm = Vm::new(kind).map_err(|e| e.to_string())?;
    let init = [
        Value::String("T".into()),
        Value::String("T".into()),
        Value::Uint(Type::U8, 18),
        Value::Uint(Type::U128, u128::MAX / 2),
    ];
    let meta = install(&mut vm, &mut state, alice, token, contract_elf("erc20")?, &init)?;
    let transfer = meta.method("transfer").ok_or("erc20 has transfer")?;
    let msgs: Vec<Message> = (0..n)
        .map(|i| {
            let mut to = [2u8; 20];
            to[..8].copy_from_slice(&(i % 1000).to_le_bytes());
            Message::call(alice, token, transfer.call_data(&[Value::Address(to), Value::Uint(Type::U128, 1)]))
        })
        .collect();
    // Warm up (JIT compile), then measure.
    for m in msgs.iter().take(2000) {
        vm.execute(&mut state, m);
    }
    let before = vm.engine().counters();
    let start = Instant::now();
    let insns: u64 = msgs.iter().map(|m| vm.execute(&mut state, m).instructions).sum();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{kind}: {n} transfers in {secs:.3} s = {:.0} transfers/s, {:.1} µs each, {} instructions each, {:.0} MIPS",
        n as f64 / secs,
        secs * 1e6 / n as f64,
        insns / n,
        insns as f64 / secs / 1e6
    );
    // What the engine did per transfer (the JIT's tiers, fallbacks, exits).
    if std::env::var_os("AVM_COUNTERS").is_some() {
        for ((name, after), (_, was)) in vm.engine().counters().into_iter().zip(before) {
            println!("  {name:>28}: {:>10.2} per transfer", (after - was) as f64 / n as f64);
        }
    }
    Ok(())
}
