//! A constant-product pool over two ERC-20 tokens with Uniswap V2's
//! arithmetic: a 0.3% fee on the input, `minOut` slippage protection and
//! liquidity shares. Every state-changing method checks, then writes its own
//! state, then calls the tokens (checks-effects-interactions), so a token
//! that calls back finds the pool already consistent.
#![no_std]
#![no_main]
#![allow(non_snake_case)]

use avm_contracts::{mul_div, sqrt_of_product};
use avm_sdk::call::call;
use avm_sdk::storage::{Map, Value};
use avm_sdk::{caller, contract, event, require, revert, selector, self_address, Address, Selector};

static TOKEN_A: Value<Address> = Value::new(b"tokenA");
static TOKEN_B: Value<Address> = Value::new(b"tokenB");
static RESERVE_A: Value<u128> = Value::new(b"reserveA");
static RESERVE_B: Value<u128> = Value::new(b"reserveB");
static TOTAL_SHARES: Value<u128> = Value::new(b"shares");
static SHARES: Map<Address, u128> = Map::new(b"s");

const TRANSFER: Selector = selector("transfer(Address,u128)");
const TRANSFER_FROM: Selector = selector("transferFrom(Address,Address,u128)");

event!(Mint { #[indexed] provider: Address, amountA: u128, amountB: u128, shares: u128 });
event!(Burn { #[indexed] provider: Address, amountA: u128, amountB: u128, shares: u128 });
event!(Swap { #[indexed] trader: Address, tokenIn: Address, amountIn: u128, amountOut: u128 });

fn pull(token: &Address, from: Address, amount: u128) {
    match call::<bool>(token, TRANSFER_FROM, &(from, self_address(), amount), 0) {
        Ok(true) => {}
        Ok(false) => revert("token transferFrom returned false"),
        Err(e) => revert(e.message()),
    }
}

fn push(token: &Address, to: Address, amount: u128) {
    match call::<bool>(token, TRANSFER, &(to, amount), 0) {
        Ok(true) => {}
        Ok(false) => revert("token transfer returned false"),
        Err(e) => revert(e.message()),
    }
}

contract! {
    fn init(tokenA: Address, tokenB: Address) {
        require(tokenA != tokenB, "the two tokens must differ");
        TOKEN_A.set(&tokenA);
        TOKEN_B.set(&tokenB);
    }

    fn addLiquidity(amountA: u128, amountB: u128) -> u128 {
        require(amountA > 0 && amountB > 0, "amounts must be positive");
        let (ra, rb, total) = (RESERVE_A.get(), RESERVE_B.get(), TOTAL_SHARES.get());
        let shares = if total == 0 {
            sqrt_of_product(amountA, amountB)
        } else {
            let a = mul_div(amountA, total, ra).unwrap_or_else(|| revert("amount too large"));
            let b = mul_div(amountB, total, rb).unwrap_or_else(|| revert("amount too large"));
            a.min(b)
        };
        require(shares > 0, "insufficient liquidity minted");
        let provider = caller();
        RESERVE_A.set(&ra.checked_add(amountA).unwrap_or_else(|| revert("reserve overflow")));
        RESERVE_B.set(&rb.checked_add(amountB).unwrap_or_else(|| revert("reserve overflow")));
        TOTAL_SHARES.set(&(total + shares));
        SHARES.set(&provider, &(SHARES.get(&provider) + shares));
        pull(&TOKEN_A.get(), provider, amountA);
        pull(&TOKEN_B.get(), provider, amountB);
        Mint { provider, amountA, amountB, shares }.emit();
        shares
    }

    fn removeLiquidity(shares: u128) -> (u128, u128) {
        let provider = caller();
        let mine = SHARES.get(&provider);
        require(shares > 0 && shares <= mine, "insufficient shares");
        let (ra, rb, total) = (RESERVE_A.get(), RESERVE_B.get(), TOTAL_SHARES.get());
        let amountA = mul_div(shares, ra, total).unwrap_or_else(|| revert("bad pool state"));
        let amountB = mul_div(shares, rb, total).unwrap_or_else(|| revert("bad pool state"));
        SHARES.set(&provider, &(mine - shares));
        TOTAL_SHARES.set(&(total - shares));
        RESERVE_A.set(&(ra - amountA));
        RESERVE_B.set(&(rb - amountB));
        push(&TOKEN_A.get(), provider, amountA);
        push(&TOKEN_B.get(), provider, amountB);
        Burn { provider, amountA, amountB, shares }.emit();
        (amountA, amountB)
    }

    fn swap(tokenIn: Address, amountIn: u128, minOut: u128) -> u128 {
        let (a, b) = (TOKEN_A.get(), TOKEN_B.get());
        let a_in = if tokenIn == a {
            true
        } else if tokenIn == b {
            false
        } else {
            revert("token is not in this pool")
        };
        require(amountIn > 0, "amount must be positive");
        let (ra, rb) = (RESERVE_A.get(), RESERVE_B.get());
        let (reserveIn, reserveOut) = if a_in { (ra, rb) } else { (rb, ra) };
        require(reserveIn > 0 && reserveOut > 0, "the pool has no liquidity");
        let inWithFee = amountIn.checked_mul(997).unwrap_or_else(|| revert("amount too large"));
        let denominator = reserveIn
            .checked_mul(1000)
            .and_then(|d| d.checked_add(inWithFee))
            .unwrap_or_else(|| revert("amount too large"));
        let amountOut = mul_div(inWithFee, reserveOut, denominator).unwrap_or_else(|| revert("amount too large"));
        require(amountOut >= minOut, "insufficient output amount (minOut)");
        require(amountOut > 0, "insufficient output amount");
        let newIn = reserveIn.checked_add(amountIn).unwrap_or_else(|| revert("reserve overflow"));
        let newOut = reserveOut - amountOut;
        if a_in {
            RESERVE_A.set(&newIn);
            RESERVE_B.set(&newOut);
        } else {
            RESERVE_B.set(&newIn);
            RESERVE_A.set(&newOut);
        }
        let trader = caller();
        pull(&tokenIn, trader, amountIn);
        push(if a_in { &b } else { &a }, trader, amountOut);
        Swap { trader, tokenIn, amountIn, amountOut }.emit();
        amountOut
    }

    fn reserves() -> (u128, u128) { (RESERVE_A.get(), RESERVE_B.get()) }
    fn sharesOf(owner: Address) -> u128 { SHARES.get(&owner) }
    fn totalShares() -> u128 { TOTAL_SHARES.get() }
    fn tokens() -> (Address, Address) { (TOKEN_A.get(), TOKEN_B.get()) }
}
