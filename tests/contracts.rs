//! The bundled contracts, deployed and called on every engine at once
//! (`common::contracts::Chain` asserts after every call that the interpreter,
//! the JIT and the JIT compiling everything agree on outcome, gas,
//! instructions, state root, hart and RAM).

mod common;

use std::sync::{Arc, Mutex};

use avm::runtime::{ExecStatus, Message, Vm};
use avm_abi::types::{Type, Value};
use avm_abi::Address;
use avm_interp::Tracer;
use avm_isa::Decoded;
use avm_mmu::{Machine, Privilege};
use avm_state::k256::ecdsa::signature::hazmat::PrehashSigner;
use avm_state::k256::ecdsa::{Signature, SigningKey};
use avm_state::State;
use common::contracts::*;

const ALICE: Address = addr(1);
const BOB: Address = addr(2);
const CAROL: Address = addr(3);
const DAVE: Address = addr(4);
const TOKEN: Address = addr(9);

/// Issue 15's budget for an ERC-20 transfer, kernel included.
const TRANSFER_BUDGET: u64 = 15_000;
/// Issue 15's budget for one `ecdsa.verify`, kernel included.
const VERIFY_BUDGET: u64 = 5_000_000;
/// Issue 15's budget for starting a call: task, address space, entry.
const CALL_START_BUDGET: u64 = 3_000;

fn transfer_event(from: Address, to: Address, amount: u128) -> (String, Vec<Value>) {
    ("Transfer".into(), vec![addrv(from), addrv(to), u128v(amount)])
}

fn token(chain: &mut Chain, at: Address, supply: u128) -> Called {
    chain
        .deploy("erc20", at, ALICE, &[stringv("Tok"), stringv("TKN"), u8v(18), u128v(supply)])
        .expect("erc20 has a constructor")
}

fn balance(chain: &mut Chain, token: Address, who: Address) -> u128 {
    chain.view(token, "balanceOf", &[addrv(who)]).uint()
}

/// Two tokens at `A` and `B` and a DEX over them at `DEX`, with `approvers`
/// having approved the DEX to spend both tokens without limit.
fn dex_pool(approvers: &[Address]) -> Chain {
    let mut chain = Chain::new();
    token(&mut chain, A, 1_000_000_000);
    token(&mut chain, B, 1_000_000_000);
    chain.deploy("dex", DEX, ALICE, &[addrv(A), addrv(B)]);
    for t in [A, B] {
        for who in approvers {
            chain.call(*who, t, "approve", &[addrv(DEX), u128v(u128::MAX)]).ok();
        }
    }
    chain
}

/// Where the DEX tests put the two tokens and the pool.
const A: Address = addr(10);
const B: Address = addr(11);
const DEX: Address = addr(12);

#[test]
fn erc20_init_sets_metadata_and_mints_to_deployer() {
    let mut chain = Chain::new();
    let init = token(&mut chain, TOKEN, 1_000_000);
    assert_eq!(chain.events(&init.out), vec![transfer_event(Address([0; 20]), ALICE, 1_000_000)]);
    assert_eq!(chain.view(TOKEN, "name", &[]).ok(), &stringv("Tok"));
    assert_eq!(chain.view(TOKEN, "symbol", &[]).ok(), &stringv("TKN"));
    assert_eq!(chain.view(TOKEN, "decimals", &[]).uint(), 18);
    assert_eq!(chain.view(TOKEN, "totalSupply", &[]).uint(), 1_000_000);
    assert_eq!(chain.view(TOKEN, "owner", &[]).ok(), &addrv(ALICE));
    assert_eq!(balance(&mut chain, TOKEN, ALICE), 1_000_000);
    assert_eq!(balance(&mut chain, TOKEN, BOB), 0);
}

#[test]
fn erc20_transfers_emit_events_and_stay_within_budget() {
    let mut chain = Chain::new();
    token(&mut chain, TOKEN, 1_000_000);
    for round in 1..=3u128 {
        let t = chain.call(ALICE, TOKEN, "transfer", &[addrv(BOB), u128v(250)]);
        assert!(t.bool());
        assert_eq!(chain.events(&t.out), vec![transfer_event(ALICE, BOB, 250)]);
        assert!(
            t.out.instructions <= TRANSFER_BUDGET,
            "an ERC-20 transfer took {} instructions (budget {TRANSFER_BUDGET})",
            t.out.instructions
        );
        assert!(t.out.gas_used > t.out.instructions, "host calls are charged on top of instructions");
        assert_eq!(balance(&mut chain, TOKEN, BOB), 250 * round);
        assert_eq!(balance(&mut chain, TOKEN, ALICE), 1_000_000 - 250 * round);
    }
    assert_eq!(chain.view(TOKEN, "totalSupply", &[]).uint(), 1_000_000);
    // The comparison is not the interpreter against itself: the JIT with
    // threshold 0 compiled the code it ran.
    let compiled = |e: &Engine| e.vm.engine().counters().iter().find(|(n, _)| *n == "blocks_compiled").map(|c| c.1);
    assert!(compiled(&chain.engines[2]).is_some_and(|n| n > 0), "{:?}", chain.engines[2].vm.engine().counters());
}

