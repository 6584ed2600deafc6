//! Names for accounts and contracts: keys kept in the data dir, aliases
//! given with `--as`, and the bundled contracts.
//!
//! Keys and aliases live in the store's `meta` table (`key:NAME` holds a
//! 32-byte secret key, `alias:NAME` a 20-byte address), so they travel with
//! the chain's data dir and commit atomically like everything else in it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use avm::chain::keys::{address_of, dev_key};
use avm_state::k256::ecdsa::SigningKey;
use avm_state::{Address, Store};

/// The accounts `avm init` creates and funds.
pub const DEV_ACCOUNTS: [&str; 3] = ["alice", "bob", "carol"];
/// What each of them gets at genesis.
pub const DEV_BALANCE: u128 = 1_000_000_000_000_000_000;

/// Every name the data dir knows.
#[derive(Default)]
pub struct Names {
    /// Account keys by name.
    pub keys: BTreeMap<String, SigningKey>,
    /// Aliases (contracts deployed `--as NAME`).
    pub aliases: BTreeMap<String, Address>,
}

impl Names {
    /// Read the names of a store.
    pub fn load(store: &Store) -> Result<Names, String> {
        let mut names = Names::default();
        for (k, v) in store.meta_list("key:").map_err(|e| e.to_string())? {
            let key = SigningKey::from_slice(&v).map_err(|_| format!("the key `{k}` in the data dir is corrupt"))?;
            names.keys.insert(k.trim_start_matches("key:").to_string(), key);
        }
        for (k, v) in store.meta_list("alias:").map_err(|e| e.to_string())? {
            let bytes: [u8; 20] = v.try_into().map_err(|_| format!("the alias `{k}` in the data dir is corrupt"))?;
            names.aliases.insert(k.trim_start_matches("alias:").to_string(), Address(bytes));
        }
        Ok(names)
    }

    /// Names for a scenario: keys derived from account names.
    pub fn dev(accounts: &[String]) -> Names {
        let mut names = Names::default();
        for a in accounts {
            names.keys.insert(a.clone(), dev_key(a));
        }
        names
    }

    /// The address a name, alias or `0x` address stands for.
    pub fn resolve(&self, s: &str) -> Option<Address> {
        if let Ok(a) = s.parse::<Address>() {
            return Some(a);
        }
        if let Some(a) = self.aliases.get(s) {
            return Some(*a);
        }
        self.keys.get(s).map(address_of)
    }

    /// The name of an address, if it has one.
    pub fn name_of(&self, a: &Address) -> Option<String> {
        self.aliases
            .iter()
            .find(|(_, v)| *v == a)
            .map(|(k, _)| k.clone())
            .or_else(|| self.keys.iter().find(|(_, k)| address_of(k) == *a).map(|(n, _)| n.clone()))
    }
}

/// A name must be usable in commands and scenario files.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with("0x")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!("`{name}` is not a valid name (letters, digits, `_` and `-`, not starting with 0x)"))
    }
}

/// Names of the bundled contracts (built from guest/contracts).
pub fn bundled_contracts() -> Vec<String> {
    let Some(dir) = avm::guest_dir() else { return Vec::new() };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_prefix("contract-")).map(str::to_owned))
        .filter(|n| !n.contains('.'))
        .collect();
    names.sort();
    names
}

/// The ELF file of a bundled contract name, or the path itself.
pub fn contract_path(name_or_path: &str) -> Result<PathBuf, String> {
    if let Some(dir) = avm::guest_dir() {
        let bundled = PathBuf::from(dir).join(format!("contract-{name_or_path}"));
        if bundled.is_file() {
            return Ok(bundled);
        }
    }
    let path = PathBuf::from(name_or_path);
    if path.is_file() {
        return Ok(path);
    }
    Err(format!("`{name_or_path}` is neither a bundled contract ({}) nor an ELF file", bundled_contracts().join(", ")))
}
