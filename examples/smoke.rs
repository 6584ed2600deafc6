use avm::runtime::{Message, Vm};
use avm::EngineKind;
use avm_abi::types::Value;
use avm_abi::Address;
use avm_state::State;

fn main() {
    let kind = if std::env::args().nth(1).as_deref() == Some("jit") { EngineKind::Jit } else { EngineKind::Interp };
    let dir = avm::guest_dir().unwrap();
    let mut state = State::new();
    let alice = Address([1; 20]);
    let bob = Address([2; 20]);
    state.set_balance(&avm_state::Address(alice.0), 1_000_000_000);
    let token = Address([9; 20]);
    state.set_code(&avm_state::Address(token.0), std::fs::read(format!("{dir}/contract-erc20")).unwrap());
    let mut vm = Vm::new(kind).unwrap();
    let image = vm.image(&state, &token).unwrap();
    let init = image.metadata.method("init").unwrap();
    let input = init.call_data(&[Value::String("Tok".into()), Value::String("TKN".into()), Value::Uint(avm_abi::types::Type::U8, 18), Value::Uint(avm_abi::types::Type::U128, 1000)]);
    let msg = Message { caller: alice, target: token, value: 0, input, gas_limit: 10_000_000, block_number: 1, deploying: true, read_only: false };
    let out = vm.execute(&mut state, &msg);
    println!("{:?} gas {} insns {} logs {}", out.status, out.gas_used, out.instructions, out.logs.len());
    let t = image.metadata.method("transfer").unwrap();
    for _ in 0..3 {
        let input = t.call_data(&[Value::Address(bob.0), Value::Uint(avm_abi::types::Type::U128, 250)]);
        let msg = Message { caller: alice, target: token, value: 0, input, gas_limit: 10_000_000, block_number: 1, deploying: false, read_only: false };
        let out = vm.execute(&mut state, &msg);
        println!("{:?} gas {} insns {} logs {:?} ret {:?}", out.status, out.gas_used, out.instructions, out.logs.len(), out.return_data);
    }
    let b = image.metadata.method("balanceOf").unwrap();
    let msg = Message { caller: alice, target: token, value: 0, input: b.call_data(&[Value::Address(bob.0)]), gas_limit: 10_000_000, block_number: 1, deploying: false, read_only: true };
    let out = vm.execute(&mut state, &msg);
    println!("{:?} {:?} insns {}", out.status, b.returns.decode_all(&out.return_data), out.instructions);
}
