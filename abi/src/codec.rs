//! The value encoding of call data, return data, storage and event data.
//!
//! Deliberately plain, because an RV32 guest pays for every byte it shuffles:
//!
//! | type | bytes |
//! |---|---|
//! | `u8`, `u16`, `u32`, `u64`, `u128` | little-endian, fixed width (RV32 is little-endian, so a load is a copy) |
//! | `bool` | one byte, 0 or 1 (anything else is an error) |
//! | `Address` | 20 bytes |
//! | `[u8; N]` | N bytes |
//! | `Bytes`, `String` | `u32` length, then the bytes (a `String` must be UTF-8) |
//! | tuples `(A, B, ...)` | the fields one after another |
//! | `()` | nothing |
//!
//! There is no padding and no self-description: the types come from the
//! method's signature, which both sides know (the host from the ABI metadata
//! in the contract's ELF). Call data is the 4-byte selector followed by the
//! encoded argument tuple. Decoding never panics: a short or malformed input
//! is a [`DecodeError`].

use crate::Address;

/// Why bytes did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended early.
    Truncated,
    /// A `bool` byte other than 0 or 1.
    BadBool,
    /// A `String` that is not UTF-8.
    BadUtf8,
    /// Bytes left over after the value.
    TrailingBytes,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            DecodeError::Truncated => "input too short",
            DecodeError::BadBool => "bool byte is neither 0 nor 1",
            DecodeError::BadUtf8 => "string is not UTF-8",
            DecodeError::TrailingBytes => "unexpected bytes after the value",
        })
    }
}

/// A cursor over encoded bytes.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub const fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    /// Take the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.bytes.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    /// Take the next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// Bytes not yet read.
    pub const fn remaining(&self) -> &'a [u8] {
        self.bytes
    }

    /// Fail unless everything was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

/// Where encoded bytes go: a `Vec<u8>`, or a fixed buffer in code that must
/// not allocate.
pub trait Sink {
    /// Append bytes.
    fn put(&mut self, bytes: &[u8]);
}

#[cfg(feature = "alloc")]
impl Sink for alloc::vec::Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A [`Sink`] over a fixed buffer; remembers whether it overflowed.
pub struct SliceSink<'a> {
    buf: &'a mut [u8],
    len: usize,
    overflow: bool,
}

impl<'a> SliceSink<'a> {
    /// An empty sink writing into `buf`.
    pub fn new(buf: &'a mut [u8]) -> SliceSink<'a> {
        SliceSink { buf, len: 0, overflow: false }
    }

    /// The bytes written, or `None` if they did not fit.
    pub fn written(&self) -> Option<&[u8]> {
        (!self.overflow).then(|| &self.buf[..self.len])
    }
}

impl Sink for SliceSink<'_> {
    fn put(&mut self, bytes: &[u8]) {
        match self.buf.get_mut(self.len..self.len + bytes.len()) {
            Some(dst) if !self.overflow => {
                dst.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            _ => self.overflow = true,
        }
    }
}

/// A value that can be written in the ABI encoding.
pub trait Encode {
    /// Append the encoding of `self`.
    fn encode<S: Sink>(&self, out: &mut S);
}

/// A value that can be read from the ABI encoding.
pub trait Decode: Sized {
    /// Read one value.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Decode a whole buffer: one value and nothing after it.
    fn decode_all(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::decode(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

macro_rules! int_codec {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            fn encode<S: Sink>(&self, out: &mut S) {
                out.put(&self.to_le_bytes());
            }
        }
        impl Decode for $t {
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(<$t>::from_le_bytes(r.array()?))
            }
        }
    )*};
}
int_codec!(u8, u16, u32, u64, u128);

impl Encode for bool {
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put(&[u8::from(*self)]);
    }
}

impl Decode for bool {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.array::<1>()?[0] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::BadBool),
        }
    }
}

impl Encode for Address {
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put(&self.0);
    }
}

impl Decode for Address {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Address(r.array()?))
    }
}

impl<const N: usize> Encode for [u8; N] {
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put(self);
    }
}

impl<const N: usize> Decode for [u8; N] {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.array()
    }
}

