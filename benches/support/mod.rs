//! What the criterion benches share: where criterion writes, the side file that tells
//! `examples/bench_report.rs` what one iteration of a bench did, and how long to measure.
//!
//! Criterion records times (`<group>/<function>/new/estimates.json`) but not what an
//! iteration was worth in guest instructions or transactions; [`record`] writes that
//! beside criterion's files as `avm.json`, so the report turns times into guest MIPS and
//! transactions per second from the same run without scraping any output.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::Criterion;

/// Where criterion writes its results: `$CRITERION_HOME`, else `<target dir>/criterion`
/// (the target dir is three levels above `AVM_GUEST_DIR`, see `build.rs`).
pub fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let guest = Path::new(env!("AVM_GUEST_DIR"));
    guest.ancestors().nth(3).unwrap_or(Path::new("target")).join("criterion")
}

/// A criterion instance writing to [`criterion_home`], configured from the command line.
pub fn criterion() -> Criterion {
    Criterion::default().output_directory(&criterion_home()).configure_from_args()
}

/// What one iteration of `group/function` did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Work {
    /// Guest instructions retired (0: not a guest run).
    pub guest_insns: u64,
    /// Transactions executed (0: not a transaction workload).
    pub txs: u64,
    /// Signatures recovered (0: none).
    pub recoveries: u64,
}

/// Writes `work` as `<criterion home>/<group>/<function>/avm.json` for the report. A
/// failure to write only costs the report a column, so it is printed, not fatal.
pub fn record(group: &str, function: &str, work: Work) {
    let dir = criterion_home().join(group).join(function);
    let json = serde_json::json!({
        "guest_insns": work.guest_insns,
        "txs": work.txs,
        "recoveries": work.recoveries,
    });
    let result = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join("avm.json"), json.to_string()));
    if let Err(e) = result {
        eprintln!("{group}/{function}: cannot write avm.json ({e}); the report will lack its instruction count");
    }
}

/// Measurement time for flat sampling of `samples` one-iteration samples of a run that
/// takes `one_run`: enough for all of them plus slack, so criterion does not warn, and
/// no more, since setup (a kernel boot, a block to sign) runs once per iteration outside
/// the timing and criterion does not count it.
pub fn flat_time(one_run: Duration, samples: u32) -> Duration {
    (one_run * (samples + samples / 5 + 1)).max(Duration::from_millis(1))
}