#[test]
fn erc20_failed_transfer_reverts_and_changes_nothing() {
    let mut chain = Chain::new();
    token(&mut chain, TOKEN, 1_000);
    chain.call(ALICE, TOKEN, "transfer", &[addrv(BOB), u128v(100)]).ok();
    let before = chain.root();
    let t = chain.call(BOB, TOKEN, "transfer", &[addrv(CAROL), u128v(101)]);
    assert_eq!(t.revert_message(), "insufficient balance");
    assert!(t.out.logs.is_empty());
    assert!(t.out.gas_used > 0, "a revert still costs gas");
    assert_eq!(chain.root(), before);
    assert_eq!(balance(&mut chain, TOKEN, BOB), 100);
    assert_eq!(balance(&mut chain, TOKEN, CAROL), 0);
}

#[test]
fn erc20_self_transfer_never_creates_tokens() {
    let mut chain = Chain::new();
    token(&mut chain, TOKEN, 1_000);
    let t = chain.call(ALICE, TOKEN, "transfer", &[addrv(ALICE), u128v(600)]);
    assert!(t.bool());
    assert_eq!(chain.events(&t.out), vec![transfer_event(ALICE, ALICE, 600)]);
    assert_eq!(balance(&mut chain, TOKEN, ALICE), 1_000);
    // All of it, and more than all of it.
    assert!(chain.call(ALICE, TOKEN, "transfer", &[addrv(ALICE), u128v(1_000)]).bool());
    assert_eq!(balance(&mut chain, TOKEN, ALICE), 1_000);
    let more = chain.call(ALICE, TOKEN, "transfer", &[addrv(ALICE), u128v(1_001)]);
    assert_eq!(more.revert_message(), "insufficient balance");
    assert_eq!(balance(&mut chain, TOKEN, ALICE), 1_000);
    assert_eq!(chain.view(TOKEN, "totalSupply", &[]).uint(), 1_000);
}

#[test]
fn erc20_allowances_and_transfer_from() {
    let mut chain = Chain::new();
    token(&mut chain, TOKEN, 1_000);
    let a = chain.call(ALICE, TOKEN, "approve", &[addrv(CAROL), u128v(300)]);
    assert!(a.bool());
    assert_eq!(chain.events(&a.out), vec![("Approval".into(), vec![addrv(ALICE), addrv(CAROL), u128v(300)])]);
    assert_eq!(chain.view(TOKEN, "allowance", &[addrv(ALICE), addrv(CAROL)]).uint(), 300);
    assert_eq!(chain.view(TOKEN, "allowance", &[addrv(CAROL), addrv(ALICE)]).uint(), 0);

    let t = chain.call(CAROL, TOKEN, "transferFrom", &[addrv(ALICE), addrv(DAVE), u128v(200)]);
    assert!(t.bool());
    assert_eq!(chain.events(&t.out), vec![transfer_event(ALICE, DAVE, 200)]);
    assert_eq!(chain.view(TOKEN, "allowance", &[addrv(ALICE), addrv(CAROL)]).uint(), 100);
    assert_eq!(balance(&mut chain, TOKEN, ALICE), 800);
    assert_eq!(balance(&mut chain, TOKEN, DAVE), 200);
    assert_eq!(balance(&mut chain, TOKEN, CAROL), 0);

    let before = chain.root();
    let over = chain.call(CAROL, TOKEN, "transferFrom", &[addrv(ALICE), addrv(DAVE), u128v(101)]);
    assert_eq!(over.revert_message(), "insufficient allowance");
    // Someone else's allowance is not Carol's.
    let other = chain.call(DAVE, TOKEN, "transferFrom", &[addrv(ALICE), addrv(DAVE), u128v(1)]);
    assert_eq!(other.revert_message(), "insufficient allowance");
    assert_eq!(chain.root(), before);

    // An allowance larger than the balance still cannot move more than the balance.
    chain.call(BOB, TOKEN, "approve", &[addrv(CAROL), u128v(50)]).ok();
    let broke = chain.call(CAROL, TOKEN, "transferFrom", &[addrv(BOB), addrv(CAROL), u128v(1)]);
    assert_eq!(broke.revert_message(), "insufficient balance");
    assert_eq!(chain.view(TOKEN, "allowance", &[addrv(BOB), addrv(CAROL)]).uint(), 50);

    // The infinite allowance is not spent down.
    chain.call(ALICE, TOKEN, "approve", &[addrv(BOB), u128v(u128::MAX)]).ok();
    assert!(chain.call(BOB, TOKEN, "transferFrom", &[addrv(ALICE), addrv(BOB), u128v(10)]).bool());
    assert_eq!(chain.view(TOKEN, "allowance", &[addrv(ALICE), addrv(BOB)]).uint(), u128::MAX);
}

