//! `diff_chain`: random transaction sequences against every bundled
//! contract, on every engine, in one block and split across blocks with the
//! store reopened in between.
//!
//! A case is a fixed *setup* block (two ERC-20 tokens, the DEX with
//! liquidity, the other example contracts and every hostile one, deployed
//! by `alice` and `carol`; tokens handed to `bob`; approvals for the DEX)
//! followed by transactions built from the input bytes ([`generate`]):
//! calls of any method of any deployed contract with arguments of the
//! method's ABI types (biased towards known addresses and small amounts, so
//! transfers and swaps often succeed), garbage call data, plain transfers,
//! deployments of bundled and of garbage code, and now and then a wrong
//! nonce, a wrong chain id or a damaged signature (left out of the block).
//! Gas limits run from a few hundred (intrinsic gas not covered) to a few
//! million (the hostile loop burns all of it).
//!
//! The oracle ([`check_diff_chain`]):
//! 1. the interpreter, the JIT at threshold 0 and the default JIT give the
//!    same result for every transaction (a receipt equal in every field, or
//!    the same validation error) and the same block headers (state root,
//!    receipts root, gas used);
//! 2. the same transactions cut into several blocks on a persistent chain,
//!    closed and reopened from its store between blocks, give the same
//!    receipts (but for block number and index) and the same final state
//!    root, and a reopened chain's state hashes to its head's state root.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use avm_abi::types::{Method, Type, Value};
use avm_state::k256::ecdsa::SigningKey;
use avm_state::{state_root, Address, BlockHeader, Receipt, SignedTransaction, State, Transaction, GAS_PRICE};

use super::{contract, syscall, EngineConfig, Source, TempDir, VmPool};
use crate::chain::keys::{address_of, dev_key};
use crate::chain::node::Included;
use crate::chain::{deploy_data, Chain, BLOCK_GAS_LIMIT, DEV_CHAIN_ID};
use crate::runtime::Vm;

/// Most transactions a case generates.
pub const MAX_TXS: usize = 24;
/// Largest gas limit a case gives a transaction.
pub const MAX_GAS: u64 = 3_000_000;

const E18: u128 = 1_000_000_000_000_000_000;

/// Who sends: four rich accounts and a poor one.
const SENDERS: [&str; 5] = ["alice", "bob", "carol", "dave", "eve"];

/// A contract deployed by the setup block.
#[derive(Clone, Debug)]
pub struct Deployed {
    /// Its bundled name (`erc20`, `hostile_loop`, ...).
    pub name: &'static str,
    /// Its address.
    pub address: Address,
}

/// The fixed start of every case.
pub struct Setup {
    /// Genesis balances.
    pub balances: Vec<(Address, u128)>,
    /// The setup block's transactions.
    pub txs: Vec<SignedTransaction>,
    /// What it deploys.
    pub contracts: Vec<Deployed>,
    /// Each sender's nonce after it.
    pub nonces: BTreeMap<Address, u64>,
}

/// Contracts the setup deploys besides the tokens and the DEX.
const OTHERS: [&str; 13] = [
    "simple",
    "storage",
    "multi_func",
    "call_program",
    "ecdsa",
    "hostile_loop",
    "hostile_memory",
    "hostile_pointers",
    "hostile_privileged",
    "hostile_recursion",
    "hostile_reentrancy",
    "hostile_peek",
    "hostile_syscall",
];

struct Builder {
    nonces: BTreeMap<Address, u64>,
    txs: Vec<SignedTransaction>,
}

impl Builder {
    fn push(&mut self, key: &SigningKey, to: Option<Address>, value: u128, data: Vec<u8>, gas_limit: u64) -> Address {
        let sender = address_of(key);
        let nonce = self.nonces.entry(sender).or_default();
        let created = Address::contract(&sender, *nonce);
        let tx = Transaction { chain_id: DEV_CHAIN_ID, nonce: *nonce, gas_limit, to, value, data };
        *nonce += 1;
        self.txs.push(tx.sign(key));
        created
    }

    fn deploy(&mut self, key: &SigningKey, name: &'static str, init: &[Value]) -> Deployed {
        let c = contract(name);
        let init = c.1.metadata.method("init").map(|m| m.call_data(init)).unwrap_or_default();
        Deployed { name, address: self.push(key, None, 0, deploy_data(&c.0, &init), 50_000_000) }
    }

