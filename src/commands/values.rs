//! Typed values from text, and typed values as text and JSON.
//!
//! Command-line arguments and scenario files give values as strings,
//! numbers, booleans and lists; the method's ABI type says what they mean.
//! [`parse`] turns an [`Input`] into an [`avm_abi::types::Value`] of a given
//! [`Type`], resolving account names and aliases wherever an `Address` is
//! expected. [`to_json`] and [`to_text`] go the other way: integers as
//! decimal strings (JSON numbers cannot hold a `u128`), addresses and bytes
//! as `0x` hex, tuples as arrays.

use avm_abi::types::{Type, Value};
use avm_state::{from_hex, to_hex, Address};

/// A value as the user wrote it.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// Text (command-line arguments are always text).
    Str(String),
    /// An integer (from a scenario file).
    Int(i128),
    /// A boolean (from a scenario file).
    Bool(bool),
    /// A list (a tuple, from a scenario file).
    List(Vec<Input>),
}

impl Input {
    /// Convert a TOML value.
    pub fn from_toml(v: &toml::Value) -> Result<Input, String> {
        Ok(match v {
            toml::Value::String(s) => Input::Str(s.clone()),
            toml::Value::Integer(i) => Input::Int(i128::from(*i)),
            toml::Value::Boolean(b) => Input::Bool(*b),
            toml::Value::Array(a) => Input::List(a.iter().map(Input::from_toml).collect::<Result<_, _>>()?),
            other => return Err(format!("unsupported value `{other}` (use strings, integers, booleans or arrays)")),
        })
    }
}

impl std::fmt::Display for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Str(s) => write!(f, "{s:?}"),
            Input::Int(i) => write!(f, "{i}"),
            Input::Bool(b) => write!(f, "{b}"),
            Input::List(l) => {
                write!(f, "[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
        }
    }
}

/// Parse an integer: decimal, or `0x` hex.
pub fn parse_uint(s: &str) -> Option<u128> {
    let s = s.trim().replace('_', "");
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u128::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Parse `input` as a value of type `ty`. `resolve` maps names to
/// addresses (accounts, aliases).
pub fn parse(ty: &Type, input: &Input, resolve: &dyn Fn(&str) -> Option<Address>) -> Result<Value, String> {
    let bad = || format!("`{input}` is not a valid {ty}");
    Ok(match ty {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::U128 => {
            let v = match input {
                Input::Int(i) => u128::try_from(*i).map_err(|_| format!("{i} is negative; {ty} is unsigned"))?,
                Input::Str(s) => parse_uint(s).ok_or_else(bad)?,
                _ => return Err(bad()),
            };
            let max = ty.max_uint().unwrap_or(u128::MAX);
            if v > max {
                return Err(format!("{v} does not fit in {ty} (max {max})"));
            }
            Value::Uint(ty.clone(), v)
        }
        Type::Bool => match input {
            Input::Bool(b) => Value::Bool(*b),
            Input::Str(s) if s == "true" => Value::Bool(true),
            Input::Str(s) if s == "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        Type::Address => match input {
            Input::Str(s) => {
                let a =
                    resolve(s).ok_or_else(|| format!("`{s}` is neither a 0x address nor a known account or alias"))?;
                Value::Address(a.0)
            }
            _ => return Err(bad()),
        },
        Type::Bytes | Type::FixedBytes(_) => match input {
            Input::Str(s) => {
                let bytes = from_hex(s).map_err(|_| format!("`{s}` is not 0x-prefixed hex bytes"))?;
                if let Type::FixedBytes(n) = ty {
                    if bytes.len() != *n {
                        return Err(format!("{ty} needs exactly {n} bytes, got {}", bytes.len()));
                    }
                }
                Value::Bytes(ty.clone(), bytes)
            }
            _ => return Err(bad()),
        },
        Type::String => match input {
            Input::Str(s) => Value::String(s.clone()),
            Input::Int(i) => Value::String(i.to_string()),
            _ => return Err(bad()),
        },
        Type::Tuple(types) => match input {
            Input::List(items) if items.len() == types.len() => {
                Value::Tuple(types.iter().zip(items).map(|(t, i)| parse(t, i, resolve)).collect::<Result<_, _>>()?)
            }
            Input::List(items) => return Err(format!("{ty} has {} fields, got {}", types.len(), items.len())),
            _ => return Err(format!("{ty} is a tuple: give it as an array")),
        },
    })
}

/// Parse a method's arguments.
pub fn parse_args(
    types: &[(String, Type)],
    inputs: &[Input],
    resolve: &dyn Fn(&str) -> Option<Address>,
) -> Result<Vec<Value>, String> {
    if types.len() != inputs.len() {
        let sig: Vec<String> = types.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        return Err(format!("expected {} argument(s) ({}), got {}", types.len(), sig.join(", "), inputs.len()));
    }
    types
        .iter()
        .zip(inputs)
        .map(|((name, t), i)| parse(t, i, resolve).map_err(|e| format!("argument `{name}`: {e}")))
        .collect()
}

/// A value as JSON: integers as decimal strings, addresses and bytes as
/// `0x` hex, tuples as arrays.
pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Uint(_, n) => serde_json::Value::String(n.to_string()),
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Address(a) => serde_json::Value::String(Address(*a).to_string()),
        Value::Bytes(_, b) => serde_json::Value::String(to_hex(b)),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Tuple(vs) if vs.is_empty() => serde_json::Value::Null,
        Value::Tuple(vs) => serde_json::Value::Array(vs.iter().map(to_json).collect()),
    }
}

/// A value as text, naming known addresses with `name`.
pub fn to_text(v: &Value, name: &dyn Fn(&Address) -> Option<String>) -> String {
    match v {
        Value::Uint(_, n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Address(a) => name(&Address(*a)).unwrap_or_else(|| Address(*a).to_string()),
        Value::Bytes(_, b) => to_hex(b),
        Value::String(s) => format!("{s:?}"),
        Value::Tuple(vs) => format!("({})", vs.iter().map(|v| to_text(v, name)).collect::<Vec<_>>().join(", ")),
    }
}

/// Does `actual` equal what a scenario expected? Integers compare by value
/// whether given as numbers or strings, addresses by name or hex.
pub fn matches(actual: &Value, expected: &Input, resolve: &dyn Fn(&str) -> Option<Address>) -> bool {
    match (actual, expected) {
        (Value::Tuple(vs), Input::List(es)) => {
            vs.len() == es.len() && vs.iter().zip(es).all(|(v, e)| matches(v, e, resolve))
        }
        (Value::Tuple(vs), _) if vs.is_empty() => false,
        (v, e) => {
            let ty = match v {
                Value::Uint(t, _) | Value::Bytes(t, _) => t.clone(),
                Value::Bool(_) => Type::Bool,
                Value::Address(_) => Type::Address,
                Value::String(_) => Type::String,
                Value::Tuple(_) => return false,
            };
            parse(&ty, e, resolve).is_ok_and(|p| &p == v)
        }
    }
}