#[test]
fn erc20_only_the_owner_mints() {
    let mut chain = Chain::new();
    token(&mut chain, TOKEN, 1_000);
    let before = chain.root();
    let m = chain.call(BOB, TOKEN, "mint", &[addrv(BOB), u128v(1_000_000)]);
    assert_eq!(m.revert_message(), "only the owner may mint");
    assert_eq!(chain.root(), before);
    let m = chain.call(ALICE, TOKEN, "mint", &[addrv(BOB), u128v(500)]);
    m.ok();
    assert_eq!(chain.events(&m.out), vec![transfer_event(Address([0; 20]), BOB, 500)]);
    assert_eq!(balance(&mut chain, TOKEN, BOB), 500);
    assert_eq!(chain.view(TOKEN, "totalSupply", &[]).uint(), 1_500);
    let overflow = chain.call(ALICE, TOKEN, "mint", &[addrv(BOB), u128v(u128::MAX)]);
    assert_eq!(overflow.revert_message(), "total supply overflow");
}

/// Integer square root, for the expected first liquidity shares.
fn isqrt(n: u128) -> u128 {
    let mut x = (n as f64).sqrt() as u128;
    while x * x > n {
        x -= 1;
    }
    while (x + 1) * (x + 1) <= n {
        x += 1;
    }
    x
}

/// Uniswap V2's `getAmountOut`.
fn amount_out(amount_in: u128, reserve_in: u128, reserve_out: u128) -> u128 {
    amount_in * 997 * reserve_out / (reserve_in * 1000 + amount_in * 997)
}

fn reserves(chain: &mut Chain, dex: Address) -> (u128, u128) {
    match chain.view(dex, "reserves", &[]).ok() {
        Value::Tuple(v) => match v.as_slice() {
            [Value::Uint(_, a), Value::Uint(_, b)] => (*a, *b),
            other => panic!("reserves: {other:?}"),
        },
        other => panic!("reserves: {other:?}"),
    }
}