    fn call(&mut self, key: &SigningKey, target: &Deployed, method: &str, args: &[Value]) {
        let data = method_of(target.name, method).call_data(args);
        self.push(key, Some(target.address), 0, data, 5_000_000);
    }
}

fn method_of(name: &str, method: &str) -> Method {
    contract(name).1.metadata.method(method).unwrap_or_else(|| panic!("{name} has no {method}")).clone()
}

fn u128v(n: u128) -> Value {
    Value::Uint(Type::U128, n)
}

/// The setup, built (and signed) once per process.
pub fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let keys: Vec<SigningKey> = SENDERS.iter().map(|n| dev_key(n)).collect();
        let balances = keys
            .iter()
            .zip(SENDERS)
            .map(|(k, n)| (address_of(k), if n == "eve" { 200_000 } else { 1_000_000 * E18 }))
            .collect();
        let (alice, bob, carol) = (&keys[0], &keys[1], &keys[2]);
        let mut b = Builder { nonces: BTreeMap::new(), txs: Vec::new() };
        let token = |s: &str| {
            [Value::String(s.into()), Value::String(s.into()), Value::Uint(Type::U8, 18), u128v(1_000_000 * E18)]
        };
        let tka = b.deploy(alice, "erc20", &token("A"));
        let tkb = b.deploy(alice, "erc20", &token("B"));
        let dex = b.deploy(alice, "dex", &[Value::Address(tka.address.0), Value::Address(tkb.address.0)]);
        let mut contracts = vec![tka.clone(), tkb.clone(), dex.clone()];
        for name in OTHERS {
            let who = if name.starts_with("hostile") { carol } else { alice };
            contracts.push(b.deploy(who, name, &[]));
        }
        for t in [&tka, &tkb] {
            b.call(alice, t, "transfer", &[Value::Address(address_of(bob).0), u128v(100_000 * E18)]);
            for k in [alice, bob] {
                b.call(k, t, "approve", &[Value::Address(dex.address.0), u128v(u128::MAX)]);
            }
        }
        b.call(alice, &dex, "addLiquidity", &[u128v(100_000 * E18), u128v(300_000 * E18)]);
        Setup { balances, txs: b.txs, contracts, nonces: b.nonces }
    })
}

/// The generated part of a case.
pub struct Case {
    /// The transactions, in order.
    pub txs: Vec<SignedTransaction>,
    /// One line per transaction, for failure reports.
    pub notes: Vec<String>,
    /// Transactions whose return data may depend on the block number
    /// (`multi_func.whoami`): compared across engines, not across splits.
    pub block_dependent: Vec<bool>,
    /// Where the split run cuts the sequence into blocks (sorted indices).
    pub cuts: Vec<usize>,
    /// The engine of the split run.
    pub split_engine: EngineConfig,
}

