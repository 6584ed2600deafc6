//! The canonical binary encoding: big-endian fixed-width integers, `u32` length prefixes,
//! one-byte tags for options and enums. One writer and one reader serve transactions,
//! receipts, headers and the store's rows, so every byte string has exactly one meaning and
//! every value exactly one encoding.
//!
//! The reader never trusts a length: it checks each one against a caller's limit and
//! against the bytes that are actually left before it allocates, so a hostile length cannot
//! make it allocate more than the input's own size.

use thiserror::Error;

/// Why bytes did not decode. Decoding never panics; every failure is one of these.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended in the middle of a field.
    #[error("unexpected end of input while reading {what}")]
    UnexpectedEnd {
        /// The field being read.
        what: &'static str,
    },
    /// Bytes were left after a complete value.
    #[error("{count} trailing bytes after the encoded value")]
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
    /// A length prefix exceeds the field's limit.
    #[error("{what} is too long: {len} bytes (max {max})")]
    TooLong {
        /// The field.
        what: &'static str,
        /// Its encoded length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A tag byte has no meaning for this field.
    #[error("invalid tag {tag} for {what}")]
    InvalidTag {
        /// The field.
        what: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// A string field is not UTF-8.
    #[error("{what} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        what: &'static str,
    },
}

/// Appends canonical encodings to a byte vector.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Self {
        Writer { buf: Vec::with_capacity(n) }
    }

    /// The bytes written so far.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Four bytes, big-endian.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Eight bytes, big-endian.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Sixteen bytes, big-endian.
    pub fn u128(&mut self, v: u128) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Raw bytes with no prefix (fixed-size fields).
    pub fn fixed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// A `u32` length prefix, then the bytes. Callers keep lengths far below 4 GiB (every
    /// field has a limit of at most a few MiB); a longer slice is clamped in the prefix,
    /// which the reader would then reject, so the writer itself never panics.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.u32(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
        self.buf.extend_from_slice(bytes);
    }

    /// A count prefix for a list that follows.
    pub fn count(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
}

/// Reads canonical encodings from a byte slice.
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Fails unless every byte has been read.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes { count: self.rest.len() })
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.rest.len() {
            return Err(DecodeError::UnexpectedEnd { what });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// A big-endian `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// A big-endian `u64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// A big-endian `u128`.
    pub fn u128(&mut self, what: &'static str) -> Result<u128, DecodeError> {
        Ok(u128::from_be_bytes(self.array(what)?))
    }

    /// A length-prefixed byte string of at most `max` bytes.
    pub fn bytes(&mut self, max: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = usize::try_from(self.u32(what)?).unwrap_or(usize::MAX);
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        self.take(len, what)
    }

    /// A length-prefixed UTF-8 string of at most `max` bytes.
    pub fn string(&mut self, max: usize, what: &'static str) -> Result<String, DecodeError> {
        let bytes = self.bytes(max, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::InvalidUtf8 { what })
    }

    /// A list count of at most `max` items, each at least `min_item` bytes long: a count
    /// that the remaining input cannot hold is rejected before anything is allocated.
    pub fn count(&mut self, max: usize, min_item: usize, what: &'static str) -> Result<usize, DecodeError> {
        let n = usize::try_from(self.u32(what)?).unwrap_or(usize::MAX);
        if n > max {
            return Err(DecodeError::TooLong { what, len: n, max });
        }
        if n.saturating_mul(min_item.max(1)) > self.rest.len() {
            return Err(DecodeError::UnexpectedEnd { what });
        }
        Ok(n)
    }

    /// An option tag: 0 = none, 1 = some.
    pub fn option_tag(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(DecodeError::InvalidTag { what, tag }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_limits() {
        let mut w = Writer::new();
        w.u8(7);
        w.u64(1 << 40);
        w.u128(u128::MAX);
        w.bytes(b"hello");
        let bytes = w.finish();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8("a"), Ok(7));
        assert_eq!(r.u64("b"), Ok(1 << 40));
        assert_eq!(r.u128("c"), Ok(u128::MAX));
        assert_eq!(r.bytes(5, "d"), Ok(&b"hello"[..]));
        assert_eq!(r.finish(), Ok(()));

        let mut r = Reader::new(&bytes[25..]);
        assert_eq!(r.bytes(4, "d"), Err(DecodeError::TooLong { what: "d", len: 5, max: 4 }));
        let mut r = Reader::new(&bytes[..27]);
        assert_eq!(r.take(28, "x"), Err(DecodeError::UnexpectedEnd { what: "x" }));
        let mut r = Reader::new(&[0, 0, 0, 200]);
        assert_eq!(r.count(1000, 1, "n"), Err(DecodeError::UnexpectedEnd { what: "n" }));
    }
}
