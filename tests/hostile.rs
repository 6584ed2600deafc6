//! Hostile contracts against the kernel and the host, on every engine at
//! once (`common::contracts::Chain` asserts that the engines agree after
//! every call). Each attack must end its call with a clear reason, leave the
//! state root exactly as it was, and leave the machine fit for the next
//! call: every test follows the attack with an ordinary ERC-20 transfer.

mod common;

use avm::runtime::{ExecStatus, Message, Vm};
use avm::EngineKind;
use avm_abi::layout::MAX_CALL_DEPTH;
use avm_abi::Address;
use avm_state::State;
use common::contracts::*;

const ALICE: Address = addr(1);
const BOB: Address = addr(2);
const TOKEN: Address = addr(9);
const HOSTILE: Address = addr(66);

/// A chain with an ERC-20 token and the hostile contract `name` deployed.
fn chain_with(name: &str) -> Chain {
    let mut chain = Chain::new();
    chain.deploy("erc20", TOKEN, ALICE, &[stringv("Tok"), stringv("TKN"), u8v(18), u128v(1_000_000)]);
    chain.deploy(name, HOSTILE, ALICE, &[]);
    chain
}

/// Run an attack: it must fail, change nothing, and the next ordinary call
/// must run normally. Returns the failed call for more checks.
#[track_caller]
fn attack(chain: &mut Chain, method: &str, args: &[avm_abi::types::Value], gas: u64) -> Called {
    let root = chain.root();
    let bob_before = chain.view(TOKEN, "balanceOf", &[addrv(BOB)]).uint();
    let c = chain.call_gas(ALICE, HOSTILE, method, args, gas);
    assert!(!c.out.status.is_success(), "{method}{args:?} succeeded: {:?}", c.out);
    assert!(c.out.logs.is_empty());
    assert!(c.out.gas_used > 0, "a failed call still costs gas");
    assert_eq!(chain.root(), root, "{method}: the state changed");
    let t = chain.call(ALICE, TOKEN, "transfer", &[addrv(BOB), u128v(1)]);
    assert!(t.bool(), "the call after {method} failed: {:?}", t.out);
    assert_eq!(chain.view(TOKEN, "balanceOf", &[addrv(BOB)]).uint(), bob_before + 1);
    c
}

#[track_caller]
fn assert_contains(message: &str, want: &str) {
    assert!(message.contains(want), "{message:?} does not mention {want:?}");
}

#[test]
fn infinite_loop_runs_out_of_gas_at_the_same_instruction() {
    let mut chain = chain_with("hostile_loop");
    // Several budgets, so the limit lands at different points of the loop
    // (and of a compiled block).
    for gas in [100_000, 1_000_003, 2_000_017] {
        let c = attack(&mut chain, "spin", &[], gas);
        assert_eq!(c.out.status, ExecStatus::OutOfGas);
        assert_eq!(c.out.gas_used, gas, "out of gas uses all of it");
        assert!(c.out.instructions > 0 && c.out.instructions <= gas);
    }
}

#[test]
fn memory_bomb_is_bounded() {
    let mut chain = chain_with("hostile_memory");
    let c = attack(&mut chain, "bomb", &[], GAS);
    assert_eq!(c.revert_message(), "memory allocation of 65536 bytes failed");

    let c = attack(&mut chain, "past_heap", &[], GAS);
    let expected =
        format!("store page fault at address {:#x}", avm_abi::layout::HEAP_START + avm_abi::layout::HEAP_MAX + 4096);
    assert_eq!(c.fault_message(), expected);

    // The whole heap is allowed.
    assert_eq!(chain.call(ALICE, HOSTILE, "fill_heap", &[]).uint(), 256);
}

#[test]
fn reading_kernel_and_pool_memory_faults_in_user_mode() {
    let mut chain = chain_with("hostile_peek");
    // The kernel's first page, the frame pool (where the page tables, code
    // and stacks of this and every other task live), the end of RAM, the
    // HTIF device page, and an unmapped user address.
    for at in [0x8000_0000u32, 0x8010_0000, 0x8100_0000, 0x83ff_f000, 0x0000_1000, 0x3000_0000] {
        let c = attack(&mut chain, "peek", &[u32v(at)], GAS);
        assert_eq!(c.fault_message(), format!("load page fault at address {at:#x}"));
        let c = attack(&mut chain, "poke", &[u32v(at), u32v(0xdead_beef)], GAS);
        assert_eq!(c.fault_message(), format!("store page fault at address {at:#x}"));
    }
}

