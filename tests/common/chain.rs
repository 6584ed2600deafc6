//! Signed transactions through [`avm::chain::Chain`] on every engine at once.
//!
//! [`Nodes`] holds one chain per engine configuration (the interpreter, the
//! JIT with its default tiering, and the JIT compiling every block on first
//! use). Every block is produced on all of them, and [`Nodes::produce`]
//! asserts that they agree on everything a node publishes: which
//! transactions were left out and why, every receipt (status, gas,
//! instructions, logs, return data), and the block header (state root,
//! receipts root, transactions root, gas used).

#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};

use avm::chain::keys::{address_of, dev_key};
use avm::chain::node::Included;
use avm::chain::{deploy_data, Chain, DEV_CHAIN_ID};
use avm::runtime::{CodeImage, Vm};
use avm::EngineKind;
use avm_abi::types::Value;
use avm_jit::{JitConfig, JitEngine};
use avm_state::k256::ecdsa::SigningKey;
use avm_state::{Address, BlockHeader, Receipt, SignedTransaction, Transaction};

/// The engine configurations every block runs on.
pub const CONFIGS: [&str; 3] = ["interp", "jit", "jit-threshold-0"];

/// A booted VM for one of [`CONFIGS`].
pub fn vm(config: &str) -> Vm {
    match config {
        "interp" => Vm::new(EngineKind::Interp).expect("boot interp"),
        "jit" => Vm::new(EngineKind::Jit).expect("boot jit"),
        _ => {
            let kernel = std::fs::read(avm::runtime::kernel_elf_path().expect("kernel built")).expect("kernel ELF");
            let jit0 = JitConfig { threshold: 0, ..JitConfig::default() };
            Vm::boot(&kernel, Box::new(JitEngine::new(jit0))).expect("boot jit0")
        }
    }
}

fn kind(config: &str) -> EngineKind {
    if config == "interp" {
        EngineKind::Interp
    } else {
        EngineKind::Jit
    }
}

/// The same chain on every engine configuration.
pub struct Nodes {
    /// One chain per configuration, in [`CONFIGS`] order.
    pub chains: Vec<(&'static str, Chain)>,
}

impl Nodes {
    /// In-memory chains whose genesis gives these balances.
    pub fn in_memory(balances: &[(Address, u128)]) -> Nodes {
        let chains = CONFIGS
            .iter()
            .map(|&c| {
                let mut chain = Chain::in_memory(kind(c), balances).expect("chain");
                chain.vm = vm(c);
                (c, chain)
            })
            .collect();
        Nodes { chains }
    }

    /// Persistent chains, one data dir per configuration under `dir`.
    pub fn create(dir: &Path, balances: &[(Address, u128)]) -> Nodes {
        let chains = CONFIGS
            .iter()
            .map(|&c| {
                let mut chain = Chain::create(&dir.join(c), kind(c), balances).expect("create chain");
                chain.vm = vm(c);
                (c, chain)
            })
            .collect();
        Nodes { chains }
    }

    /// The persistent chains under `dir`, opened again.
    pub fn open(dir: &Path) -> Nodes {
        let chains = CONFIGS
            .iter()
            .map(|&c| {
                let mut chain = Chain::open(&dir.join(c), kind(c)).expect("open chain");
                chain.vm = vm(c);
                (c, chain)
            })
            .collect();
        Nodes { chains }
    }

    /// The first chain (equal to every other after [`Nodes::produce`]).
    pub fn chain(&mut self) -> &mut Chain {
        &mut self.chains[0].1
    }

    /// The head header, asserted equal on every chain.
    pub fn head(&self) -> BlockHeader {
        let head = self.chains[0].1.head.clone();
        for (name, chain) in &self.chains[1..] {
            assert_eq!(chain.head, head, "head differs on {name}");
        }
        head
    }

    /// Balance of `who`, asserted equal on every chain.
    pub fn balance(&self, who: &Address) -> u128 {
        let b = self.chains[0].1.state.balance(who);
        for (name, chain) in &self.chains[1..] {
            assert_eq!(chain.state.balance(who), b, "balance of {who} differs on {name}");
        }
        b
    }

    /// Nonce of `who`, asserted equal on every chain.
    pub fn nonce(&self, who: &Address) -> u64 {
        let n = self.chains[0].1.state.nonce(who);
        for (name, chain) in &self.chains[1..] {
            assert_eq!(chain.state.nonce(who), n, "nonce of {who} differs on {name}");
        }
        n
    }

