//! `scenario`: files for `avm test`, built from fuzz input.
//!
//! The scenario parser and the argument parser live in the `avm` binary
//! (`src/commands/scenario.rs`, `src/commands/values.rs`), not in this
//! library, so the oracle is not here: the `scenario` fuzz target compiles
//! the binary's `commands` module into itself and runs `avm test` on each
//! file, and `tests/fuzz_smoke.rs` runs the built `avm test` on a few
//! hundred files at once. Either way the property is the same: a file gets
//! a verdict (exit 0, 1 or 2) and never a panic or an internal error.
//!
//! [`generate`] writes a scenario from choices: accounts with good and bad
//! names and balances, steps with any mix of actions and fields (bundled
//! contracts, real method names with aliases, arguments of every TOML type,
//! expectations), and now and then a few bytes of damage, so the TOML layer
//! is fuzzed too.

use std::fmt::Write as _;

use avm_abi::types::Type;

use super::{contract, Source};

const NAMES: [&str; 8] = ["alice", "bob", "carol", "t", "0xdead", "9lives", "a-b_c", "ünï"];
const CONTRACTS: [&str; 8] = ["erc20", "dex", "storage", "multi_func", "simple", "call_program", "ecdsa", "nope"];
const ACTIONS: [&str; 5] = ["deploy", "call", "view", "send", "balance"];
const FIELDS: [&str; 6] = ["from", "args", "value", "gas_limit", "as", "expect"];
const EXPECTS: [&str; 7] = ["status", "revert", "events", "gas_used", "returns", "equals", "bogus"];
const STATUSES: [&str; 6] = ["success", "revert", "out-of-gas", "fault", "SUCCESS", ""];

/// A TOML value: the numbers, strings and shapes argument parsing meets.
fn value(src: &mut Source<'_>, depth: u32) -> String {
    match src.u8() % 20 {
        0 => "0".into(),
        1 => "-1".into(),
        2 => "9223372036854775807".into(),
        3 => format!("{}", src.u8()),
        4 => "\"340282366920938463463374607431768211455\"".into(),
        5 => "\"340282366920938463463374607431768211456\"".into(),
        6 => format!("\"0x{}\"", avm_state::to_hex(&src.bytes(24)).trim_start_matches("0x")),
        7 => "\"0x\"".into(),
        8 => "\"0xzz\"".into(),
        9 => format!("\"{}\"", src.pick(&NAMES)),
        10 => "true".into(),
        11 => "1.5".into(),
        12 => "1979-05-27T07:32:00Z".into(),
        13 if depth < 3 => {
            let items: Vec<String> = (0..src.below(4)).map(|_| value(src, depth + 1)).collect();
            format!("[{}]", items.join(", "))
        }
        14 if depth < 3 => format!("{{ x = {} }}", value(src, depth + 1)),
        15 => format!("\"{}\"", String::from_utf8_lossy(&src.bytes(12)).escape_default()),
        16 => "\"-5\"".into(),
        17 => "\"1e3\"".into(),
        _ => format!("{}", src.u64()),
    }
}

fn target(src: &mut Source<'_>) -> String {
    let alias = *src.pick(&["t", "u", "alice", ""]);
    let c = contract(src.pick::<&str>(&CONTRACTS[..7]));
    let method = match src.u8() % 8 {
        0 => "nope".to_string(),
        _ => src.pick(&c.1.metadata.methods).name.clone(),
    };
    match src.u8() % 8 {
        0 => alias.to_string(),
        1 => format!("{alias}."),
        _ => format!("{alias}.{method}"),
    }
}

/// A scenario file from fuzz input: three times in four a well-formed one
/// whose steps really run, otherwise anything (often not even valid TOML).
pub fn generate(data: &[u8]) -> String {
    let mut src = Source::new(data);
    if src.u8().is_multiple_of(4) {
        wild(&mut src)
    } else {
        sane(&mut src)
    }
}

