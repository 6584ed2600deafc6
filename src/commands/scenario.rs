//! `avm test`: declarative scenarios for contract authors.
//!
//! A scenario file (TOML) names funded accounts and lists steps; each step
//! deploys, calls, views, sends or reads a balance on a fresh in-memory
//! chain, and its `expect` table says what must happen. The format is
//! documented in `docs/scenarios.md`:
//!
//! ```toml
//! [accounts]
//! alice = "1000000000"
//! [[step]]
//! deploy = "erc20"
//! from = "alice"
//! args = ["Token", "TKN", 18, "1000000"]
//! as = "token"
//! expect = { status = "success" }
//! ```
//!
//! Files are read strictly: an unknown key, a step with no action or two,
//! a field the action does not use, or an argument that does not fit the
//! method's ABI type is an error naming the file and the step (exit 2).
//! Otherwise every step runs, every expectation is checked, and the exit
//! status is 0 iff all of them hold (else 1).
//!
//! With `--engine=both` each file runs once per engine, and the runs are
//! compared step by step (receipts, return data, logs, gas, instructions)
//! and by the final state root: the first difference fails the file.

use std::path::{Path, PathBuf};

use avm::engine::EngineKind;
use avm::runtime::{ExecOutcome, ExecStatus};
use avm_abi::types::{Type, Value};
use avm_state::{Address, Receipt, Status};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::names::{bundled_contracts, check_name};
use super::node::Dev;
use super::render::Decoded;
use super::values::{matches, parse_args, parse_uint, to_json, to_text, Input};
use super::{EngineChoice, Outcome, EXIT_BAD_INPUT, EXIT_FAILED_TX};

/// Gas limit of a deploy or call step without `gas_limit`.
pub const DEFAULT_GAS_LIMIT: u64 = super::txs::DEFAULT_GAS_LIMIT;

// ---------------------------------------------------------------------------
// The file format, as serde reads it.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    deploy: Option<String>,
    call: Option<String>,
    view: Option<String>,
    send: Option<String>,
    balance: Option<String>,
    from: Option<String>,
    args: Option<Vec<toml::Value>>,
    value: Option<toml::Value>,
    gas_limit: Option<u64>,
    #[serde(rename = "as")]
    alias: Option<String>,
    expect: Option<RawExpect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    status: Option<String>,
    returns: Option<toml::Value>,
    events: Option<Vec<Vec<toml::Value>>>,
    revert: Option<String>,
    equals: Option<toml::Value>,
    gas_used: Option<u64>,
}

// ---------------------------------------------------------------------------
// A checked scenario.

/// What a step does.
enum Action {
    Deploy { path: PathBuf, shown: String },
    Call { target: String, method: String },
    View { target: String, method: String },
    Send { to: String },
    Balance { who: String },
}

/// One step, checked.
struct Step {
    action: Action,
    from: Option<String>,
    args: Vec<Input>,
    value: u128,
    gas_limit: Option<u64>,
    alias: Option<String>,
    expect: Expect,
}

/// The expected status of a step.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    Success,
    Revert,
    OutOfGas,
    Fault,
    /// Any failure (a `revert` substring without a `status`).
    Failure,
}

impl Want {
    fn text(self) -> &'static str {
        match self {
            Want::Success => "success",
            Want::Revert => "revert",
            Want::OutOfGas => "out-of-gas",
            Want::Fault => "fault",
            Want::Failure => "failure",
        }
    }

    fn holds(self, status: &str) -> bool {
        match self {
            Want::Failure => status != "success",
            w => w.text() == status,
        }
    }
}

/// An `expect` table, checked.
#[derive(Default)]
struct Expect {
    status: Option<Want>,
    returns: Option<Input>,
    events: Option<Vec<(String, Vec<Input>)>>,
    revert: Option<String>,
    equals: Option<Input>,
    gas_used: Option<u64>,
}

/// A scenario file, checked.
struct Scenario {
    file: String,
    accounts: Vec<(String, u128)>,
    steps: Vec<Step>,
}

/// An error in a file, with the step it is in.
struct FileError {
    file: String,
    step: Option<usize>,
    message: String,
}

impl FileError {
    fn text(&self) -> String {
        match self.step {
            Some(n) => format!("{}: step {n}: {}", self.file, self.message),
            None => format!("{}: {}", self.file, self.message),
        }
    }
}

