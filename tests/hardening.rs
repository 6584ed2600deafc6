//! Hardening: one test (at least) per hostile input class of DESIGN.md's
//! "Bad input", at the level of a node: signed transactions through
//! `Chain::produce_block` on the interpreter, the JIT and the JIT compiling
//! every block on first use, which must agree on every result, receipt and
//! block header (`common::chain::Nodes`). The promise under test: each bad
//! input gets a clear error (left out of the block, with its `TxError`) or a
//! failed receipt; the host never panics; the state stays consistent
//! (balances, nonces and code add up exactly, on every engine); nothing
//! committed is lost (the store reopens at the same head).
//!
//! Where each class is covered (`here` is this file):
//!
//! - **Malformed ELF**: `hardening_deploy.rs`, a patched contract in a
//!   deployment transaction: `deploy_of_garbage_bytes_fails_with_bad_magic`,
//!   `deploy_with_malformed_deploy_data_fails_and_charges_only_the_base_and_data_gas`,
//!   `deploy_of_a_truncated_elf_fails_without_touching_state`,
//!   `deploy_with_a_wrong_class_machine_type_or_byte_order_fails`,
//!   `deploy_with_an_entry_point_outside_the_code_fails`,
//!   `deploy_with_a_writable_code_segment_fails`,
//!   `deploy_with_garbled_abi_metadata_fails`,
//!   `deploy_with_garbled_section_headers_fails` and
//!   `deploy_without_abi_metadata_succeeds_and_the_contract_still_runs`.
//!   The loader alone, for `avm exec`: `elf_robustness.rs` (every
//!   truncation, random bit flips, hostile headers). The CLI:
//!   `cli_chain.rs::bad_input_gets_a_clear_error_and_a_nonzero_exit`.
//! - **Oversized or overlapping segments**: `hardening_deploy.rs`:
//!   `deploy_with_an_oversized_segment_fails_without_allocating_it`,
//!   `the_largest_code_image_deploys_and_runs_and_one_byte_more_fails`,
//!   `deploy_with_overlapping_segments_fails_without_touching_state`,
//!   `deploy_with_segments_outside_the_code_region_fails` and the
//!   regressions
//!   `deploy_with_only_the_physical_address_in_the_code_region_fails_instead_of_storing_uncallable_code`
//!   and `a_contract_starts_at_its_virtual_entry_point_when_physical_addresses_differ`;
//!   the loader alone: `elf_robustness.rs::hostile_segments`.
//! - **Bad transactions**: here,
//!   `invalid_transactions_are_left_out_with_their_error_and_the_valid_ones_around_them_are_included`,
//!   `a_block_with_invalid_transactions_survives_reopening_the_store` and
//!   `call_data_over_the_call_limit_is_a_revert_that_costs_only_the_intrinsic_gas`;
//!   decoding and validation alone: `state/tests/tx.rs`
//!   (`decode_rejects_bad_input`, `validation_errors`); a mixed block of
//!   200+ transactions: `chain_diff.rs`.
//! - **Bad signatures**: here,
//!   `transactions_with_bad_signatures_are_left_out_and_the_key_holder_pays_nothing`;
//!   recovery alone: `state/tests/tx.rs` (`tampering_changes_or_breaks_the_sender`,
//!   `high_s_is_rejected`).
//! - **Unknown contracts**: here,
//!   `a_call_to_an_address_without_code_is_a_plain_transfer_that_ignores_the_call_data`
//!   and `a_contract_calling_an_address_without_code_gets_a_no_contract_error`.
//! - **Hostile contracts** (infinite loops, memory bombs, deep recursion,
//!   wild pointers, privileged instructions in U-mode, and reentrancy and
//!   other tasks' memory besides): `hostile.rs`, one test each on three
//!   engines, each followed by an ordinary call; in a block: `chain_diff.rs`.
//! - **JIT bombs**: here,
//!   `a_jit_bomb_runs_once_to_the_end_with_equal_receipts_and_the_compile_budget_refuses_the_rest`.
//!
//! Semantics found and pinned here (read from `src/chain/executor.rs` and
//! `src/chain/node.rs`): a block is never refused for its transactions;
//! each invalid one is left out with its error and costs its signer
//! nothing. A call to an account without code is a plain transfer of the
//! value, successful, charged the intrinsic gas only, its call data
//! ignored. A contract calling an account without code gets `E_NO_CODE`,
//! which the SDK reports as `CallError::Rejected("no contract at 0x...")`.

