//! Receipts and blocks for people (text) and scripts (`--json`).
//!
//! Return values and events are decoded with the ABI metadata of the
//! contract involved (read from its code in the state), so a receipt shows
//! `Transfer(from: alice, to: bob, amount: 250)`, not bytes. JSON follows the
//! CLI's conventions: integers as decimal strings, addresses and bytes as
//! `0x` hex, booleans as JSON booleans, tuples as arrays.

use avm_abi::types::{Metadata, Method, Value};
use avm_state::{to_hex, BlockHeader, Log, Receipt};
use serde_json::{json, Value as Json};

use super::names::Names;
use super::values::{to_json, to_text};

/// A decoded log: the event's name (if known) and its named field values.
pub type DecodedEvent = (Option<String>, Vec<(String, Value)>);

/// Decoded events and return values of a receipt.
pub struct Decoded {
    /// The return value, if the method is known and the data decodes.
    pub returns: Option<Value>,
    /// Per log: event name and field values (`None` if unknown).
    pub events: Vec<DecodedEvent>,
}

/// Decode a receipt's return data (for `method`) and logs (with the
/// metadata `meta_of` finds for each log's address).
pub fn decode(
    receipt: &Receipt,
    method: Option<&Method>,
    meta_of: &dyn Fn(&avm_state::Address) -> Option<Metadata>,
) -> Decoded {
    let returns = match method {
        Some(m) if receipt.status.is_success() => m.returns.decode_all(&receipt.return_data).ok(),
        _ => None,
    };
    let events = receipt.logs.iter().map(|l| decode_log(l, meta_of)).collect();
    Decoded { returns, events }
}

fn decode_log(l: &Log, meta_of: &dyn Fn(&avm_state::Address) -> Option<Metadata>) -> DecodedEvent {
    let Some(meta) = meta_of(&l.address) else { return (None, Vec::new()) };
    let Some(event) = meta.event_of(&l.topics) else { return (None, Vec::new()) };
    match event.decode_log(&l.topics, &l.data) {
        Some(values) => (Some(event.name.clone()), event.fields.iter().map(|f| f.name.clone()).zip(values).collect()),
        None => (Some(event.name.clone()), Vec::new()),
    }
}

/// A receipt as JSON.
pub fn receipt_json(r: &Receipt, d: &Decoded) -> Json {
    let logs: Vec<Json> = r
        .logs
        .iter()
        .zip(&d.events)
        .map(|(l, (name, fields))| match name {
            Some(name) => json!({
                "address": l.address.to_string(),
                "event": name,
                "args": fields.iter().map(|(_, v)| to_json(v)).collect::<Vec<_>>(),
            }),
            None => json!({
                "address": l.address.to_string(),
                "event": Json::Null,
                "topics": l.topics.iter().map(|t| to_hex(t)).collect::<Vec<_>>(),
                "data": to_hex(&l.data),
            }),
        })
        .collect();
    json!({
        "tx_hash": to_hex(&r.tx_hash),
        "block": r.block.to_string(),
        "index": r.index.to_string(),
        "status": r.status.as_str(),
        "reason": r.status.reason(),
        "gas_used": r.gas_used.to_string(),
        "instructions": r.instructions.to_string(),
        "returns": d.returns.as_ref().map(to_json),
        "return_data": to_hex(&r.return_data),
        "logs": logs,
        "contract_address": r.contract_address.map(|a| a.to_string()),
    })
}

/// A receipt as text lines.
pub fn receipt_text(r: &Receipt, d: &Decoded, names: &Names) -> String {
    let name = |a: &avm_state::Address| names.name_of(a);
    let mut out = String::new();
    let status = match r.status.reason() {
        Some(why) => format!("{} ({why})", r.status.as_str()),
        None => r.status.as_str().to_string(),
    };
    out.push_str(&format!("tx       {}\n", to_hex(&r.tx_hash)));
    out.push_str(&format!("block    {} (index {})\n", r.block, r.index));
    out.push_str(&format!("status   {status}\n"));
    out.push_str(&format!("gas      {} ({} instructions)\n", r.gas_used, r.instructions));
    if let Some(a) = r.contract_address {
        out.push_str(&format!("contract {a}\n"));
    }
    if let Some(v) = &d.returns {
        if *v != Value::Tuple(Vec::new()) {
            out.push_str(&format!("returns  {}\n", to_text(v, &name)));
        }
    } else if !r.return_data.is_empty() && r.status.is_success() {
        out.push_str(&format!("returns  {}\n", to_hex(&r.return_data)));
    }
    for (l, (event, fields)) in r.logs.iter().zip(&d.events) {
        let who = name(&l.address).unwrap_or_else(|| l.address.to_string());
        match event {
            Some(e) => {
                let args: Vec<String> = fields.iter().map(|(n, v)| format!("{n}: {}", to_text(v, &name))).collect();
                out.push_str(&format!("event    {who}.{e}({})\n", args.join(", ")));
            }
            None => out.push_str(&format!("event    {who}: {} topics, {} data bytes\n", l.topics.len(), l.data.len())),
        }
    }
    out
}

/// A block header as JSON.
pub fn header_json(h: &BlockHeader) -> Json {
    json!({
        "number": h.number.to_string(),
        "hash": to_hex(&h.hash()),
        "parent_hash": to_hex(&h.parent_hash),
        "state_root": to_hex(&h.state_root),
        "receipts_root": to_hex(&h.receipts_root),
        "tx_root": to_hex(&h.tx_root),
        "gas_used": h.gas_used.to_string(),
        "gas_limit": h.gas_limit.to_string(),
        "tx_count": h.tx_count.to_string(),
    })
}

/// A block header as text.
pub fn header_text(h: &BlockHeader) -> String {
    format!(
        "block         {}\nhash          {}\nparent        {}\nstate root    {}\nreceipts root {}\ntx root       {}\ngas used      {} of {}\ntransactions  {}\n",
        h.number,
        to_hex(&h.hash()),
        to_hex(&h.parent_hash),
        to_hex(&h.state_root),
        to_hex(&h.receipts_root),
        to_hex(&h.tx_root),
        h.gas_used,
        h.gas_limit,
        h.tx_count
    )
}
