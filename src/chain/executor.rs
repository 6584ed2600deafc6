//! Applying a transaction: fee, nonce, deployment or call, receipt.
//!
//! The rules, in order (they are the chain's consensus rules, so every
//! engine and every node must follow them to the letter):
//!
//! 1. The transaction was validated against the state (signature, chain id,
//!    nonce, balance for `gas_limit * GAS_PRICE + value`): see
//!    [`avm_state::SignedTransaction::validate`]. An invalid transaction is
//!    not included in a block at all.
//! 2. The sender pays the whole `gas_limit` up front and its nonce goes up.
//!    These two changes stand whatever happens next.
//! 3. Intrinsic gas: [`gas::TX_BASE`], [`gas::TX_DATA_BYTE`] per byte of
//!    data and, for a deployment, [`gas::DEPLOY_BYTE`] per byte of code. If
//!    the limit does not cover it, the transaction is out of gas.
//! 4. Inside a checkpoint: a **deployment** (`to` = none) checks the
//!    contract ELF, stores it at [`avm_state::Address::contract`]`(sender,
//!    nonce)` and runs its `init` with the rest of the data as call data; a
//!    **call** to an account with code runs it; a call to an account without
//!    code is a plain **transfer** of `value`. Success commits the
//!    checkpoint; revert, fault and out-of-gas undo it.
//! 5. The unused gas is refunded. Fees are burnt (a dev chain has no block
//!    producer to pay).
//!
//! Deployment data is `u32 little-endian ELF length ‖ ELF ‖ init call data`
//! ([`deploy_data`]).

use avm_abi::gas;
#[cfg(doc)]
use avm_state::GAS_PRICE;
use avm_state::{Address, Receipt, SignedTransaction, State, Status};

use super::world::{to_abi, to_state};
use crate::runtime::{CodeImage, ExecStatus, Log as RuntimeLog, Message, Vm};

/// Deployment data: the ELF, then the `init` call data.
pub fn deploy_data(elf: &[u8], init_call: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(4 + elf.len() + init_call.len());
    data.extend_from_slice(&(elf.len() as u32).to_le_bytes());
    data.extend_from_slice(elf);
    data.extend_from_slice(init_call);
    data
}

/// Split deployment data into the ELF and the `init` call data.
pub fn split_deploy_data(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_le_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let elf = data.get(4..4usize.checked_add(len)?)?;
    Some((elf, &data[4 + len..]))
}

/// The block a transaction runs in.
#[derive(Clone, Copy, Debug)]
pub struct BlockEnv {
    /// Block number.
    pub number: u64,
    /// Price of one unit of gas in native value ([`GAS_PRICE`] on a dev
    /// chain; 0 on a scenario chain, where gas is free).
    pub gas_price: u128,
}