    /// Whether `who` has code, asserted equal on every chain.
    pub fn has_code(&self, who: &Address) -> bool {
        let has = self.chains[0].1.state.code_hash(who).is_some();
        for (name, chain) in &self.chains[1..] {
            assert_eq!(chain.state.code_hash(who).is_some(), has, "code of {who} differs on {name}");
        }
        has
    }

    /// Produce the next block on every chain and assert that they agree on
    /// every result and on the header; the header's state root must be the
    /// root of the state each chain now holds.
    #[track_caller]
    pub fn produce(&mut self, txs: Vec<SignedTransaction>) -> (BlockHeader, Vec<Included>) {
        let mut runs: Vec<(&str, BlockHeader, Vec<Included>)> = Vec::new();
        for (name, chain) in &mut self.chains {
            let (header, results) = chain.produce_block(txs.clone()).expect("block");
            assert_eq!(header.state_root, avm_state::state_root(&chain.state), "{name}: header and state disagree");
            runs.push((name, header, results));
        }
        let (first, header, results) = runs.swap_remove(0);
        for (name, h, r) in &runs {
            assert_eq!(r.len(), results.len());
            for (i, (a, b)) in results.iter().zip(r).enumerate() {
                assert_eq!(a, b, "transaction {i}: {first} and {name} differ");
            }
            assert_eq!(*h, header, "block header: {first} and {name} differ");
        }
        (header, results)
    }

    /// Produce a block and return every result as a receipt, failing if
    /// any transaction was left out.
    #[track_caller]
    pub fn produce_all(&mut self, txs: Vec<SignedTransaction>) -> Vec<Receipt> {
        let (_, results) = self.produce(txs);
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.unwrap_or_else(|e| panic!("transaction {i} left out: {e}")))
            .collect()
    }
}

/// A development account that signs transactions with consecutive nonces.
pub struct Signer {
    /// The key.
    pub key: SigningKey,
    /// Its address.
    pub address: Address,
    /// The nonce of the next transaction.
    pub nonce: u64,
}

impl Signer {
    /// The development account `name`, at nonce 0.
    pub fn new(name: &str) -> Signer {
        let key = dev_key(name);
        Signer { address: address_of(&key), key, nonce: 0 }
    }

    /// A transaction with the next nonce.
    pub fn tx(&mut self, to: Option<Address>, value: u128, data: Vec<u8>, gas_limit: u64) -> SignedTransaction {
        let tx = self.unsigned(to, value, data, gas_limit);
        self.nonce += 1;
        tx.sign(&self.key)
    }

    /// The unsigned transaction [`Signer::tx`] would sign, without using the nonce.
    pub fn unsigned(&self, to: Option<Address>, value: u128, data: Vec<u8>, gas_limit: u64) -> Transaction {
        Transaction { chain_id: DEV_CHAIN_ID, nonce: self.nonce, gas_limit, to, value, data }
    }

    /// A plain transfer.
    pub fn transfer(&mut self, to: Address, value: u128) -> SignedTransaction {
        self.tx(Some(to), value, Vec::new(), 10_000)
    }

    /// A deployment of `elf` without constructor arguments; returns the
    /// transaction and the address the contract would get.
    pub fn deploy(&mut self, elf: &[u8], gas_limit: u64) -> (SignedTransaction, Address) {
        let at = Address::contract(&self.address, self.nonce);
        (self.tx(None, 0, deploy_data(elf, &[]), gas_limit), at)
    }

    /// A call of `method(args)` of a contract whose ELF is `elf`.
    pub fn call(&mut self, elf: &[u8], to: Address, method: &str, args: &[Value], gas: u64) -> SignedTransaction {
        self.tx(Some(to), 0, call_data(elf, method, args), gas)
    }
}

/// Call data of `method(args)` from the ABI metadata in `elf`.
pub fn call_data(elf: &[u8], method: &str, args: &[Value]) -> Vec<u8> {
    let meta = CodeImage::from_elf(elf).expect("valid contract").metadata;
    meta.method(method).unwrap_or_else(|| panic!("no method {method}")).call_data(args)
}

/// A fresh temporary directory for a test's data dirs.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("avm-hardening-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}
