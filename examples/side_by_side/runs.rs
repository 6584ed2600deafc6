//! Running one workload on one runner as a whole process, and timing it.
//!
//! The clock is the wall clock around spawn and wait ([`Instant`]), so a figure
//! includes everything a user of `avm exec` waits for: process start, loading the
//! ELF, the JIT's compile time, the run and the exit. Every run's exit status is
//! checked: a run that fails is an error with the runner's stderr, never a time.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::args::{Runner, Workload};
use crate::prepare::{Programs, QEMU};
use crate::ToolError;

/// The command that runs `workload` on `runner`, or `None` when that runner has no
/// program here (`qemu-riscv32` not installed).
pub fn command(programs: &Programs, runner: Runner, workload: Workload) -> Option<Command> {
    let name = workload.name();
    let cmd = match runner {
        Runner::Native => {
            let mut cmd = Command::new(&programs.native);
            cmd.arg(name);
            cmd
        }
        Runner::Jit | Runner::JitCompare | Runner::Interp => {
            let engine = if runner == Runner::Interp { "--engine=interp" } else { "--engine=jit" };
            let avm = if runner == Runner::JitCompare { programs.compare.as_ref()? } else { &programs.avm };
            let mut cmd = Command::new(avm);
            cmd.args(["exec", engine]).arg(programs.bare_dir.join(name));
            cmd
        }
        Runner::Qemu => {
            let mut cmd = Command::new(QEMU);
            cmd.arg(programs.linux_dir.as_ref()?.join(name));
            cmd
        }
    };
    Some(cmd)
}

/// Runs `cmd` to the end and returns its output, or an error naming the run when it
/// could not start or did not exit with status 0.
fn run_checked(mut cmd: Command, what: &str) -> Result<Output, ToolError> {
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| ToolError::Spawn { program: program_name(&cmd), source })?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(ToolError::RunFailed {
            what: what.to_string(),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
        })
    }
}

fn program_name(cmd: &Command) -> String {
    Path::new(cmd.get_program()).file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// One timed run of `workload` on `runner`: wall-clock time from spawn to exit.
pub fn time_run(cmd: Command, runner: Runner, workload: Workload) -> Result<Duration, ToolError> {
    let start = Instant::now();
    run_checked(cmd, &format!("{} on {}", runner.label(), workload.name()))?;
    Ok(start.elapsed())
}

/// The guest instructions `workload` retires on aVM: `instret` from
/// `avm exec --json` (untimed; the count is the same on both engines).
pub fn guest_instret(programs: &Programs, workload: Workload) -> Result<u64, ToolError> {
    let mut cmd = Command::new(&programs.avm);
    cmd.args(["exec", "--engine=jit", "--json"]).arg(programs.bare_dir.join(workload.name()));
    let out = run_checked(cmd, &format!("avm exec --json on {}", workload.name()))?;
    parse_instret(&out.stdout).ok_or_else(|| ToolError::Instret { workload: workload.name() })
}

/// `instret` from `avm exec --json`'s output.
pub fn parse_instret(json: &[u8]) -> Option<u64> {
    serde_json::from_slice::<serde_json::Value>(json).ok()?.get("instret")?.as_u64()
}
