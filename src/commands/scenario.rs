//! `avm test`.
use std::path::PathBuf;

use super::{EngineChoice, Outcome};

/// Run scenario files.
pub fn run_files(_files: &[PathBuf], _engine: EngineChoice, _json: bool) -> Outcome {
    Err("not yet".to_string().into())
}
