//! The contract workloads' fixtures: a state holding two ERC-20 tokens, a DEX pool over
//! them and the ECDSA contract, the call messages that exercise them, and a builder of
//! blocks of signed mixed transactions.
//!
//! Contracts are put into the state through an **interpreter** VM ([`install`]), so no JIT
//! code cache has seen them: a JIT VM booted afterwards is truly cold for the first
//! transaction.

#![allow(dead_code)]

use std::collections::BTreeMap;

use avm::chain::bundled::{contract_elf, install};
use avm::chain::keys::{address_of, dev_key};
use avm::chain::{Chain, DEV_CHAIN_ID};
use avm::engine::EngineKind;
use avm::fuzzing::chain::{setup, Deployed};
use avm::fuzzing::contract;
use avm::runtime::{ExecStatus, Message, Vm};
use avm_abi::types::{Method, Type, Value};
use avm_abi::Address;
use avm_state::k256::ecdsa::signature::hazmat::PrehashSigner;
use avm_state::k256::ecdsa::{Signature, SigningKey, VerifyingKey};
use avm_state::{SignedTransaction, State, Transaction};

const E18: u128 = 1_000_000_000_000_000_000;
/// The caller of every message.
pub const ALICE: Address = Address([1; 20]);
const TOKEN_A: Address = Address([10; 20]);
const TOKEN_B: Address = Address([11; 20]);
const DEX: Address = Address([12; 20]);
const ECDSA: Address = Address([13; 20]);

fn u128v(n: u128) -> Value {
    Value::Uint(Type::U128, n)
}

fn method(meta: &avm_abi::types::Metadata, name: &str) -> Method {
    meta.method(name).unwrap_or_else(|| panic!("the contract has {name}")).clone()
}

/// The signed message the ECDSA workload verifies, and its signature and public key.
pub struct Signed {
    /// The message.
    pub message: Vec<u8>,
    /// `r ‖ s`.
    pub signature: Vec<u8>,
    /// SEC1-compressed public key.
    pub pubkey: Vec<u8>,
}

impl Signed {
    fn new() -> Signed {
        let key = SigningKey::from_slice(&[0x42; 32]).expect("a valid key");
        let message = b"pay bob 100 tokens".to_vec();
        let sig: Signature = key.sign_prehash(&avm_state::keccak256(&message)).expect("sign");
        let pubkey = key.verifying_key().to_encoded_point(true).as_bytes().to_vec();
        Signed { message, signature: sig.to_bytes().to_vec(), pubkey }
    }

    /// The same check the contract makes, on the host: keccak-256, then secp256k1
    /// verification with the host's `k256` (precomputed tables, 64-bit limbs).
    pub fn verify_native(&self) -> bool {
        use avm_state::k256::ecdsa::signature::hazmat::PrehashVerifier;
        let (Ok(key), Ok(sig)) = (VerifyingKey::from_sec1_bytes(&self.pubkey), Signature::from_slice(&self.signature))
        else {
            return false;
        };
        key.verify_prehash(&avm_state::keccak256(&self.message), &sig).is_ok()
    }
}

/// A state with the contracts, and the messages of each workload.
pub struct Contracts {
    /// The state after the set-up.
    pub state: State,
    /// ERC-20 `transfer`s of 1 unit to 1,000 different accounts.
    pub transfers: Vec<Message>,
    /// DEX `swap`s, alternately A for B and B for A.
    pub swaps: Vec<Message>,
    /// One ECDSA `verify` of a valid signature.
    pub verify: Message,
    /// What `verify` checks.
    pub signed: Signed,
}