/// Build a case from fuzz input.
pub fn generate(data: &[u8]) -> Case {
    let setup = setup();
    let mut src = Source::new(data);
    let keys: Vec<SigningKey> = SENDERS.iter().map(|n| dev_key(n)).collect();
    let mut nonces = setup.nonces.clone();
    let mut known: Vec<Address> = keys.iter().map(address_of).collect();
    known.extend(setup.contracts.iter().map(|c| c.address));
    let split_engine = *src.pick(&EngineConfig::ALL);
    let mut case =
        Case { txs: Vec::new(), notes: Vec::new(), block_dependent: Vec::new(), cuts: Vec::new(), split_engine };
    while !src.is_empty() && case.txs.len() < MAX_TXS {
        let who = src.below(SENDERS.len());
        let key = &keys[who];
        let sender = address_of(key);
        let gas_limit = gas(&mut src);
        let mut note = format!("{} gas {gas_limit}: ", SENDERS[who]);
        let mut block_dependent = false;
        let (to, value, data) = match src.u8() % 16 {
            0..=8 | 14 => {
                let target = src.pick(&setup.contracts).clone();
                let methods = &contract(target.name).1.metadata.methods;
                let m = src.pick(methods).clone();
                let args: Vec<Value> = if target.name == "hostile_syscall" {
                    vec![Value::Bytes(Type::Bytes, syscall::script(&mut src, false))]
                } else {
                    m.args.iter().map(|(_, t)| value_of(t, &mut src, &known)).collect()
                };
                block_dependent = m.name == "whoami";
                let value = if src.u8() < 16 { src.u128() >> src.below(128) } else { 0 };
                let _ = write!(note, "{}.{}{args:?} value {value}", target.name, m.name);
                (Some(target.address), value, m.call_data(&args))
            }
            9 => {
                let target = src.pick(&setup.contracts).clone();
                let mut data = src.pick(&contract(target.name).1.metadata.methods).selector.to_vec();
                data.extend(src.bytes(64));
                if src.u8() & 1 == 0 {
                    data.truncate(src.below(data.len() + 1));
                }
                let _ = write!(note, "{} raw call data {}", target.name, avm_state::to_hex(&data));
                (Some(target.address), 0, data)
            }
            10 | 15 => {
                let to = if src.u8() < 200 { *src.pick(&known) } else { Address(src.array()) };
                let value = src.u128() >> src.below(128);
                let data = if src.u8() < 32 { src.bytes(32) } else { Vec::new() };
                let _ = write!(note, "send {value} to {to} data {}", avm_state::to_hex(&data));
                (Some(to), value, data)
            }
            11 => {
                let name = *src.pick(&["simple", "storage", "multi_func", "hostile_loop", "hostile_syscall", "erc20"]);
                let c = contract(name);
                let init = match c.1.metadata.method("init") {
                    Some(m) => {
                        m.call_data(&m.args.iter().map(|(_, t)| value_of(t, &mut src, &known)).collect::<Vec<_>>())
                    }
                    None => src.bytes(16),
                };
                let _ = write!(note, "deploy {name} init {}", avm_state::to_hex(&init));
                (None, 0, deploy_data(&c.0, &init))
            }
            12 => {
                // Broken code: garbage, or a bundled ELF cut short or damaged.
                let c = contract(src.pick::<&str>(&["simple", "storage"]));
                let mut elf = c.0.clone();
                let how = src.u8() % 3;
                match how {
                    0 => elf = src.bytes(128),
                    1 => elf.truncate(src.below(elf.len())),
                    _ => {
                        for _ in 0..1 + src.below(8) {
                            let i = src.below(elf.len().min(4096));
                            elf[i] = src.u8();
                        }
                    }
                }
                let _ = write!(note, "deploy broken code ({how}, {} bytes)", elf.len());
                (None, 0, deploy_data(&elf, &[]))
            }
            _ => {
                let to = Address(src.array());
                let data = src.bytes(64);
                let _ = write!(note, "call of {to} (no code) data {}", avm_state::to_hex(&data));
                (Some(to), 0, data)
            }
        };
        // Now and then an invalid transaction: the block leaves it out.
        let nonce = nonces.entry(sender).or_default();
        let mut tx = Transaction { chain_id: DEV_CHAIN_ID, nonce: *nonce, gas_limit, to, value, data };
        let flaw = src.u8();
        match flaw {
            0 => tx.nonce = tx.nonce.wrapping_add(1),
            1 => tx.nonce = tx.nonce.wrapping_sub(1),
            2 => tx.chain_id ^= 1,
            _ => {}
        }
        let mut stx = tx.sign(key);
        if flaw == 3 {
            let i = src.below(64);
            stx.signature[i] ^= src.u8() | 1;
        }
        if flaw > 3 {
            // Valid as far as the sender's nonce goes (it may still lack the
            // balance; then the tracker is one ahead and later ones fail too).
            *nonce += 1;
        }
        let _ = write!(note, " [nonce {}{}]", stx.tx.nonce, if flaw <= 3 { ", flawed" } else { "" });
        case.txs.push(stx);
        case.notes.push(note);
        case.block_dependent.push(block_dependent);
    }
    let n = case.txs.len();
    for _ in 0..src.below(4) {
        case.cuts.push(src.below(n + 1));
    }
    case.cuts.sort_unstable();
    case
}

fn gas(src: &mut Source<'_>) -> u64 {
    match src.u8() {
        0..=15 => u64::from(src.u32() % 30_000),
        16..=199 => 100_000 + u64::from(src.u32()) % 1_000_000,
        _ => 1_000_000 + u64::from(src.u32()) % (MAX_GAS - 1_000_000),
    }
}