/// Apply one validated transaction from `sender` and return its receipt
/// (block and index are the caller's to fill in).
pub fn apply_transaction(
    vm: &mut Vm,
    state: &mut State,
    stx: &SignedTransaction,
    sender: Address,
    env: BlockEnv,
) -> Receipt {
    let tx = &stx.tx;
    let mut receipt = Receipt {
        tx_hash: stx.hash(),
        block: env.number,
        index: 0,
        status: Status::Success,
        gas_used: 0,
        instructions: 0,
        logs: Vec::new(),
        return_data: Vec::new(),
        contract_address: None,
    };
    let fee = u128::from(tx.gas_limit) * env.gas_price;
    // Validation guaranteed both; failing here would be a validation bug,
    // and the receipt says so rather than panicking.
    if state.sub_balance(&sender, fee).is_err() || state.increment_nonce(&sender).is_err() {
        receipt.status = Status::Fault("the sender cannot pay the fee (the transaction was not validated)".into());
        return receipt;
    }

    let deploy = if tx.to.is_none() { split_deploy_data(&tx.data) } else { None };
    let code_bytes = deploy.map_or(0, |(elf, _)| elf.len() as u64);
    let intrinsic = gas::TX_BASE + gas::TX_DATA_BYTE * tx.data.len() as u64 + gas::DEPLOY_BYTE * code_bytes;
    if intrinsic > tx.gas_limit {
        receipt.status = Status::OutOfGas;
        receipt.gas_used = tx.gas_limit;
        return receipt;
    }
    let left = tx.gas_limit - intrinsic;

    let cp = state.checkpoint();
    let (status, exec_gas, instructions, logs, return_data) = match (tx.to, deploy) {
        (None, None) => (Status::Fault("deployment data is malformed".into()), 0, 0, Vec::new(), Vec::new()),
        (None, Some((elf, init))) => {
            let address = Address::contract(&sender, tx.nonce);
            receipt.contract_address = Some(address);
            deploy_contract(vm, state, sender, address, elf, init, tx.value, left, env)
        }
        (Some(to), _) if state.code_hash(&to).is_some() => {
            let msg = Message {
                caller: to_abi(&sender),
                target: to_abi(&to),
                value: tx.value,
                input: tx.data.clone(),
                gas_limit: left,
                block_number: env.number,
                deploying: false,
                read_only: false,
            };
            from_exec(vm.execute(state, &msg))
        }
        (Some(to), _) => match state.transfer(&sender, &to, tx.value) {
            Ok(()) => (Status::Success, 0, 0, Vec::new(), Vec::new()),
            Err(e) => (Status::Revert(e.to_string()), 0, 0, Vec::new(), Vec::new()),
        },
    };
    if status.is_success() {
        state.commit(cp);
    } else {
        state.revert(cp);
        receipt.contract_address = None;
    }
    receipt.gas_used = (intrinsic + exec_gas).min(tx.gas_limit);
    let refund = u128::from(tx.gas_limit - receipt.gas_used) * env.gas_price;
    // The refund is at most the fee just taken, so it cannot overflow.
    let _ = state.add_balance(&sender, refund);
    receipt.status = status;
    receipt.instructions = instructions;
    receipt.logs = logs;
    receipt.return_data = return_data;
    receipt
}

type Executed = (Status, u64, u64, Vec<avm_state::Log>, Vec<u8>);

#[allow(clippy::too_many_arguments)]
fn deploy_contract(
    vm: &mut Vm,
    state: &mut State,
    sender: Address,
    address: Address,
    elf: &[u8],
    init: &[u8],
    value: u128,
    gas_left: u64,
    env: BlockEnv,
) -> Executed {
    let image = match CodeImage::from_elf(elf) {
        Ok(image) => image,
        Err(e) => return (Status::Fault(format!("invalid contract: {e}")), 0, 0, Vec::new(), Vec::new()),
    };
    if state.code_hash(&address).is_some() {
        return (
            Status::Fault(format!("an account with code already exists at {address}")),
            0,
            0,
            Vec::new(),
            Vec::new(),
        );
    }
    state.set_code(&address, elf.to_vec());
    if image.metadata.method("init").is_none() && init.is_empty() {
        return match state.transfer(&sender, &address, value) {
            Ok(()) => (Status::Success, 0, 0, Vec::new(), Vec::new()),
            Err(e) => (Status::Revert(e.to_string()), 0, 0, Vec::new(), Vec::new()),
        };
    }
    let msg = Message {
        caller: to_abi(&sender),
        target: to_abi(&address),
        value,
        input: init.to_vec(),
        gas_limit: gas_left,
        block_number: env.number,
        deploying: true,
        read_only: false,
    };
    from_exec(vm.execute(state, &msg))
}

fn from_exec(out: crate::runtime::ExecOutcome) -> Executed {
    let status = match out.status {
        ExecStatus::Success => Status::Success,
        ExecStatus::Revert(m) => Status::Revert(m),
        ExecStatus::OutOfGas => Status::OutOfGas,
        ExecStatus::Fault(m) => Status::Fault(m),
    };
    let logs = out.logs.into_iter().map(to_state_log).collect();
    (status, out.gas_used, out.instructions, logs, out.return_data)
}

fn to_state_log(l: RuntimeLog) -> avm_state::Log {
    avm_state::Log { address: to_state(&l.address), topics: l.topics, data: l.data }
}

/// A read-only call (no transaction, nothing committed).
pub fn view(
    vm: &mut Vm,
    state: &mut State,
    caller: Address,
    target: Address,
    input: Vec<u8>,
    gas_limit: u64,
    block: u64,
) -> crate::runtime::ExecOutcome {
    let msg = Message {
        caller: to_abi(&caller),
        target: to_abi(&target),
        value: 0,
        input,
        gas_limit,
        block_number: block,
        deploying: false,
        read_only: true,
    };
    let cp = state.checkpoint();
    let out = vm.execute(state, &msg);
    state.revert(cp);
    out
}
