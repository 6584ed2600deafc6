//! Dynamic types and values: decoding contracts without their source.
//!
//! The SDK embeds **ABI metadata** in every contract ELF: a section named
//! [`METADATA_SECTION`] holding one line per method and event, e.g.
//!
//! ```text
//! fn transfer(to:Address,amount:u128)->bool
//! event Transfer(#from:Address,#to:Address,amount:u128)
//! ```
//!
//! (`#` marks an indexed event field, whitespace is insignificant.) The host
//! parses it into a [`Metadata`] and uses [`Type`] and [`Value`] to encode
//! arguments typed on a command line and to decode return data and events.
//! The encoding is the one in [`crate::codec`]; a test checks that a typed
//! value and its dynamic twin encode to the same bytes.
//!
//! Event layout: topic 0 is the event id ([`crate::event_id`] of
//! `Name(T1,T2,...)` over *all* fields), then one topic per indexed field
//! holding its encoding zero-padded to 32 bytes (so only fields of at most 32
//! encoded bytes may be indexed), and the log data is the tuple of the
//! remaining fields.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::codec::{decode_bytes, encode_bytes, Decode, DecodeError, Reader};
use crate::selector::{event_id, selector, Selector};

/// Name of the ELF section that holds the ABI metadata.
pub const METADATA_SECTION: &str = ".avm_abi";

/// A value type of the ABI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    /// `u8`
    U8,
    /// `u16`
    U16,
    /// `u32`
    U32,
    /// `u64`
    U64,
    /// `u128`
    U128,
    /// `bool`
    Bool,
    /// `Address`
    Address,
    /// `Bytes`
    Bytes,
    /// `String`
    String,
    /// `[u8; N]`
    FixedBytes(usize),
    /// `(A, B, ...)`; the empty tuple is `()`.
    Tuple(Vec<Type>),
}

/// A value of some [`Type`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// An unsigned integer of the given type (`U8` .. `U128`).
    Uint(Type, u128),
    /// `bool`
    Bool(bool),
    /// `Address`
    Address([u8; 20]),
    /// `Bytes` or `[u8; N]` (the type says which).
    Bytes(Type, Vec<u8>),
    /// `String`
    String(String),
    /// A tuple (also the argument list of a call).
    Tuple(Vec<Value>),
}

/// Why a type or metadata line did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(msg.into()))
}

/// Split `s` at commas that are not inside brackets.
fn split_top(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '<' => depth += 1,
            ')' | ']' | '>' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < s.len() {
        parts.push(&s[start..]);
    }
    parts
}

