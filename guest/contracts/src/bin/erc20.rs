//! An ERC-20 token with `u128` amounts, as OpenZeppelin's ERC20 behaves:
//! balances, allowances, `Transfer` and `Approval` events, and reverts on
//! every failure. The deployer receives the initial supply and becomes the
//! owner, who alone may `mint`.
#![no_std]
#![no_main]
#![allow(non_snake_case)]

use avm_sdk::storage::{Map, Value};
use avm_sdk::{caller, contract, event, require, revert, Address, String};

static NAME: Value<String> = Value::new(b"name");
static SYMBOL: Value<String> = Value::new(b"symbol");
static DECIMALS: Value<u8> = Value::new(b"decimals");
static TOTAL_SUPPLY: Value<u128> = Value::new(b"supply");
static OWNER: Value<Address> = Value::new(b"owner");
static BALANCES: Map<Address, u128> = Map::new(b"b");
static ALLOWANCES: Map<(Address, Address), u128> = Map::new(b"a");

event!(Transfer { #[indexed] from: Address, #[indexed] to: Address, amount: u128 });
event!(Approval { #[indexed] owner: Address, #[indexed] spender: Address, amount: u128 });

/// Move `amount` from `from` to `to`. Reading `to` after writing `from`
/// makes a self-transfer a no-op instead of a way to mint.
fn move_tokens(from: Address, to: Address, amount: u128) {
    let have = BALANCES.get(&from);
    require(have >= amount, "insufficient balance");
    BALANCES.set(&from, &(have - amount));
    let theirs = BALANCES.get(&to);
    match theirs.checked_add(amount) {
        Some(v) => BALANCES.set(&to, &v),
        None => revert("balance overflow"),
    }
    Transfer { from, to, amount }.emit();
}

fn mint_to(to: Address, amount: u128) {
    let supply = TOTAL_SUPPLY.get().checked_add(amount).unwrap_or_else(|| revert("total supply overflow"));
    TOTAL_SUPPLY.set(&supply);
    BALANCES.set(&to, &(BALANCES.get(&to) + amount));
    Transfer { from: Address::ZERO, to, amount }.emit();
}

contract! {
    fn init(name: String, symbol: String, decimals: u8, supply: u128) {
        NAME.set(&name);
        SYMBOL.set(&symbol);
        DECIMALS.set(&decimals);
        OWNER.set(&caller());
        mint_to(caller(), supply);
    }

    fn name() -> String { NAME.get() }
    fn symbol() -> String { SYMBOL.get() }
    fn decimals() -> u8 { DECIMALS.get() }
    fn totalSupply() -> u128 { TOTAL_SUPPLY.get() }
    fn owner() -> Address { OWNER.get() }
    fn balanceOf(owner: Address) -> u128 { BALANCES.get(&owner) }

    fn transfer(to: Address, amount: u128) -> bool {
        move_tokens(caller(), to, amount);
        true
    }

    fn approve(spender: Address, amount: u128) -> bool {
        let owner = caller();
        ALLOWANCES.set(&(owner, spender), &amount);
        Approval { owner, spender, amount }.emit();
        true
    }

    fn allowance(owner: Address, spender: Address) -> u128 {
        ALLOWANCES.get(&(owner, spender))
    }

    fn transferFrom(from: Address, to: Address, amount: u128) -> bool {
        let spender = caller();
        let allowed = ALLOWANCES.get(&(from, spender));
        require(allowed >= amount, "insufficient allowance");
        if allowed != u128::MAX {
            ALLOWANCES.set(&(from, spender), &(allowed - amount));
        }
        move_tokens(from, to, amount);
        true
    }

    fn mint(to: Address, amount: u128) {
        require(caller() == OWNER.get(), "only the owner may mint");
        mint_to(to, amount);
    }
}