mod common;

use avm::chain::node::Included;
use avm::chain::BLOCK_GAS_LIMIT;
use avm::elf::write::ElfBuilder;
use avm::elf::{PF_R, PF_X};
use avm_abi::types::{Type, Value};
use avm_abi::{gas, syscall as sc};
use avm_isa::asm::Asm;
use avm_isa::Reg;
use avm_state::{Address, Status, TxError, MAX_TX_DATA};
use common::chain::{call_data, temp_dir, Nodes, Signer};

const E18: u128 = 1_000_000_000_000_000_000;

fn bundled(name: &str) -> Vec<u8> {
    avm::chain::bundled::contract_elf(name).expect("bundled contract")
}

/// Signers `alice` (rich), `bob` (rich) and `carol` (50,000 units only) and
/// their genesis balances.
fn accounts() -> (Signer, Signer, Signer, Vec<(Address, u128)>) {
    let (alice, bob, carol) = (Signer::new("alice"), Signer::new("bob"), Signer::new("carol"));
    let balances = vec![(alice.address, 1_000 * E18), (bob.address, 1_000 * E18), (carol.address, 50_000)];
    (alice, bob, carol, balances)
}

#[track_caller]
fn left_out(result: &Included) -> &TxError {
    match result {
        Err(e) => e,
        Ok(r) => panic!("an invalid transaction was included: {r:?}"),
    }
}

#[track_caller]
fn included(result: &Included) -> u64 {
    match result {
        Ok(r) => {
            assert!(r.status.is_success(), "{r:?}");
            r.gas_used
        }
        Err(e) => panic!("a valid transaction was left out: {e}"),
    }
}

#[test]
fn transactions_with_bad_signatures_are_left_out_and_the_key_holder_pays_nothing() {
    let (mut alice, bob, _, balances) = accounts();
    let mut nodes = Nodes::in_memory(&balances);
    let first = alice.transfer(bob.address, 1);
    // Every forgery below is of alice's next transaction (nonce 1).
    let next = alice.unsigned(Some(bob.address), 1_000, Vec::new(), 10_000).sign(&alice.key);
    let mut forged = Vec::new();
    for byte in [0, 13, 31, 32, 45, 63] {
        let mut t = next.clone();
        t.signature[byte] ^= 0x10;
        forged.push(t);
    }
    let mut t = next.clone();
    t.recovery_id ^= 1; // the other candidate key
    forged.push(t);
    let mut t = next.clone();
    t.recovery_id = 4; // no such recovery id
    forged.push(t);
    let mut t = next.clone();
    t.signature = [0; 64];
    forged.push(t);
    let mut t = next.clone();
    t.signature[32..].copy_from_slice(&[0xff; 32]); // s not below the curve order
    forged.push(t);
    let mut t = next.clone();
    t.tx.value = 1_000_000; // signed for another value
    forged.push(t);
    let mut t = next.clone();
    {
        // High s: the same signature with s' = n - s and the other parity,
        // which k256 verifies but the chain refuses (malleability).
        use avm_state::k256::elliptic_curve::ops::Neg;
        use avm_state::k256::elliptic_curve::PrimeField;
        let s: [u8; 32] = next.signature[32..].try_into().expect("32 bytes");
        let s = Option::<avm_state::k256::Scalar>::from(avm_state::k256::Scalar::from_repr(s.into())).expect("scalar");
        t.signature[32..].copy_from_slice(&s.neg().to_bytes());
        t.recovery_id ^= 1;
    }
    forged.push(t);

    let mut txs = vec![first];
    txs.extend(forged.iter().cloned());
    alice.nonce += 1;
    txs.push(next);
    let (header, results) = nodes.produce(txs);
    let fees = included(&results[0]) + included(&results[results.len() - 1]);
    for (t, result) in forged.iter().zip(&results[1..]) {
        let e = left_out(result);
        // Either no key recovers (and the error says why), or another key
        // does: a stranger with no balance and nonce 0.
        match t.recover_sender() {
            Err(why) => assert_eq!(*e, why),
            Ok(stranger) => {
                assert_ne!(stranger, alice.address, "a forgery recovered the real signer");
                assert_eq!(*e, TxError::NonceTooHigh { expected: 0, got: 1 });
            }
        }
    }
    let errors: Vec<&TxError> = results[1..results.len() - 1].iter().map(left_out).collect();
    assert!(errors.contains(&&TxError::HighS) && errors.contains(&&TxError::InvalidSignature), "{errors:?}");
    assert_eq!(header.tx_count, 2);
    assert_eq!(nodes.nonce(&alice.address), 2);
    assert_eq!(nodes.balance(&alice.address), 1_000 * E18 - 1_001 - u128::from(fees));
    assert_eq!(nodes.balance(&bob.address), 1_000 * E18 + 1_001);
}

