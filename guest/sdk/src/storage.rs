//! Typed storage over the contract's key-value store.
//!
//! Each contract has its own storage: byte-string keys (at most 256 bytes)
//! mapping to byte-string values. A [`Value`] is one key; a [`Map`] is a key
//! prefix followed by the encoded map key (so `balances[alice]` is the key
//! `b"bal" ++ alice`). Values are stored in the ABI encoding. A key that was
//! never written reads as the type's `Default`. Nothing is hashed in the
//! guest: hashing keys is the host's business.

use alloc::vec::Vec;
use core::marker::PhantomData;

use avm_abi::codec::{Decode, Encode};
use avm_abi::layout::MAX_KEY;
use avm_abi::syscall as sc;

use crate::buf::StackBuf;
use crate::rt::revert;
use crate::sys::{addr, syscall};

/// Read the raw value of `key` (empty if absent).
pub fn get_raw(key: &[u8]) -> Vec<u8> {
    let mut small = StackBuf::<64>::new();
    let (len, _) =
        syscall(sc::STORAGE_GET, addr(key), key.len() as u32, addr(small.as_mut_ptr()), StackBuf::<64>::CAPACITY);
    if len <= StackBuf::<64>::CAPACITY {
        // SAFETY: the kernel wrote the whole value, `len` bytes.
        unsafe { small.set_filled(len as usize) };
        return small.filled().to_vec();
    }
    let mut big = Vec::with_capacity(len as usize);
    let (len2, _) = syscall(sc::STORAGE_GET, addr(key), key.len() as u32, addr(big.as_mut_ptr()), len);
    // SAFETY: the kernel wrote min(len2, len) bytes into the buffer.
    unsafe { big.set_len(len2.min(len) as usize) };
    big
}

/// Write the raw value of `key`; an empty value deletes it.
pub fn set_raw(key: &[u8], value: &[u8]) {
    let (status, _) = syscall(sc::STORAGE_SET, addr(key), key.len() as u32, addr(value), value.len() as u32);
    if status != avm_abi::status::OK {
        revert(avm_abi::status::describe(status));
    }
}

fn read<T: Decode + Default>(key: &[u8]) -> T {
    let mut small = StackBuf::<64>::new();
    let (len, _) =
        syscall(sc::STORAGE_GET, addr(key), key.len() as u32, addr(small.as_mut_ptr()), StackBuf::<64>::CAPACITY);
    let decoded = if len == 0 {
        return T::default();
    } else if len <= StackBuf::<64>::CAPACITY {
        // SAFETY: the kernel wrote the whole value, `len` bytes.
        unsafe { small.set_filled(len as usize) };
        T::decode_all(small.filled())
    } else {
        T::decode_all(&get_raw(key))
    };
    decoded.unwrap_or_else(|_| revert("storage holds a value of another type"))
}

fn write<T: Encode + ?Sized>(key: &[u8], value: &T) {
    let mut sink = StackBuf::<64>::new();
    value.encode(&mut sink);
    match sink.written() {
        Some(bytes) => set_raw(key, bytes),
        None => set_raw(key, &crate::to_vec(value)),
    }
}

/// One storage slot holding a `T`.
pub struct Value<T> {
    key: &'static [u8],
    _type: PhantomData<fn() -> T>,
}

impl<T: Encode + Decode + Default> Value<T> {
    /// The slot at `key` (a short name, unique within the contract).
    pub const fn new(key: &'static [u8]) -> Value<T> {
        Value { key, _type: PhantomData }
    }

    /// The stored value, or `T::default()` if never written.
    pub fn get(&self) -> T {
        read(self.key)
    }

    /// Store a value.
    pub fn set(&self, value: &T) {
        write(self.key, value);
    }

    /// Delete the slot (it reads as the default again).
    pub fn clear(&self) {
        set_raw(self.key, &[]);
    }
}

/// A map from `K` to `V`: one slot per key, under a common prefix.
pub struct Map<K, V> {
    prefix: &'static [u8],
    _types: PhantomData<fn(K) -> V>,
}

/// Bytes of a storage key built on the stack; longer keys (up to
/// [`MAX_KEY`]) go to the heap. Most keys are a short prefix and an address
/// or two, and zeroing a large buffer for every access costs instructions.
const STACK_KEY: usize = 64;

/// Run `f` on the storage key `prefix ++ encode(k)`.
fn with_key<K: Encode, R>(prefix: &[u8], k: &K, f: impl FnOnce(&[u8]) -> R) -> R {
    let mut sink = StackBuf::<STACK_KEY>::new();
    avm_abi::codec::Sink::put(&mut sink, prefix);
    k.encode(&mut sink);
    if let Some(key) = sink.written() {
        return f(key);
    }
    let mut key = Vec::from(prefix);
    k.encode(&mut key);
    if key.len() > MAX_KEY as usize {
        revert("storage key too long");
    }
    f(&key)
}

impl<K: Encode, V: Encode + Decode + Default> Map<K, V> {
    /// The map under `prefix` (a short name, unique within the contract and
    /// not a prefix of another name).
    pub const fn new(prefix: &'static [u8]) -> Map<K, V> {
        Map { prefix, _types: PhantomData }
    }

    /// The value at `k`, or `V::default()`.
    pub fn get(&self, k: &K) -> V {
        with_key(self.prefix, k, read)
    }

    /// Store `v` at `k`.
    pub fn set(&self, k: &K, v: &V) {
        with_key(self.prefix, k, |key| write(key, v))
    }

    /// Delete the entry at `k`.
    pub fn remove(&self, k: &K) {
        with_key(self.prefix, k, |key| set_raw(key, &[]))
    }
}