/// An argument of ABI type `ty` as TOML, the way a scenario writes it (and
/// now and then not).
fn arg(ty: &Type, src: &mut Source<'_>, aliases: &[String]) -> String {
    if src.u8().is_multiple_of(16) {
        return value(src, 1);
    }
    match ty {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::U128 => match src.u8() % 4 {
            0 => format!("{}", src.u8()),
            1 => format!("\"{}\"", src.u128() >> src.below(128)),
            2 => format!("\"0x{:x}\"", src.u64()),
            _ => format!("{}", src.u32()),
        },
        Type::Bool => (if src.u8() & 1 == 0 { "true" } else { "false" }).into(),
        Type::Address => match src.u8() % 4 {
            0 if !aliases.is_empty() => format!("\"{}\"", src.pick(aliases)),
            1 => format!("\"0x{}\"", hex(&src.array::<20>())),
            _ => format!("\"{}\"", src.pick(&["alice", "bob", "carol"])),
        },
        Type::Bytes => format!("\"0x{}\"", hex(&src.bytes(40))),
        Type::String => format!("\"{}\"", src.bytes(12).iter().map(|b| char::from(b'a' + b % 26)).collect::<String>()),
        Type::FixedBytes(n) => {
            let n = if src.u8().is_multiple_of(8) { src.below(70) } else { *n };
            format!("\"0x{}\"", hex(&(0..n).map(|_| src.u8()).collect::<Vec<_>>()))
        }
        Type::Tuple(ts) => {
            let items: Vec<String> = ts.iter().map(|t| arg(t, src, aliases)).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn args(method: &avm_abi::types::Method, src: &mut Source<'_>, aliases: &[String]) -> String {
    let mut items: Vec<String> = method.args.iter().map(|(_, t)| arg(t, src, aliases)).collect();
    match src.u8() % 16 {
        0 => {
            items.pop();
        }
        1 => items.push(value(src, 1)),
        _ => {}
    }
    format!("[{}]", items.join(", "))
}

fn expect(src: &mut Source<'_>, kind: &str) -> String {
    let mut items = Vec::new();
    if src.u8().is_multiple_of(2) {
        items.push(format!("status = \"{}\"", src.pick(&STATUSES[..4])));
    }
    if kind == "call" && src.u8().is_multiple_of(4) {
        items.push(format!("returns = {}", value(src, 1)));
    }
    if src.u8().is_multiple_of(4) {
        items.push(format!("events = [[\"Transfer\", \"alice\", \"bob\", {}]]", value(src, 1)));
    }
    format!("expect = {{ {} }}\n", items.join(", "))
}

fn sane(src: &mut Source<'_>) -> String {
    let mut out =
        String::from("[accounts]\nalice = \"1000000000000000000000000000\"\nbob = 1000000\ncarol = \"0x100000\"\n");
    let mut deployed: Vec<(String, &'static str)> = Vec::new();
    for i in 0..1 + src.below(8) {
        out.push_str("[[step]]\n");
        let from = *src.pick(&["alice", "alice", "bob", "carol"]);
        match src.u8() % 8 {
            0..=2 if deployed.len() < 3 || src.u8().is_multiple_of(4) => {
                let name = *src.pick(&CONTRACTS[..7]);
                let alias = format!("c{i}");
                let c = contract(name);
                let _ = writeln!(out, "deploy = \"{name}\"\nfrom = \"{from}\"\nas = \"{alias}\"");
                if let Some(init) = c.1.metadata.method("init") {
                    let aliases: Vec<String> = deployed.iter().map(|d| d.0.clone()).collect();
                    let _ = writeln!(out, "args = {}", args(init, src, &aliases));
                }
                if src.u8().is_multiple_of(4) {
                    out.push_str(&expect(src, "deploy"));
                }
                deployed.push((alias, name));
            }
            0..=6 if !deployed.is_empty() => {
                let (alias, name) = src.pick(&deployed).clone();
                let c = contract(name);
                let m = src.pick(&c.1.metadata.methods).clone();
                let view = src.u8().is_multiple_of(3);
                let aliases: Vec<String> = deployed.iter().map(|d| d.0.clone()).collect();
                if view {
                    let _ = writeln!(out, "view = \"{alias}.{}\"\nargs = {}", m.name, args(&m, src, &aliases));
                } else {
                    let _ = writeln!(
                        out,
                        "call = \"{alias}.{}\"\nfrom = \"{from}\"\nargs = {}",
                        m.name,
                        args(&m, src, &aliases)
                    );
                    if src.u8().is_multiple_of(8) {
                        let _ = writeln!(out, "value = {}", src.u8());
                    }
                    if src.u8().is_multiple_of(8) {
                        let _ = writeln!(out, "gas_limit = {}", src.u32());
                    }
                }
                if src.u8().is_multiple_of(2) {
                    out.push_str(&expect(src, "call"));
                }
            }
            0..=3 => {
                let _ = writeln!(
                    out,
                    "send = \"{}\"\nfrom = \"{from}\"\nvalue = {}",
                    src.pick(&["alice", "bob", "carol"]),
                    src.u32()
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "balance = \"{}\"\nexpect = {{ equals = {} }}",
                    src.pick(&["alice", "bob", "carol"]),
                    value(src, 1)
                );
            }
        }
    }
    out
}

fn wild(src: &mut Source<'_>) -> String {
    let mut out = String::new();
    if !src.u8().is_multiple_of(8) {
        out.push_str("[accounts]\n");
        for _ in 0..src.below(4) {
            let _ = writeln!(out, "{} = {}", src.pick(&NAMES), value(src, 0));
        }
    }
    for _ in 0..src.below(10) {
        out.push_str("[[step]]\n");
        let n_actions = match src.u8() % 16 {
            0 => 0,
            1 => 2,
            _ => 1,
        };
        for _ in 0..n_actions {
            let action = *src.pick(&ACTIONS);
            let what = match action {
                "deploy" => format!("\"{}\"", src.pick(&CONTRACTS)),
                "call" | "view" => format!("\"{}\"", target(src)),
                _ => value(src, 0),
            };
            let _ = writeln!(out, "{action} = {what}");
        }
        for _ in 0..src.below(5) {
            let field = *src.pick(&FIELDS);
            let v = match field {
                "from" => format!("\"{}\"", src.pick(&NAMES)),
                "as" => format!("\"{}\"", src.pick(&["t", "u", "alice", "0x1", ""])),
                "args" => {
                    let items: Vec<String> = (0..src.below(5)).map(|_| value(src, 0)).collect();
                    format!("[{}]", items.join(", "))
                }
                "expect" => {
                    let items: Vec<String> = (0..src.below(4))
                        .map(|_| {
                            let k = *src.pick(&EXPECTS);
                            let v = if k == "status" && !src.u8().is_multiple_of(4) {
                                format!("\"{}\"", src.pick(&STATUSES))
                            } else if k == "events" && src.u8().is_multiple_of(2) {
                                format!("[[\"Transfer\", \"alice\", \"bob\", {}]]", value(src, 1))
                            } else {
                                value(src, 0)
                            };
                            format!("{k} = {v}")
                        })
                        .collect();
                    format!("{{ {} }}", items.join(", "))
                }
                _ => value(src, 0),
            };
            let _ = writeln!(out, "{field} = {v}");
        }
    }
    // Damage: a few bytes anywhere (at a char boundary).
    if src.u8().is_multiple_of(8) && !out.is_empty() {
        let mut at = src.below(out.len());
        while !out.is_char_boundary(at) {
            at -= 1;
        }
        let junk = String::from_utf8_lossy(&src.bytes(6)).into_owned();
        out.insert_str(at, &junk);
    }
    out
}

/// The file a fuzz input stands for: byte 0 below 128, the rest as it is
/// (raw text); otherwise [`generate`] from the rest.
pub fn file_of(data: &[u8]) -> Vec<u8> {
    match data.split_first() {
        Some((&mode, rest)) if mode < 128 => rest.to_vec(),
        Some((_, rest)) => generate(rest).into_bytes(),
        None => Vec::new(),
    }
}
