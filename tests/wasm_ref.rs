//! The wasm reference points of the benches (`avm::wasm_ref`, feature `wasm-ref`): every
//! workload module runs to its pinned result on wasmi and on wasmtime, and the failure
//! paths are typed errors, not panics. CI does not turn the feature on; run with
//! `cargo test --release --features wasm-ref --test wasm_ref`.
#![cfg(feature = "wasm-ref")]

use avm::wasm_ref::{check, module_bytes, module_path, WasmRefError, Wasmi, Wasmtime, WORKLOADS};

fn module(workload: &str) -> Vec<u8> {
    module_bytes(workload).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_workload_passes_on_wasmi() {
    for workload in WORKLOADS {
        let wasmi = Wasmi::new();
        assert_eq!(wasmi.run(&module(workload)).map_err(|e| e.to_string()), Ok(1), "{workload} on wasmi");
    }
}

#[test]
fn every_workload_passes_on_wasmtime() {
    let wasmtime = Wasmtime::new().expect("engine");
    for workload in WORKLOADS {
        let compiled = wasmtime.compile(&module(workload)).expect("module compiles");
        assert_eq!(wasmtime.run(&compiled).map_err(|e| e.to_string()), Ok(1), "{workload} on wasmtime");
        // A second instance of the same compiled module starts from fresh memory.
        assert_eq!(wasmtime.run(&compiled).map_err(|e| e.to_string()), Ok(1), "{workload} again on wasmtime");
    }
}

#[test]
fn each_module_exports_only_its_workload() {
    // One module per workload, like the guest ELFs: `alu` must not carry k256.
    let alu = module("alu").len();
    let ecdsa = module("ecdsa").len();
    assert!(alu < ecdsa / 4, "alu.wasm is {alu} bytes, ecdsa.wasm {ecdsa}");
}

#[test]
fn a_result_other_than_one_is_an_error() {
    assert!(check("wasmi", "alu", 1).is_ok());
    let err = check("wasmtime", "alu", 0).expect_err("0 means the wrong result");
    assert!(matches!(err, WasmRefError::WrongResult { runtime: "wasmtime", value: 0, .. }), "{err:?}");
    assert!(err.to_string().contains("alu"), "{err}");
}

#[test]
fn bad_modules_are_errors_not_panics() {
    let garbage = b"\0asm\x01\0\0\0\x7f garbage";
    let wasmi = Wasmi::new().run(garbage);
    assert!(matches!(wasmi, Err(WasmRefError::Runtime { runtime: "wasmi", .. })), "{wasmi:?}");
    let wasmtime = Wasmtime::new().expect("engine").compile(garbage);
    assert!(matches!(wasmtime, Err(WasmRefError::Runtime { runtime: "wasmtime", .. })), "{:?}", wasmtime.err());

    // A valid module without the `run` export: the smallest module, 8 bytes.
    let empty = b"\0asm\x01\0\0\0";
    let wasmi = Wasmi::new().run(empty);
    assert!(matches!(wasmi, Err(WasmRefError::Runtime { step, .. }) if step.contains("export")), "{wasmi:?}");
    let engine = Wasmtime::new().expect("engine");
    let compiled = engine.compile(empty).expect("the empty module is valid");
    let wasmtime = engine.run(&compiled);
    assert!(matches!(wasmtime, Err(WasmRefError::Runtime { step, .. }) if step.contains("export")), "{wasmtime:?}");

    let missing = module_bytes("no-such-workload");
    assert!(matches!(missing, Err(WasmRefError::Read { .. })), "{missing:?}");
    assert!(module_path("alu").is_file());
}
