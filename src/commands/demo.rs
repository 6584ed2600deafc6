//! `avm demo`: the whole system in one command.
//!
//! On a fresh chain in a temporary data dir (a real redb store, a block per
//! transaction), the demo deploys two ERC-20 tokens, the DEX and the ECDSA
//! contract, moves tokens, approves the pool, adds liquidity, swaps both
//! ways, checks a secp256k1 signature (a valid one and a tampered one), sends
//! one transaction that must fail (a swap whose `minOut` cannot be met), and
//! removes liquidity. It prints every receipt as a table row and the totals:
//! gas, guest instructions, wall time and instructions per second.
//!
//! `--engine=both` runs the demo on the interpreter and on the JIT and
//! fails unless every receipt is identical; `--json` prints the receipts so
//! two runs can be compared with `diff` (only the timing fields differ).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use avm::chain::keys::{address_of, dev_key};
use avm::chain::Chain;
use avm::engine::EngineKind;
use avm_abi::types::Method;
use avm_state::k256::ecdsa::signature::hazmat::PrehashSigner;
use avm_state::k256::ecdsa::Signature;
use avm_state::{keccak256, to_hex, Receipt};
use serde_json::{json, Value as Json};

use super::names::{contract_path, Names, DEV_ACCOUNTS, DEV_BALANCE};
use super::node::Dev;
use super::render::receipt_json;
use super::values::{to_text, Input};
use super::{EngineChoice, Failure, Outcome, EXIT_FAILED_TX};

const GAS: u64 = 50_000_000;
const E18: u128 = 1_000_000_000_000_000_000;

/// One step of the demo: what it does, and its receipt.
struct Row {
    what: String,
    receipt: Receipt,
    json: Json,
    expect_success: bool,
}

fn s(v: impl ToString) -> Input {
    Input::Str(v.to_string())
}

/// Run the demo on the chosen engine(s).
pub fn run(engine: EngineChoice, json_out: bool, swaps: u32) -> Outcome {
    let mut runs = Vec::new();
    for kind in engine.engines() {
        runs.push((kind, run_once(kind, swaps, json_out)?));
    }
    if let [(a, ra), (b, rb)] = runs.as_slice() {
        for (x, y) in ra.0.iter().zip(&rb.0) {
            if x.json != y.json {
                return Err(Failure {
                    message: format!("the engines disagree on `{}`:\n{a}: {}\n{b}: {}", x.what, x.json, y.json),
                    status: EXIT_FAILED_TX,
                });
            }
        }
        if !json_out {
            println!("\nboth engines produced identical receipts ({} transactions)", ra.0.len());
        }
    }
    let unexpected: Vec<&Row> =
        runs.iter().flat_map(|(_, r)| &r.0).filter(|r| r.receipt.status.is_success() != r.expect_success).collect();
    if json_out {
        let list: Vec<Json> = runs
            .iter()
            .map(|(kind, (rows, wall))| {
                let gas: u64 = rows.iter().map(|r| r.receipt.gas_used).sum();
                let insns: u64 = rows.iter().map(|r| r.receipt.instructions).sum();
                json!({
                    "engine": kind.name(),
                    "receipts": rows.iter().map(|r| json!({"step": r.what, "receipt": r.json})).collect::<Vec<_>>(),
                    "totals": {
                        "transactions": rows.len().to_string(),
                        "gas_used": gas.to_string(),
                        "instructions": insns.to_string(),
                        "time_ms": wall.as_millis().to_string(),
                        "instructions_per_second": per_second(insns, *wall).to_string(),
                    },
                })
            })
            .collect();
        println!("{}", if list.len() == 1 { list[0].clone() } else { json!(list) });
    }
    match unexpected.first() {
        None => Ok(0),
        Some(r) => Err(Failure {
            message: format!("demo step `{}` ended with {}", r.what, r.receipt.status.as_str()),
            status: EXIT_FAILED_TX,
        }),
    }
}

fn per_second(n: u64, d: Duration) -> u64 {
    let us = d.as_micros().max(1);
    (u128::from(n) * 1_000_000 / us).min(u128::from(u64::MAX)) as u64
}

