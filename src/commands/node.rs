//! [`Dev`]: a chain plus its names, as the commands and scenarios use it,
//! and the commands that only read or set up the data dir.

use avm::chain::keys::{address_of, dev_key};
use avm::chain::world::to_abi;
use avm::chain::{deploy_data, Chain, DEV_CHAIN_ID};
use avm::engine::EngineKind;
use avm::runtime::ExecOutcome;
use avm_abi::types::{Metadata, Method};
use avm_state::{from_hex, from_hex_array, to_hex, Address, Receipt, Transaction};
use serde_json::json;

use super::names::{bundled_contracts, check_name, contract_path, Names, DEV_ACCOUNTS, DEV_BALANCE};
use super::render::{decode, header_json, header_text, Decoded};
use super::values::{parse_args, parse_uint, to_json, to_text, Input};
use super::{ChainOpts, Failure, Outcome, EXIT_FAILED_TX};

/// A chain and the names that go with it.
pub struct Dev {
    /// The chain.
    pub chain: Chain,
    /// Keys and aliases.
    pub names: Names,
}

impl Dev {
    /// Open the chain in the data dir.
    pub fn open(opts: &ChainOpts) -> Result<Dev, Failure> {
        let chain = Chain::open(&opts.data_dir, opts.engine).map_err(|e| e.to_string())?;
        let names = match &chain.store {
            Some(store) => Names::load(store)?,
            None => Names::default(),
        };
        Ok(Dev { chain, names })
    }

    /// A fresh in-memory chain funding `accounts` (keys derived from names).
    pub fn in_memory(engine: EngineKind, accounts: &[(String, u128)]) -> Result<Dev, String> {
        let names = Names::dev(&accounts.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
        let balances: Vec<(Address, u128)> = accounts.iter().map(|(n, b)| (address_of(&names.keys[n]), *b)).collect();
        let chain = Chain::in_memory(engine, &balances).map_err(|e| e.to_string())?;
        Ok(Dev { chain, names })
    }

    /// Resolve a name, alias or address.
    pub fn resolve(&self, s: &str) -> Result<Address, String> {
        self.names.resolve(s).ok_or_else(|| format!("unknown account, alias or address `{s}`"))
    }

    /// Remember `alias` for `address` (in the data dir, if persistent).
    pub fn add_alias(&mut self, alias: &str, address: Address) -> Result<(), String> {
        check_name(alias)?;
        if let Some(store) = &mut self.chain.store {
            store.meta_set(&format!("alias:{alias}"), &address.0).map_err(|e| e.to_string())?;
        }
        self.names.aliases.insert(alias.to_string(), address);
        Ok(())
    }

    /// The ABI metadata of the contract at `a`.
    pub fn metadata_of(&mut self, a: &Address) -> Option<Metadata> {
        let image = self.chain.vm.image(&self.chain.state, &to_abi(a)).ok()?;
        Some(image.metadata.clone())
    }

    /// A method of the contract at `target`.
    pub fn method(&mut self, target: &Address, name: &str) -> Result<Method, String> {
        if self.chain.state.code_hash(target).is_none() {
            return Err(format!("{target} has no contract"));
        }
        let meta = self.metadata_of(target).ok_or_else(|| format!("the contract at {target} cannot be loaded"))?;
        meta.method(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = meta.methods.iter().map(|m| m.name.as_str()).filter(|n| *n != "init").collect();
            format!("the contract has no method `{name}` (it has: {})", known.join(", "))
        })
    }

    /// Sign and mine one transaction from the account `from`.
    pub fn submit(
        &mut self,
        from: &str,
        to: Option<Address>,
        value: u128,
        data: Vec<u8>,
        gas_limit: u64,
    ) -> Result<Receipt, String> {
        let key = self.names.keys.get(from).ok_or_else(|| format!("no key named `{from}` (see `avm key list`)"))?;
        let sender = address_of(key);
        let tx =
            Transaction { chain_id: DEV_CHAIN_ID, nonce: self.chain.state.nonce(&sender), gas_limit, to, value, data };
        let stx = tx.sign(key);
        let (_, mut results) = self.chain.produce_block(vec![stx]).map_err(|e| e.to_string())?;
        match results.pop() {
            Some(Ok(receipt)) => Ok(receipt),
            Some(Err(e)) => Err(format!("transaction rejected: {e}")),
            None => Err("the block holds no result".into()),
        }
    }

