//! # `BENCHMARKS.md`, generated from one run
//!
//! `cargo run --release --example bench_report` runs `cargo bench` (every bench: the
//! engines on the bare workloads, JIT compile latency, metering and fusion, the contract and
//! chain workloads, and the iai-callgrind instruction counts when valgrind and the runner
//! are installed), then reads what that run wrote, and nothing else:
//!
//! - criterion's `target/criterion/**/new/estimates.json` (mean time and its confidence
//!   interval) and `benchmark.json` (the group and function), only the files written by
//!   this run;
//! - the benches' `avm.json` beside them (guest instructions, transactions or signatures
//!   in one iteration, measured by the bench's own check run), to turn times into guest
//!   MIPS and transactions per second;
//! - iai-callgrind's `target/iai/**/summary.json` (host instructions, `Ir`);
//! - the sources, for lines of code of each engine ([`ENGINES`]).
//!
//! It writes `BENCHMARKS.md` and two SVG charts (`docs/bench-engines.svg`,
//! `docs/bench-contracts.svg`) at the root of the repository. Options:
//! `--no-run` (report on the results already in `target/`, whatever run wrote them),
//! `--features F` (passed to `cargo bench`), `--out FILE`.

mod results;
mod svg;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::SystemTime;

use results::{criterion_results, iai_results, lines_of_code, Measured, Results};
use svg::{bar_chart, Band};

/// A part of the engines whose lines are counted: a label, paths (files or directories,
/// relative to the repository), paths left out, and the bench function whose speed
/// stands beside it.
struct Part {
    label: &'static str,
    paths: &'static [&'static str],
    exclude: &'static [&'static str],
    speed: Option<&'static str>,
}

/// Lines of code of each engine part. Edit the paths here when the sources move (a
/// missing path counts 0 lines).
const ENGINES: &[Part] = &[
    Part { label: "interpreter", paths: &["interp/src"], exclude: &[], speed: Some("interp") },
    Part {
        label: "JIT baseline tier (template x86-64)",
        paths: &["jit/src/baseline"],
        exclude: &[],
        speed: Some("baseline"),
    },
    Part {
        label: "JIT Cranelift tier (region translator)",
        paths: &["jit/src/cranelift"],
        exclude: &[],
        speed: Some("jit-warm"),
    },
    Part {
        label: "JIT engine around both tiers (ABI, region planning, dispatch, caches, code memory, helpers, compile thread)",
        paths: &["jit/src"],
        exclude: &["jit/src/baseline", "jit/src/cranelift"],
        speed: None,
    },
    Part {
        label: "shared machine every engine uses (decoder, MMU)",
        paths: &["isa/src", "mmu/src"],
        exclude: &[],
        speed: None,
    },
];

/// The bare workloads and the engines of their groups, with what the report calls them.
const BARE: [&str; 4] = ["alu", "sieve", "keccak", "ecdsa"];
/// The wasm functions are there only when the bench ran with `--features wasm-ref`.
const BARE_ENGINES: [(&str, &str); 9] = [
    ("interp", "interpreter"),
    ("baseline", "JIT baseline tier alone"),
    ("jit", "JIT one-shot (compiles in background)"),
    ("jit-sync", "JIT one-shot, compiles inline"),
    ("jit-warm", "JIT, warm code cache"),
    ("wasmi", "wasmi (wasm32 interpreter)"),
    ("wasmtime", "wasmtime one-shot (wasm32)"),
    ("wasmtime-warm", "wasmtime precompiled (wasm32)"),
    ("native", "native x86_64"),
];
/// Functions of a bare group that run no guest: their speed is guest-equivalent (*).
const NOT_GUEST: [&str; 4] = ["wasmi", "wasmtime", "wasmtime-warm", "native"];
const CONTRACTS: [&str; 3] = ["erc20_transfer", "dex_swap", "ecdsa_verify"];
const CONTRACT_ENGINES: [&str; 5] = ["interp-cold", "jit-cold", "interp-warm", "jit-warm", "native"];

fn time(s: f64) -> String {
    match s {
        s if s >= 1.0 => format!("{s:.2} s"),
        s if s >= 1e-3 => format!("{:.2} ms", s * 1e3),
        s => format!("{:.1} µs", s * 1e6),
    }
}

fn ratio(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}x")
    } else {
        format!("{x:.1}x")
    }
}

fn mips(m: &Measured) -> Option<f64> {
    (m.guest_insns > 0 && m.mean > 0.0).then(|| m.guest_insns as f64 / m.mean / 1e6)
}

fn output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "?".to_owned())
}

