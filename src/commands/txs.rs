//! The transaction commands: `deploy`, `call`, `send`, and `view` (which
//! runs the same code read-only, without a transaction).

use serde_json::json;

use super::node::{parse_amount, value_json, value_text, Dev};
use super::values::Input;
use super::{ChainOpts, Failure, Outcome, EXIT_FAILED_TX};
use crate::commands::names::contract_path;
use avm::runtime::ExecStatus;

/// Gas limit of a transaction unless `--gas-limit` says otherwise.
pub const DEFAULT_GAS_LIMIT: u64 = 50_000_000;

fn inputs(args: &[String]) -> Vec<Input> {
    args.iter().map(|a| Input::Str(a.clone())).collect()
}

/// `avm deploy`.
pub fn deploy(
    opts: &ChainOpts,
    from: &str,
    contract: &str,
    args: &[String],
    alias: Option<&str>,
    value: &str,
    gas_limit: u64,
) -> Outcome {
    let mut dev = Dev::open(opts)?;
    let path = contract_path(contract)?;
    let elf = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value = parse_amount(value)?;
    let r = dev.deploy(from, &elf, &inputs(args), value, gas_limit)?;
    if let (Some(alias), Some(address)) = (alias, r.contract_address) {
        dev.add_alias(alias, address)?;
    }
    dev.print_receipt(&r, None, opts.json)
}

/// `avm call`.
pub fn call(
    opts: &ChainOpts,
    from: &str,
    target: &str,
    method: &str,
    args: &[String],
    value: &str,
    gas_limit: u64,
) -> Outcome {
    let mut dev = Dev::open(opts)?;
    let value = parse_amount(value)?;
    let (r, m) = dev.call(from, target, method, &inputs(args), value, gas_limit)?;
    dev.print_receipt(&r, Some(&m), opts.json)
}

/// `avm send`.
pub fn send(opts: &ChainOpts, from: &str, to: &str, amount: &str) -> Outcome {
    let mut dev = Dev::open(opts)?;
    let to = dev.resolve(to)?;
    let amount = parse_amount(amount)?;
    let r = dev.submit(from, Some(to), amount, Vec::new(), avm_abi::gas::TX_BASE)?;
    dev.print_receipt(&r, None, opts.json)
}

/// `avm view`.
pub fn view(opts: &ChainOpts, target: &str, method: &str, args: &[String]) -> Outcome {
    let mut dev = Dev::open(opts)?;
    let (out, m) = dev.view(target, method, &inputs(args))?;
    let returns = match &out.status {
        ExecStatus::Success => m.returns.decode_all(&out.return_data).ok(),
        _ => None,
    };
    let reason = match &out.status {
        ExecStatus::Success => None,
        ExecStatus::Revert(r) | ExecStatus::Fault(r) => Some(r.clone()),
        ExecStatus::OutOfGas => Some("out of gas".to_string()),
    };
    if opts.json {
        let mut j = json!({"returns": returns.as_ref().map(value_json), "gas_used": out.gas_used.to_string(), "instructions": out.instructions.to_string()});
        if let Some(r) = &reason {
            j["error"] = json!(r);
        }
        println!("{j}");
    } else if let Some(v) = &returns {
        println!("{}", value_text(&dev, v));
    }
    match reason {
        None if returns.is_some() => Ok(0),
        None => Err(Failure {
            message: "the method returned data that does not match its ABI".into(),
            status: EXIT_FAILED_TX,
        }),
        Some(r) => Err(Failure { message: format!("the call failed: {r}"), status: EXIT_FAILED_TX }),
    }
}