    /// Deploy an ELF with `init` arguments.
    pub fn deploy(
        &mut self,
        from: &str,
        elf: &[u8],
        args: &[Input],
        value: u128,
        gas_limit: u64,
    ) -> Result<Receipt, String> {
        let image = avm::runtime::CodeImage::from_elf(elf).map_err(|e| e.to_string())?;
        let init = match image.metadata.method("init") {
            Some(m) => m.call_data(&parse_args(&m.args, args, &|s| self.names.resolve(s))?),
            None if args.is_empty() => Vec::new(),
            None => return Err("the contract has no `init`, so it takes no arguments".into()),
        };
        self.submit(from, None, value, deploy_data(elf, &init), gas_limit)
    }

    /// Call `method` of `target` in a transaction.
    pub fn call(
        &mut self,
        from: &str,
        target: &str,
        method: &str,
        args: &[Input],
        value: u128,
        gas_limit: u64,
    ) -> Result<(Receipt, Method), String> {
        let to = self.resolve(target)?;
        let m = self.method(&to, method)?;
        let data = m.call_data(&parse_args(&m.args, args, &|s| self.names.resolve(s))?);
        Ok((self.submit(from, Some(to), value, data, gas_limit)?, m))
    }

    /// Call `method` read-only.
    pub fn view(&mut self, target: &str, method: &str, args: &[Input]) -> Result<(ExecOutcome, Method), String> {
        let to = self.resolve(target)?;
        let m = self.method(&to, method)?;
        let data = m.call_data(&parse_args(&m.args, args, &|s| self.names.resolve(s))?);
        Ok((self.chain.view(Address::ZERO, to, data), m))
    }

    /// Decode a receipt's return value and events.
    pub fn decode(&mut self, r: &Receipt, method: Option<&Method>) -> Decoded {
        let mut cache: std::collections::BTreeMap<Address, Option<Metadata>> = Default::default();
        for l in &r.logs {
            if let std::collections::btree_map::Entry::Vacant(slot) = cache.entry(l.address) {
                slot.insert(self.metadata_of(&l.address));
            }
        }
        decode(r, method, &|a| cache.get(a).cloned().flatten())
    }

    /// The method a call transaction's data selects, if known.
    pub fn method_of_call(&mut self, to: &Address, data: &[u8]) -> Option<Method> {
        let sel: [u8; 4] = data.get(..4)?.try_into().ok()?;
        self.metadata_of(to)?.method_by_selector(&sel).cloned()
    }

    /// Print a receipt; the exit status says whether it succeeded.
    pub fn print_receipt(&mut self, r: &Receipt, method: Option<&Method>, json: bool) -> Outcome {
        let d = self.decode(r, method);
        if json {
            println!("{}", super::render::receipt_json(r, &d));
        } else {
            print!("{}", super::render::receipt_text(r, &d, &self.names));
        }
        Ok(if r.status.is_success() { 0 } else { EXIT_FAILED_TX })
    }
}

/// Parse an amount of native value.
pub fn parse_amount(s: &str) -> Result<u128, String> {
    parse_uint(s).ok_or_else(|| format!("`{s}` is not an amount (a decimal or 0x hex integer)"))
}

