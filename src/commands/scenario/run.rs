//! Running a scenario's steps on a chain and checking each expectation.

use avm::engine::EngineKind;
use avm::runtime::{ExecOutcome, ExecStatus};
use avm_abi::types::{Type, Value};
use avm_state::{Address, Receipt, Status};
use serde_json::{json, Value as Json};

use super::super::node::Dev;
use super::super::render::Decoded;
use super::super::values::{matches, parse_args, to_json, to_text, Input};
use super::*;

// ---------------------------------------------------------------------------
// Running.

/// What a step produced, kept to compare engines.
#[derive(Debug, PartialEq)]
pub(super) enum Observed {
    Receipt(Receipt),
    View(ExecOutcome),
    Balance(u128),
}

/// What happened in a transaction or view, decoded.
pub(super) struct Got {
    pub(super) status: &'static str,
    pub(super) reason: Option<String>,
    pub(super) gas_used: u64,
    pub(super) returns: Option<Value>,
    pub(super) events: Vec<(Option<String>, Vec<Value>)>,
}

/// The result of one step on one engine.
pub(super) struct StepResult {
    pub(super) n: usize,
    pub(super) label: String,
    pub(super) expected: String,
    pub(super) got: String,
    pub(super) got_json: Json,
    pub(super) failures: Vec<String>,
}

/// One file on one engine.
pub(super) struct Run {
    pub(super) engine: EngineKind,
    pub(super) steps: Vec<StepResult>,
    pub(super) observed: Vec<Observed>,
    pub(super) state_root: [u8; 32],
    /// An error in the file that ended the run.
    pub(super) error: Option<FileError>,
}

pub(super) fn plain(i: &Input) -> String {
    match i {
        Input::Str(s) => s.clone(),
        Input::List(l) => format!("[{}]", l.iter().map(plain).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

pub(super) fn label(step: &Step) -> String {
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

pub(super) fn expected_text(step: &Step) -> String {
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

pub(super) fn got_of_receipt(r: &Receipt, d: Decoded) -> Got {
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
pub(super) fn receipt_of_view(out: &ExecOutcome) -> Receipt {
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

pub(super) fn check(step: &Step, got: &Got, dev: &Dev) -> Vec<String> {
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

pub(super) fn got_text(got: &Got, dev: &Dev) -> String {
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

pub(super) fn got_json(got: &Got) -> Json {
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
pub(super) fn run_step(dev: &mut Dev, step: &Step) -> Result<(Got, Observed), String> {
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
pub(super) fn run_scenario(sc: &Scenario, engine: EngineKind) -> Run {
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

pub(super) fn run_steps(sc: &Scenario, dev: &mut Dev, run: &mut Run) -> Result<(), Box<FileError>> {
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
pub(super) fn run_guarded(sc: &Scenario, engine: EngineKind) -> Run {
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
