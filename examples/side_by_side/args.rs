//! The command line, the workloads and the runners.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// One of the four benchmark workloads (`guest/workloads`), in the order of the
/// issue's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Workload {
    /// The sieve of Eratosthenes below 10,000,000, three times.
    Sieve,
    /// Keccak-256 of a 1 KiB buffer, chained 1,200 times.
    Keccak,
    /// secp256k1 ECDSA verification, 20 times, and one rejection.
    Ecdsa,
    /// A tight integer loop, 10 M iterations.
    Alu,
}

impl Workload {
    /// Every workload, in table order.
    pub const ALL: [Workload; 4] = [Workload::Sieve, Workload::Keccak, Workload::Ecdsa, Workload::Alu];

    /// The name of its programs: the guest binary (`guest/bare/src/bin/<name>.rs`) and
    /// the argument of `native_workload`.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Sieve => "sieve",
            Workload::Keccak => "keccak",
            Workload::Ecdsa => "ecdsa",
            Workload::Alu => "alu",
        }
    }

    /// Its column heading in the tables.
    pub fn heading(self) -> &'static str {
        match self {
            Workload::Alu => "ALU loop",
            other => other.name(),
        }
    }
}

/// What runs a workload, as a whole process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Runner {
    /// The same Rust source built for the host (`examples/native_workload.rs`).
    Native,
    /// `avm exec --engine=jit` on the bare-metal guest ELF.
    Jit,
    /// The same with another `avm` binary (`--compare`), an earlier build say.
    JitCompare,
    /// `avm exec --engine=interp` on the bare-metal guest ELF.
    Interp,
    /// `qemu-riscv32` (QEMU user mode, its TCG JIT) on the Linux build of the guest.
    Qemu,
}

impl Runner {
    /// Its row label in the tables.
    pub fn label(self) -> &'static str {
        match self {
            Runner::Native => "native",
            Runner::Jit => "aVM jit",
            Runner::JitCompare => "aVM jit (--compare)",
            Runner::Interp => "aVM interp",
            Runner::Qemu => "qemu-riscv32 (TCG)",
        }
    }
}

/// `cargo run --release --example side_by_side -- [OPTIONS]`
#[derive(Debug, Parser)]
#[command(
    name = "side_by_side",
    about = "Native vs `avm exec` (jit, interp) vs qemu-riscv32 on the benchmark workloads: \
             whole processes, rounds interleaved, best-of-N times and ratios to native",
    long_about = "Native vs `avm exec` (jit, interp) vs qemu-riscv32 on the benchmark workloads.\n\n\
        Builds what it needs (`avm`, `examples/native_workload`, and the Linux user-mode \
        build of the guest workloads when qemu-riscv32 is installed), then runs every runner \
        on every workload once per round, as whole processes timed by wall clock (start-up \
        and JIT compile time included), and prints best-of-N times, ratios to native with \
        their geometric mean, guest instruction counts and MIPS, and the load average \
        before and after (a figure taken on a loaded machine is flagged).\n\n\
        Without qemu-riscv32 (Debian package `qemu-user`) its column is skipped."
)]
pub struct Args {
    /// How many rounds; each runs every runner on every workload once, and the tables
    /// show each pair's best round
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub rounds: u32,

    /// Which workloads, comma-separated [default: sieve,keccak,ecdsa,alu]
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub workloads: Vec<Workload>,

    /// Also write the report (markdown) to this file
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Use the programs already built instead of running cargo first
    #[arg(long)]
    pub no_build: bool,

    /// Also run this `avm` binary's JIT (an earlier build, say) in the same rounds, as
    /// the row `aVM jit (--compare)`: a before/after comparison then shares each
    /// moment of the machine, which separate runs of the tool do not (the figures of
    /// one program drift by tens of percent between minutes on a shared host)
    #[arg(long, value_name = "AVM")]
    pub compare: Option<PathBuf>,
}

impl Args {
    /// The selected workloads in table order, each once (all four when none is named).
    pub fn workloads(&self) -> Vec<Workload> {
        let mut list = if self.workloads.is_empty() { Workload::ALL.to_vec() } else { self.workloads.clone() };
        list.sort();
        list.dedup();
        list
    }
}
