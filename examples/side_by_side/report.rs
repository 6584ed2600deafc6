//! The report: best-of-N times, ratios to native with their geometric mean, guest
//! instructions and MIPS, and the load average, as markdown tables. Pure functions of
//! the measurements, so the tests can check them on made-up numbers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::args::{Runner, Workload};

/// Other work on the machine, in runnable processes (the 1-minute load average), above
/// which a figure is flagged: half a core.
pub const OTHER_LOAD_LIMIT: f64 = 0.5;

/// The kernel's load averages over 1, 5 and 15 minutes (`/proc/loadavg`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadAvg {
    /// Over the last minute.
    pub one: f64,
    /// Over the last 5 minutes.
    pub five: f64,
    /// Over the last 15 minutes.
    pub fifteen: f64,
}

impl LoadAvg {
    /// Parses the first three fields of `/proc/loadavg` (`"0.42 0.50 0.61 1/97 123"`).
    pub fn parse(text: &str) -> Option<LoadAvg> {
        let mut fields = text.split_whitespace().map(str::parse::<f64>);
        let (one, five, fifteen) = (fields.next()?.ok()?, fields.next()?.ok()?, fields.next()?.ok()?);
        Some(LoadAvg { one, five, fifteen })
    }

    /// The current load averages, or `None` where `/proc/loadavg` does not exist.
    pub fn read() -> Option<LoadAvg> {
        LoadAvg::parse(&std::fs::read_to_string("/proc/loadavg").ok()?)
    }
}

impl std::fmt::Display for LoadAvg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} {:.2} {:.2}", self.one, self.five, self.fifteen)
    }
}

/// Whether other work loaded the machine during the rounds (`None`: unknown).
///
/// The 1-minute load average is a moving average with a one-minute time constant. The
/// rounds keep about one process runnable, which adds `1 - e^(-t/60)` to it over `t`
/// seconds; what remains after subtracting that is other work. The reading before the
/// rounds is all other work (including a build this tool has just run).
pub fn other_load(before: Option<LoadAvg>, after: Option<LoadAvg>, elapsed: Duration) -> Option<f64> {
    let own = 1.0 - (-elapsed.as_secs_f64() / 60.0).exp();
    Some(before?.one.max(after?.one - own))
}

/// The measurements the report is made of.
#[derive(Debug)]
pub struct Report {
    /// Rounds run (each pair's best is shown).
    pub rounds: u32,
    /// Columns, in order.
    pub workloads: Vec<Workload>,
    /// Rows: the runners that ran, native first.
    pub runners: Vec<Runner>,
    /// Best wall-clock time of each (runner, workload) pair.
    pub best: BTreeMap<(Runner, Workload), Duration>,
    /// Guest instructions retired per workload (`avm exec --json`).
    pub instret: BTreeMap<Workload, u64>,
    /// A line about the host, e.g. `x86_64, 2 cores, AMD EPYC 7B13`.
    pub host: String,
    /// `qemu-riscv32 --version`, or `None` when it is not installed.
    pub qemu: Option<String>,
    /// The other `avm` of `--compare`, if any.
    pub compare: Option<String>,
    /// Load averages just before the first round and just after the last.
    pub load_before: Option<LoadAvg>,
    /// See `load_before`.
    pub load_after: Option<LoadAvg>,
    /// Wall-clock time of all rounds.
    pub elapsed: Duration,
}

/// The geometric mean of positive numbers (`None` for none, or a non-positive one).
pub fn geomean(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
        return None;
    }
    Some((values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp())
}

/// A ratio as the table writes it: `3.1x`.
pub fn fmt_ratio(ratio: f64) -> String {
    format!("{ratio:.1}x")
}

/// A count with thousands separators: `170,001,037`.
pub fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A markdown table: a header row (first cell empty), a separator, the rows.
pub fn markdown_table(headings: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
        out.push('|');
        for cell in cells {
            let _ = if cell.is_empty() { write!(out, " |") } else { write!(out, " {cell} |") };
        }
        out.push('\n');
    };
    line(&mut std::iter::once("").chain(headings.iter().copied()), &mut out);
    out.push_str(&"|---".repeat(headings.len() + 1));
    out.push_str("|\n");
    for row in rows {
        line(&mut row.iter().map(String::as_str), &mut out);
    }
    out
}

impl Report {
    /// `runner`'s best time on `workload` over native's.
    pub fn ratio(&self, runner: Runner, workload: Workload) -> Option<f64> {
        let time = self.best.get(&(runner, workload))?.as_secs_f64();
        let native = self.best.get(&(Runner::Native, workload))?.as_secs_f64();
        (native > 0.0).then(|| time / native)
    }