#[test]
fn dex_liquidity_swaps_and_removal() {
    let mut chain = dex_pool(&[ALICE, BOB]);
    assert_eq!(chain.view(DEX, "tokens", &[]).ok(), &Value::Tuple(vec![addrv(A), addrv(B)]));
    for t in [A, B] {
        chain.call(ALICE, t, "transfer", &[addrv(BOB), u128v(10_000_000)]).ok();
    }

    // First deposit: shares = floor(sqrt(a * b)).
    let (a0, b0) = (1_000_000u128, 3_000_000u128);
    let add = chain.call(ALICE, DEX, "addLiquidity", &[u128v(a0), u128v(b0)]);
    let shares0 = isqrt(a0 * b0);
    assert_eq!(shares0, 1_732_050);
    assert_eq!(add.uint(), shares0);
    let events = chain.events(&add.out);
    assert_eq!(events.last().unwrap(), &("Mint".into(), vec![addrv(ALICE), u128v(a0), u128v(b0), u128v(shares0)]));
    assert_eq!(events[..2], [transfer_event(ALICE, DEX, a0), transfer_event(ALICE, DEX, b0)]);
    assert_eq!(reserves(&mut chain, DEX), (a0, b0));
    assert_eq!(balance(&mut chain, A, DEX), a0);
    assert_eq!(balance(&mut chain, B, DEX), b0);

    // Swap A for B, then B for A, with the 0.3% fee.
    let (mut ra, mut rb) = (a0, b0);
    let a_in = 10_000;
    let out = amount_out(a_in, ra, rb);
    assert_eq!(out, 29_614);
    let s = chain.call(BOB, DEX, "swap", &[addrv(A), u128v(a_in), u128v(out)]);
    assert_eq!(s.uint(), out);
    assert_eq!(
        chain.events(&s.out).last().unwrap(),
        &("Swap".into(), vec![addrv(BOB), addrv(A), u128v(a_in), u128v(out)])
    );
    (ra, rb) = (ra + a_in, rb - out);
    assert_eq!(reserves(&mut chain, DEX), (ra, rb));
    assert_eq!(balance(&mut chain, A, BOB), 10_000_000 - a_in);
    assert_eq!(balance(&mut chain, B, BOB), 10_000_000 + out);

    let b_in = 77_777;
    let out_a = amount_out(b_in, rb, ra);
    let s = chain.call(BOB, DEX, "swap", &[addrv(B), u128v(b_in), u128v(0)]);
    assert_eq!(s.uint(), out_a);
    (ra, rb) = (ra - out_a, rb + b_in);
    assert_eq!(reserves(&mut chain, DEX), (ra, rb));
    assert_eq!(balance(&mut chain, A, BOB), 10_000_000 - a_in + out_a);
    assert_eq!(balance(&mut chain, B, BOB), 10_000_000 + out - b_in);

    // minOut one above what the pool pays: a revert that changes nothing.
    let before = chain.root();
    let want = amount_out(5_000, ra, rb);
    let r = chain.call(BOB, DEX, "swap", &[addrv(A), u128v(5_000), u128v(want + 1)]);
    assert_eq!(r.revert_message(), "insufficient output amount (minOut)");
    assert_eq!(chain.root(), before);
    let r = chain.call(BOB, DEX, "swap", &[addrv(CAROL), u128v(5_000), u128v(0)]);
    assert_eq!(r.revert_message(), "token is not in this pool");

    // A second provider gets the smaller proportional share.
    let total = chain.view(DEX, "totalShares", &[]).uint();
    assert_eq!(total, shares0);
    let (a1, b1) = (100_000u128, 400_000u128);
    let expect = (a1 * total / ra).min(b1 * total / rb);
    let add = chain.call(BOB, DEX, "addLiquidity", &[u128v(a1), u128v(b1)]);
    assert_eq!(add.uint(), expect);
    (ra, rb) = (ra + a1, rb + b1);
    let total = total + expect;
    assert_eq!(chain.view(DEX, "sharesOf", &[addrv(BOB)]).uint(), expect);

    // Removal pays out pro rata, rounded down.
    let burn = shares0 / 3;
    let (pay_a, pay_b) = (burn * ra / total, burn * rb / total);
    let (alice_a, alice_b) = (balance(&mut chain, A, ALICE), balance(&mut chain, B, ALICE));
    let r = chain.call(ALICE, DEX, "removeLiquidity", &[u128v(burn)]);
    assert_eq!(r.ok(), &Value::Tuple(vec![u128v(pay_a), u128v(pay_b)]));
    assert_eq!(
        chain.events(&r.out).last().unwrap(),
        &("Burn".into(), vec![addrv(ALICE), u128v(pay_a), u128v(pay_b), u128v(burn)])
    );
    assert_eq!(balance(&mut chain, A, ALICE), alice_a + pay_a);
    assert_eq!(balance(&mut chain, B, ALICE), alice_b + pay_b);
    assert_eq!(reserves(&mut chain, DEX), (ra - pay_a, rb - pay_b));
    assert_eq!(chain.view(DEX, "sharesOf", &[addrv(ALICE)]).uint(), shares0 - burn);
    assert_eq!(chain.view(DEX, "totalShares", &[]).uint(), total - burn);
    let r = chain.call(CAROL, DEX, "removeLiquidity", &[u128v(1)]);
    assert_eq!(r.revert_message(), "insufficient shares");
}

fn sign(key: &SigningKey, message: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let hash = avm_state::keccak256(message);
    let sig: Signature = key.sign_prehash(&hash).expect("sign");
    let pubkey = key.verifying_key().to_encoded_point(true).as_bytes().to_vec();
    assert_eq!(pubkey.len(), 33);
    (sig.to_bytes().to_vec(), pubkey)
}