/// `avm init`.
pub fn init(opts: &ChainOpts) -> Outcome {
    std::fs::create_dir_all(&opts.data_dir).map_err(|e| format!("cannot create {}: {e}", opts.data_dir.display()))?;
    let accounts: Vec<(Address, u128)> = DEV_ACCOUNTS.iter().map(|n| (address_of(&dev_key(n)), DEV_BALANCE)).collect();
    let mut chain = Chain::create(&opts.data_dir, opts.engine, &accounts).map_err(|e| e.to_string())?;
    let store = chain.store.as_mut().ok_or_else(|| "the chain has no store".to_string())?;
    for n in DEV_ACCOUNTS {
        store.meta_set(&format!("key:{n}"), &dev_key(n).to_bytes()).map_err(|e| e.to_string())?;
    }
    if opts.json {
        let accounts: Vec<_> = DEV_ACCOUNTS
            .iter()
            .map(|n| json!({"name": n, "address": address_of(&dev_key(n)).to_string(), "balance": DEV_BALANCE.to_string()}))
            .collect();
        println!(
            "{}",
            json!({"data_dir": opts.data_dir.display().to_string(), "accounts": accounts, "genesis": header_json(&chain.head)})
        );
    } else {
        println!("new dev chain in {}", opts.data_dir.display());
        for n in DEV_ACCOUNTS {
            println!("  {n:<6} {}  {DEV_BALANCE}", address_of(&dev_key(n)));
        }
    }
    Ok(0)
}

/// `avm key new`.
pub fn key_new(opts: &ChainOpts, name: &str) -> Outcome {
    check_name(name)?;
    let mut dev = Dev::open(opts)?;
    if dev.names.keys.contains_key(name) {
        return Err(format!("a key named `{name}` exists already").into());
    }
    let key = dev_key(name);
    if let Some(store) = &mut dev.chain.store {
        store.meta_set(&format!("key:{name}"), &key.to_bytes()).map_err(|e| e.to_string())?;
    }
    let address = address_of(&key);
    if opts.json {
        println!("{}", json!({"name": name, "address": address.to_string()}));
    } else {
        println!("{name} {address}");
    }
    Ok(0)
}

/// `avm key list`.
pub fn key_list(opts: &ChainOpts) -> Outcome {
    let dev = Dev::open(opts)?;
    let rows: Vec<(String, Address, u128)> = dev
        .names
        .keys
        .iter()
        .map(|(n, k)| {
            let a = address_of(k);
            (n.clone(), a, dev.chain.state.balance(&a))
        })
        .collect();
    if opts.json {
        let list: Vec<_> = rows
            .iter()
            .map(|(n, a, b)| json!({"name": n, "address": a.to_string(), "balance": b.to_string()}))
            .collect();
        println!("{}", json!(list));
    } else {
        for (n, a, b) in rows {
            println!("{n:<12} {a}  {b}");
        }
    }
    Ok(0)
}

/// `avm balance`.
pub fn balance(opts: &ChainOpts, who: &str) -> Outcome {
    let dev = Dev::open(opts)?;
    let a = dev.resolve(who)?;
    let b = dev.chain.state.balance(&a);
    if opts.json {
        println!("{}", json!({"address": a.to_string(), "balance": b.to_string()}));
    } else {
        println!("{b}");
    }
    Ok(0)
}

/// `avm storage`.
pub fn storage(opts: &ChainOpts, target: &str, key: &str) -> Outcome {
    let dev = Dev::open(opts)?;
    let a = dev.resolve(target)?;
    let key_bytes = if key.starts_with("0x") {
        from_hex(key).map_err(|_| format!("`{key}` is not hex"))?
    } else {
        key.as_bytes().to_vec()
    };
    let value = dev.chain.state.storage_get(&a, &key_bytes).map(<[u8]>::to_vec);
    if opts.json {
        println!(
            "{}",
            json!({"address": a.to_string(), "key": to_hex(&key_bytes), "value": value.as_deref().map(to_hex)})
        );
    } else {
        match value {
            Some(v) => println!("{}", to_hex(&v)),
            None => println!("(empty)"),
        }
    }
    Ok(0)
}