/// Deploys the contracts with an interpreter VM and builds the messages.
pub fn contracts() -> Contracts {
    let mut vm = Vm::new(EngineKind::Interp).expect("the interpreter VM boots");
    let mut state = State::new();
    let token =
        |s: &str| [Value::String(s.into()), Value::String(s.into()), Value::Uint(Type::U8, 18), u128v(u128::MAX / 4)];
    let erc20 = contract_elf("erc20").expect("the bundled erc20");
    let meta = install(&mut vm, &mut state, ALICE, TOKEN_A, erc20.clone(), &token("A")).expect("token A");
    install(&mut vm, &mut state, ALICE, TOKEN_B, erc20, &token("B")).expect("token B");
    let dex_elf = contract_elf("dex").expect("the bundled dex");
    let dex =
        install(&mut vm, &mut state, ALICE, DEX, dex_elf, &[Value::Address(TOKEN_A.0), Value::Address(TOKEN_B.0)])
            .expect("dex");
    let ecdsa = install(&mut vm, &mut state, ALICE, ECDSA, contract_elf("ecdsa").expect("ecdsa"), &[]).expect("ecdsa");

    let mut run = |target: Address, m: &Method, args: &[Value]| {
        let out = vm.execute(&mut state, &Message::call(ALICE, target, m.call_data(args)));
        assert_eq!(out.status, ExecStatus::Success, "set-up call {} failed", m.name);
    };
    let approve = method(&meta, "approve");
    run(TOKEN_A, &approve, &[Value::Address(DEX.0), u128v(u128::MAX)]);
    run(TOKEN_B, &approve, &[Value::Address(DEX.0), u128v(u128::MAX)]);
    run(DEX, &method(&dex, "addLiquidity"), &[u128v(1_000_000 * E18), u128v(1_000_000 * E18)]);

    let transfer = method(&meta, "transfer");
    let transfers: Vec<Message> = (0..1000u64)
        .map(|i| {
            let mut to = [2u8; 20];
            to[..8].copy_from_slice(&i.to_le_bytes());
            Message::call(ALICE, TOKEN_A, transfer.call_data(&[Value::Address(to), u128v(1)]))
        })
        .collect();
    // The first transfer's recipient holds tokens from now on, so that transfer does the
    // same work on every run, cold or warm (a first credit writes a new storage slot).
    let first: &Message = &transfers[0];
    let out = vm.execute(&mut state, first);
    assert_eq!(out.status, ExecStatus::Success, "the first transfer failed");
    let swap = method(&dex, "swap");
    let swaps = (0..2)
        .map(|i| {
            let token_in = if i == 0 { TOKEN_A } else { TOKEN_B };
            Message::call(ALICE, DEX, swap.call_data(&[Value::Address(token_in.0), u128v(E18), u128v(1)]))
        })
        .collect();
    let signed = Signed::new();
    let bytes = |b: &[u8]| Value::Bytes(Type::Bytes, b.to_vec());
    let verify = Message::call(
        ALICE,
        ECDSA,
        method(&ecdsa, "verify").call_data(&[bytes(&signed.message), bytes(&signed.signature), bytes(&signed.pubkey)]),
    );
    Contracts { state, transfers, swaps, verify, signed }
}

/// Blocks of signed mixed transactions for a chain that ran the fuzzers' set-up block
/// (`avm::fuzzing::chain::setup`: both tokens, the DEX with liquidity and approvals, the
/// ECDSA, storage and call_program contracts).
pub struct MixedBlocks {
    keys: Vec<SigningKey>,
    nonces: BTreeMap<avm_state::Address, u64>,
    contracts: Vec<Deployed>,
    round: u128,
    signed: Signed,
}

/// The share of each kind of transaction in a mixed block, out of 50.
pub const MIX: &str = "per 50 transactions: 20 ERC-20 transfers, 5 ERC-20 transferFrom, 10 DEX swaps (half each \
                       way), 1 swap that reverts on its minOut, 5 plain value transfers, 4 storage writes, 2 nested \
                       calls (call_program), 1 ECDSA verify, 2 transfers with too little gas (out of gas)";

impl MixedBlocks {
    /// A chain on `kind` (in memory, or persistent in `dir`) after the set-up block,
    /// and the builder of the blocks that follow it.
    pub fn chain(kind: EngineKind, dir: Option<&std::path::Path>) -> (Chain, MixedBlocks) {
        let s = setup();
        let mut chain = match dir {
            Some(d) => Chain::create(d, kind, &s.balances).expect("a new chain"),
            None => Chain::in_memory(kind, &s.balances).expect("a new chain"),
        };
        let (_, included) = chain.produce_block(s.txs.clone()).expect("the set-up block");
        assert!(included.iter().all(|r| r.as_ref().is_ok_and(|r| r.status.is_success())), "set-up block failed");
        let keys = ["alice", "bob", "carol", "dave"].iter().map(|n| dev_key(n)).collect();
        let mut blocks = MixedBlocks {
            keys,
            nonces: s.nonces.clone(),
            contracts: s.contracts.clone(),
            round: 0,
            signed: Signed::new(),
        };
        // Bob may spend Alice's token A (the blocks' `transferFrom`s).
        let mut txs = Vec::new();
        let bob = Value::Address(address_of(&blocks.keys[1]).0);
        blocks.call(&mut txs, 0, "tka", "approve", &[bob, u128v(u128::MAX)], 1_000_000);
        let (_, included) = chain.produce_block(txs).expect("the approval block");
        assert!(included.iter().all(|r| r.as_ref().is_ok_and(|r| r.status.is_success())), "approval failed");
        (chain, blocks)
    }

