//! `scenario`: `avm test` on a scenario file. The first input byte chooses
//! the file: 0-127 the rest of the input as it is (raw TOML text), 128-255 a
//! file that `avm::fuzzing::scenario::generate` writes from the rest
//! (well-formed steps with good and bad fields). The file is written to a
//! temporary directory and run by the binary's own `avm test` code, with
//! the interpreter: it must get a verdict, never a panic.
//!
//! The scenario parser and argument parser live in the `avm` binary, not in
//! its library, so this target compiles the binary's `commands` module into
//! itself (`#[path]` below) rather than a copy of it.

#![no_main]
#![allow(dead_code, unused_imports, missing_docs)]

#[path = "../../src/commands/mod.rs"]
mod commands;

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("avm-fuzz-scenario-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let text = avm::fuzzing::scenario::file_of(data);
    let path = dir().join("case.toml");
    std::fs::write(&path, &text).expect("write the scenario");
    let outcome = commands::scenario::run_files(&[path], commands::EngineChoice::Interp, true);
    if let Err(f) = &outcome {
        assert!(!f.message.contains("internal error"), "{}", f.message);
    }
});
