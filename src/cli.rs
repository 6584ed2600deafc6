//! The `avm` command line: argument parsing and the `exec` and `examples`
//! commands.
//!
//! Everything a run computes comes from the library ([`avm::run`]); this
//! module only decides where output goes and which process exit status
//! reports the result, so scripts can tell "the program failed" (1) from "it
//! ran out of instructions" (2), "it could not start" (3) and "it got stuck"
//! (4).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use avm::engine::{make_engine, EngineKind, EngineOptions, DEFAULT_ENGINE};
use avm::run::{load_bare_metal, run_machine, Outcome, RunOptions, RunReport};
use avm::trace::TextTracer;
use clap::{ArgGroup, Args, Parser, Subcommand};

/// `eprintln!` that ignores a closed stderr (a trace piped into `head`)
/// instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stderr(), $($arg)*);
    }};
}

/// Exit status for a program that could not be started.
const EXIT_SETUP: u8 = 3;

const ABOUT: &str = "aVM: a RISC-V (RV32IMAC, M/S/U, Sv32) virtual machine with an interpreter and a JIT";

const MACHINE_HELP: &str = "\
Machine model:
  One RV32IMAC + Zicsr + Zifencei hart with M, S and U modes and Sv32 paging.
  RAM starts at 0x8000_0000 (64 MiB unless --ram-mib says otherwise); a console
  device at 0x1000_0000 prints every byte stored to it. A bare-metal program
  starts in M-mode at its ELF entry point with all registers zero and handles
  its own traps (mtvec, medeleg, mret...). It talks to the host through HTIF as
  on QEMU's spike machine: the 64-bit `tohost` (ELF symbol) is written low word
  first, and the command runs when the high word is written. Device 0 command 0
  with an odd payload ends the run: 1 means pass, any other odd value means
  test `value >> 1` failed. Device 1 command 1 prints the low byte; tohost is
  then cleared and fromhost acknowledged. cycle = time = instret, so every run
  is deterministic.

Exit status of `avm exec`:
  0  the program passed (tohost = 1)
  1  the program failed: `FAIL test N` (tohost = N << 1 | 1)
  2  out of instructions (--max-insns reached)
  3  could not start: unreadable or invalid ELF (an odd entry point, a file
     larger than twice the RAM), bad arguments, engine missing
  4  stuck: a trap loop, or wfi with no interrupt that could wake the hart";

/// aVM command line.
#[derive(Parser, Debug)]
#[command(name = "avm", version, about = ABOUT, after_help = MACHINE_HELP)]
struct Cli {
    /// The chain's data directory (the chain commands; before or after the command).
    #[arg(long, global = true, env = "AVM_DATA_DIR", default_value = ".avm", value_name = "DIR")]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a bare-metal RISC-V ELF program in M-mode until it writes `tohost`.
    #[command(after_help = MACHINE_HELP)]
    Exec(ExecArgs),
    /// List the bundled example programs (use with `avm exec --example NAME`).
    Examples,
    #[command(flatten)]
    Chain(crate::commands::ChainCommand),
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("program").required(true).args(["file", "example"])))]
struct ExecArgs {
    /// The ELF executable to run.
    #[arg(value_name = "FILE.elf")]
    file: Option<PathBuf>,
    /// Run a bundled program by name instead of a file (see `avm examples`).
    #[arg(long, value_name = "NAME")]
    example: Option<String>,
    /// Execution engine.
    #[arg(long, value_parser = crate::commands::engine_kind(), default_value_t = DEFAULT_ENGINE)]
    engine: EngineKind,
    /// Stop after N retired instructions (exit status 2). Default: no limit.
    #[arg(long, value_name = "N")]
    max_insns: Option<u64>,
    /// Print every executed instruction to stderr as `<instret> <priv> <pc>: <disassembly>`.
    #[arg(long)]
    trace: bool,
    /// Print the final machine state as one JSON object on stdout (no timing):
    /// registers, every CSR, the LR/SC reservation and a keccak-256 digest of RAM.
    #[arg(long)]
    json: bool,
    /// Print the engine's work counters to stderr.
    #[arg(long)]
    stats: bool,
    /// JIT: compile hot code on the engine's own thread, not in the
    /// background. Slower to get going; the counters of `--stats` become
    /// reproducible. The results are the same either way.
    #[arg(long)]
    sync_compile: bool,
    /// RAM size in MiB (1 to 2048).
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=2048))]
    ram_mib: u32,
}

/// Parse arguments and run; the process exit status says how it went.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_SETUP } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Exec(args) => exec(&args),
        Command::Examples => examples(),
        Command::Chain(cmd) => return chain(&cmd, &cli.data_dir),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            say!("avm: {message}");
            ExitCode::from(EXIT_SETUP)
        }
    }
}

/// The bundled programs' directory, or why there is none.
fn guest_dir() -> Result<&'static Path, String> {
    avm::guest_dir().map(Path::new).ok_or_else(|| {
        "this avm binary was built without the bundled guest programs (the build script did not set AVM_GUEST_DIR)"
            .to_owned()
    })
}