fn first_line_with(path: &str, key: &str) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| {
            t.lines().find(|l| l.starts_with(key)).and_then(|l| l.split(':').nth(1)).map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| "?".to_owned())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map_or("?".into(), |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

/// The machine, the toolchain and the date.
fn machine(load_before: &str) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut s = String::new();
    let _ = writeln!(s, "- date: {}", output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]));
    let _ = writeln!(s, "- commit: {}", output("git", &["describe", "--always", "--dirty"]));
    let _ = writeln!(s, "- CPU: {}, {cores} cores available", first_line_with("/proc/cpuinfo", "model name"));
    let _ = writeln!(s, "- memory: {}", first_line_with("/proc/meminfo", "MemTotal"));
    let _ = writeln!(s, "- OS: {}", output("uname", &["-srm"]));
    let _ = writeln!(s, "- toolchain: {}; {}", output("rustc", &["-V"]), output("cargo", &["-V"]));
    let _ = writeln!(s, "- valgrind: {}", output("valgrind", &["--version"]));
    let _ = writeln!(s, "- load average (1, 5, 15 min) before the run: {load_before}; after: {}", loadavg());
    let busy = load_before.split_whitespace().next().and_then(|l| l.parse::<f64>().ok()).unwrap_or(0.0);
    if busy > 0.5 * cores as f64 {
        s.push_str("- **the machine was shared**: other work ran during the bench (see the load), so times are noisier than criterion's ± says and multi-core figures are low; the iai-callgrind counts are unaffected\n");
    }
    s
}

/// The bare workloads: one table row per (workload, engine).
fn bare_section(r: &Results, out: &mut String) -> Vec<Band> {
    let mut bands = Vec::new();
    out.push_str(
        "| workload | engine | time | ± | guest MIPS | ÷ native time | speed-up over interp |\n|---|---|---|---|---|---|---|\n",
    );
    for w in BARE {
        let Some(g) = r.get(w) else { continue };
        let native = g.get("native").map(|m| m.mean);
        let interp = g.get("interp").map(|m| m.mean);
        let insns = g.values().map(|m| m.guest_insns).max().unwrap_or(0);
        let mut bars = Vec::new();
        for (f, label) in BARE_ENGINES {
            let Some(m) = g.get(f) else { continue };
            let equivalent = NOT_GUEST.contains(&f);
            let speed = if equivalent {
                // Not guest instructions: the same work, as guest-equivalent MIPS.
                (insns > 0).then(|| insns as f64 / m.mean / 1e6)
            } else {
                mips(m)
            };
            let _ = writeln!(
                out,
                "| {w} | {label} | {} | {:.0}% | {}{} | {} | {} |",
                time(m.mean),
                100.0 * m.half_ci / m.mean,
                speed.map_or("-".into(), |v| format!("{v:.0}")),
                if equivalent { "*" } else { "" },
                native.map_or("-".into(), |n| ratio(m.mean / n)),
                interp.map_or("-".into(), |i| ratio(i / m.mean)),
            );
            if let Some(v) = speed {
                bars.push((label.to_owned(), v * 1e6));
            }
        }
        bands.push((format!("{w} ({}M insns)", insns / 1_000_000), bars));
    }
    bands
}

fn contract_section(r: &Results, out: &mut String) -> Vec<Band> {
    let mut bands = Vec::new();
    out.push_str("| workload | engine | time per call | calls/s | guest instructions | guest MIPS | jit ÷ interp (same temperature) | ÷ native time |\n|---|---|---|---|---|---|---|---|\n");
    for w in CONTRACTS {
        let Some(g) = r.get(w) else { continue };
        let native = g.get("native").map(|m| m.mean);
        let mut bars = Vec::new();
        for f in CONTRACT_ENGINES {
            let Some(m) = g.get(f) else { continue };
            let versus =
                f.strip_prefix("jit-").and_then(|t| g.get(&format!("interp-{t}"))).map(|i| ratio(i.mean / m.mean));
            let _ = writeln!(
                out,
                "| {w} | {f} | {} | {:.0} | {} | {} | {} | {} |",
                time(m.mean),
                1.0 / m.mean,
                if m.guest_insns > 0 { m.guest_insns.to_string() } else { "-".into() },
                mips(m).map_or("-".into(), |v| format!("{v:.0}")),
                versus.unwrap_or_else(|| "-".into()),
                native.map_or("-".into(), |n| ratio(m.mean / n)),
            );
            bars.push((f.to_owned(), 1.0 / m.mean));
        }
        bands.push((w.to_owned(), bars));
    }
    bands
}

