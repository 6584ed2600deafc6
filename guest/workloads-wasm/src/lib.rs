//! # The benchmark workloads as wasm32 modules
//!
//! Outside reference points for `benches/engines.rs` (the root crate's feature
//! `wasm-ref`): the same `avm-workloads` code the RV32 guest programs in `guest/bare`
//! run, compiled for `wasm32-unknown-unknown` with the guest programs' release profile
//! (opt-level 3, LTO, one codegen unit, abort on panic), so wasmtime and wasmi can run it
//! next to aVM's engines.
//!
//! Each binary (`src/bin/<workload>.rs`) is one module, as each guest program is one
//! ELF. It imports nothing and exports `run: () -> i32`, which runs the workload with the
//! guest program's inputs and returns 1 if the result is the pinned `EXPECTED` value, 0
//! if not, so a host can check a run without reading the module's memory. This library
//! holds what the modules share: the panic handler.
//!
//! wasm32 has 32-bit pointers but native 64-bit integer operations (`i64.*`): crates
//! that choose their arithmetic by pointer width (`k256`'s field) pick their 32-bit code
//! here, as on RV32, while `u64` values (Keccak's lanes) take one instruction per
//! operation, not two or more as on RV32.
#![no_std]

/// A panic (a bug in a workload) traps: the host sees a wasm trap, not a wrong 0 or 1.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
