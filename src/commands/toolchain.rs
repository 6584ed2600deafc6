//! `avm new` and `avm build`.
use std::path::Path;

use super::Outcome;

/// Write a new contract crate.
pub fn new(_name: &str) -> Outcome {
    Err("not yet".to_string().into())
}

/// Build a contract crate.
pub fn build(_path: &Path) -> Outcome {
    Err("not yet".to_string().into())
}