#[test]
fn ecdsa_verifies_valid_and_rejects_tampered() {
    const ECDSA: Address = addr(30);
    let mut chain = Chain::new();
    chain.deploy("ecdsa", ECDSA, ALICE, &[]);
    let key = SigningKey::from_slice(&[0x42; 32]).expect("key");
    let message = b"pay bob 100 tokens";
    let (sig, pubkey) = sign(&key, message);

    let hash = chain.call(ALICE, ECDSA, "keccak", &[bytesv(message)]);
    assert_eq!(hash.ok(), &Value::Bytes(Type::FixedBytes(32), avm_state::keccak256(message).to_vec()));

    let ok = chain.call(ALICE, ECDSA, "verify", &[bytesv(message), bytesv(&sig), bytesv(&pubkey)]);
    assert!(ok.bool());
    assert!(
        ok.out.instructions <= VERIFY_BUDGET,
        "ecdsa.verify took {} instructions (budget {VERIFY_BUDGET})",
        ok.out.instructions
    );
    eprintln!("ecdsa.verify: {} instructions, {} gas", ok.out.instructions, ok.out.gas_used);

    // Out of gas part way through, where the limit lands inside long
    // compiled blocks: every engine stops at the same instruction.
    let root = chain.root();
    for gas in [1_000_003, 2_500_001, ok.out.gas_used - 1] {
        let c = chain.call_gas(ALICE, ECDSA, "verify", &[bytesv(message), bytesv(&sig), bytesv(&pubkey)], gas);
        assert_eq!(c.out.status, ExecStatus::OutOfGas);
        assert_eq!(c.out.gas_used, gas);
    }
    assert_eq!(chain.root(), root);

    let mut tampered = message.to_vec();
    tampered[4] ^= 1;
    let bad = chain.call(ALICE, ECDSA, "verify", &[bytesv(&tampered), bytesv(&sig), bytesv(&pubkey)]);
    assert!(!bad.bool());
    let mut bad_sig = sig.clone();
    bad_sig[40] ^= 0x80;
    assert!(!chain.call(ALICE, ECDSA, "verify", &[bytesv(message), bytesv(&bad_sig), bytesv(&pubkey)]).bool());
    let other = SigningKey::from_slice(&[0x43; 32]).expect("key");
    let (_, other_pub) = sign(&other, message);
    assert!(!chain.call(ALICE, ECDSA, "verify", &[bytesv(message), bytesv(&sig), bytesv(&other_pub)]).bool());
    // Malformed inputs are false, not reverts.
    assert!(!chain.call(ALICE, ECDSA, "verify", &[bytesv(message), bytesv(&sig[..63]), bytesv(&pubkey)]).bool());
    assert!(!chain.call(ALICE, ECDSA, "verify", &[bytesv(message), bytesv(&sig), bytesv(&[2; 33])]).bool());
    assert!(!chain.call(ALICE, ECDSA, "verify", &[bytesv(message), bytesv(&[0; 64]), bytesv(&pubkey)]).bool());
}