    /// The whole report as markdown.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let headings: Vec<&str> = self.workloads.iter().map(|w| w.heading()).collect();
        let _ = writeln!(out, "## Side by side: whole process, best of {}, compile time included\n", self.rounds);
        let _ = writeln!(out, "{}\n", self.conditions());

        // Ratios, in the layout of issue 17's table.
        let mut ratio_headings = headings.clone();
        ratio_headings.push("geomean");
        let rows: Vec<Vec<String>> = self
            .runners
            .iter()
            .filter(|r| **r != Runner::Native)
            .map(|&runner| {
                let ratios: Vec<Option<f64>> = self.workloads.iter().map(|&w| self.ratio(runner, w)).collect();
                let mean = ratios.iter().copied().collect::<Option<Vec<f64>>>().and_then(|r| geomean(&r));
                let mut row = vec![format!("{} vs native", runner.label())];
                row.extend(ratios.into_iter().chain([mean]).map(|r| r.map_or_else(|| "-".into(), fmt_ratio)));
                row
            })
            .collect();
        out.push_str(&markdown_table(&ratio_headings, &rows));

        let _ = writeln!(out, "\nBest-of-{} wall-clock times, milliseconds:\n", self.rounds);
        let rows: Vec<Vec<String>> = self
            .runners
            .iter()
            .map(|&runner| {
                let mut row = vec![runner.label().to_string()];
                row.extend(self.workloads.iter().map(|&w| {
                    self.best.get(&(runner, w)).map_or_else(|| "-".into(), |t| format!("{:.1}", t.as_secs_f64() * 1e3))
                }));
                row
            })
            .collect();
        out.push_str(&markdown_table(&headings, &rows));

        let _ = writeln!(
            out,
            "\nGuest instructions (`avm exec --json` instret) and guest MIPS (instructions / best time, \
             process start and compilation included):\n"
        );
        let mut rows = vec![std::iter::once("guest instructions".to_string())
            .chain(self.workloads.iter().map(|w| self.instret.get(w).map_or_else(|| "-".into(), |n| fmt_count(*n))))
            .collect::<Vec<_>>()];
        for &runner in self.runners.iter().filter(|r| **r != Runner::Native) {
            let mut row = vec![format!("{} MIPS", runner.label())];
            row.extend(self.workloads.iter().map(|&w| match (self.instret.get(&w), self.best.get(&(runner, w))) {
                (Some(&n), Some(t)) if t.as_secs_f64() > 0.0 => format!("{:.0}", n as f64 / t.as_secs_f64() / 1e6),
                _ => "-".into(),
            }));
            rows.push(row);
        }
        out.push_str(&markdown_table(&headings, &rows));
        out
    }

    /// The conditions of the figures: host, runners, load average and its verdict.
    fn conditions(&self) -> String {
        let mut out = format!(
            "Host: {}. Native: the same Rust source built for the host (`examples/native_workload`); \
             aVM: `avm exec` on the bare-metal guest ELFs; ",
            self.host
        );
        match &self.qemu {
            Some(version) => {
                let _ = write!(out, "qemu-riscv32: user mode on the Linux build of the same guest code ({version}).");
            }
            None => out.push_str(
                "qemu-riscv32 is not installed, so its row is skipped \
                 (Debian/Ubuntu: `apt-get install qemu-user`).",
            ),
        }
        if let Some(compare) = &self.compare {
            let _ = write!(out, " `aVM jit (--compare)`: `{compare} exec --engine=jit`, in the same rounds.");
        }
        let fmt = |l: Option<LoadAvg>| l.map_or_else(|| "n/a".to_string(), |l| l.to_string());
        let _ = write!(
            out,
            "\nLoad average (1, 5, 15 min): before {}, after {} ({} round{} in {:.1} s).",
            fmt(self.load_before),
            fmt(self.load_after),
            self.rounds,
            if self.rounds == 1 { "" } else { "s" },
            self.elapsed.as_secs_f64()
        );
        match other_load(self.load_before, self.load_after, self.elapsed) {
            Some(other) if other > OTHER_LOAD_LIMIT => {
                let _ = write!(
                    out,
                    "\n**LOADED**: other work kept about {other:.2} processes runnable (over {OTHER_LOAD_LIMIT}), \
                     so these figures are not reliable. Rerun on a quiet machine (after a build, rerun with \
                     `--no-build`: the 1-minute average remembers the build)."
                );
            }
            Some(other) => {
                let _ =
                    write!(out, " Quiet: other work about {other:.2} runnable processes (limit {OTHER_LOAD_LIMIT}).");
            }
            None => out.push_str(" Load unknown (no /proc/loadavg): check the machine was quiet."),
        }
        out
    }
}