fn input(v: &toml::Value) -> Result<Input, String> {
    Input::from_toml(v)
}

fn amount(v: &toml::Value, what: &str) -> Result<u128, String> {
    match v {
        toml::Value::Integer(i) => u128::try_from(*i).map_err(|_| format!("{what} {i} is negative")),
        toml::Value::String(s) => {
            parse_uint(s).ok_or_else(|| format!("{what} `{s}` is not a decimal or 0x hex integer"))
        }
        other => Err(format!("{what} must be an integer or a string, not `{other}`")),
    }
}

/// Read and check a scenario file.
fn load(path: &Path) -> Result<Scenario, FileError> {
    let file = path.display().to_string();
    let err = |step: Option<usize>, message: String| FileError { file: file.clone(), step, message };
    let text = std::fs::read_to_string(path).map_err(|e| err(None, format!("cannot read: {e}")))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| err(None, format!("not valid TOML: {}", e.to_string().trim_end())))?;
    if let Some(k) = table.keys().find(|k| *k != "accounts" && *k != "step") {
        return Err(err(None, format!("unknown key `{k}` (a scenario has `[accounts]` and `[[step]]`s)")));
    }
    let mut accounts = Vec::new();
    match table.get("accounts") {
        None => {}
        Some(toml::Value::Table(t)) => {
            for (name, v) in t {
                check_name(name).map_err(|e| err(None, format!("[accounts]: {e}")))?;
                let b = amount(v, &format!("the balance of `{name}`"))
                    .map_err(|e| err(None, format!("[accounts]: {e}")))?;
                accounts.push((name.clone(), b));
            }
        }
        Some(_) => return Err(err(None, "`accounts` must be a table of name = balance".into())),
    }
    let raw_steps = match table.get("step") {
        None => Vec::new(),
        Some(toml::Value::Array(a)) => a.clone(),
        Some(_) => return Err(err(None, "`step` must be an array of tables (`[[step]]`)".into())),
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut steps = Vec::new();
    for (i, v) in raw_steps.into_iter().enumerate() {
        let n = i + 1;
        let raw: RawStep =
            v.try_into().map_err(|e: toml::de::Error| err(Some(n), e.message().trim_end().to_string()))?;
        steps.push(check_step(raw, base, &accounts).map_err(|e| err(Some(n), e))?);
    }
    Ok(Scenario { file, accounts, steps })
}

fn split_target(s: &str, kind: &str) -> Result<(String, String), String> {
    match s.rsplit_once('.') {
        Some((t, m)) if !t.is_empty() && !m.is_empty() => Ok((t.to_string(), m.to_string())),
        _ => Err(format!("`{kind} = \"{s}\"` must be \"alias.method\"")),
    }
}

/// The ELF a `deploy` names: a bundled contract, or a path relative to the file.
fn deploy_path(name: &str, base: &Path) -> Result<PathBuf, String> {
    if !name.contains('/') && !name.contains('\\') {
        if let Some(dir) = avm::guest_dir() {
            let bundled = Path::new(dir).join(format!("contract-{name}"));
            if bundled.is_file() {
                return Ok(bundled);
            }
        }
    }
    let rel = base.join(name);
    if rel.is_file() {
        return Ok(rel);
    }
    Err(format!(
        "`{name}` is neither a bundled contract ({}) nor an ELF file relative to the scenario ({})",
        bundled_contracts().join(", "),
        rel.display()
    ))
}