fn strip_ws(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

impl Type {
    /// Parse a type as the SDK spells it (Rust syntax, whitespace ignored).
    pub fn parse(s: &str) -> Result<Type, ParseError> {
        Type::parse_normalized(&strip_ws(s))
    }

    fn parse_normalized(s: &str) -> Result<Type, ParseError> {
        Ok(match s {
            "u8" => Type::U8,
            "u16" => Type::U16,
            "u32" => Type::U32,
            "u64" => Type::U64,
            "u128" => Type::U128,
            "bool" => Type::Bool,
            "Address" => Type::Address,
            "Bytes" | "Vec<u8>" => Type::Bytes,
            "String" => Type::String,
            _ => {
                if let Some(inner) = s.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
                    let mut fields = Vec::new();
                    for part in split_top(inner) {
                        fields.push(Type::parse_normalized(part)?);
                    }
                    Type::Tuple(fields)
                } else if let Some(n) = s.strip_prefix("[u8;").and_then(|t| t.strip_suffix(']')) {
                    match n.parse::<usize>() {
                        Ok(n) if n <= 4096 => Type::FixedBytes(n),
                        _ => return err(alloc::format!("bad array length in `{s}`")),
                    }
                } else {
                    return err(alloc::format!("unknown type `{s}`"));
                }
            }
        })
    }

    /// Read one value of this type.
    pub fn decode(&self, r: &mut Reader<'_>) -> Result<Value, DecodeError> {
        Ok(match self {
            Type::U8 => Value::Uint(self.clone(), u128::from(u8::decode(r)?)),
            Type::U16 => Value::Uint(self.clone(), u128::from(u16::decode(r)?)),
            Type::U32 => Value::Uint(self.clone(), u128::from(u32::decode(r)?)),
            Type::U64 => Value::Uint(self.clone(), u128::from(u64::decode(r)?)),
            Type::U128 => Value::Uint(self.clone(), u128::decode(r)?),
            Type::Bool => Value::Bool(bool::decode(r)?),
            Type::Address => Value::Address(r.array()?),
            Type::Bytes => Value::Bytes(Type::Bytes, decode_bytes(r)?.to_vec()),
            Type::String => Value::String(String::decode(r)?),
            Type::FixedBytes(n) => Value::Bytes(self.clone(), r.take(*n)?.to_vec()),
            Type::Tuple(fields) => {
                let mut vs = Vec::with_capacity(fields.len());
                for f in fields {
                    vs.push(f.decode(r)?);
                }
                Value::Tuple(vs)
            }
        })
    }

    /// Decode a whole buffer as one value of this type.
    pub fn decode_all(&self, bytes: &[u8]) -> Result<Value, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = self.decode(&mut r)?;
        r.finish()?;
        Ok(v)
    }

    /// Largest value of an unsigned integer type.
    pub fn max_uint(&self) -> Option<u128> {
        Some(match self {
            Type::U8 => u8::MAX.into(),
            Type::U16 => u16::MAX.into(),
            Type::U32 => u32::MAX.into(),
            Type::U64 => u64::MAX.into(),
            Type::U128 => u128::MAX,
            _ => return None,
        })
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::U8 => f.write_str("u8"),
            Type::U16 => f.write_str("u16"),
            Type::U32 => f.write_str("u32"),
            Type::U64 => f.write_str("u64"),
            Type::U128 => f.write_str("u128"),
            Type::Bool => f.write_str("bool"),
            Type::Address => f.write_str("Address"),
            Type::Bytes => f.write_str("Bytes"),
            Type::String => f.write_str("String"),
            Type::FixedBytes(n) => write!(f, "[u8;{n}]"),
            Type::Tuple(ts) => {
                f.write_str("(")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl Value {
    /// Append the encoding of this value.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Uint(t, v) => {
                let width = match t {
                    Type::U8 => 1,
                    Type::U16 => 2,
                    Type::U32 => 4,
                    Type::U64 => 8,
                    _ => 16,
                };
                out.extend_from_slice(&v.to_le_bytes()[..width]);
            }
            Value::Bool(b) => out.push(u8::from(*b)),
            Value::Address(a) => out.extend_from_slice(a),
            Value::Bytes(Type::FixedBytes(_), b) => out.extend_from_slice(b),
            Value::Bytes(_, b) => encode_bytes(b, out),
            Value::String(s) => encode_bytes(s.as_bytes(), out),
            Value::Tuple(vs) => vs.iter().for_each(|v| v.encode(out)),
        }
    }

    /// The encoding of this value.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }
}

/// A method of a contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    /// Its name.
    pub name: String,
    /// Argument names and types.
    pub args: Vec<(String, Type)>,
    /// Return type (`()` when it returns nothing).
    pub returns: Type,
    /// `name(T1,T2,...)`.
    pub signature: String,
    /// The selector of the signature.
    pub selector: Selector,
}

impl Method {
    /// The argument list as one tuple type.
    pub fn args_type(&self) -> Type {
        Type::Tuple(self.args.iter().map(|(_, t)| t.clone()).collect())
    }

    /// Call data for these arguments: selector, then the encoded tuple.
    pub fn call_data(&self, args: &[Value]) -> Vec<u8> {
        let mut data = self.selector.to_vec();
        args.iter().for_each(|a| a.encode(&mut data));
        data
    }
}

/// A field of an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventField {
    /// Field name.
    pub name: String,
    /// Field type.
    pub ty: Type,
    /// True if the field is a topic rather than part of the data.
    pub indexed: bool,
}

/// An event a contract may emit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Its name.
    pub name: String,
    /// Its fields in declaration order.
    pub fields: Vec<EventField>,
    /// The id: topic 0 of its logs.
    pub id: [u8; 32],
}

impl Event {
    /// Decode a log of this event into its field values, in declaration
    /// order, or `None` if the log does not match.
    pub fn decode_log(&self, topics: &[[u8; 32]], data: &[u8]) -> Option<Vec<Value>> {
        if topics.first() != Some(&self.id) {
            return None;
        }
        let mut topic = topics[1..].iter();
        let mut r = Reader::new(data);
        let mut out = Vec::with_capacity(self.fields.len());
        for f in &self.fields {
            if f.indexed {
                let t = topic.next()?;
                out.push(f.ty.decode(&mut Reader::new(t)).ok()?);
            } else {
                out.push(f.ty.decode(&mut r).ok()?);
            }
        }
        (r.finish().is_ok() && topic.next().is_none()).then_some(out)
    }
}

/// Everything the metadata says about a contract.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Metadata {
    /// Methods in declaration order (`init` included, if any).
    pub methods: Vec<Method>,
    /// Events in declaration order.
    pub events: Vec<Event>,
}

fn parse_fields(inner: &str) -> Result<Vec<(bool, String, Type)>, ParseError> {
    let mut out = Vec::new();
    for part in split_top(inner) {
        let (indexed, part) = match part.strip_prefix('#') {
            Some(rest) => (true, rest),
            None => (false, part),
        };
        let Some((name, ty)) = part.split_once(':') else {
            return err(alloc::format!("field `{part}` has no type"));
        };
        out.push((indexed, name.to_string(), Type::parse_normalized(ty)?));
    }
    Ok(out)
}