#[test]
fn invalid_transactions_are_left_out_with_their_error_and_the_valid_ones_around_them_are_included() {
    let (mut alice, mut bob, mut carol, balances) = accounts();
    let mut nodes = Nodes::in_memory(&balances);
    let sign = |s: &Signer, t: avm_state::Transaction| t.sign(&s.key);
    let too_much_gas = sign(&bob, bob.unsigned(Some(alice.address), 0, Vec::new(), BLOCK_GAS_LIMIT + 1));
    let t0 = alice.transfer(bob.address, 10);
    let wrong_chain =
        sign(&alice, avm_state::Transaction { chain_id: 0xa6, ..alice.unsigned(Some(bob.address), 1, vec![], 10_000) });
    let reused =
        sign(&alice, avm_state::Transaction { nonce: 0, ..alice.unsigned(Some(bob.address), 1, vec![], 10_000) });
    let gap = sign(&alice, avm_state::Transaction { nonce: 6, ..alice.unsigned(Some(bob.address), 1, vec![], 10_000) });
    let t1 = alice.transfer(bob.address, 20);
    // carol holds 50,000: gas 10,000 plus value 40,001 is one too many.
    let broke = sign(&carol, carol.unsigned(Some(bob.address), 40_001, Vec::new(), 10_000));
    let overflow = sign(&carol, carol.unsigned(Some(bob.address), u128::MAX, Vec::new(), 10_000));
    let c0 = carol.tx(Some(bob.address), 40_000, Vec::new(), 10_000);
    let oversized = sign(&bob, bob.unsigned(Some(alice.address), 0, vec![7; MAX_TX_DATA + 1], 10_000_000));
    let b0 = bob.transfer(alice.address, 30);

    let txs = vec![too_much_gas, t0, wrong_chain, reused, gap, t1, broke, overflow, c0, oversized, b0];
    let (header, r) = nodes.produce(txs);
    let errors: Vec<Option<&TxError>> = r.iter().map(|r| r.as_ref().err()).collect();
    let expected = [
        Some(TxError::GasLimitTooHigh { gas_limit: BLOCK_GAS_LIMIT + 1, block_gas_limit: BLOCK_GAS_LIMIT }),
        None,
        Some(TxError::WrongChainId { expected: avm::chain::DEV_CHAIN_ID, got: 0xa6 }),
        Some(TxError::NonceTooLow { expected: 1, got: 0 }),
        Some(TxError::NonceTooHigh { expected: 1, got: 6 }),
        None,
        Some(TxError::InsufficientBalance { need: 50_001, have: 50_000 }),
        Some(TxError::CostOverflow),
        None,
        Some(TxError::DataTooLarge { len: MAX_TX_DATA + 1 }),
        None,
    ];
    assert_eq!(errors, expected.iter().map(Option::as_ref).collect::<Vec<_>>());
    assert_eq!(header.tx_count, 4);
    for (i, receipt) in r.iter().filter_map(|r| r.as_ref().ok()).enumerate() {
        assert_eq!(receipt.index as usize, i, "receipts are numbered among the included only");
        assert_eq!((receipt.status.clone(), receipt.gas_used), (Status::Success, gas::TX_BASE));
    }
    assert_eq!(header.gas_used, 4 * gas::TX_BASE);

    // Only the four included transactions moved anything.
    let base = u128::from(gas::TX_BASE);
    assert_eq!((nodes.nonce(&alice.address), nodes.nonce(&bob.address), nodes.nonce(&carol.address)), (2, 1, 1));
    assert_eq!(nodes.balance(&alice.address), 1_000 * E18 - 30 - 2 * base + 30);
    assert_eq!(nodes.balance(&bob.address), 1_000 * E18 + 30 + 40_000 - 30 - base);
    assert_eq!(nodes.balance(&carol.address), 50_000 - 40_000 - base);
}

