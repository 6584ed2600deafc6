//! Where a contract call's instructions go: an instruction histogram by
//! function (kernel and contract symbols), for tuning the kernel and SDK.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use avm::runtime::{Message, Vm};
use avm_abi::types::{Type, Value};
use avm_abi::Address;
use avm_interp::Tracer;
use avm_isa::Decoded;
use avm_mmu::Machine;
use avm_state::State;

struct Hist(Arc<Mutex<BTreeMap<(bool, u32), u64>>>);
impl Tracer for Hist {
    fn before(&mut self, m: &Machine, pc: u32, _: &Decoded) {
        let user = m.hart.privilege == avm_mmu::Privilege::User;
        *self.0.lock().unwrap().entry((user, pc)).or_default() += 1;
    }
}

fn main() {
    let dir = avm::guest_dir().unwrap();
    let contract = std::env::args().nth(1).unwrap_or("erc20".into());
    let mut state = State::new();
    let alice = Address([1; 20]);
    state.set_balance(&avm_state::Address(alice.0), 1_000_000_000);
    let token = Address([9; 20]);
    state.set_code(&avm_state::Address(token.0), std::fs::read(format!("{dir}/contract-{contract}")).unwrap());
    let hist = Arc::new(Mutex::new(BTreeMap::new()));
    let mut interp = avm_interp::Interpreter::new();
    interp.set_tracer(Some(Box::new(Hist(hist.clone()))));
    let kernel = std::fs::read(avm::runtime::kernel_elf_path().unwrap()).unwrap();
    let mut vm = Vm::boot(&kernel, Box::new(interp)).unwrap();
    let image = vm.image(&state, &token).unwrap();
    let init = image.metadata.method("init").unwrap();
    let input = init.call_data(&[
        Value::String("Tok".into()),
        Value::String("TKN".into()),
        Value::Uint(Type::U8, 18),
        Value::Uint(Type::U128, 1000),
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
    vm.execute(&mut state, &msg);
    hist.lock().unwrap().clear();
    let t = image.metadata.method("transfer").unwrap();
    let input = t.call_data(&[Value::Address([2; 20]), Value::Uint(Type::U128, 250)]);
    let msg = Message {
        caller: alice,
        target: token,
        value: 0,
        input,
        gas_limit: 10_000_000,
        block_number: 1,
        deploying: false,
        read_only: false,
    };
    let out = vm.execute(&mut state, &msg);
    println!("{:?} insns {}", out.status, out.instructions);
    let h = hist.lock().unwrap();
    let (mut k, mut u) = (0, 0);
    for ((user, _), n) in h.iter() {
        if *user {
            u += n
        } else {
            k += n
        }
    }
    println!("kernel {k} user {u}");
    let mut v: Vec<_> = h.iter().collect();
    v.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
    for ((user, pc), n) in v.iter().take(40) {
        println!("{} {:#010x} {}", if *user { "U" } else { "S" }, pc, n);
    }
}