/// A value of `ty`, biased towards what makes a call succeed.
pub fn value_of(ty: &Type, src: &mut Source<'_>, known: &[Address]) -> Value {
    match ty {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::U128 => {
            let max = ty.max_uint().unwrap_or(u128::MAX);
            let v = match src.u8() % 8 {
                0 => 0,
                1 => 1,
                2 => max,
                3..=5 => u128::from(src.u8()),
                6 => u128::from(src.u32()) * E18 / 1000,
                _ => src.u128(),
            };
            Value::Uint(ty.clone(), v & max)
        }
        Type::Bool => Value::Bool(src.u8() & 1 == 1),
        Type::Address => Value::Address(if src.u8() < 224 { src.pick(known).0 } else { src.array() }),
        Type::Bytes => Value::Bytes(Type::Bytes, src.bytes(96)),
        Type::String => Value::String(src.bytes(24).iter().map(|b| char::from(b'a' + b % 26)).collect()),
        Type::FixedBytes(n) => Value::Bytes(ty.clone(), (0..*n).map(|_| src.u8()).collect()),
        Type::Tuple(ts) => Value::Tuple(ts.iter().map(|t| value_of(t, src, known)).collect()),
    }
}

/// A chain in memory on `vm`, with the setup's genesis.
pub(crate) fn in_memory(vm: Vm, balances: &[(Address, u128)]) -> Chain {
    let mut state = State::new();
    for (a, b) in balances {
        state.set_balance(a, *b);
    }
    let head = BlockHeader::genesis(state.root(), BLOCK_GAS_LIMIT);
    Chain { state, vm, store: None, head, chain_id: DEV_CHAIN_ID, gas_price: GAS_PRICE }
}

/// What one run produced.
struct Run {
    headers: Vec<BlockHeader>,
    results: Vec<Included>,
}

/// The chain right after the setup block, on one engine configuration.
#[derive(Clone)]
struct AfterSetup {
    state: State,
    head: BlockHeader,
}

thread_local! {
    /// [`AfterSetup`] per configuration. The setup block runs for real once
    /// per process and configuration (so the first case still compares its
    /// receipts and header between engines); every later case starts from a
    /// copy of the state it left, which is what the chain would hold.
    static AFTER_SETUP: std::cell::RefCell<Vec<(EngineConfig, AfterSetup)>> = const { std::cell::RefCell::new(Vec::new()) };
    /// A store holding the genesis and setup blocks, copied for each split run.
    static SETUP_STORE: std::cell::RefCell<Option<TempDir>> = const { std::cell::RefCell::new(None) };
}

/// Run the setup block on `chain` (fresh, on `config`'s VM), or start it
/// from the state a previous run left.
fn set_up(chain: &mut Chain, config: EngineConfig) -> Result<BlockHeader, String> {
    if let Some(after) = AFTER_SETUP.with(|a| a.borrow().iter().find(|(c, _)| *c == config).map(|(_, a)| a.clone())) {
        chain.state = after.state;
        chain.head = after.head.clone();
        return Ok(after.head);
    }
    let (h, setup_results) = chain.produce_block(setup().txs.clone()).map_err(|e| format!("{config:?}: {e}"))?;
    if let Some((i, r)) =
        setup_results.iter().enumerate().find(|(_, r)| !r.as_ref().is_ok_and(|r| r.status.is_success()))
    {
        return Err(format!("{config:?}: setup transaction {i} failed: {r:?}"));
    }
    let after = AfterSetup { state: chain.state.clone(), head: h.clone() };
    AFTER_SETUP.with(|a| a.borrow_mut().push((config, after)));
    Ok(h)
}

fn run_in_memory(config: EngineConfig, case: &Case) -> Result<Run, String> {
    let setup = setup();
    let pool = VmPool::global();
    let mut chain = in_memory(pool.take(config), &setup.balances);
    let mut headers = vec![set_up(&mut chain, config)?];
    let result = chain.produce_block(case.txs.clone()).map_err(|e| format!("{config:?}: {e}"));
    pool.give(config, chain.vm);
    let (h, results) = result?;
    headers.push(h);
    Ok(Run { headers, results })
}

/// A data dir holding the genesis and setup blocks: made once per process
/// (on the interpreter), then copied.
fn setup_store(dir: &TempDir, vm: Vm) -> Result<Vm, String> {
    let file = |d: &TempDir| d.0.join(avm_state::DB_FILE);
    let made = SETUP_STORE.with(|s| s.borrow().as_ref().map(file));
    if let Some(template) = made {
        std::fs::copy(&template, file(dir)).map_err(|e| format!("copy the setup store: {e}"))?;
        return Ok(vm);
    }
    let template = TempDir::new("setup-store");
    let mut chain = Chain::create_with(&template.0, vm, &setup().balances).map_err(|e| format!("create: {e}"))?;
    chain.produce_block(setup().txs.clone()).map_err(|e| format!("setup block: {e}"))?;
    let Chain { vm, store, .. } = chain;
    drop(store);
    std::fs::copy(file(&template), file(dir)).map_err(|e| format!("copy the setup store: {e}"))?;
    SETUP_STORE.with(|s| *s.borrow_mut() = Some(template));
    Ok(vm)
}

