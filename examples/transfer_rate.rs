//! ERC-20 transfers per second through the runtime (in-memory state, no
//! signatures): `cargo run --release --example transfer_rate [interp|jit] [N]`.
use std::time::Instant;

use avm::runtime::{Message, Vm};
use avm::EngineKind;
use avm_abi::types::{Type, Value};
use avm_abi::Address;
use avm_state::State;

fn main() {
    let kind = if std::env::args().nth(1).as_deref() == Some("interp") { EngineKind::Interp } else { EngineKind::Jit };
    let n: u64 = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let dir = avm::guest_dir().expect("guest dir");
    let mut state = State::new();
    let alice = Address([1; 20]);
    let token = Address([9; 20]);
    state.set_code(&avm_state::Address(token.0), std::fs::read(format!("{dir}/contract-erc20")).expect("erc20"));
    let mut vm = Vm::new(kind).expect("vm");
    let image = vm.image(&state, &token).expect("image");
    let init = image.metadata.method("init").expect("init");
    let input = init.call_data(&[
        Value::String("T".into()),
        Value::String("T".into()),
        Value::Uint(Type::U8, 18),
        Value::Uint(Type::U128, u128::MAX / 2),
    ]);
    let msg = Message {
        caller: alice,
        target: token,
        value: 0,
        input,
        gas_limit: 10_000_000,
        block_number: 1,
        deploying: true,
        read_only: false,
    };
    assert!(vm.execute(&mut state, &msg).status.is_success());
    let t = image.metadata.method("transfer").expect("transfer");
    let msgs: Vec<Message> = (0..n)
        .map(|i| {
            let mut to = [2u8; 20];
            to[..8].copy_from_slice(&(i % 1000).to_le_bytes());
            let input = t.call_data(&[Value::Address(to), Value::Uint(Type::U128, 1)]);
            Message {
                caller: alice,
                target: token,
                value: 0,
                input,
                gas_limit: 1_000_000,
                block_number: 1,
                deploying: false,
                read_only: false,
            }
        })
        .collect();
    // Warm up (JIT compile), then measure.
    for m in msgs.iter().take(2000) {
        vm.execute(&mut state, m);
    }
    let start = Instant::now();
    let mut insns = 0;
    for m in &msgs {
        let out = vm.execute(&mut state, m);
        insns += out.instructions;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{kind}: {n} transfers in {secs:.3} s = {:.0} transfers/s, {:.1} µs each, {} instructions each, {:.0} MIPS",
        n as f64 / secs,
        secs * 1e6 / n as f64,
        insns / n,
        insns as f64 / secs / 1e6
    );
}