    fn at(&self, name: &str) -> avm_state::Address {
        self.contracts.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("set-up deploys {name}")).address
    }

    fn push(
        &mut self,
        txs: &mut Vec<SignedTransaction>,
        who: usize,
        to: avm_state::Address,
        data: Vec<u8>,
        value: u128,
        gas: u64,
    ) {
        let key = &self.keys[who];
        let nonce = self.nonces.entry(address_of(key)).or_default();
        let tx = Transaction { chain_id: DEV_CHAIN_ID, nonce: *nonce, gas_limit: gas, to: Some(to), value, data };
        *nonce += 1;
        txs.push(tx.sign(key));
    }

    fn call(&mut self, txs: &mut Vec<SignedTransaction>, who: usize, name: &str, m: &str, args: &[Value], gas: u64) {
        let (target, code) = match name {
            "tka" => (self.contracts[0].address, contract("erc20")),
            "tkb" => (self.contracts[1].address, contract("erc20")),
            other => (self.at(other), contract(other)),
        };
        let data = method(&code.1.metadata, m).call_data(args);
        self.push(txs, who, target, data, 0, gas);
    }

    /// The next block: `n` signed transactions in the [`MIX`], senders alice, bob, carol
    /// and dave with consecutive nonces.
    pub fn next(&mut self, n: usize) -> Vec<SignedTransaction> {
        let mut txs = Vec::with_capacity(n);
        let addr = |k: &SigningKey| Value::Address(address_of(k).0);
        let (alice, bob, carol, dave) =
            (addr(&self.keys[0]), addr(&self.keys[1]), addr(&self.keys[2]), addr(&self.keys[3]));
        let (tka, tkb) = (Value::Address(self.contracts[0].address.0), Value::Address(self.contracts[1].address.0));
        let storage = Value::Address(self.at("storage").0);
        let bytes = |b: &[u8]| Value::Bytes(Type::Bytes, b.to_vec());
        let verify = [bytes(&self.signed.message), bytes(&self.signed.signature), bytes(&self.signed.pubkey)];
        while txs.len() < n {
            self.round += 1;
            let i = self.round;
            match i % 50 {
                0..=19 => {
                    let to = [&bob, &carol, &dave][(i % 3) as usize].clone();
                    self.call(
                        &mut txs,
                        0,
                        if i.is_multiple_of(2) { "tka" } else { "tkb" },
                        "transfer",
                        &[to, u128v(i)],
                        1_000_000,
                    );
                }
                20..=24 => {
                    self.call(&mut txs, 1, "tka", "transferFrom", &[alice.clone(), dave.clone(), u128v(7)], 1_000_000)
                }
                25..=34 => {
                    let token_in = if i.is_multiple_of(2) { tka.clone() } else { tkb.clone() };
                    self.call(&mut txs, 1, "dex", "swap", &[token_in, u128v(E18), u128v(1)], 5_000_000);
                }
                35 => {
                    self.call(&mut txs, 1, "dex", "swap", &[tka.clone(), u128v(E18), u128v(1_000_000 * E18)], 5_000_000)
                }
                36..=40 => {
                    let to = address_of(&self.keys[2]);
                    self.push(&mut txs, 3, to, Vec::new(), 1_000 + i, 1_000);
                }
                41..=44 => {
                    self.call(&mut txs, 0, "storage", "set", &[Value::Uint(Type::U64, i % 1_000_000)], 1_000_000)
                }
                45 | 46 => self.call(
                    &mut txs,
                    0,
                    "call_program",
                    "call_failing",
                    &[storage.clone(), Value::Uint(Type::U64, i % 1_000_000)],
                    2_000_000,
                ),
                47 => self.call(&mut txs, 2, "ecdsa", "verify", &verify, 5_000_000),
                _ => self.call(&mut txs, 2, "tka", "transfer", &[dave.clone(), u128v(1)], 1_500),
            }
        }
        txs
    }
}