fn chain_section(r: &Results, out: &mut String, bands: &mut Vec<Band>) {
    if let Some(g) = r.get("block_1000_mixed") {
        out.push_str("\n| block of 1,000 mixed transactions | time per block | transactions/s | guest instructions | guest MIPS |\n|---|---|---|---|---|\n");
        let mut bars = Vec::new();
        for (f, m) in g {
            let tps = m.txs as f64 / m.mean;
            let _ = writeln!(
                out,
                "| {f} | {} | {tps:.0} | {} | {} |",
                time(m.mean),
                m.guest_insns,
                mips(m).map_or("-".into(), |v| format!("{v:.0}"))
            );
            bars.push((f.clone(), tps));
        }
        bands.push(("block of 1,000".to_owned(), bars));
    }
    if let Some(g) = r.get("signature_recovery") {
        out.push_str(
            "\n| sender recovery (secp256k1) | time per 1,000 | per signature | signatures/s |\n|---|---|---|---|\n",
        );
        for (f, m) in g {
            let n = m.recoveries.max(1) as f64;
            let _ = writeln!(out, "| {f} | {} | {} | {:.0} |", time(m.mean), time(m.mean / n), n / m.mean);
        }
    }
}

fn compile_section(r: &Results, out: &mut String) {
    let (Some(cl), base) = (r.get("compile"), r.get("compile-baseline")) else { return };
    out.push_str("| workload | Cranelift µs per guest instruction | baseline tier µs per guest instruction | Cranelift ÷ baseline |\n|---|---|---|---|\n");
    for w in BARE {
        let Some(c) = cl.get(w).filter(|m| m.guest_insns > 0) else { continue };
        let per = c.mean * 1e6 / c.guest_insns as f64;
        let b = base.and_then(|g| g.get(w)).filter(|m| m.guest_insns > 0).map(|m| m.mean * 1e6 / m.guest_insns as f64);
        let _ = writeln!(
            out,
            "| {w} | {per:.2} | {} | {} |",
            b.map_or("-".into(), |b| format!("{b:.3}")),
            b.map_or("-".into(), |b| ratio(per / b))
        );
    }
    if let Some(s) = r.get("compile-synthetic") {
        out.push_str("\n| synthetic block | Cranelift compile time | per instruction |\n|---|---|---|\n");
        let mut rows: Vec<(&String, &Measured)> = s.iter().collect();
        rows.sort_by_key(|(f, _)| {
            let (kind, n) = f.split_once('/').unwrap_or((f.as_str(), "0"));
            (kind.to_owned(), n.parse::<u32>().unwrap_or(0))
        });
        for (f, m) in rows {
            let n: f64 = f.rsplit('/').next().and_then(|n| n.parse().ok()).unwrap_or(1.0);
            let _ = writeln!(out, "| {f} | {} | {} |", time(m.mean), time(m.mean / n));
        }
    }
    let switches = [("metering", "cost of exact metering"), ("fusion", "time with the wide-multiply fusion")];
    for (name, what) in switches {
        let Some(g) = r.get(name) else { continue };
        let _ = write!(out, "\n| {name} (warm JIT) | on | off | {what} |\n|---|---|---|---|\n");
        for w in BARE {
            if let (Some(on), Some(off)) = (g.get(&format!("{w}/on")), g.get(&format!("{w}/off"))) {
                let change = 100.0 * (on.mean / off.mean - 1.0);
                let _ = writeln!(out, "| {w} | {} | {} | {change:+.1}% |", time(on.mean), time(off.mean));
            }
        }
    }
}

fn iai_section(iai: &BTreeMap<String, u64>, r: &Results, out: &mut String) {
    if iai.is_empty() {
        out.push_str("Not measured in this run: valgrind or `iai-callgrind-runner` was not installed (the bench printed how to install them).\n");
        return;
    }
    out.push_str(
        "| benchmark | host instructions (Ir) | guest instructions | host per guest instruction |\n|---|---|---|---|\n",
    );
    for (name, ir) in iai {
        // `bare/interp.alu` runs 1,000,000 guest instructions; `erc20_group/transfer.*` one
        // transfer, whose guest count the chain bench measured.
        let guest = if name.contains("bare") {
            Some(1_000_000)
        } else {
            r.get("erc20_transfer").and_then(|g| g.get("jit-warm")).map(|m| m.guest_insns).filter(|n| *n > 0)
        };
        let _ = writeln!(
            out,
            "| {name} | {ir} | {} | {} |",
            guest.map_or("-".into(), |g| g.to_string()),
            guest.map_or("-".into(), |g| format!("{:.1}", *ir as f64 / g as f64))
        );
    }
}

