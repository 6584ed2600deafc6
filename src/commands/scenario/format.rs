//! Scenario files: what serde reads, and the checks that turn it into
//! steps (strict: unknown keys, missing or extra fields are errors).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::super::names::{bundled_contracts, check_name};
use super::super::values::{parse_uint, Input};

// ---------------------------------------------------------------------------
// The file format, as serde reads it.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub(super) deploy: Option<String>,
    pub(super) call: Option<String>,
    pub(super) view: Option<String>,
    pub(super) send: Option<String>,
    pub(super) balance: Option<String>,
    pub(super) from: Option<String>,
    pub(super) args: Option<Vec<toml::Value>>,
    pub(super) value: Option<toml::Value>,
    pub(super) gas_limit: Option<u64>,
    #[serde(rename = "as")]
    pub(super) alias: Option<String>,
    pub(super) expect: Option<RawExpect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpect {
    pub(super) status: Option<String>,
    pub(super) returns: Option<toml::Value>,
    pub(super) events: Option<Vec<Vec<toml::Value>>>,
    pub(super) revert: Option<String>,
    pub(super) equals: Option<toml::Value>,
    pub(super) gas_used: Option<u64>,
}

// ---------------------------------------------------------------------------
// A checked scenario.

/// What a step does.
pub(super) enum Action {
    Deploy { path: PathBuf, shown: String },
    Call { target: String, method: String },
    View { target: String, method: String },
    Send { to: String },
    Balance { who: String },
}

/// One step, checked.
pub(super) struct Step {
    pub(super) action: Action,
    pub(super) from: Option<String>,
    pub(super) args: Vec<Input>,
    pub(super) value: u128,
    pub(super) gas_limit: Option<u64>,
    pub(super) alias: Option<String>,
    pub(super) expect: Expect,
}

/// The expected status of a step.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Want {
    Success,
    Revert,
    OutOfGas,
    Fault,
    /// Any failure (a `revert` substring without a `status`).
    Failure,
}

impl Want {
    pub(super) fn text(self) -> &'static str {
        match self {
            Want::Success => "success",
            Want::Revert => "revert",
            Want::OutOfGas => "out-of-gas",
            Want::Fault => "fault",
            Want::Failure => "failure",
        }
    }

    pub(super) fn holds(self, status: &str) -> bool {
        match self {
            Want::Failure => status != "success",
            w => w.text() == status,
        }
    }
}

/// An `expect` table, checked.
#[derive(Default)]
pub(super) struct Expect {
    pub(super) status: Option<Want>,
    pub(super) returns: Option<Input>,
    pub(super) events: Option<Vec<(String, Vec<Input>)>>,
    pub(super) revert: Option<String>,
    pub(super) equals: Option<Input>,
    pub(super) gas_used: Option<u64>,
}

/// A scenario file, checked.
pub(super) struct Scenario {
    pub(super) file: String,
    pub(super) accounts: Vec<(String, u128)>,
    pub(super) steps: Vec<Step>,
}

/// An error in a file, with the step it is in.
pub(super) struct FileError {
    pub(super) file: String,
    pub(super) step: Option<usize>,
    pub(super) message: String,
}

impl FileError {
    pub(super) fn text(&self) -> String {
        match self.step {
            Some(n) => format!("{}: step {n}: {}", self.file, self.message),
            None => format!("{}: {}", self.file, self.message),
        }
    }
}

pub(super) fn input(v: &toml::Value) -> Result<Input, String> {
    Input::from_toml(v)
}

pub(super) fn amount(v: &toml::Value, what: &str) -> Result<u128, String> {
    match v {
        toml::Value::Integer(i) => u128::try_from(*i).map_err(|_| format!("{what} {i} is negative")),
        toml::Value::String(s) => {
            parse_uint(s).ok_or_else(|| format!("{what} `{s}` is not a decimal or 0x hex integer"))
        }
        other => Err(format!("{what} must be an integer or a string, not `{other}`")),
    }
}

/// Read and check a scenario file.
pub(super) fn load(path: &Path) -> Result<Scenario, FileError> {
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

pub(super) fn split_target(s: &str, kind: &str) -> Result<(String, String), String> {
    match s.rsplit_once('.') {
        Some((t, m)) if !t.is_empty() && !m.is_empty() => Ok((t.to_string(), m.to_string())),
        _ => Err(format!("`{kind} = \"{s}\"` must be \"alias.method\"")),
    }
}

/// The ELF a `deploy` names: a bundled contract, or a path relative to the file.
pub(super) fn deploy_path(name: &str, base: &Path) -> Result<PathBuf, String> {
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

pub(super) fn check_step(raw: RawStep, base: &Path, accounts: &[(String, u128)]) -> Result<Step, String> {
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

pub(super) fn check_expect(raw: Option<RawExpect>, kind: &str) -> Result<Expect, String> {
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