fn signature(name: &str, types: impl Iterator<Item = String>) -> String {
    let mut s = String::from(name);
    s.push('(');
    s.push_str(&types.collect::<Vec<_>>().join(","));
    s.push(')');
    s
}

impl Metadata {
    /// Parse metadata text (see the module docs).
    pub fn parse(text: &str) -> Result<Metadata, ParseError> {
        let mut m = Metadata::default();
        for line in text.lines().map(strip_ws).filter(|l| !l.is_empty()) {
            let (kind, rest) = if let Some(r) = line.strip_prefix("fn") {
                ("fn", r)
            } else if let Some(r) = line.strip_prefix("event") {
                ("event", r)
            } else {
                return err(alloc::format!("metadata line `{line}` is neither `fn` nor `event`"));
            };
            let Some(open) = rest.find('(') else {
                return err(alloc::format!("metadata line `{line}` has no argument list"));
            };
            let name = &rest[..open];
            let close = match rest.rfind("->") {
                Some(arrow) => arrow,
                None => rest.len(),
            };
            let Some(inner) = rest[open..close].strip_prefix('(').and_then(|t| t.strip_suffix(')')) else {
                return err(alloc::format!("metadata line `{line}` has unbalanced brackets"));
            };
            let fields = parse_fields(inner)?;
            let sig = signature(name, fields.iter().map(|(_, _, t)| t.to_string()));
            if kind == "fn" {
                let returns = match rest.get(close + 2..) {
                    Some(r) if close < rest.len() => Type::parse_normalized(r)?,
                    _ => Type::Tuple(Vec::new()),
                };
                m.methods.push(Method {
                    name: name.to_string(),
                    args: fields.into_iter().map(|(_, n, t)| (n, t)).collect(),
                    returns,
                    selector: selector(&sig),
                    signature: sig,
                });
            } else {
                m.events.push(Event {
                    name: name.to_string(),
                    id: event_id(&sig),
                    fields: fields.into_iter().map(|(indexed, name, ty)| EventField { name, ty, indexed }).collect(),
                });
            }
        }
        Ok(m)
    }

    /// The method with this name.
    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.name == name)
    }

    /// The method with this selector.
    pub fn method_by_selector(&self, sel: &Selector) -> Option<&Method> {
        self.methods.iter().find(|m| &m.selector == sel)
    }

    /// The event a log belongs to, by its first topic.
    pub fn event_of(&self, topics: &[[u8; 32]]) -> Option<&Event> {
        let id = topics.first()?;
        self.events.iter().find(|e| &e.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{to_vec, Bytes};
    use crate::Address;

    #[test]
    fn metadata_lines_parse_into_methods_and_events_with_the_sdk_selectors() {
        let m = Metadata::parse(
            "fn transfer ( to : Address , amount : u128 , ) -> bool\n\
             fn reserves() -> (u128, u128)\n\
             fn init(name:String)\n\
             event Transfer(#from:Address,#to:Address,amount:u128,)\n",
        )
        .unwrap();
        let t = m.method("transfer").unwrap();
        assert_eq!(t.signature, "transfer(Address,u128)");
        assert_eq!(t.selector, selector("transfer(Address, u128)"));
        assert_eq!(t.returns, Type::Bool);
        assert_eq!(m.method("reserves").unwrap().returns, Type::Tuple(alloc::vec![Type::U128, Type::U128]));
        assert_eq!(m.method("init").unwrap().returns, Type::Tuple(Vec::new()));
        assert_eq!(m.events[0].id, event_id("Transfer(Address,Address,u128)"));
        assert!(m.events[0].fields[0].indexed && !m.events[0].fields[2].indexed);
    }

    #[test]
    fn dynamic_values_encode_exactly_as_typed_values() {
        let typed = (Address([3; 20]), 500u128, true, String::from("x"), Bytes(alloc::vec![1]), [7u8; 4], 9u8);
        let ty = Type::parse("(Address, u128, bool, String, Bytes, [u8; 4], u8)").unwrap();
        let bytes = to_vec(&typed);
        let value = ty.decode_all(&bytes).unwrap();
        assert_eq!(value.to_bytes(), bytes);
    }

    #[test]
    fn unknown_types_and_broken_lines_are_errors() {
        assert!(Type::parse("f32").is_err());
        assert!(Type::parse("[u8; x]").is_err());
        assert!(Metadata::parse("fn broken(a:u8").is_err());
        assert!(Metadata::parse("const X").is_err());
        assert!(Metadata::parse("fn f(a)").is_err());
    }
}