/// A task that hands another task addresses of its own heap and stack
/// data: the callee reads the same virtual addresses in its own space and
/// never sees the secret.
#[test]
fn another_tasks_memory_is_out_of_reach() {
    const OTHER: Address = addr(67);
    const SECRET: u32 = 0x5ec2_e7ed;
    let mut chain = chain_with("hostile_peek");
    chain.deploy("hostile_peek", OTHER, ALICE, &[]);
    let c = chain.call(ALICE, HOSTILE, "peek_other", &[addrv(OTHER), u32v(SECRET)]);
    let avm_abi::types::Value::Tuple(seen) = c.ok() else { panic!("{:?}", c.value) };
    assert_eq!(seen.len(), 2);
    assert!(!seen.contains(&u32v(SECRET)), "the callee read the caller's secret: {seen:?}");
}

#[test]
fn wild_pointers_are_rejected() {
    let mut chain = chain_with("hostile_pointers");
    for kind in 0..=5u8 {
        let c = attack(&mut chain, "wild", &[u8v(kind)], GAS);
        let message = c.fault_message();
        assert!(message.starts_with("bad pointer"), "wild({kind}): {message:?}");
    }
}

#[test]
fn privileged_instructions_fault() {
    let mut chain = chain_with("hostile_privileged");
    for kind in 0..=7u8 {
        let c = attack(&mut chain, "run", &[u8v(kind)], GAS);
        let message = c.fault_message();
        // The message names what `stval` holds: the pc for a breakpoint,
        // the instruction's bits for an illegal instruction (csrr t0, satp;
        // csrw sstatus, zero; sret; mret; wfi; sfence.vma; .word 0).
        let bits = [0x1800_22f3u32, 0x1000_1073, 0x1020_0073, 0x3020_0073, 0x1050_0073, 0x1200_0073, 0, 0];
        let want = match kind {
            6 => "breakpoint at pc 0x".to_string(),
            _ => format!("illegal instruction (bits {:#010x})", bits[usize::from(kind)]),
        };
        assert_contains(message, &want);
    }
}

#[test]
fn deep_recursion_is_a_stack_overflow() {
    let mut chain = chain_with("hostile_recursion");
    // Shallow recursion is fine.
    assert_eq!(chain.call(ALICE, HOSTILE, "recurse", &[u32v(10)]).uint(), 10);
    let c = attack(&mut chain, "recurse", &[u32v(1_000_000)], GAS);
    assert_contains(c.fault_message(), "stack overflow");
}

#[test]
fn reentrancy_stops_at_the_call_depth_limit() {
    let mut chain = chain_with("hostile_reentrancy");
    let c = chain.call(ALICE, HOSTILE, "reenter", &[u32v(0)]);
    // Depth 0 is the transaction's own call and MAX_CALL_DEPTH the deepest
    // nesting allowed: the call that would go one deeper is refused.
    let deepest = c.uint();
    assert_eq!(deepest, u128::from(MAX_CALL_DEPTH));
    assert_eq!(chain.view(HOSTILE, "deepest", &[]).uint(), deepest, "every level that ran kept its write");
    let t = chain.call(ALICE, TOKEN, "transfer", &[addrv(BOB), u128v(1)]);
    assert!(t.bool());
}

/// The kernel resets its frame pool for every transaction, so calls do not
/// accumulate memory: after a warm-up, the RAM the kernel has ever touched
/// neither grows nor changes, and every call costs the same.
///
/// 100,000 calls of `simple.add` take a few seconds on the interpreter in
/// release builds.
#[test]
fn a_hundred_thousand_calls_do_not_grow_kernel_memory() {
    const CALLS: u32 = 100_000;
    const SIMPLE: Address = addr(40);
    let mut vm = Vm::new(EngineKind::Interp).unwrap();
    let mut state = State::new();
    state.set_code(&avm_state::Address(SIMPLE.0), contract_elf("simple"));
    let image = vm.image(&state, &SIMPLE).unwrap();
    let add = image.metadata.method("add").unwrap();
    let msg = Message {
        caller: ALICE,
        target: SIMPLE,
        value: 0,
        input: add.call_data(&[u64v(2), u64v(3)]),
        gas_limit: 1_000_000,
        block_number: 1,
        deploying: false,
        read_only: false,
    };
    let first = vm.execute(&mut state, &msg);
    assert!(first.status.is_success());
    let mut warm = None;
    for i in 1..CALLS {
        let out = vm.execute(&mut state, &msg);
        assert_eq!(out, first, "call {i} differs from the first");
        if i == 100 {
            warm = Some((ram_footprint(&vm), vm.machine().ram.digest()));
        }
    }
    let (footprint, digest) = warm.unwrap();
    assert_eq!(ram_footprint(&vm), footprint, "the kernel's memory grew");
    assert_eq!(vm.machine().ram.digest(), digest, "calls left something behind in RAM");
}
