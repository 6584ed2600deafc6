//! The bundled contracts, and putting a contract into a state directly.
//!
//! Benches, examples and tests often want "a state with an ERC-20 in it"
//! without the ceremony of signed transactions. [`install`] does what a
//! deployment does (store the code, run `init`) through the same runtime,
//! minus the fee, the nonce and the receipt.

use avm_abi::types::{Metadata, Value};
use avm_state::State;

use super::world::to_state;
use crate::runtime::{ExecStatus, Message, Vm};

/// The ELF of a bundled contract (`erc20`, `dex`, ...), built by build.rs.
pub fn contract_elf(name: &str) -> Result<Vec<u8>, String> {
    let dir = crate::guest_dir().ok_or("this binary was built without the bundled contracts")?;
    let path = std::path::Path::new(dir).join(format!("contract-{name}"));
    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Store `elf` at `address` in `state` and run its `init(init_args)` as
/// `caller`; returns the contract's ABI metadata.
pub fn install(
    vm: &mut Vm,
    state: &mut State,
    caller: avm_abi::Address,
    address: avm_abi::Address,
    elf: Vec<u8>,
    init_args: &[Value],
) -> Result<Metadata, String> {
    state.set_code(&to_state(&address), elf);
    let metadata = vm.image(state, &address)?.metadata.clone();
    if let Some(init) = metadata.method("init") {
        let mut msg = Message::call(caller, address, init.call_data(init_args));
        msg.deploying = true;
        let out = vm.execute(state, &msg);
        if out.status != ExecStatus::Success {
            return Err(format!("init failed: {:?}", out.status));
        }
    }
    Ok(metadata)
}