fn loc_section(root: &Path, r: &Results, out: &mut String) {
    out.push_str(
        "| part | lines of code | paths | guest MIPS (geometric mean over the bare workloads) |\n|---|---|---|---|\n",
    );
    for Part { label, paths, exclude, speed } in ENGINES {
        let loc = lines_of_code(root, paths, exclude);
        let speeds: Vec<f64> = speed
            .map(|f| BARE.iter().filter_map(|w| r.get(*w).and_then(|g| g.get(f)).and_then(mips)).collect())
            .unwrap_or_default();
        let geo = (speeds.len() == BARE.len())
            .then(|| (speeds.iter().map(|v| v.ln()).sum::<f64>() / speeds.len() as f64).exp());
        let shown: Vec<String> = paths.iter().filter(|p| root.join(p).exists()).map(|p| format!("`{p}`")).collect();
        let _ = writeln!(
            out,
            "| {label} | {loc} | {}{} | {} |",
            shown.join(", "),
            if exclude.is_empty() { String::new() } else { " (less the tiers)".into() },
            geo.map_or("-".into(), |g| format!("{g:.0} ({})", speed.unwrap_or("")))
        );
    }
}

fn report(root: &Path, r: &Results, iai: &BTreeMap<String, u64>, machine: &str, run: &str) -> (String, String, String) {
    let mut o = String::new();
    o.push_str("# aVM benchmarks\n\n<!-- Generated by `cargo run --release --example bench_report`; do not edit by hand. -->\n\n");
    let _ = writeln!(o, "{run}\n\n{machine}");
    o.push_str("Every figure below comes from that one run; ratios are between functions of the same criterion group, measured side by side. Times are criterion's mean (± is half its 95% confidence interval). A loaded or shared machine moves them by ±20%; the iai-callgrind instruction counts do not move.\n\n");
    o.push_str("## Bare workloads: the engines side by side\n\n`cargo bench --bench engines`. A guest program from `guest/bare` runs to its exit on a fresh 64 MiB machine; `native` is the same Rust workload (`guest/workloads`) compiled for the host. Guest MIPS = guest instructions retired ÷ time; for `native` and the wasm rows (*) it is the guest's instruction count ÷ their time, a guest-equivalent speed. The wasm rows are outside reference points, there only when the bench ran with `--features wasm-ref`: the same workload compiled to a wasm32 module (`guest/workloads-wasm`, the guest programs' release profile) on wasmi (an interpreter; load, lazy translation and run, like `interp`), on wasmtime one-shot (Cranelift compile of the module, instantiate and run, like `jit`) and on wasmtime precompiled (instantiate and run, like `jit-warm`).\n\n");
    let bare = bare_section(r, &mut o);
    o.push_str("\n**Mind the ISA.** The guest is RV32IMAC: 32-bit registers. x86_64 (native) is 64-bit, and so is wasm's arithmetic (`i64` operations, which wasmtime maps onto x86_64 registers), so keccak's 64-bit lanes take one instruction per operation there and two or more on RV32; `k256` picks its limbs by pointer width: 64-bit on x86_64, 32-bit on RV32 and on wasm32. Part of the gap to native is the ISA, not the engine, and the wasm rows' ratios to native (or to aVM) are not ISA-neutral either.\n\n![engines per workload](docs/bench-engines.svg)\n\n");
    o.push_str("## Contract workloads and the chain\n\n`cargo bench --bench chain`. One call through the runtime (kernel, contract, host calls, gas; in-memory state, no signature). *cold*: the first transaction of a freshly booted VM (empty decode and code caches); *warm*: a VM that already ran the workload many times. `native` for the ECDSA check is the host's `k256` (precomputed tables, 64-bit limbs) on the same message.\n\n");
    let mut contracts = contract_section(r, &mut o);
    chain_section(r, &mut o, &mut contracts);
    o.push_str("\nA block is `Chain::produce_block`: sender recovery on all cores, validation, execution, receipts, state and receipts roots, and with `-store` the redb commit. The mix (20 ERC-20 transfers, 5 transferFrom, 10 swaps and 1 reverting swap, 5 value transfers, 4 storage writes, 2 nested calls, 1 ECDSA verify, 2 out-of-gas per 50) is in `benches/support/fixtures.rs`.\n\n![contracts per engine](docs/bench-contracts.svg)\n\n");
    o.push_str("## JIT compile latency and metering\n\n`cargo bench --bench jit`: real blocks of each workload compiled again and again by a warm translator (Cranelift) and by the baseline tier's one-pass translator; synthetic blocks of N ALU or memory instructions; whole warm runs with exact metering on and off, and with the wide-multiply fusion (`mul` + `mulhu` on the same operands as one host multiply) on and off.\n\n");
    compile_section(r, &mut o);
    o.push_str("\n## Instruction counts (iai-callgrind)\n\n`cargo bench --bench iai` (valgrind's callgrind through the `iai-callgrind` 0.16 crate and `iai-callgrind-runner` 0.16.1): host instructions for the first 1,000,000 guest instructions of each bare workload, and for one ERC-20 transfer. Stable to the instruction from run to run.\n\n");
    iai_section(iai, r, &mut o);
    o.push_str("\n## Speed versus simplicity\n\nLines of code (non-blank, not `//` comments, unit tests left out) of each engine next to its speed. Paths are one table in `examples/bench_report/main.rs` (`ENGINES`).\n\n");
    loc_section(root, r, &mut o);
    o.push_str("\n## Where the rest is\n\n- criterion's HTML reports with its plots for every function: `target/criterion/report/index.html` (per group: `target/criterion/<group>/report/index.html`);\n- raw results: `target/criterion/<group>/<function>/new/estimates.json`, with `avm.json` (the work of one iteration) beside it; iai-callgrind's: `target/iai/`;\n- the charts above: `docs/bench-engines.svg`, `docs/bench-contracts.svg`, drawn from this run.\n");
    let engines_svg = bar_chart("Bare workloads: guest instructions per second (higher is better)", "IPS", &bare);
    let contracts_svg =
        bar_chart("Contract calls and blocks: transactions per second (higher is better)", "tx/s", &contracts);
    (o, engines_svg, contracts_svg)
}