fn check_step(raw: RawStep, base: &Path, accounts: &[(String, u128)]) -> Result<Step, String> {
    let kinds: Vec<&str> = [
        ("deploy", raw.deploy.is_some()),
        ("call", raw.call.is_some()),
        ("view", raw.view.is_some()),
        ("send", raw.send.is_some()),
        ("balance", raw.balance.is_some()),
    ]
    .iter()
    .filter(|(_, set)| *set)
    .map(|(k, _)| *k)
    .collect();
    if kinds.len() != 1 {
        return Err(format!(
            "a step needs exactly one of `deploy`, `call`, `view`, `send`, `balance` (found {})",
            if kinds.is_empty() { "none".to_string() } else { kinds.join(", ") }
        ));
    }
    let kind = kinds[0];
    let action = match kind {
        "deploy" => {
            let name = raw.deploy.unwrap_or_default();
            Action::Deploy { path: deploy_path(&name, base)?, shown: name }
        }
        "call" => {
            let (target, method) = split_target(&raw.call.unwrap_or_default(), "call")?;
            Action::Call { target, method }
        }
        "view" => {
            let (target, method) = split_target(&raw.view.unwrap_or_default(), "view")?;
            Action::View { target, method }
        }
        "send" => Action::Send { to: raw.send.unwrap_or_default() },
        _ => Action::Balance { who: raw.balance.unwrap_or_default() },
    };
    // Which fields each action uses.
    let unused = |field: &str, set: bool, allowed: &[&str]| -> Result<(), String> {
        if set && !allowed.contains(&kind) {
            Err(format!("a `{kind}` step does not take `{field}`"))
        } else {
            Ok(())
        }
    };
    unused("from", raw.from.is_some(), &["deploy", "call", "view", "send"])?;
    unused("args", raw.args.is_some(), &["deploy", "call", "view"])?;
    unused("value", raw.value.is_some(), &["deploy", "call", "send"])?;
    unused("gas_limit", raw.gas_limit.is_some(), &["deploy", "call", "send"])?;
    unused("as", raw.alias.is_some(), &["deploy"])?;
    if raw.from.is_none() && matches!(kind, "deploy" | "call" | "send") {
        return Err(format!("a `{kind}` step needs `from` (the sending account)"));
    }
    if let Some(from) = &raw.from {
        if kind != "view" && !accounts.iter().any(|(n, _)| n == from) {
            return Err(format!("`from = \"{from}\"` is not an account in [accounts]"));
        }
    }
    if let Some(alias) = &raw.alias {
        check_name(alias)?;
        if accounts.iter().any(|(n, _)| n == alias) {
            return Err(format!("`as = \"{alias}\"` is already an account name"));
        }
    }
    if kind == "send" && raw.value.is_none() {
        return Err("a `send` step needs `value` (the amount)".into());
    }
    let args = raw
        .args
        .unwrap_or_default()
        .iter()
        .map(input)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("args: {e}"))?;
    let value = match &raw.value {
        Some(v) => amount(v, "value")?,
        None => 0,
    };
    let expect = check_expect(raw.expect, kind)?;
    Ok(Step { action, from: raw.from, args, value, gas_limit: raw.gas_limit, alias: raw.alias, expect })
}

fn check_expect(raw: Option<RawExpect>, kind: &str) -> Result<Expect, String> {
    let Some(raw) = raw else {
        return Ok(Expect::default());
    };
    let only = |field: &str, set: bool, allowed: &[&str]| -> Result<(), String> {
        if set && !allowed.contains(&kind) {
            Err(format!("a `{kind}` step cannot expect `{field}`"))
        } else {
            Ok(())
        }
    };
    let tx = ["deploy", "call", "view", "send"];
    only("status", raw.status.is_some(), &tx)?;
    only("revert", raw.revert.is_some(), &tx)?;
    only("events", raw.events.is_some(), &tx)?;
    only("gas_used", raw.gas_used.is_some(), &tx)?;
    only("returns", raw.returns.is_some(), &["call", "view"])?;
    only("equals", raw.equals.is_some(), &["balance"])?;
    let status = match raw.status.as_deref() {
        None => None,
        Some("success") => Some(Want::Success),
        Some("revert") => Some(Want::Revert),
        Some("out-of-gas") => Some(Want::OutOfGas),
        Some("fault") => Some(Want::Fault),
        Some(s) => return Err(format!("expect.status `{s}` is not one of success, revert, out-of-gas, fault")),
    };
    if status == Some(Want::Success) && raw.revert.is_some() {
        return Err("expect.revert with status = \"success\" can never hold".into());
    }
    let events = match raw.events {
        None => None,
        Some(list) => Some(
            list.iter()
                .enumerate()
                .map(|(i, e)| match e.split_first() {
                    Some((toml::Value::String(name), fields)) => {
                        Ok((name.clone(), fields.iter().map(input).collect::<Result<Vec<_>, _>>()?))
                    }
                    _ => Err(format!("expect.events[{i}] must be [\"EventName\", field...]")),
                })
                .collect::<Result<Vec<_>, String>>()?,
        ),
    };
    Ok(Expect {
        status,
        returns: raw.returns.as_ref().map(input).transpose().map_err(|e| format!("expect.returns: {e}"))?,
        events,
        revert: raw.revert,
        equals: raw.equals.as_ref().map(input).transpose().map_err(|e| format!("expect.equals: {e}"))?,
        gas_used: raw.gas_used,
    })
}

