//! Comparing two engines' runs of one scenario, step by step.

use avm::engine::EngineKind;
use avm_state::Receipt;

use super::*;

// ---------------------------------------------------------------------------
// Comparing engines.

pub(super) fn hex(b: &[u8]) -> String {
    avm_state::to_hex(b)
}

pub(super) fn receipt_difference(a: &Receipt, b: &Receipt) -> Option<String> {
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

pub(super) fn difference(a: &Observed, b: &Observed) -> Option<String> {
    match (a, b) {
        (Observed::Receipt(x), Observed::Receipt(y)) => receipt_difference(x, y),
        (Observed::View(x), Observed::View(y)) => receipt_difference(&receipt_of_view(x), &receipt_of_view(y))
            .or_else(|| (x != y).then(|| format!("debug output: {:?} vs {:?}", x.debug, y.debug))),
        (Observed::Balance(x), Observed::Balance(y)) => (x != y).then(|| format!("balance: {x} vs {y}")),
        _ => Some("the steps produced different kinds of result".into()),
    }
}

/// The first difference between two runs of one file: step and what.
pub(super) fn first_difference(a: &Run, b: &Run) -> Option<(Option<usize>, String)> {
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

pub(super) fn engine_name(e: EngineKind) -> &'static str {
    match e {
        EngineKind::Interp => "interp",
        EngineKind::Jit => "jit",
    }
}