impl Encode for str {
    fn encode<S: Sink>(&self, out: &mut S) {
        encode_bytes(self.as_bytes(), out);
    }
}

impl Encode for [u8] {
    fn encode<S: Sink>(&self, out: &mut S) {
        encode_bytes(self, out);
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode<S: Sink>(&self, out: &mut S) {
        (**self).encode(out);
    }
}

/// A length-prefixed byte string.
pub fn encode_bytes<S: Sink>(bytes: &[u8], out: &mut S) {
    // Lengths above u32::MAX cannot occur in a 32-bit guest, and the host
    // limits every buffer far below it.
    out.put(&(bytes.len() as u32).to_le_bytes());
    out.put(bytes);
}

/// Read a length-prefixed byte string without copying.
pub fn decode_bytes<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], DecodeError> {
    let len = u32::decode(r)?;
    r.take(len as usize)
}

impl Encode for () {
    fn encode<S: Sink>(&self, _: &mut S) {}
}

impl Decode for () {
    fn decode(_: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(())
    }
}

macro_rules! tuple_codec {
    ($($name:ident),+) => {
        impl<$($name: Encode),+> Encode for ($($name,)+) {
            #[allow(non_snake_case)]
            fn encode<S: Sink>(&self, out: &mut S) {
                let ($($name,)+) = self;
                $($name.encode(out);)+
            }
        }
        impl<$($name: Decode),+> Decode for ($($name,)+) {
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(($($name::decode(r)?,)+))
            }
        }
    };
}
tuple_codec!(A);
tuple_codec!(A, B);
tuple_codec!(A, B, C);
tuple_codec!(A, B, C, D);
tuple_codec!(A, B, C, D, E);
tuple_codec!(A, B, C, D, E, F);
tuple_codec!(A, B, C, D, E, F, G);
tuple_codec!(A, B, C, D, E, F, G, H);

#[cfg(feature = "alloc")]
mod owned {
    use super::*;
    use alloc::string::String;
    use alloc::vec::Vec;

    /// A byte string (`Bytes` in signatures): length-prefixed.
    #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
    pub struct Bytes(pub Vec<u8>);

    impl Encode for Bytes {
        fn encode<S: Sink>(&self, out: &mut S) {
            encode_bytes(&self.0, out);
        }
    }

    impl Decode for Bytes {
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(Bytes(decode_bytes(r)?.to_vec()))
        }
    }

    impl Encode for String {
        fn encode<S: Sink>(&self, out: &mut S) {
            encode_bytes(self.as_bytes(), out);
        }
    }

    impl Decode for String {
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            let b = decode_bytes(r)?;
            core::str::from_utf8(b).map(String::from).map_err(|_| DecodeError::BadUtf8)
        }
    }

    /// Encode a value into a new vector.
    pub fn to_vec<T: Encode + ?Sized>(value: &T) -> Vec<u8> {
        let mut v = Vec::new();
        value.encode(&mut v);
        v
    }
}

#[cfg(feature = "alloc")]
pub use owned::{to_vec, Bytes};

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use alloc::string::String;

    #[test]
    fn a_tuple_roundtrips_and_its_layout_is_the_documented_one() {
        let v = (7u8, 0x0102_0304u32, true, Address([9; 20]), String::from("hi"), Bytes(alloc::vec![1, 2]));
        let bytes = to_vec(&v);
        assert_eq!(&bytes[..5], &[7, 4, 3, 2, 1]);
        assert_eq!(bytes.len(), 1 + 4 + 1 + 20 + 4 + 2 + 4 + 2);
        assert_eq!(<(u8, u32, bool, Address, String, Bytes)>::decode_all(&bytes), Ok(v));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert_eq!(u128::decode_all(&[1, 2, 3]), Err(DecodeError::Truncated));
        assert_eq!(bool::decode_all(&[2]), Err(DecodeError::BadBool));
        assert_eq!(String::decode_all(&[2, 0, 0, 0, 0xff, 0xfe]), Err(DecodeError::BadUtf8));
        assert_eq!(u8::decode_all(&[1, 2]), Err(DecodeError::TrailingBytes));
        assert_eq!(Bytes::decode_all(&[0xff, 0xff, 0xff, 0xff]), Err(DecodeError::Truncated));
    }
}
