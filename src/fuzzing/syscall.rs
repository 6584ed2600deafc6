//! `syscall`: a contract makes raw syscalls with numbers, pointers and
//! lengths from the input (the `hostile_syscall` contract runs a *script* of
//! 24-byte records: number, flags, `a0..a3`; see its source). Pointers are
//! relative to a scratch buffer on the contract's stack (so many of them are
//! valid and the call really reaches the host), or wild: null, the kernel,
//! unmapped pages, the code, lengths that wrap around.
//!
//! The oracle ([`check_syscall`]): on the interpreter and on the JIT at
//! threshold 0, the script's transaction is included with a receipt that is
//! not a kernel fault (`kernel: ...`), a plain call after it still succeeds
//! (the kernel survived), and both engines agree on every receipt and on
//! the block header.

use avm_abi::layout;
use avm_abi::syscall as sc;
use avm_abi::types::{Type, Value};

use std::sync::OnceLock;

use super::chain::in_memory;
use super::{contract, EngineConfig, Source, VmPool};
use crate::chain::keys::address_of;
use crate::chain::keys::dev_key;
use crate::chain::node::Included;
use crate::chain::{deploy_data, DEV_CHAIN_ID};
use avm_state::{Address, BlockHeader, SignedTransaction, Transaction};

/// Most records in a script.
pub const MAX_RECORDS: usize = 12;

/// Addresses worth trying as absolute pointers.
const WILD: [u32; 10] = [
    0,
    4,
    layout::USER_CODE_START,
    layout::HEAP_START,
    layout::HEAP_START + layout::HEAP_MAX - 4,
    layout::STACK_BOTTOM - 4,
    layout::STACK_TOP - 16,
    layout::RAM_BASE,
    0xffff_f000,
    0xffff_fffc,
];

/// Lengths worth trying.
const LENGTHS: [u32; 10] = [0, 1, 4, 16, 20, 32, 4096, layout::MAX_KEY + 1, layout::MAX_VALUE + 1, 0xffff_ffff];

fn word(src: &mut Source<'_>, pointer: bool) -> (u32, bool) {
    match src.u8() % 8 {
        0..=3 if pointer => (u32::from(src.u16()) % 4096, true),
        0..=2 => (u32::from(src.u8()), false),
        3 | 4 => (*src.pick(&LENGTHS), false),
        5 => (*src.pick(&WILD), false),
        6 => (u32::from(src.u16()) % 4096, true),
        _ => (src.u32(), false),
    }
}

/// A script for `hostile_syscall.run` from fuzz input. With `context` false
/// it never asks for `CONTEXT` (whose record holds the block number, which a
/// split run changes).
pub fn script(src: &mut Source<'_>, context: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..1 + src.below(MAX_RECORDS) {
        let mut number = match src.u8() {
            0..=239 => u32::from(src.u8() % 15),
            _ => src.u32(),
        };
        if number == sc::CONTEXT && !context {
            number = sc::INPUT_LEN;
        }
        // Which registers hold pointers for this syscall.
        let pointers: Vec<u8> = sc::buffers(number).map(|b| b.iter().map(|b| b.ptr).collect()).unwrap_or_default();
        let mut flags = 0u32;
        let mut args = [0u32; 4];
        for (i, a) in args.iter_mut().enumerate() {
            let (v, relative) = word(src, pointers.contains(&(i as u8)));
            *a = v;
            if relative {
                flags |= 1 << i;
            }
        }
        out.extend_from_slice(&number.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        for a in args {
            out.extend_from_slice(&a.to_le_bytes());
        }
    }
    out
}

/// The start of every case: `dave` deploys `hostile_syscall` and `storage`
/// (a smaller setup than [`super::chain::setup`], so cases run fast).
struct SmallSetup {
    balances: Vec<(Address, u128)>,
    txs: Vec<SignedTransaction>,
    target: Address,
    storage: Address,
}

fn small_setup() -> &'static SmallSetup {
    static SETUP: OnceLock<SmallSetup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let key = dev_key("dave");
        let dave = address_of(&key);
        let deploy = |nonce: u64, name: &str| {
            let code = contract(name);
            let data = deploy_data(&code.0, &[]);
            Transaction { chain_id: DEV_CHAIN_ID, nonce, gas_limit: 50_000_000, to: None, value: 0, data }.sign(&key)
        };
        SmallSetup {
            balances: vec![(dave, 1u128 << 100)],
            txs: vec![deploy(0, "hostile_syscall"), deploy(1, "storage")],
            target: Address::contract(&dave, 0),
            storage: Address::contract(&dave, 1),
        }
    })
}

/// Run the oracle on fuzz input; `Err` says what went wrong.
pub fn check_syscall(data: &[u8]) -> Result<(), String> {
    run_syscall(data).map(|_| ())
}

/// [`check_syscall`], returning how the script's call ended (the same on
/// both engines), so tests can see what the scripts reach.
pub fn run_syscall(data: &[u8]) -> Result<avm_state::Status, String> {
    let mut src = Source::new(data);
    let gas_limit = 20_000 + u64::from(src.u32()) % 3_000_000;
    let script = script(&mut src, true);
    let setup = small_setup();
    let run = contract("hostile_syscall").1.metadata.method("run").expect("hostile_syscall.run").clone();
    let set = contract("storage").1.metadata.method("set").expect("storage.set").clone();
    let key = dev_key("dave");
    let tx = |nonce: u64, to, data, gas_limit| {
        Transaction { chain_id: DEV_CHAIN_ID, nonce, gas_limit, to: Some(to), value: 0, data }.sign(&key)
    };
    let txs = vec![
        tx(2, setup.target, run.call_data(&[Value::Bytes(Type::Bytes, script.clone())]), gas_limit),
        tx(3, setup.storage, set.call_data(&[Value::Uint(Type::U64, 7)]), 1_000_000),
    ];
    let explain = |e: String| format!("{e}\nscript {} gas {gas_limit}", avm_state::to_hex(&script));
    let mut first: Option<(Vec<BlockHeader>, Vec<Included>)> = None;
    for config in [EngineConfig::Interp, EngineConfig::JitEager] {
        let pool = VmPool::global();
        let mut chain = in_memory(pool.take(config), &setup.balances);
        let (h0, _) = chain.produce_block(setup.txs.clone()).map_err(|e| e.to_string())?;
        let (h1, results) = chain.produce_block(txs.clone()).map_err(|e| e.to_string())?;
        pool.give(config, chain.vm);
        match &results[0] {
            Ok(r) => {
                if let avm_state::Status::Fault(why) = &r.status {
                    if why.starts_with("kernel") {
                        return Err(explain(format!("{config:?}: the kernel crashed: {why}")));
                    }
                }
            }
            Err(e) => return Err(explain(format!("{config:?}: the call was not included: {e}"))),
        }
        if !matches!(&results[1], Ok(r) if r.status.is_success()) {
            return Err(explain(format!("{config:?}: a plain call after the script failed: {:?}", results[1])));
        }
        let got = (vec![h0, h1], results);
        match &first {
            None => first = Some(got),
            Some(want) if *want != got => {
                return Err(explain(format!("interp and {config:?} differ:\n{:?}\n{:?}", want.1, got.1)))
            }
            Some(_) => {}
        }
    }
    match first.map(|f| f.1.into_iter().next()) {
        Some(Some(Ok(r))) => Ok(r.status),
        _ => Err("no receipt".into()),
    }
}
