//! Accounts and the world state.

mod roots;
mod state;

pub use state::{State, StateError, MAX_STORAGE_KEY, MAX_STORAGE_VALUE};

use crate::address::Hash32;
use crate::codec::{DecodeError, Reader, Writer};

/// One account: a balance, a nonce and, for a contract, the hash of its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Account {
    /// Native balance.
    pub balance: u128,
    /// Transactions sent (and contracts created) by this account.
    pub nonce: u64,
    /// keccak-256 of the code, for a contract.
    pub code_hash: Option<Hash32>,
}

impl Account {
    /// Canonical encoding: balance (16 BE) ‖ nonce (8 BE) ‖ 0, or 1 ‖ code hash.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(57);
        w.u128(self.balance);
        w.u64(self.nonce);
        match &self.code_hash {
            None => w.u8(0),
            Some(h) => {
                w.u8(1);
                w.fixed(h);
            }
        }
        w.finish()
    }

    /// Decodes [`Account::encode`]'s output; rejects anything else.
    pub fn decode(bytes: &[u8]) -> Result<Account, DecodeError> {
        let mut r = Reader::new(bytes);
        let balance = r.u128("account balance")?;
        let nonce = r.u64("account nonce")?;
        let code_hash = if r.option_tag("account code hash")? { Some(r.array("account code hash")?) } else { None };
        r.finish()?;
        Ok(Account { balance, nonce, code_hash })
    }
}
