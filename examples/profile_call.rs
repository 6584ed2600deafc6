//! Where a contract call's instructions go: the hottest guest addresses of
//! an ERC-20 `transfer` (kernel `S` and contract `U`), for tuning the kernel
//! and the SDK. Resolve addresses with `addr2line -f -e <ELF>`.
//! `cargo run --release --example profile_call`
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use avm::chain::bundled::{contract_elf, install};
use avm::runtime::{kernel_elf_path, Message, Vm};
use avm_abi::types::{Type, Value};
use avm_abi::Address;
use avm_interp::Tracer;
use avm_isa::Decoded;
use avm_mmu::{Machine, Privilege};
use avm_state::State;

/// Instructions executed per (user mode?, pc).
type Histogram = Arc<Mutex<BTreeMap<(bool, u32), u64>>>;

struct Hist(Histogram);

impl Tracer for Hist {
    fn before(&mut self, m: &Machine, pc: u32, _: &Decoded) {
        if let Ok(mut h) = self.0.lock() {
            *h.entry((m.hart.privilege == Privilege::User, pc)).or_default() += 1;
        }
    }
}

fn main() -> Result<(), String> {
    let (alice, token) = (Address([1; 20]), Address([9; 20]));
    let hist: Histogram = Arc::default();
    let mut interp = avm_interp::Interpreter::new();
    interp.set_tracer(Some(Box::new(Hist(hist.clone()))));
    let kernel = std::fs::read(kernel_elf_path().ok_or("no kernel")?).map_err(|e| e.to_string())?;
    let mut vm = Vm::boot(&kernel, Box::new(interp)).map_err(|e| e.to_string())?;
    let mut state = State::new();
    let init = [
        Value::String("Tok".into()),
        Value::String("TKN".into()),
        Value::Uint(Type::U8, 18),
        Value::Uint(Type::U128, 1000),
    ];
    let meta = install(&mut vm, &mut state, alice, token, contract_elf("erc20")?, &init)?;
    hist.lock().map_err(|e| e.to_string())?.clear();
    let transfer = meta.method("transfer").ok_or("erc20 has transfer")?;
    let out = vm.execute(
        &mut state,
        &Message::call(alice, token, transfer.call_data(&[Value::Address([2; 20]), Value::Uint(Type::U128, 250)])),
    );
    println!("{:?}: {} instructions", out.status, out.instructions);
    let h = hist.lock().map_err(|e| e.to_string())?;
    let user: u64 = h.iter().filter(|((u, _), _)| *u).map(|(_, n)| n).sum();
    let all: u64 = h.values().sum();
    println!("kernel {} user {user}", all - user);
    let mut rows: Vec<_> = h.iter().collect();
    rows.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
    for ((user, pc), n) in rows.iter().take(40) {
        println!("{} {pc:#010x} {n}", if *user { "U" } else { "S" });
    }
    Ok(())
}