/// The contract verifies in variable time with its own GLV and wNAF code
/// (`avm_contracts::secp256k1`); it must agree with k256's own
/// `verify_prehash` on every input: valid signatures, high-s twins of valid
/// ones (which k256 refuses), flipped bits in the message, `r`, `s` and the
/// key, and random scalars.
#[test]
fn ecdsa_agrees_with_k256_on_many_signatures() {
    use avm_state::k256::ecdsa::signature::hazmat::PrehashVerifier;
    use avm_state::k256::ecdsa::VerifyingKey;

    const ECDSA: Address = addr(30);
    let mut vm = Vm::new(avm::EngineKind::Jit).unwrap();
    let mut state = State::new();
    state.set_code(&avm_state::Address(ECDSA.0), contract_elf("ecdsa"));
    let verify = vm.image(&state, &ECDSA).unwrap().metadata.method("verify").unwrap().clone();
    let mut cases: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> = Vec::new();
    for i in 0u8..12 {
        let key = SigningKey::from_slice(&avm_state::keccak256(&[i])).expect("key");
        let message = avm_state::keccak256(&[i, i]).repeat(usize::from(i % 3) + 1);
        let (sig, pubkey) = sign(&key, &message);
        cases.push((message.clone(), sig.clone(), pubkey.clone()));
        // The high-s twin of a valid signature.
        let parsed = Signature::from_slice(&sig).unwrap();
        let twin = Signature::from_scalars(parsed.r().to_bytes(), (-*parsed.s()).to_bytes()).unwrap();
        cases.push((message.clone(), twin.to_bytes().to_vec(), pubkey.clone()));
        // One flipped bit in each part.
        let bit = usize::from(i) * 5;
        let mut m = message.clone();
        let at = bit % m.len();
        m[at] ^= 1 << (i % 8);
        cases.push((m, sig.clone(), pubkey.clone()));
        let mut r = sig.clone();
        r[bit % 32] ^= 1 << (i % 8);
        cases.push((message.clone(), r, pubkey.clone()));
        let mut s2 = sig.clone();
        s2[32 + bit % 32] ^= 1 << (i % 8);
        cases.push((message.clone(), s2, pubkey.clone()));
        let mut k = pubkey.clone();
        k[1 + bit % 32] ^= 1 << (i % 8);
        cases.push((message.clone(), sig.clone(), k));
        // Random r and s.
        cases.push((message, avm_state::keccak256_parts(&[&[i], b"rs"]).repeat(2), pubkey));
    }
    let mut valid = 0;
    for (i, (message, sig, pubkey)) in cases.iter().enumerate() {
        let expected = match (Signature::from_slice(sig), VerifyingKey::from_sec1_bytes(pubkey)) {
            (Ok(sig), Ok(key)) => key.verify_prehash(&avm_state::keccak256(message), &sig).is_ok(),
            _ => false,
        };
        valid += usize::from(expected);
        let msg = Message {
            caller: ALICE,
            target: ECDSA,
            value: 0,
            input: verify.call_data(&[bytesv(message), bytesv(sig), bytesv(pubkey)]),
            gas_limit: GAS,
            block_number: 1,
            deploying: false,
            read_only: true,
        };
        let out = vm.execute(&mut state, &msg);
        assert_eq!(out.status, ExecStatus::Success, "case {i}");
        assert_eq!(verify.returns.decode_all(&out.return_data).unwrap(), Value::Bool(expected), "case {i}");
    }
    assert_eq!(valid, 12, "only the untouched signatures are valid");
}

#[test]
fn call_program_nested_call_and_partial_revert() {
    const STORE: Address = addr(20);
    const PROGRAM: Address = addr(21);
    let mut chain = Chain::new();
    chain.deploy("storage", STORE, ALICE, &[]);
    chain.deploy("call_program", PROGRAM, ALICE, &[]);

    let c = chain.call(ALICE, PROGRAM, "call_set", &[addrv(STORE), u64v(42)]);
    assert_eq!(c.uint(), 42);
    assert_eq!(chain.view(STORE, "get", &[]).uint(), 42);

    let c = chain.call(ALICE, PROGRAM, "call_failing", &[addrv(STORE), u64v(7)]);
    assert_eq!(c.ok(), &stringv("set_and_fail: reverting on purpose"));
    assert_eq!(chain.view(PROGRAM, "local", &[]).uint(), 7, "the caller's own write is kept");
    assert_eq!(chain.view(STORE, "get", &[]).uint(), 42, "the callee's write is undone");

    // A callee without code is an error the caller sees, and reverts on.
    let c = chain.call(ALICE, PROGRAM, "call_set", &[addrv(addr(99)), u64v(1)]);
    assert!(matches!(c.out.status, ExecStatus::Revert(_)), "{:?}", c.out.status);
}