fn run_once(kind: EngineKind, swaps: u32, quiet: bool) -> Result<(Vec<Row>, Duration), Failure> {
    let dir = std::env::temp_dir().join(format!("avm-demo-{}-{}", std::process::id(), kind.name()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = demo_on(&dir, kind, swaps, quiet);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn demo_on(dir: &std::path::Path, kind: EngineKind, swaps: u32, quiet: bool) -> Result<(Vec<Row>, Duration), Failure> {
    let accounts: Vec<_> = DEV_ACCOUNTS.iter().map(|n| (address_of(&dev_key(n)), DEV_BALANCE)).collect();
    let chain = Chain::create(dir, kind, &accounts).map_err(|e| e.to_string())?;
    let names = Names::dev(&DEV_ACCOUNTS.iter().map(|n| n.to_string()).collect::<Vec<_>>());
    let mut dev = Dev { chain, names };
    if !quiet {
        println!("aVM demo on the {} engine, data dir {}\n", kind.name(), dir.display());
        println!("{:>3}  {:<44} {:<9} {:>10} {:>12}  returns", "#", "transaction", "status", "gas", "instructions");
    }
    let total_steps = 14 + swaps as usize;
    let progress = Progress::new(total_steps, !quiet && swaps > 20);
    let started = Instant::now();
    let mut rows = Vec::new();
    let elf = |name: &str| -> Result<Vec<u8>, Failure> {
        let path = contract_path(name)?;
        Ok(std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?)
    };

    // Contracts.
    let supply = s(1_000_000 * E18);
    let deploy = |dev: &mut Dev,
                  rows: &mut Vec<Row>,
                  what: &str,
                  contract: &str,
                  args: Vec<Input>,
                  alias: &str|
     -> Result<(), Failure> {
        let r = dev.deploy("alice", &elf(contract)?, &args, 0, GAS)?;
        if let Some(a) = r.contract_address {
            dev.add_alias(alias, a)?;
        }
        push(dev, rows, what, r, None, true, quiet, &progress);
        Ok(())
    };
    deploy(
        &mut dev,
        &mut rows,
        "deploy erc20 Token A (tka)",
        "erc20",
        vec![s("Token A"), s("TKA"), s(18), supply.clone()],
        "tka",
    )?;
    deploy(
        &mut dev,
        &mut rows,
        "deploy erc20 Token B (tkb)",
        "erc20",
        vec![s("Token B"), s("TKB"), s(18), supply],
        "tkb",
    )?;
    deploy(&mut dev, &mut rows, "deploy dex over tka/tkb", "dex", vec![s("tka"), s("tkb")], "dex")?;
    deploy(&mut dev, &mut rows, "deploy ecdsa", "ecdsa", vec![], "ecdsa")?;

    let call = |dev: &mut Dev,
                rows: &mut Vec<Row>,
                from: &str,
                target: &str,
                method: &str,
                args: Vec<Input>,
                ok: bool|
     -> Result<(), Failure> {
        let what = format!("{from}: {target}.{method}");
        let (r, m) = dev.call(from, target, method, &args, 0, GAS)?;
        push(dev, rows, &what, r, Some(&m), ok, quiet, &progress);
        Ok(())
    };
    call(&mut dev, &mut rows, "alice", "tka", "transfer", vec![s("bob"), s(10_000 * E18)], true)?;
    call(&mut dev, &mut rows, "alice", "tkb", "transfer", vec![s("bob"), s(10_000 * E18)], true)?;
    call(&mut dev, &mut rows, "alice", "tka", "approve", vec![s("dex"), s(u128::MAX)], true)?;
    call(&mut dev, &mut rows, "alice", "tkb", "approve", vec![s("dex"), s(u128::MAX)], true)?;
    call(&mut dev, &mut rows, "alice", "dex", "addLiquidity", vec![s(100_000 * E18), s(200_000 * E18)], true)?;
    call(&mut dev, &mut rows, "bob", "tka", "approve", vec![s("dex"), s(u128::MAX)], true)?;
    call(&mut dev, &mut rows, "bob", "tkb", "approve", vec![s("dex"), s(u128::MAX)], true)?;
    for i in 0..swaps {
        let (token, amount) = if i % 2 == 0 { ("tka", 10 + i as u128) } else { ("tkb", 20 + i as u128) };
        call(&mut dev, &mut rows, "bob", "dex", "swap", vec![s(token), s(amount * E18), s(1)], true)?;
    }
    // A signature by carol, checked by the contract; then a tampered one.
    let message = b"carol approves payment #42 of 100 TKA to bob".to_vec();
    let key = dev_key("carol");
    let sig: Signature = key.sign_prehash(&keccak256(&message)).map_err(|e| format!("signing failed: {e}"))?;
    let pubkey = key.verifying_key().to_encoded_point(true);
    let (msg_hex, sig_hex, key_hex) = (to_hex(&message), to_hex(&sig.to_bytes()), to_hex(pubkey.as_bytes()));
    call(&mut dev, &mut rows, "carol", "ecdsa", "verify", vec![s(&msg_hex), s(&sig_hex), s(&key_hex)], true)?;
    let mut tampered = message.clone();
    tampered[6] ^= 1;
    call(&mut dev, &mut rows, "carol", "ecdsa", "verify", vec![s(to_hex(&tampered)), s(&sig_hex), s(&key_hex)], true)?;
    // A transaction that must fail: minOut cannot be met.
    call(&mut dev, &mut rows, "bob", "dex", "swap", vec![s("tka"), s(E18), s(1_000 * E18)], false)?;
    let shares =
        dev.view("dex", "sharesOf", &[s("alice")]).ok().and_then(|(o, m)| m.returns.decode_all(&o.return_data).ok());
    let half = match shares {
        Some(avm_abi::types::Value::Uint(_, n)) => n / 2,
        _ => 1,
    };
    call(&mut dev, &mut rows, "alice", "dex", "removeLiquidity", vec![s(half)], true)?;
    let wall = started.elapsed();
    progress.finish();

    if !quiet {
        let gas: u64 = rows.iter().map(|r| r.receipt.gas_used).sum();
        let insns: u64 = rows.iter().map(|r| r.receipt.instructions).sum();
        println!(
            "\n{} transactions in {} blocks: {gas} gas, {insns} guest instructions, {:.3} s, {:.1} M instructions/s ({})",
            rows.len(),
            dev.chain.head.number,
            wall.as_secs_f64(),
            per_second(insns, wall) as f64 / 1e6,
            kind.name()
        );
    }
    Ok((rows, wall))
}

#[allow(clippy::too_many_arguments)]
fn push(
    dev: &mut Dev,
    rows: &mut Vec<Row>,
    what: &str,
    r: Receipt,
    m: Option<&Method>,
    expect_success: bool,
    quiet: bool,
    progress: &Progress,
) {
    let d = dev.decode(&r, m);
    let returns = match (&d.returns, r.status.reason()) {
        (_, Some(why)) => why.to_string(),
        (Some(v), None) => to_text(v, &|a| dev.names.name_of(a)),
        (None, None) => r.contract_address.map(|a| format!("contract {a}")).unwrap_or_default(),
    };
    let json = receipt_json(&r, &d);
    if !quiet {
        progress.clear();
        println!(
            "{:>3}  {:<44} {:<9} {:>10} {:>12}  {}",
            rows.len() + 1,
            truncate(what, 44),
            r.status.as_str(),
            r.gas_used,
            r.instructions,
            truncate(&returns, 48)
        );
    }
    rows.push(Row { what: what.to_string(), receipt: r, json, expect_success });
    progress.step(rows.len());
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// A progress bar on stderr, drawn only on a terminal.
struct Progress {
    total: usize,
    on: bool,
}

impl Progress {
    fn new(total: usize, wanted: bool) -> Progress {
        Progress { total, on: wanted && std::io::stderr().is_terminal() }
    }

    fn step(&self, done: usize) {
        if self.on {
            let width = 30;
            let filled = done * width / self.total.max(1);
            let _ = write!(
                std::io::stderr(),
                "\r[{}{}] {done}/{}",
                "#".repeat(filled),
                ".".repeat(width - filled.min(width)),
                self.total
            );
            let _ = std::io::stderr().flush();
        }
    }

    fn clear(&self) {
        if self.on {
            let _ = write!(std::io::stderr(), "\r{}\r", " ".repeat(50));
        }
    }

    fn finish(&self) {
        self.clear();
    }
}