// ---------------------------------------------------------------------------
// Running.

/// What a step produced, kept to compare engines.
#[derive(Debug, PartialEq)]
enum Observed {
    Receipt(Receipt),
    View(ExecOutcome),
    Balance(u128),
}

/// What happened in a transaction or view, decoded.
struct Got {
    status: &'static str,
    reason: Option<String>,
    gas_used: u64,
    returns: Option<Value>,
    events: Vec<(Option<String>, Vec<Value>)>,
}

/// The result of one step on one engine.
struct StepResult {
    n: usize,
    label: String,
    expected: String,
    got: String,
    got_json: Json,
    failures: Vec<String>,
}

/// One file on one engine.
struct Run {
    engine: EngineKind,
    steps: Vec<StepResult>,
    observed: Vec<Observed>,
    state_root: [u8; 32],
    /// An error in the file that ended the run.
    error: Option<FileError>,
}

fn plain(i: &Input) -> String {
    match i {
        Input::Str(s) => s.clone(),
        Input::List(l) => format!("[{}]", l.iter().map(plain).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

fn label(step: &Step) -> String {
    let args = || step.args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ");
    let value = if step.value > 0 { format!(" value {}", step.value) } else { String::new() };
    let from = step.from.as_ref().map(|f| format!(" from {f}")).unwrap_or_default();
    match &step.action {
        Action::Deploy { shown, .. } => {
            let alias = step.alias.as_ref().map(|a| format!(" as {a}")).unwrap_or_default();
            format!("deploy {shown}({}){alias}{from}{value}", args())
        }
        Action::Call { target, method } => format!("call {target}.{method}({}){from}{value}", args()),
        Action::View { target, method } => format!("view {target}.{method}({}){from}", args()),
        Action::Send { to } => format!("send {} to {to}{from}", step.value),
        Action::Balance { who } => format!("balance {who}"),
    }
}

fn expected_text(step: &Step) -> String {
    let e = &step.expect;
    if let Some(v) = &e.equals {
        return format!("= {}", plain(v));
    }
    if matches!(step.action, Action::Balance { .. }) {
        return "(nothing)".into();
    }
    let mut parts =
        vec![e.status.unwrap_or(if e.revert.is_some() { Want::Failure } else { Want::Success }).text().to_string()];
    if let Some(r) = &e.revert {
        parts.push(format!("reason ~ {r:?}"));
    }
    if let Some(v) = &e.returns {
        parts.push(format!("returns {}", plain(v)));
    }
    if let Some(evs) = &e.events {
        let list: Vec<String> =
            evs.iter().map(|(n, f)| format!("{n}({})", f.iter().map(plain).collect::<Vec<_>>().join(", "))).collect();
        parts.push(format!("events [{}]", list.join(", ")));
    }
    if let Some(g) = e.gas_used {
        parts.push(format!("gas {g}"));
    }
    parts.join(", ")
}

fn got_of_receipt(r: &Receipt, d: Decoded) -> Got {
    Got {
        status: r.status.as_str(),
        reason: match &r.status {
            Status::OutOfGas => Some("out of gas".into()),
            s => s.reason().map(str::to_owned),
        },
        gas_used: r.gas_used,
        returns: d.returns,
        events: d.events.into_iter().map(|(n, f)| (n, f.into_iter().map(|(_, v)| v).collect())).collect(),
    }
}

/// A view's outcome as a receipt, to decode it like one.
fn receipt_of_view(out: &ExecOutcome) -> Receipt {
    Receipt {
        tx_hash: [0; 32],
        block: 0,
        index: 0,
        status: match &out.status {
            ExecStatus::Success => Status::Success,
            ExecStatus::Revert(r) => Status::Revert(r.clone()),
            ExecStatus::OutOfGas => Status::OutOfGas,
            ExecStatus::Fault(r) => Status::Fault(r.clone()),
        },
        gas_used: out.gas_used,
        instructions: out.instructions,
        logs: out
            .logs
            .iter()
            .map(|l| avm_state::Log {
                address: avm::chain::world::to_state(&l.address),
                topics: l.topics.clone(),
                data: l.data.clone(),
            })
            .collect(),
        return_data: out.return_data.clone(),
        contract_address: None,
    }
}

fn check(step: &Step, got: &Got, dev: &Dev) -> Vec<String> {
    let e = &step.expect;
    let resolve = |s: &str| dev.names.resolve(s);
    let name = |a: &Address| dev.names.name_of(a);
    let mut fails = Vec::new();
    let want = e.status.unwrap_or(if e.revert.is_some() { Want::Failure } else { Want::Success });
    if !want.holds(got.status) {
        let why = got.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
        fails.push(format!("status: expected {}, got {}{why}", want.text(), got.status));
    }
    if let Some(sub) = &e.revert {
        match &got.reason {
            Some(r) if r.contains(sub.as_str()) => {}
            Some(r) => fails.push(format!("reason: expected it to contain {sub:?}, got {r:?}")),
            None => fails.push(format!("reason: expected it to contain {sub:?}, but there is none")),
        }
    }
    if let Some(exp) = &e.returns {
        match &got.returns {
            Some(v) if matches(v, exp, &resolve) => {}
            Some(v) => fails.push(format!("returns: expected {}, got {}", plain(exp), to_text(v, &name))),
            None => fails.push(format!("returns: expected {}, got no decodable return value", plain(exp))),
        }
    }
    if let Some(evs) = &e.events {
        if evs.len() != got.events.len() {
            fails.push(format!("events: expected {}, got {}", evs.len(), got.events.len()));
        }
        for (i, ((en, ef), (gn, gf))) in evs.iter().zip(&got.events).enumerate() {
            let shown = || {
                format!(
                    "{}({})",
                    gn.as_deref().unwrap_or("?"),
                    gf.iter().map(|v| to_text(v, &name)).collect::<Vec<_>>().join(", ")
                )
            };
            let ok = gn.as_deref() == Some(en.as_str())
                && ef.len() == gf.len()
                && gf.iter().zip(ef).all(|(v, x)| matches(v, x, &resolve));
            if !ok {
                let exp = format!("{en}({})", ef.iter().map(plain).collect::<Vec<_>>().join(", "));
                fails.push(format!("event {}: expected {exp}, got {}", i + 1, shown()));
            }
        }
    }
    if let Some(g) = e.gas_used {
        if g != got.gas_used {
            fails.push(format!("gas_used: expected {g}, got {}", got.gas_used));
        }
    }
    fails
}

fn got_text(got: &Got, dev: &Dev) -> String {
    let name = |a: &Address| dev.names.name_of(a);
    let mut s = got.status.to_string();
    if let Some(r) = &got.reason {
        s.push_str(&format!(" ({r})"));
    }
    if let Some(v) = &got.returns {
        if *v != Value::Tuple(Vec::new()) {
            s.push_str(&format!(", returns {}", to_text(v, &name)));
        }
    }
    if !got.events.is_empty() {
        let list: Vec<String> = got
            .events
            .iter()
            .map(|(n, f)| {
                format!(
                    "{}({})",
                    n.as_deref().unwrap_or("?"),
                    f.iter().map(|v| to_text(v, &name)).collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        s.push_str(&format!(", events [{}]", list.join(", ")));
    }
    s.push_str(&format!(", gas {}", got.gas_used));
    s
}

fn got_json(got: &Got) -> Json {
    json!({
        "status": got.status,
        "reason": got.reason,
        "gas_used": got.gas_used.to_string(),
        "returns": got.returns.as_ref().map(to_json),
        "events": got.events.iter().map(|(n, f)| json!({"event": n, "args": f.iter().map(to_json).collect::<Vec<_>>()})).collect::<Vec<_>>(),
    })
}

/// Run one step; `Err` is an error in the file (a name, an argument, a
/// rejected transaction), not a failed expectation.
fn run_step(dev: &mut Dev, step: &Step) -> Result<(Got, Observed), String> {
    let gas = step.gas_limit;
    let from = step.from.as_deref().unwrap_or_default();
    match &step.action {
        Action::Deploy { path, .. } => {
            let elf = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let r = dev.deploy(from, &elf, &step.args, step.value, gas.unwrap_or(DEFAULT_GAS_LIMIT))?;
            if let (Some(alias), Some(address), true) = (&step.alias, r.contract_address, r.status.is_success()) {
                dev.add_alias(alias, address)?;
            }
            let d = dev.decode(&r, None);
            Ok((got_of_receipt(&r, d), Observed::Receipt(r)))
        }
        Action::Call { target, method } => {
            let (r, m) = dev.call(from, target, method, &step.args, step.value, gas.unwrap_or(DEFAULT_GAS_LIMIT))?;
            let d = dev.decode(&r, Some(&m));
            Ok((got_of_receipt(&r, d), Observed::Receipt(r)))
        }
        Action::View { target, method } => {
            let to = dev.resolve(target)?;
            let caller = match &step.from {
                Some(f) => dev.resolve(f)?,
                None => Address::ZERO,
            };
            let m = dev.method(&to, method)?;
            let data = m.call_data(&parse_args(&m.args, &step.args, &|s| dev.names.resolve(s))?);
            let out = dev.chain.view(caller, to, data);
            let r = receipt_of_view(&out);
            let d = dev.decode(&r, Some(&m));
            Ok((got_of_receipt(&r, d), Observed::View(out)))
        }
        Action::Send { to } => {
            let to = dev.resolve(to)?;
            let r = dev.submit(from, Some(to), step.value, Vec::new(), gas.unwrap_or(avm_abi::gas::TX_BASE))?;
            let d = dev.decode(&r, None);
            Ok((got_of_receipt(&r, d), Observed::Receipt(r)))
        }
        Action::Balance { .. } => Err("internal: balance is not a transaction".into()),
    }
}

/// Run a scenario on one engine. On an error in the file, the steps that
/// ran before it are kept and the error ends the run.
fn run_scenario(sc: &Scenario, engine: EngineKind) -> Run {
    let err = |step: Option<usize>, message: String| FileError { file: sc.file.clone(), step, message };
    let mut run = Run { engine, steps: Vec::new(), observed: Vec::new(), state_root: [0; 32], error: None };
    let mut dev = match Dev::in_memory(engine, &sc.accounts) {
        Ok(dev) => dev,
        Err(e) => {
            run.error = Some(err(None, format!("cannot start a chain: {e}")));
            return run;
        }
    };
    // Scenario chains make gas free, as test chains do: balances then change
    // only by what the steps send, so `balance` expectations are exact
    // numbers, and an account holding 1,000 can still transact. Gas is
    // still metered, limited and reported.
    dev.chain.gas_price = 0;
    if let Err(e) = run_steps(sc, &mut dev, &mut run) {
        run.error = Some(*e);
    }
    run.state_root = dev.chain.head.state_root;
    run
}

fn run_steps(sc: &Scenario, dev: &mut Dev, run: &mut Run) -> Result<(), Box<FileError>> {
    let err = |step: Option<usize>, message: String| FileError { file: sc.file.clone(), step, message };
    for (i, step) in sc.steps.iter().enumerate() {
        let n = i + 1;
        let label = label(step);
        let expected = expected_text(step);
        let at = |e: String| Box::new(err(Some(n), format!("{label}: {e}")));
        let result = if let Action::Balance { who } = &step.action {
            let a = dev.resolve(who).map_err(at)?;
            let b = dev.chain.state.balance(&a);
            let failures = match &step.expect.equals {
                Some(e) if matches(&Value::Uint(Type::U128, b), e, &|s| dev.names.resolve(s)) => Vec::new(),
                Some(e) => vec![format!("balance: expected {}, got {b}", plain(e))],
                None => Vec::new(),
            };
            run.observed.push(Observed::Balance(b));
            StepResult {
                n,
                label,
                expected,
                got: format!("= {b}"),
                got_json: json!({"balance": b.to_string()}),
                failures,
            }
        } else {
            let (got, observed) = run_step(dev, step).map_err(at)?;
            run.observed.push(observed);
            let failures = check(step, &got, dev);
            StepResult { n, label, expected, got: got_text(&got, dev), got_json: got_json(&got), failures }
        };
        run.steps.push(result);
    }
    Ok(())
}

/// Run a scenario, turning a panic anywhere below into an error.
fn run_guarded(sc: &Scenario, engine: EngineKind) -> Run {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_scenario(sc, engine))).unwrap_or_else(|p| {
        let what = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
        let message = format!("internal error: {}", what.unwrap_or_default());
        Run {
            engine,
            steps: Vec::new(),
            observed: Vec::new(),
            state_root: [0; 32],
            error: Some(FileError { file: sc.file.clone(), step: None, message }),
        }
    })
}

// ---------------------------------------------------------------------------
// Comparing engines.

fn hex(b: &[u8]) -> String {
    avm_state::to_hex(b)
}

fn receipt_difference(a: &Receipt, b: &Receipt) -> Option<String> {
    let field = |name: &str, x: String, y: String| (x != y).then(|| format!("{name}: {x} vs {y}"));
    field("status", format!("{:?}", a.status), format!("{:?}", b.status))
        .or_else(|| field("gas_used", a.gas_used.to_string(), b.gas_used.to_string()))
        .or_else(|| field("instructions", a.instructions.to_string(), b.instructions.to_string()))
        .or_else(|| field("return data", hex(&a.return_data), hex(&b.return_data)))
        .or_else(|| field("logs", a.logs.len().to_string(), b.logs.len().to_string()))
        .or_else(|| {
            a.logs.iter().zip(&b.logs).enumerate().find(|(_, (x, y))| x != y).map(|(i, (x, y))| {
                format!(
                    "log {}: {} {:?} {} vs {} {:?} {}",
                    i + 1,
                    x.address,
                    x.topics.iter().map(|t| hex(t)).collect::<Vec<_>>(),
                    hex(&x.data),
                    y.address,
                    y.topics.iter().map(|t| hex(t)).collect::<Vec<_>>(),
                    hex(&y.data)
                )
            })
        })
        .or_else(|| field("contract address", format!("{:?}", a.contract_address), format!("{:?}", b.contract_address)))
        .or_else(|| (a != b).then(|| "receipt (tx hash, block or index)".to_string()))
}

fn difference(a: &Observed, b: &Observed) -> Option<String> {
    match (a, b) {
        (Observed::Receipt(x), Observed::Receipt(y)) => receipt_difference(x, y),
        (Observed::View(x), Observed::View(y)) => receipt_difference(&receipt_of_view(x), &receipt_of_view(y))
            .or_else(|| (x != y).then(|| format!("debug output: {:?} vs {:?}", x.debug, y.debug))),
        (Observed::Balance(x), Observed::Balance(y)) => (x != y).then(|| format!("balance: {x} vs {y}")),
        _ => Some("the steps produced different kinds of result".into()),
    }
}

/// The first difference between two runs of one file: step and what.
fn first_difference(a: &Run, b: &Run) -> Option<(Option<usize>, String)> {
    for (i, (x, y)) in a.observed.iter().zip(&b.observed).enumerate() {
        if let Some(d) = difference(x, y) {
            return Some((Some(i + 1), d));
        }
    }
    if a.state_root != b.state_root {
        return Some((None, format!("state root: {} vs {}", hex(&a.state_root), hex(&b.state_root))));
    }
    None
}

fn engine_name(e: EngineKind) -> &'static str {
    match e {
        EngineKind::Interp => "interp",
        EngineKind::Jit => "jit",
    }
}

// ---------------------------------------------------------------------------
// The command.

/// Run scenario files; exit 0 iff every expectation holds (and, with
/// `--engine=both`, the engines agree), 1 otherwise, 2 for a bad file.
pub fn run_files(files: &[PathBuf], engine: EngineChoice, json_out: bool) -> Outcome {
    let engines = engine.engines();
    let mut errors: Vec<FileError> = Vec::new();
    let mut files_json = Vec::new();
    let mut diffs_json = Vec::new();
    let (mut steps_total, mut steps_failed, mut files_failed) = (0usize, 0usize, 0usize);
    for path in files {
        let sc = match load(path) {
            Ok(sc) => sc,
            Err(e) => {
                if !json_out {
                    eprintln!("error: {}", e.text());
                }
                errors.push(e);
                continue;
            }
        };
        let mut runs: Vec<Run> = Vec::new();
        let mut file_ok = true;
        for &kind in &engines {
            let run = run_guarded(&sc, kind);
            let stop = run.error.is_some();
            runs.push(run);
            if stop {
                break;
            }
        }
        for run in &mut runs {
            let failed = run.steps.iter().filter(|s| !s.failures.is_empty()).count();
            steps_total += run.steps.len();
            steps_failed += failed;
            file_ok &= failed == 0;
            if json_out {
                files_json.push(json!({
                    "file": sc.file,
                    "engine": engine_name(run.engine),
                    "passed": (run.steps.len() - failed).to_string(),
                    "failed": failed.to_string(),
                    "steps": run.steps.iter().map(|s| json!({
                        "step": s.n.to_string(),
                        "action": s.label,
                        "ok": s.failures.is_empty(),
                        "expected": s.expected,
                        "got": s.got_json,
                        "failures": s.failures,
                    })).collect::<Vec<_>>(),
                }));
            } else {
                println!("{} [{}]", sc.file, engine_name(run.engine));
                for s in &run.steps {
                    let mark = if s.failures.is_empty() { "✓" } else { "✗" };
                    println!("  {mark} {:>2} {}: expected {}; got {}", s.n, s.label, s.expected, s.got);
                    for f in &s.failures {
                        println!("         {f}");
                    }
                }
                println!("  {} steps: {} passed, {failed} failed", run.steps.len(), run.steps.len() - failed);
            }
            if let Some(e) = run.error.take() {
                if !json_out {
                    eprintln!("error: {} [{}]", e.text(), engine_name(run.engine));
                }
                errors.push(e);
                file_ok = false;
            }
        }
        if !file_ok {
            files_failed += 1;
            continue;
        }
        if let [a, b] = runs.as_slice() {
            match first_difference(a, b) {
                Some((step, what)) => {
                    file_ok = false;
                    let at = step.map(|n| format!("step {n}")).unwrap_or_else(|| "end".into());
                    if json_out {
                        diffs_json
                            .push(json!({"file": sc.file, "step": step.map(|n| n.to_string()), "difference": what}));
                    } else {
                        println!("  ✗ the engines differ at {at}: {what} (interp vs jit)");
                    }
                }
                None if !json_out => {
                    println!("  ✓ interp and jit agree: receipts, return values, logs, gas and state root")
                }
                None => {}
            }
        }
        if !file_ok {
            files_failed += 1;
        }
    }
    let status = if !errors.is_empty() {
        EXIT_BAD_INPUT
    } else if files_failed > 0 {
        EXIT_FAILED_TX
    } else {
        0
    };
    if json_out {
        let errs: Vec<Json> = errors
            .iter()
            .map(|e| json!({"file": e.file, "step": e.step.map(|n| n.to_string()), "message": e.message}))
            .collect();
        println!(
            "{}",
            json!({
                "ok": status == 0,
                "files": files_json,
                "differences": diffs_json,
                "errors": errs,
                "steps": steps_total.to_string(),
                "failed": steps_failed.to_string(),
            })
        );
    } else {
        let verdict = if status == 0 { "ok" } else { "FAILED" };
        println!(
            "{verdict}: {} file(s), {steps_total} step run(s), {steps_failed} failed, {files_failed} file(s) failed, {} error(s)",
            files.len(),
            errors.len()
        );
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(gas_used: u64) -> Receipt {
        Receipt {
            tx_hash: [1; 32],
            block: 1,
            index: 0,
            status: Status::Success,
            gas_used,
            instructions: 10,
            logs: Vec::new(),
            return_data: vec![1],
            contract_address: None,
        }
    }

    fn run(observed: Vec<Observed>) -> Run {
        Run { engine: EngineKind::Interp, steps: Vec::new(), observed, state_root: [0; 32], error: None }
    }

    #[test]
    fn the_first_difference_names_the_step_and_the_field() {
        let a = run(vec![Observed::Balance(5), Observed::Receipt(receipt(100))]);
        let b = run(vec![Observed::Balance(5), Observed::Receipt(receipt(101))]);
        assert_eq!(first_difference(&a, &b), Some((Some(2), "gas_used: 100 vs 101".to_string())));
        assert_eq!(first_difference(&a, &a), None);
        let mut c = run(vec![Observed::Balance(5), Observed::Receipt(receipt(100))]);
        c.state_root = [9; 32];
        assert!(matches!(first_difference(&a, &c), Some((None, d)) if d.starts_with("state root")));
    }

    #[test]
    fn the_example_of_the_format_parses() {
        let dir = std::env::temp_dir().join(format!("avm-scenario-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.toml");
        let body = "[accounts]\nalice = \"1000\"\nbob = 5\n[[step]]\nview = \"t.m\"\nargs = [1, \"x\", [true]]\n\
                    expect = { returns = [1, 2], events = [[\"E\", 1]] }\n[[step]]\nbalance = \"bob\"\nexpect = { equals = 5 }\n";
        std::fs::write(&path, body).unwrap();
        let sc = load(&path).unwrap_or_else(|e| panic!("{}", e.text()));
        assert_eq!(sc.accounts, vec![("alice".to_string(), 1000), ("bob".to_string(), 5)]);
        assert_eq!(sc.steps.len(), 2);
        assert_eq!(sc.steps[0].args.len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