/// `avm receipt`.
pub fn receipt(opts: &ChainOpts, tx_hash: &str) -> Outcome {
    let mut dev = Dev::open(opts)?;
    let hash: [u8; 32] = from_hex_array(tx_hash).map_err(|_| format!("`{tx_hash}` is not a 32-byte 0x hash"))?;
    let store = dev.chain.store.as_ref().ok_or_else(|| "no store".to_string())?;
    let r = store.receipt(&hash).map_err(|e| e.to_string())?.ok_or_else(|| format!("no transaction {tx_hash}"))?;
    let method = store
        .block(r.block)
        .ok()
        .flatten()
        .and_then(|b| b.transactions.get(r.index as usize).cloned())
        .and_then(|t| t.tx.to.map(|to| (to, t.tx.data)));
    let method = method.and_then(|(to, data)| dev.method_of_call(&to, &data));
    dev.print_receipt(&r, method.as_ref(), opts.json)?;
    Ok(0)
}

/// `avm block`.
pub fn block(opts: &ChainOpts, number: Option<u64>) -> Outcome {
    let dev = Dev::open(opts)?;
    let store = dev.chain.store.as_ref().ok_or_else(|| "no store".to_string())?;
    let header = match number {
        None => dev.chain.head.clone(),
        Some(n) => store
            .header(n)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no block {n} (the latest is {})", dev.chain.head.number))?,
    };
    let txs: Vec<String> = store
        .block(header.number)
        .map_err(|e| e.to_string())?
        .map(|b| b.transactions.iter().map(|t| to_hex(&t.hash())).collect())
        .unwrap_or_default();
    if opts.json {
        let mut j = header_json(&header);
        j["transactions"] = json!(txs);
        println!("{j}");
    } else {
        print!("{}", header_text(&header));
        for t in txs {
            println!("  tx {t}");
        }
    }
    Ok(0)
}

/// `avm contracts`.
pub fn contracts(opts: &ChainOpts) -> Outcome {
    let mut list = Vec::new();
    for name in bundled_contracts() {
        let path = contract_path(&name)?;
        let elf = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let image = avm::runtime::CodeImage::from_elf(&elf).map_err(|e| format!("{name}: {e}"))?;
        list.push((name, image.metadata));
    }
    if opts.json {
        let j: Vec<_> = list
            .iter()
            .map(|(n, m)| {
                json!({
                    "name": n,
                    "methods": m.methods.iter().map(|x| json!({
                        "name": x.name, "signature": x.signature, "selector": to_hex(&x.selector),
                        "args": x.args.iter().map(|(a, t)| json!({"name": a, "type": t.to_string()})).collect::<Vec<_>>(),
                        "returns": x.returns.to_string(),
                    })).collect::<Vec<_>>(),
                    "events": m.events.iter().map(|e| json!({
                        "name": e.name,
                        "fields": e.fields.iter().map(|f| json!({"name": f.name, "type": f.ty.to_string(), "indexed": f.indexed})).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", json!(j));
        return Ok(0);
    }
    for (name, m) in list {
        println!("{name}");
        for x in &m.methods {
            let args: Vec<String> = x.args.iter().map(|(a, t)| format!("{a}: {t}")).collect();
            let ret = if x.returns == avm_abi::types::Type::Tuple(Vec::new()) {
                String::new()
            } else {
                format!(" -> {}", x.returns)
            };
            println!("  fn {}({}){ret}", x.name, args.join(", "));
        }
        for e in &m.events {
            let fields: Vec<String> = e
                .fields
                .iter()
                .map(|f| format!("{}{}: {}", if f.indexed { "indexed " } else { "" }, f.name, f.ty))
                .collect();
            println!("  event {}({})", e.name, fields.join(", "));
        }
    }
    Ok(0)
}

/// A decoded value as text with names (for `view`).
pub fn value_text(dev: &Dev, v: &avm_abi::types::Value) -> String {
    to_text(v, &|a| dev.names.name_of(a))
}

/// A decoded value as JSON.
pub fn value_json(v: &avm_abi::types::Value) -> serde_json::Value {
    to_json(v)
}