#[test]
fn simple_storage_and_multi_func_basics() {
    const SIMPLE: Address = addr(40);
    const STORE: Address = addr(41);
    const MULTI: Address = addr(42);
    let mut chain = Chain::new();
    chain.deploy("simple", SIMPLE, ALICE, &[]);
    chain.deploy("storage", STORE, ALICE, &[]);
    chain.deploy("multi_func", MULTI, ALICE, &[]);

    assert_eq!(chain.call(ALICE, SIMPLE, "hello", &[]).ok(), &stringv("hello from aVM"));
    assert_eq!(chain.call(ALICE, SIMPLE, "add", &[u64v(2), u64v(40)]).uint(), 42);
    assert_eq!(chain.call(ALICE, SIMPLE, "add", &[u64v(u64::MAX), u64v(1)]).revert_message(), "overflow");

    assert_eq!(chain.call(ALICE, STORE, "get", &[]).uint(), 0);
    chain.call(ALICE, STORE, "set", &[u64v(5)]).ok();
    assert_eq!(chain.call(ALICE, STORE, "increment", &[]).uint(), 6);
    assert_eq!(chain.view(STORE, "get", &[]).uint(), 6);
    chain.call(ALICE, STORE, "put", &[stringv("k"), stringv("v")]).ok();
    assert_eq!(chain.view(STORE, "lookup", &[stringv("k")]).ok(), &stringv("v"));
    assert_eq!(chain.view(STORE, "lookup", &[stringv("missing")]).ok(), &stringv(""));
    let before = chain.root();
    assert_eq!(
        chain.call(ALICE, STORE, "set_and_fail", &[u64v(9)]).revert_message(),
        "set_and_fail: reverting on purpose"
    );
    assert_eq!(chain.root(), before);
    // A view cannot write.
    let v = chain.view(STORE, "set", &[u64v(1)]);
    assert!(!v.out.status.is_success(), "{:?}", v.out.status);
    assert_eq!(chain.root(), before);

    for (m, v) in [
        ("echo_u8", u8v(200)),
        ("echo_u32", u32v(0xdead_beef)),
        ("echo_u64", u64v(u64::MAX)),
        ("echo_u128", u128v(u128::MAX - 1)),
        ("echo_bool", Value::Bool(true)),
        ("echo_address", addrv(BOB)),
        ("echo_bytes", bytesv(&[1, 2, 3, 0, 255])),
        ("echo_string", stringv("héllo")),
        ("echo_array", Value::Bytes(Type::FixedBytes(4), vec![9, 8, 7, 6])),
    ] {
        assert_eq!(chain.call(ALICE, MULTI, m, std::slice::from_ref(&v)).ok(), &v, "{m}");
    }
    assert_eq!(
        chain.call(ALICE, MULTI, "swap_pair", &[u64v(3), stringv("x")]).ok(),
        &Value::Tuple(vec![stringv("x"), u64v(3)])
    );
    chain.block_number = 77;
    assert_eq!(chain.call(CAROL, MULTI, "whoami", &[]).ok(), &Value::Tuple(vec![addrv(CAROL), addrv(MULTI), u64v(77)]));
    assert_eq!(chain.call(ALICE, MULTI, "sum", &[bytesv(&[200; 100])]).uint(), 20_000);
    // Call data that does not match any selector.
    let c = chain.run(ALICE, MULTI, vec![1, 2, 3, 4], GAS, false, false, None);
    assert!(!c.out.status.is_success(), "{:?}", c.out.status);
}

/// Retired instructions (instret) from the start of a call to its first
/// U-mode instruction.
#[derive(Default)]
struct StartCounter {
    start: Option<u64>,
    first_user: Option<u64>,
}

struct CountStart(Arc<Mutex<StartCounter>>);

impl Tracer for CountStart {
    fn before(&mut self, m: &Machine, _pc: u32, _: &Decoded) {
        let mut c = self.0.lock().unwrap();
        let start = *c.start.get_or_insert(m.hart.instret);
        if c.first_user.is_none() && m.hart.privilege == Privilege::User {
            c.first_user = Some(m.hart.instret - start);
        }
    }
}

#[test]
fn starting_a_call_stays_within_budget() {
    let counter = Arc::new(Mutex::new(StartCounter::default()));
    let mut interp = avm_interp::Interpreter::new();
    interp.set_tracer(Some(Box::new(CountStart(counter.clone()))));
    let kernel = std::fs::read(avm::runtime::kernel_elf_path().unwrap()).unwrap();
    let mut vm = Vm::boot(&kernel, Box::new(interp)).unwrap();
    let mut state = State::new();
    state.set_code(&avm_state::Address(TOKEN.0), contract_elf("erc20"));
    let image = vm.image(&state, &TOKEN).unwrap();
    let init = image.metadata.method("init").unwrap();
    let input = init.call_data(&[stringv("Tok"), stringv("TKN"), u8v(18), u128v(1000)]);
    let mut msg = Message {
        caller: ALICE,
        target: TOKEN,
        value: 0,
        input,
        gas_limit: GAS,
        block_number: 1,
        deploying: true,
        read_only: false,
    };
    assert!(vm.execute(&mut state, &msg).status.is_success());
    msg.deploying = false;
    msg.input = image.metadata.method("transfer").unwrap().call_data(&[addrv(BOB), u128v(1)]);
    let mut starts = Vec::new();
    for _ in 0..3 {
        *counter.lock().unwrap() = StartCounter::default();
        let out = vm.execute(&mut state, &msg);
        assert!(out.status.is_success());
        let c = counter.lock().unwrap();
        starts.push(c.first_user.expect("the call reached U-mode"));
    }
    eprintln!("starting a call: {} instructions", starts[0]);
    assert!(starts.iter().all(|&s| s == starts[0]), "the same call starts the same way: {starts:?}");
    assert!(
        starts[0] <= CALL_START_BUDGET,
        "starting a call took {} instructions (budget {CALL_START_BUDGET})",
        starts[0]
    );
}