fn main() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let no_run = args.iter().any(|a| a == "--no-run");
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let out = value("--out").map_or_else(|| root.join("BENCHMARKS.md"), PathBuf::from);
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    // With `--no-run` the load is the renderer's, not the run's.
    let load_before = if no_run { format!("(not known: rendered with --no-run) {}", loadavg()) } else { loadavg() };
    let (since, run) = if no_run {
        let script = format!(
            "TZ=UTC find '{}' -name estimates.json -path '*/new/*' -printf '%TY-%Tm-%Td %TH:%TM UTC\\n' | sort | sed -n '1p;$p' | paste -sd' '",
            target.join("criterion").display()
        );
        let span = output("sh", &["-c", &script]).replacen(" UTC ", " UTC and ", 1);
        (
            None,
            format!(
                "Rendered by `cargo run --release --example bench_report -- --no-run` from the results already in `target/` (criterion files written between {span}), i.e. from the last `cargo bench` run."
            ),
        )
    } else {
        let start = SystemTime::now();
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.arg("bench").current_dir(&root).env("IAI_CALLGRIND_SAVE_SUMMARY", "json");
        if let Some(f) = value("--features") {
            cmd.args(["--features", f.as_str()]);
        }
        eprintln!("bench_report: running {cmd:?}");
        match cmd.status() {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("bench_report: cargo bench failed ({s}); no report written");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("bench_report: cannot run cargo: {e}");
                return ExitCode::FAILURE;
            }
        }
        let features = value("--features");
        let command = match &features {
            Some(f) => format!("cargo run --release --example bench_report -- --features {f}"),
            None => "cargo run --release --example bench_report".to_owned(),
        };
        let bench = features.map_or_else(|| "cargo bench".to_owned(), |f| format!("cargo bench --features {f}"));
        (Some(start), format!("One run of `{command}`, which ran `{bench}`."))
    };
    let results = criterion_results(&target.join("criterion"), since);
    let iai = iai_results(&target.join("iai"), since);
    if results.is_empty() {
        eprintln!("bench_report: no criterion results found under {}", target.join("criterion").display());
        return ExitCode::FAILURE;
    }
    let (md, engines_svg, contracts_svg) = report(&root, &results, &iai, &machine(&load_before), &run);
    let docs = root.join("docs");
    let written = std::fs::write(&out, md)
        .and_then(|()| std::fs::write(docs.join("bench-engines.svg"), engines_svg))
        .and_then(|()| std::fs::write(docs.join("bench-contracts.svg"), contracts_svg));
    match written {
        Ok(()) => {
            eprintln!("bench_report: wrote {} and the charts in {}", out.display(), docs.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_report: cannot write the report: {e}");
            ExitCode::FAILURE
        }
    }
}