fn run_split(case: &Case) -> Result<(Vec<Included>, [u8; 32]), String> {
    let config = case.split_engine;
    let pool = VmPool::global();
    let dir = TempDir::new("chain");
    let mut vm = setup_store(&dir, pool.take(config))?;
    let mut results = Vec::new();
    let mut start = 0;
    let mut head: Option<BlockHeader> = None;
    for end in case.cuts.iter().copied().chain([case.txs.len()]) {
        // Open the store (again): the head, and the state it commits to,
        // must come back exactly.
        let mut chain = Chain::open_with(&dir.0, vm).map_err(|e| format!("reopen: {e}"))?;
        if head.as_ref().is_some_and(|h| *h != chain.head) {
            return Err(format!("the reopened head differs:\n{head:?}\n{:?}", chain.head));
        }
        if state_root(&chain.state) != chain.head.state_root {
            return Err(format!("the reopened state does not hash to block {}'s state root", chain.head.number));
        }
        let block = chain.produce_block(case.txs[start..end].to_vec()).map_err(|e| format!("block: {e}"));
        let Chain { vm: kept, store, head: new_head, .. } = chain;
        drop(store);
        vm = kept;
        results.extend(block?.1);
        head = Some(new_head);
        start = end;
    }
    pool.give(config, vm);
    let root = head.map(|h| h.state_root).ok_or("no block was made")?;
    Ok((results, root))
}

/// Receipt fields that do not depend on where the transaction sits.
fn placeless(r: &Receipt, block_dependent: bool) -> Receipt {
    let mut r = r.clone();
    r.block = 0;
    r.index = 0;
    if block_dependent {
        r.return_data.clear();
    }
    r
}

fn describe(case: &Case, i: usize) -> String {
    format!("transaction {i} ({})", case.notes.get(i).map_or("?", String::as_str))
}

fn all_notes(case: &Case) -> String {
    case.notes.iter().enumerate().map(|(i, n)| format!("  {i}: {n}\n")).collect()
}

/// Run the oracle on fuzz input; `Err` describes the divergence.
pub fn check_diff_chain(data: &[u8]) -> Result<(), String> {
    run_diff_chain(data).map(|_| ())
}

/// [`check_diff_chain`], returning the (agreed) results of the generated
/// transactions, so tests can see what the cases exercise.
pub fn run_diff_chain(data: &[u8]) -> Result<Vec<Included>, String> {
    let case = generate(data);
    check_case(&case).map_err(|e| {
        format!("{e}\ncuts {:?}, split engine {:?}\ntransactions:\n{}", case.cuts, case.split_engine, all_notes(&case))
    })
}

fn check_case(case: &Case) -> Result<Vec<Included>, String> {
    let reference = run_in_memory(EngineConfig::Interp, case)?;
    for config in [EngineConfig::JitEager, EngineConfig::Jit] {
        let run = run_in_memory(config, case)?;
        for (i, (a, b)) in reference.results.iter().zip(&run.results).enumerate() {
            if a != b {
                return Err(format!(
                    "{}: interp and {config:?} differ\ninterp: {a:?}\n{config:?}: {b:?}",
                    describe(case, i)
                ));
            }
        }
        if reference.headers != run.headers {
            return Err(format!(
                "block headers differ: interp and {config:?}\n{:?}\n{:?}",
                reference.headers, run.headers
            ));
        }
    }
    let (split, root) = run_split(case)?;
    for (i, (a, b)) in reference.results.iter().zip(&split).enumerate() {
        let dep = case.block_dependent[i];
        let same = match (a, b) {
            (Ok(a), Ok(b)) => placeless(a, dep) == placeless(b, dep),
            (a, b) => a == b,
        };
        if !same {
            return Err(format!("{}: one block and split blocks differ\none: {a:?}\nsplit: {b:?}", describe(case, i)));
        }
    }
    if root != reference.headers[1].state_root {
        return Err("the split run ends in another state root".into());
    }
    Ok(reference.results)
}