/// Every gas limit from far too little to enough, on a swap that runs three
/// contracts (the DEX and two nested token calls): each run either runs out
/// of gas, using exactly its limit and changing nothing, or succeeds with
/// the same gas as with plenty; every engine stops at the same instruction.
#[test]
fn dex_swap_under_every_gas_limit() {
    let mut chain = dex_pool(&[ALICE]);
    chain.call(ALICE, DEX, "addLiquidity", &[u128v(1_000_000), u128v(1_000_000)]).ok();
    let root = chain.root();
    let swap = [addrv(A), u128v(1_000), u128v(0)];
    let mut limits = vec![1, 5, 100, 1_000, 2_000, 3_000];
    limits.extend((1..60u64).map(|i| i * 2_711));
    let mut needed = None;
    for gas in limits {
        let c = chain.call_gas(ALICE, DEX, "swap", &swap, gas);
        match c.out.status {
            ExecStatus::OutOfGas => {
                assert_eq!(c.out.gas_used, gas);
                assert_eq!(chain.root(), root, "out of gas at {gas} changed the state");
            }
            ExecStatus::Revert(ref m) => panic!("gas {gas}: unexpected revert {m}"),
            ExecStatus::Fault(ref m) => panic!("gas {gas}: unexpected fault {m}"),
            ExecStatus::Success => {
                assert!(c.out.gas_used <= gas && c.out.gas_used + 2_711 > gas, "{gas}: {:?}", c.out);
                needed = Some(c.out.gas_used);
                break;
            }
        }
    }
    let needed = needed.expect("the swap succeeds with enough gas");
    assert_eq!(
        chain.view(DEX, "reserves", &[]).ok(),
        &Value::Tuple(vec![u128v(1_001_000), u128v(1_000_000 - amount_out(1_000, 1_000_000, 1_000_000))])
    );
    eprintln!("dex swap: {needed} gas");
}

/// A read-only call cannot write through a nested call either.
#[test]
fn view_calls_stay_read_only_through_nested_calls() {
    const STORE: Address = addr(20);
    const PROGRAM: Address = addr(21);
    let mut chain = Chain::new();
    chain.deploy("storage", STORE, ALICE, &[]);
    chain.deploy("call_program", PROGRAM, ALICE, &[]);
    let root = chain.root();
    let c = chain.view(PROGRAM, "call_set", &[addrv(STORE), u64v(5)]);
    assert!(!c.out.status.is_success(), "{:?}", c.out.status);
    assert_eq!(chain.root(), root);
    assert_eq!(chain.view(STORE, "get", &[]).uint(), 0);
}

/// Call data and return data at and past their limits.
#[test]
fn large_input_and_return_data() {
    const MULTI: Address = addr(42);
    let mut chain = Chain::new();
    chain.deploy("multi_func", MULTI, ALICE, &[]);
    let big = vec![7u8; 60_000];
    assert_eq!(chain.call(ALICE, MULTI, "echo_bytes", &[bytesv(&big)]).ok(), &bytesv(&big));
    assert_eq!(chain.call(ALICE, MULTI, "sum", &[bytesv(&big)]).uint(), 420_000);
    let too_big = vec![7u8; 70_000];
    let c = chain.call(ALICE, MULTI, "echo_bytes", &[bytesv(&too_big)]);
    assert_eq!(c.fault_message(), "return data too large");
}

/// Regression: the firmware refused nested call data over
/// `layout::MAX_INPUT`, but a transaction's own call took any size.
#[test]
fn top_level_call_data_over_max_input_is_refused() {
    const MULTI: Address = addr(42);
    let mut chain = Chain::new();
    chain.deploy("multi_func", MULTI, ALICE, &[]);
    let max = avm_abi::layout::MAX_INPUT as usize;
    // Selector (4 bytes), length (4 bytes), then the bytes.
    let n = max - 8;
    assert_eq!(chain.metadata(MULTI).method("sum").unwrap().call_data(&[bytesv(&vec![0; n])]).len(), max);
    assert_eq!(chain.call(ALICE, MULTI, "sum", &[bytesv(&vec![1u8; n])]).uint(), n as u128);
    let root = chain.root();
    let c = chain.call(ALICE, MULTI, "sum", &[bytesv(&vec![1u8; n + 1])]);
    assert_eq!(c.revert_message(), "call data too large");
    assert_eq!(chain.root(), root);
}
