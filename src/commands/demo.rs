//! `avm demo`.
use super::{EngineChoice, Outcome};

/// Run the demo.
pub fn run(_engine: EngineChoice, _json: bool, _swaps: u32) -> Outcome {
    Err("not yet".to_string().into())
}