#[test]
fn a_block_with_invalid_transactions_survives_reopening_the_store() {
    let (mut alice, bob, _, balances) = accounts();
    let dir = temp_dir("reopen");
    let mut nodes = Nodes::create(&dir, &balances);
    let (deploy, simple) = alice.deploy(&bundled("simple"), 5_000_000);
    let forged = {
        let mut t = alice.transfer(bob.address, 5);
        t.signature[40] ^= 1;
        alice.nonce -= 1;
        t
    };
    let gap =
        avm_state::Transaction { nonce: 9, ..alice.unsigned(Some(bob.address), 5, vec![], 10_000) }.sign(&alice.key);
    let pay = alice.transfer(bob.address, 77);
    let (head, r) = nodes.produce(vec![deploy, forged, gap, pay]);
    assert!(r[0].is_ok() && r[1].is_err() && r[2].is_err() && r[3].is_ok(), "{r:?}");
    let (alice_balance, bob_balance) = (nodes.balance(&alice.address), nodes.balance(&bob.address));
    drop(nodes);

    let mut nodes = Nodes::open(&dir);
    assert_eq!(nodes.head(), head, "the head block was lost");
    for (name, chain) in &nodes.chains {
        assert_eq!(avm_state::state_root(&chain.state), head.state_root, "{name}: state after reopening");
    }
    assert_eq!((nodes.balance(&alice.address), nodes.balance(&bob.address)), (alice_balance, bob_balance));
    assert_eq!(nodes.nonce(&alice.address), 2);
    assert!(nodes.has_code(&simple));
    // The next block builds on it: alice's next nonce, and the contract.
    let add = alice.call(
        &bundled("simple"),
        simple,
        "add",
        &[Value::Uint(Type::U64, 1), Value::Uint(Type::U64, 2)],
        1_000_000,
    );
    let (next, r) = nodes.produce(vec![add]);
    assert_eq!(next.parent_hash, head.hash());
    assert!(included(&r[0]) > 0);
    assert_eq!(r[0].as_ref().map(|r| r.return_data.clone()), Ok(3u64.to_le_bytes().to_vec()));
    drop(nodes);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_call_to_an_address_without_code_is_a_plain_transfer_that_ignores_the_call_data() {
    let (mut alice, bob, _, balances) = accounts();
    let mut nodes = Nodes::in_memory(&balances);
    let nowhere = Address([0x5a; 20]);
    let data = call_data(&bundled("simple"), "add", &[Value::Uint(Type::U64, 1), Value::Uint(Type::U64, 2)]);
    let txs = vec![
        alice.tx(Some(nowhere), 0, data.clone(), 100_000),
        alice.tx(Some(nowhere), 777, data.clone(), 100_000),
        alice.tx(Some(bob.address), 5, data.clone(), 100_000),
    ];
    let r = nodes.produce_all(txs);
    let intrinsic = gas::TX_BASE + gas::TX_DATA_BYTE * data.len() as u64;
    for receipt in &r {
        assert_eq!(receipt.status, Status::Success);
        assert_eq!((receipt.gas_used, receipt.instructions), (intrinsic, 0), "no code ran");
        assert!(receipt.return_data.is_empty() && receipt.logs.is_empty() && receipt.contract_address.is_none());
    }
    assert_eq!(nodes.balance(&nowhere), 777);
    assert!(!nodes.has_code(&nowhere));
    assert_eq!(nodes.nonce(&nowhere), 0);
    assert_eq!(nodes.balance(&bob.address), 1_000 * E18 + 5);
    assert_eq!(nodes.balance(&alice.address), 1_000 * E18 - 782 - 3 * u128::from(intrinsic));

    // A read-only call has no transfer to fall back on: it is a fault that
    // names the address, and costs nothing.
    for (name, chain) in &mut nodes.chains {
        let out = chain.view(alice.address, nowhere, data.clone());
        let want = format!("no contract at {}", avm_abi::Address(nowhere.0));
        assert_eq!((out.status, out.gas_used), (avm::runtime::ExecStatus::Fault(want), 0), "{name}");
    }
}

/// Call data within a transaction's limit (`MAX_TX_DATA`) but over a
/// call's (`MAX_INPUT`) is refused before the contract runs: a revert that
/// costs the intrinsic gas, with the state untouched but for fee and nonce.
#[test]
fn call_data_over_the_call_limit_is_a_revert_that_costs_only_the_intrinsic_gas() {
    let (mut alice, _, _, balances) = accounts();
    let mut nodes = Nodes::in_memory(&balances);
    let (deploy, simple) = alice.deploy(&bundled("simple"), 5_000_000);
    nodes.produce_all(vec![deploy]);
    let root = nodes.head().state_root;
    let data = vec![0x5a; avm_abi::layout::MAX_INPUT as usize + 1];
    let r = nodes.produce_all(vec![alice.tx(Some(simple), 0, data.clone(), 2_000_000)]);
    assert_eq!(r[0].status, Status::Revert("call data too large".into()));
    assert_eq!((r[0].gas_used, r[0].instructions), (gas::TX_BASE + gas::TX_DATA_BYTE * data.len() as u64, 0));
    assert_ne!(nodes.head().state_root, root, "the fee and the nonce stand");
    assert_eq!(nodes.nonce(&alice.address), 2);
}

#[test]
fn a_contract_calling_an_address_without_code_gets_a_no_contract_error() {
    let (mut alice, bob, _, balances) = accounts();
    let mut nodes = Nodes::in_memory(&balances);
    let caller = bundled("call_program");
    let (deploy, at) = alice.deploy(&caller, 5_000_000);
    nodes.produce_all(vec![deploy]);
    let root = nodes.head().state_root;
    let nowhere = Address([0x5a; 20]);
    let u64v = |v| Value::Uint(Type::U64, v);
    let no_contract = |a: Address| format!("no contract at {}", avm_abi::Address(a.0));

    // `call_set` reverts with the SDK's error message: for an address no
    // one has used and for an account that has a balance but no code.
    let txs = vec![
        alice.call(&caller, at, "call_set", &[Value::Address(nowhere.0), u64v(5)], 2_000_000),
        alice.call(&caller, at, "call_set", &[Value::Address(bob.address.0), u64v(5)], 2_000_000),
    ];
    let r = nodes.produce_all(txs);
    assert_eq!(r[0].status, Status::Revert(no_contract(nowhere)));
    assert_eq!(r[1].status, Status::Revert(no_contract(bob.address)));
    assert!(r.iter().all(|r| r.gas_used > 0 && r.logs.is_empty()));
    assert!(!nodes.has_code(&nowhere) && nodes.balance(&nowhere) == 0);

    // `call_failing` handles the error itself: its own write stays, and it
    // returns the message.
    let r = nodes.produce_all(vec![alice.call(
        &caller,
        at,
        "call_failing",
        &[Value::Address(nowhere.0), u64v(9)],
        2_000_000,
    )]);
    assert_eq!(r[0].status, Status::Success);
    let meta = avm::runtime::CodeImage::from_elf(&caller).expect("valid").metadata;
    let returns = meta.method("call_failing").expect("method").returns.decode_all(&r[0].return_data);
    assert_eq!(returns, Ok(Value::String(no_contract(nowhere))));
    assert_ne!(nodes.head().state_root, root);
    let local = nodes.chain().view(alice.address, at, call_data(&caller, "local", &[]));
    assert_eq!(local.return_data, 9u64.to_le_bytes());
}

/// Distinct basic blocks in the JIT bomb: more than the JIT's default
/// compile budget of 8,192 regions.
const BOMB_BLOCKS: u32 = 20_000;

/// A contract that is nothing but a JIT bomb: `BOMB_BLOCKS` basic blocks
/// run once each in a row, then it returns the sums it added up (two
/// `u32`s). Block `i` is `addi a0, a0, i % 2000 + 1; c.addi a2, i / 2000 +
/// 1; bne a0, zero, next` (both ways lead on): no two blocks have the same
/// bytes, so the JIT's content-addressed cache cannot share their code.
fn jit_bomb() -> (Vec<u8>, [u32; 2]) {
    const BASE: u32 = avm_abi::layout::USER_CODE_START;
    let (a0, a1, a2, a7) = (Reg::new(10), Reg::new(11), Reg::new(12), Reg::new(17));
    let mut a = Asm::new(BASE);
    let mut sums = [0u32; 2];
    for i in 0..BOMB_BLOCKS {
        let (k0, k2) = (i % 2000 + 1, i / 2000 + 1);
        sums = [sums[0] + k0, sums[1] + k2];
        a.addi(a0, a0, k0 as i32);
        a.compressed(avm_isa::Inst::AluImm { op: avm_isa::AluImmOp::Addi, rd: a2, rs1: a2, imm: k2 as i32 });
        let next = a.new_label();
        a.bne_label(a0, Reg::ZERO, next);
        a.bind(next);
    }
    // RETURN(sp, 8) with a0 and a2 on the stack.
    a.addi(Reg::SP, Reg::SP, -16);
    a.store(avm_isa::StoreOp::Sw, a0, Reg::SP, 0);
    a.store(avm_isa::StoreOp::Sw, a2, Reg::SP, 4);
    a.addi(a0, Reg::SP, 0);
    a.li(a1, 8);
    a.li(a7, sc::RETURN);
    a.inst(avm_isa::Inst::Ecall);
    let code = a.finish().expect("the bomb assembles");
    let len = u32::try_from(code.len()).expect("small");
    (ElfBuilder::new(BASE).segment(BASE, &code, len, PF_R | PF_X).build(), sums)
}

fn counter(nodes: &Nodes, config: &str, name: &str) -> u64 {
    let (_, chain) = nodes.chains.iter().find(|(c, _)| *c == config).expect("configuration");
    let counters = chain.vm.engine().counters();
    counters
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no counter {name} in {counters:?}"))
}

#[test]
fn a_jit_bomb_runs_once_to_the_end_with_equal_receipts_and_the_compile_budget_refuses_the_rest() {
    let (mut alice, bob, _, balances) = accounts();
    let (elf, sums) = jit_bomb();
    assert!(elf.len() <= MAX_TX_DATA - 4, "the bomb must fit in a deployment");
    let mut nodes = Nodes::in_memory(&balances);
    let (deploy, bomb) = alice.deploy(&elf, 10_000_000);
    let r = nodes.produce_all(vec![deploy]);
    assert_eq!(r[0].status, Status::Success, "{r:?}");

    // Three calls in three blocks (the JIT's caches live on between
    // blocks; the default tiering gives warm blocks baseline code), each
    // running every block once, then one that runs out of gas in the middle.
    for _ in 0..3 {
        let r = nodes.produce_all(vec![alice.tx(Some(bomb), 0, Vec::new(), 1_000_000)]);
        assert_eq!(r[0].status, Status::Success);
        let returned: Vec<u8> = sums.iter().flat_map(|s| s.to_le_bytes()).collect();
        assert_eq!(r[0].return_data, returned, "the bomb did not run every block");
        assert!(r[0].instructions > 3 * u64::from(BOMB_BLOCKS));
    }
    let r = nodes.produce_all(vec![alice.tx(Some(bomb), 0, Vec::new(), 30_000), alice.transfer(bob.address, 1)]);
    assert_eq!((r[0].status.clone(), r[0].gas_used), (Status::OutOfGas, 30_000));
    assert_eq!(r[1].status, Status::Success, "the transaction after the bomb");

    // Compiling on first use, the JIT ran into its compile budget and left
    // the rest of the bomb to the interpreter instead of compiling without
    // bound.
    let refusals = counter(&nodes, "jit-threshold-0", "compile_budget_refusals");
    let compiled = counter(&nodes, "jit-threshold-0", "regions_compiled");
    assert!(refusals > 0, "no compile was refused ({compiled} regions compiled)");
    assert!(compiled <= avm_jit::JitConfig::default().max_regions as u64, "{compiled} regions compiled");
}