/// Names of the ELF files in the guest directory, sorted.
fn example_names() -> Result<Vec<String>, String> {
    let dir = guest_dir()?;
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| is_elf(&e.path()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

/// True if `path` is a regular file starting with the ELF magic.
fn is_elf(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| io::Read::read_exact(&mut f, &mut magic)).is_ok() && magic == *b"\x7fELF"
}

fn examples() -> Result<u8, String> {
    let names = example_names()?;
    let mut out = io::stdout().lock();
    for name in names {
        let _ = writeln!(out, "{name}");
    }
    Ok(0)
}

/// The file an `exec` names: FILE, or `--example NAME` in the guest directory.
fn program_path(args: &ExecArgs) -> Result<PathBuf, String> {
    if let Some(file) = &args.file {
        return Ok(file.clone());
    }
    let name = args.example.as_deref().unwrap_or_default();
    let plain = !name.is_empty() && !name.contains(['/', '\\']) && name != "." && name != "..";
    let path = guest_dir()?.join(name);
    if plain && is_elf(&path) {
        return Ok(path);
    }
    let known = example_names().unwrap_or_default().join(", ");
    Err(format!("no bundled example named `{name}` (available: {known})"))
}

/// The largest ELF file `avm exec` reads: twice the RAM. Its segments must
/// fit in RAM, so a bigger file is not a program for this machine (and
/// `/dev/zero` or a pipe that never ends must not be read forever).
fn max_elf_size(ram_size: u32) -> u64 {
    2 * u64::from(ram_size)
}

/// Read at most `limit` bytes of `path`; a longer file is refused.
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let cannot = |e: io::Error| format!("cannot read {}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(file, limit + 1), &mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "{} is larger than {limit} bytes (twice the RAM): not a program for this machine",
            path.display()
        ));
    }
    Ok(bytes)
}

fn exec(args: &ExecArgs) -> Result<u8, String> {
    let path = program_path(args)?;
    let ram_size = args.ram_mib << 20;
    let bytes = read_bounded(&path, max_elf_size(ram_size))?;
    let (mut machine, image) = load_bare_metal(&bytes, ram_size).map_err(|e| format!("{}: {e}", path.display()))?;
    if image.tohost.is_none() {
        say!("avm: warning: {} has no `tohost` symbol; it can only stop at the instruction limit", path.display());
    }
    if !image.entry_is_executable() {
        say!("avm: warning: the entry point {:#010x} is not in an executable segment", image.entry);
    }
    let tracer = args.trace.then(|| Box::new(TextTracer::new(io::stderr())) as Box<dyn avm_interp::Tracer>);
    let options = EngineOptions { tracer, sync_compile: args.sync_compile };
    let mut engine = make_engine(args.engine, options).map_err(|e| e.to_string())?;

    let opts = RunOptions { max_insns: args.max_insns, ram_size, ..RunOptions::default() };
    let stream = !args.json;
    let mut stdout = io::stdout();
    let mut on_console = |bytes: &[u8]| {
        if stream {
            // A closed stdout must not stop the guest.
            let _ = stdout.write_all(bytes).and_then(|()| stdout.flush());
        }
    };
    let start = Instant::now();
    let exit = run_machine(&mut machine, engine.as_mut(), &opts, &mut on_console);
    let wall = start.elapsed();
    let counters = engine.counters();
    let warning = engine.warning();
    let name = engine.name();
    // Dropping the engine flushes the trace before the summary is printed.
    drop(engine);
    let report = RunReport { engine: name, exit, wall, machine };
    let outcome = report.outcome();

    if args.json {
        let json = serde_json::to_string(&report.summary()).map_err(|e| format!("cannot encode JSON: {e}"))?;
        let _ = writeln!(io::stdout(), "{json}");
    }
    if let Some(warning) = warning {
        say!("avm: warning: {warning}");
    }
    if outcome != Outcome::Pass {
        say!("{}", report.describe());
    }
    if args.stats {
        let mut line = format!("stats: engine={name} instret={}", report.instret());
        for (key, value) in counters {
            line.push_str(&format!(" {key}={value}"));
        }
        say!("{line}");
    }
    if !args.json {
        say!(
            "{}: {} instructions in {:.2} s ({:.0} MIPS, {name})",
            outcome.label(),
            report.instret(),
            report.wall.as_secs_f64(),
            report.mips()
        );
    }
    Ok(outcome.exit_code())
}

/// Run a chain command and turn its outcome into an exit status.
fn chain(cmd: &crate::commands::ChainCommand, data_dir: &Path) -> ExitCode {
    match crate::commands::run(cmd, data_dir) {
        Ok(status) => ExitCode::from(status),
        Err(f) => {
            say!("error: {}", f.message);
            ExitCode::from(f.status)
        }
    }
}
