//! # Side by side: native vs `avm exec` (jit, interp) vs `qemu-riscv32`
//!
//! `cargo run --release --example side_by_side [-- --rounds N --workloads sieve,alu
//! --markdown FILE --no-build]` (`--help` for the options) answers "how far is aVM from
//! the host CPU, and from QEMU?" the way a user would see it: each workload (`alu`,
//! `sieve`, `keccak`, `ecdsa` from `guest/workloads`) runs as a whole process on
//!
//! - `native`: the same Rust source built for the host (`examples/native_workload.rs`);
//! - `aVM jit` and `aVM interp`: `avm exec --engine=jit|interp` on the bare-metal guest
//!   ELF (`guest/bare/src/bin/<workload>.rs`);
//! - `qemu-riscv32 (TCG)`, when installed: QEMU's user mode on the same guest program
//!   built as a static RV32 Linux executable (`guest/bare`'s `linux-user` feature: the
//!   same `main` and workload code, only the startup, console and exit differ).
//!
//! Each run is timed by the wall clock from spawn to exit, so process start, ELF
//! loading and the JIT's compile time are included; a run that does not exit with
//! status 0 (its self-check failed) is an error. Rounds are interleaved (round 1 runs
//! every runner on every workload, then round 2, ...), so slow drift in the machine
//! touches every column alike, and each pair's best round is reported: times, ratios
//! to native per workload with their geometric mean, guest instructions (`avm exec
//! --json`'s `instret`, counted once, untimed) and MIPS, and the load average before
//! and after, with a flag when other work was running.
//!
//! `--compare PATH` adds another `avm` binary's JIT (an earlier build) to the same rounds,
//! as the row `aVM jit (--compare)`: before/after figures then come from the same
//! minutes of the machine rather than from two runs of the tool, between which a shared
//! host's speed can drift by tens of percent.
//!
//! This tool is where those figures come from; tests never assert times (the pure
//! parts here have unit tests: `cargo test --release --example side_by_side`).
//! Before the rounds it runs `cargo build --release --bin avm --example
//! native_workload`, and when `qemu-riscv32` is installed builds the Linux variant into
//! `target/guest-linux` (on demand, so CI never builds it).

mod args;
mod prepare;
mod report;
mod runs;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{ExitCode, ExitStatus};
use std::time::{Duration, Instant};

use clap::Parser;
use thiserror::Error;

use args::{Args, Runner, Workload};
use report::{LoadAvg, Report};

/// Why the tool stopped.
#[derive(Debug, Error)]
pub enum ToolError {
    /// A program could not be started at all.
    #[error("could not start `{program}`: {source}")]
    Spawn {
        /// Its file name.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// A cargo build failed (its output is above).
    #[error("`{command}` failed ({status})")]
    Build {
        /// The command line.
        command: String,
        /// How it ended.
        status: ExitStatus,
    },
    /// A program the runs need is not there (`--no-build` before anything was built).
    #[error("{} is missing (run without --no-build to build it)", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// A run did not exit with status 0.
    #[error("{what} failed ({status}); its stderr:\n{stderr}")]
    RunFailed {
        /// Runner and workload.
        what: String,
        /// How it ended.
        status: ExitStatus,
        /// What it printed on stderr.
        stderr: String,
    },
    /// `avm exec --json` printed no `instret`.
    #[error("`avm exec --json` on {workload} printed no instret")]
    Instret {
        /// The workload.
        workload: &'static str,
    },
    /// The markdown file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("side_by_side: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), ToolError> {
    let workloads = args.workloads();
    let target = prepare::target_dir();
    let qemu = prepare::qemu_version();
    if !args.no_build {
        prepare::build_host(&target)?;
        if qemu.is_some() {
            prepare::build_linux_guest(&target, &workloads)?;
        }
    }
    if qemu.is_none() {
        eprintln!(
            "side_by_side: {} not found: skipping its column (Debian/Ubuntu: apt-get install qemu-user)",
            prepare::QEMU
        );
    }
    let programs = prepare::programs(&target, qemu.is_some(), &workloads, args.compare.as_deref())?;

    let mut runners = vec![Runner::Native, Runner::Jit];
    if args.compare.is_some() {
        runners.push(Runner::JitCompare);
    }
    runners.push(Runner::Interp);
    if qemu.is_some() {
        runners.push(Runner::Qemu);
    }
    let mut instret = BTreeMap::new();
    for &w in &workloads {
        instret.insert(w, runs::guest_instret(&programs, w)?);
    }

    let load_before = LoadAvg::read();
    let start = Instant::now();
    let mut best: BTreeMap<(Runner, Workload), Duration> = BTreeMap::new();
    for round in 1..=args.rounds {
        eprint!("side_by_side: round {round}/{}:", args.rounds);
        for &w in &workloads {
            eprint!(" {}", w.name());
            for &runner in &runners {
                let Some(cmd) = runs::command(&programs, runner, w) else { continue };
                let time = runs::time_run(cmd, runner, w)?;
                best.entry((runner, w)).and_modify(|b| *b = (*b).min(time)).or_insert(time);
            }
        }
        eprintln!();
    }
    let elapsed = start.elapsed();
    let load_after = LoadAvg::read();

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut host = format!("{}, {cores} cores", std::env::consts::ARCH);
    if let Some(cpu) = cpu_model() {
        host = format!("{host}, {cpu}");
    }
    let compare = args.compare.as_ref().map(|p| p.display().to_string());
    let report = Report {
        rounds: args.rounds,
        workloads,
        runners,
        best,
        instret,
        host,
        qemu,
        compare,
        load_before,
        load_after,
        elapsed,
    };
    let text = report.render();
    println!("{text}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &text).map_err(|source| ToolError::Write { path: path.clone(), source })?;
        eprintln!("side_by_side: wrote {}", path.display());
    }
    Ok(())
}

/// The CPU's name from `/proc/cpuinfo` (x86's `model name`), where there is one.
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_string())
}

#[cfg(test)]
mod tests;
