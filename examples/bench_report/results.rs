//! Reading a bench run back: criterion's `estimates.json` and `benchmark.json`, the
//! benches' own `avm.json` (what one iteration was worth), iai-callgrind's
//! `summary.json`, and the lines of code of each engine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value;

/// One criterion benchmark: `group/function`.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    /// Mean time of one iteration, seconds.
    pub mean: f64,
    /// Half the width of criterion's 95% confidence interval of the mean, seconds.
    pub half_ci: f64,
    /// Guest instructions in one iteration (0: none or unknown).
    pub guest_insns: u64,
    /// Transactions in one iteration (0: none).
    pub txs: u64,
    /// Signatures recovered in one iteration (0: none).
    pub recoveries: u64,
}

/// All results, by group, then function.
pub type Results = BTreeMap<String, BTreeMap<String, Measured>>;

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn fresh(path: &Path, since: Option<SystemTime>) -> bool {
    let Some(since) = since else { return true };
    std::fs::metadata(path).and_then(|m| m.modified()).is_ok_and(|t| t >= since)
}

/// Every `new/` directory under `dir`, recursively (criterion's own `report/` skipped).
fn new_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    entries.sort();
    for p in entries {
        match p.file_name().and_then(|n| n.to_str()) {
            Some("new") => out.push(p),
            Some("report" | "base" | "change") => {}
            _ => new_dirs(&p, out),
        }
    }
}

/// Criterion's results under `home` written since `since` (all of them if `None`).
pub fn criterion_results(home: &Path, since: Option<SystemTime>) -> Results {
    let mut dirs = Vec::new();
    new_dirs(home, &mut dirs);
    let mut results = Results::new();
    for new in dirs {
        let estimates = new.join("estimates.json");
        if !fresh(&estimates, since) {
            continue;
        }
        let (Some(est), Some(bench)) = (read_json(&estimates), read_json(&new.join("benchmark.json"))) else {
            continue;
        };
        let (Some(group), Some(mean)) = (bench["group_id"].as_str(), est["mean"]["point_estimate"].as_f64()) else {
            continue;
        };
        let function = match (bench["function_id"].as_str(), bench["value_str"].as_str()) {
            (Some(f), Some(v)) => format!("{f}/{v}"),
            (Some(f), None) => f.to_owned(),
            (None, Some(v)) => v.to_owned(),
            (None, None) => continue,
        };
        let ci = &est["mean"]["confidence_interval"];
        let half_ci = match (ci["lower_bound"].as_f64(), ci["upper_bound"].as_f64()) {
            (Some(lo), Some(hi)) => (hi - lo) / 2.0 / 1e9,
            _ => 0.0,
        };
        let mut m = Measured { mean: mean / 1e9, half_ci, ..Measured::default() };
        if let Some(parent) = new.parent() {
            if let Some(work) = read_json(&parent.join("avm.json")) {
                m.guest_insns = work["guest_insns"].as_u64().unwrap_or(0);
                m.txs = work["txs"].as_u64().unwrap_or(0);
                m.recoveries = work["recoveries"].as_u64().unwrap_or(0);
            }
        }
        results.entry(group.to_owned()).or_default().insert(function, m);
    }
    results
}

/// iai-callgrind's instruction counts (`Ir`) by `group/function.id`, from the
/// `summary.json` files under `dir` written since `since`.
pub fn iai_results(dir: &Path, since: Option<SystemTime>) -> BTreeMap<String, u64> {
    let mut files = Vec::new();
    summaries(dir, &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        if !fresh(&f, since) {
            continue;
        }
        let (Some(json), Some(parent)) = (read_json(&f), f.parent()) else { continue };
        // The total over the run's parts (threads, forks), else the first count found.
        let total = &json["profiles"][0]["summaries"]["total"]["summary"]["Callgrind"]["Ir"]["metrics"]["Left"]["Int"];
        let Some(ir) = total.as_u64().or_else(|| find_ir(&json)) else { continue };
        // `<target>/iai/<bench>/<module path>/<group>/<function>.<id>`: keep the last two.
        let parts: Vec<String> =
            parent.components().rev().take(2).map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let name = format!("{}/{}", parts.get(1).map_or("", String::as_str), parts.first().map_or("", String::as_str));
        out.insert(name, ir);
    }
    out
}

fn summaries(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            summaries(&p, out);
        } else if p.file_name().is_some_and(|n| n == "summary.json") {
            out.push(p);
        }
    }
}

/// The first `Ir` (instructions executed) count in a summary: the new run's value.
fn find_ir(v: &Value) -> Option<u64> {
    match v {
        Value::Object(map) => {
            if let Some(ir) = map.get("Ir") {
                if let Some(n) = first_int(ir) {
                    return Some(n);
                }
            }
            map.values().find_map(find_ir)
        }
        Value::Array(items) => items.iter().find_map(find_ir),
        _ => None,
    }
}

fn first_int(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::Object(map) => map.get("metrics").and_then(first_int).or_else(|| map.values().find_map(first_int)),
        Value::Array(items) => items.iter().find_map(first_int),
        _ => None,
    }
}

/// Non-blank lines that are not only a `//` comment (doc comments included), in the `.rs`
/// files of `paths` (files or directories, recursively), up to a file's unit tests (a
/// `#[cfg(test)]` line at the start of a line ends the count for that file); paths that
/// do not exist count 0.
pub fn lines_of_code(root: &Path, paths: &[&str], exclude: &[&str]) -> u64 {
    let mut files = Vec::new();
    for p in paths {
        rust_files(&root.join(p), &mut files);
    }
    let excluded: Vec<PathBuf> = exclude.iter().map(|e| root.join(e)).collect();
    files.sort();
    files.dedup();
    files
        .iter()
        .filter(|f| !excluded.iter().any(|e| f.starts_with(e)))
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .map(|text| {
            text.lines()
                .take_while(|l| !l.starts_with("#[cfg(test)]"))
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("//"))
                .count() as u64
        })
        .sum()
}

fn rust_files(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_file() {
        if p.extension().is_some_and(|e| e == "rs") {
            out.push(p.to_path_buf());
        }
        return;
    }
    let Ok(entries) = std::fs::read_dir(p) else { return };
    for e in entries.filter_map(Result::ok) {
        rust_files(&e.path(), out);
    }
}
