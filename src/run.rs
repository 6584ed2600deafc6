//! Running a bare-metal program: load, run to an exit, summarize.
//!
//! A bare-metal run is the simplest use of the machine: the ELF is copied
//! into RAM, the hart starts in M-mode at the entry point with every register
//! zero, and the program runs until it writes the HTIF `tohost` mailbox
//! (value 1 = pass, otherwise the failing test number is `value >> 1`), runs
//! out of instructions, or gets stuck.
//!
//! The engine runs in *slices* of a few million instructions. Between slices
//! the host hands new console bytes to a callback, so output appears while a
//! long program runs; slicing does not change the result, because an engine
//! stops after exactly `limit` instructions and resumes from the same state.
//!
//! The [`Summary`] of a run is the timing-free part of the result: two engines
//! given the same program must produce equal summaries (apart from the
//! `engine` name), and its JSON form is what `avm exec --json` prints so that
//! runs can be compared as text.

use std::time::{Duration, Instant};

use avm_mmu::{Engine, Exit, Machine, MachineConfig, MachineError, Privilege, TrapCause};
use serde::Serialize;

use crate::digest::{ram_digest, RamDigest};
use crate::elf::{ram_range, ElfError, ElfImage};

/// Instructions per slice when streaming console output.
pub const DEFAULT_SLICE: u64 = 1 << 24;

/// How to run a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// Stop with [`Exit::InstructionLimit`] after this many instructions
    /// (`None`: no limit).
    pub max_insns: Option<u64>,
    /// RAM size in bytes.
    pub ram_size: u32,
    /// Instructions per slice between console callbacks (at least 1).
    pub slice: u64,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions { max_insns: None, ram_size: MachineConfig::default().ram_size, slice: DEFAULT_SLICE }
    }
}

/// Why a program could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The ELF file is not a loadable program.
    #[error("bad ELF file: {0}")]
    Elf(#[from] ElfError),
    /// The machine could not be created.
    #[error("cannot create the machine: {0}")]
    Machine(#[from] MachineError),
}

/// A fresh bare-metal machine with `elf` loaded, ready to run from its entry.
pub fn load_bare_metal(elf: &[u8], ram_size: u32) -> Result<(Machine, ElfImage), RunError> {
    let image = ElfImage::parse(elf, ram_range(ram_size))?;
    let mut m = Machine::new(MachineConfig { ram_size, ..MachineConfig::default() })?;
    image.load_into(&mut m)?;
    Ok((m, image))
}

/// Run `m` until an exit other than a slice boundary, passing each new chunk
/// of console output to `on_console`.
pub fn run_machine(
    m: &mut Machine,
    engine: &mut dyn Engine,
    opts: &RunOptions,
    on_console: &mut dyn FnMut(&[u8]),
) -> Exit {
    let limit = opts.max_insns.map_or(u64::MAX, |n| m.hart.instret.saturating_add(n));
    let slice = opts.slice.max(1);
    let mut printed = m.console.len();
    loop {
        let stop = m.hart.instret.saturating_add(slice).min(limit);
        let exit = engine.run(m, stop);
        if let Some(new) = m.console.get(printed..) {
            if !new.is_empty() {
                on_console(new);
            }
        }
        printed = m.console.len();
        if exit != Exit::InstructionLimit || m.hart.instret >= limit {
            return exit;
        }
    }
}

/// Load `elf` and run it to completion, collecting console output in the
/// machine only.
pub fn run_bare_metal(elf: &[u8], engine: &mut dyn Engine, opts: &RunOptions) -> Result<RunReport, RunError> {
    run_bare_metal_streaming(elf, engine, opts, &mut |_| {})
}

/// Like [`run_bare_metal`], also handing console output to `on_console` as
/// it appears.
pub fn run_bare_metal_streaming(
    elf: &[u8],
    engine: &mut dyn Engine,
    opts: &RunOptions,
    on_console: &mut dyn FnMut(&[u8]),
) -> Result<RunReport, RunError> {
    let (mut machine, _) = load_bare_metal(elf, opts.ram_size)?;
    let start = Instant::now();
    let exit = run_machine(&mut machine, engine, opts, on_console);
    let wall = start.elapsed();
    Ok(RunReport { engine: engine.name(), exit, wall, machine })
}

/// How a bare-metal run ended, as the CLI reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `tohost` = 1: the program passed.
    Pass,
    /// `tohost` = `code << 1 | 1` with `code != 0`: test `code` failed.
    Fail {
        /// the failing test number
        code: u32,
    },
    /// The instruction limit was reached.
    OutOfInstructions,
    /// The hart can make no progress (trap loop, `wfi` with nothing pending,
    /// or an exit bare-metal mode never produces).
    Stuck,
}

impl Outcome {
    /// Classify an engine exit.
    pub fn of(exit: &Exit) -> Outcome {
        match *exit {
            Exit::Halt { code: 0 } => Outcome::Pass,
            Exit::Halt { code } => Outcome::Fail { code },
            Exit::InstructionLimit => Outcome::OutOfInstructions,
            Exit::Trap { .. } | Exit::Interrupt(_) | Exit::WaitForInterrupt | Exit::TrapLoop { .. } => Outcome::Stuck,
        }
    }

    /// Process exit status of `avm exec`: 0 pass, 1 fail, 2 out of
    /// instructions, 4 stuck (3 is a program that could not be started).
    pub const fn exit_code(self) -> u8 {
        match self {
            Outcome::Pass => 0,
            Outcome::Fail { .. } => 1,
            Outcome::OutOfInstructions => 2,
            Outcome::Stuck => 4,
        }
    }

    /// One word for summaries: `PASS`, `FAIL`, `LIMIT` or `STUCK`.
    pub const fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail { .. } => "FAIL",
            Outcome::OutOfInstructions => "LIMIT",
            Outcome::Stuck => "STUCK",
        }
    }
}

/// The result of a run.
#[derive(Debug)]
pub struct RunReport {
    /// Engine name (`interp`, `jit`).
    pub engine: &'static str,
    /// Why the engine stopped.
    pub exit: Exit,
    /// Wall time spent running (not loading).
    pub wall: Duration,
    /// The machine as the run left it.
    pub machine: Machine,
}

impl RunReport {
    /// How the run ended.
    pub fn outcome(&self) -> Outcome {
        Outcome::of(&self.exit)
    }

    /// Instructions retired.
    pub fn instret(&self) -> u64 {
        self.machine.hart.instret
    }

    /// Millions of instructions per second of wall time.
    pub fn mips(&self) -> f64 {
        let secs = self.wall.as_secs_f64();
        if secs > 0.0 {
            self.instret() as f64 / secs / 1e6
        } else {
            0.0
        }
    }

    /// The timing-free state summary (what `--json` prints).
    pub fn summary(&self) -> Summary {
        let h = &self.machine.hart;
        let c = &h.csr;
        Summary {
            engine: self.engine,
            result: self.outcome().label(),
            exit: ExitSummary::of(&self.exit),
            pc: h.pc,
            privilege: privilege_name(h.privilege),
            instret: h.instret,
            x: h.x,
            reservation: h.reservation,
            csr: CsrSummary(c.fields()),
            ram: ram_digest(&self.machine.ram),
            console: String::from_utf8_lossy(&self.machine.console).into_owned(),
        }
    }

    /// A one-line human description of a non-passing end, naming the reason,
    /// pc and cause (for example `FAIL test 3`).
    pub fn describe(&self) -> String {
        let pc = self.machine.hart.pc;
        match self.exit {
            Exit::Halt { code: 0 } => "PASS".to_owned(),
            Exit::Halt { code } => format!("FAIL test {code}"),
            Exit::InstructionLimit => {
                format!("out of instructions after {} (pc {pc:#010x}); raise --max-insns", self.instret())
            }
            Exit::TrapLoop { trap } => format!(
                "stuck in a trap loop at pc {pc:#010x}: cause {} ({}), tval {:#010x}; the trap handler itself faults",
                trap.cause.code(),
                cause_name(trap.cause),
                trap.tval
            ),
            Exit::WaitForInterrupt => {
                format!("stuck: wfi at pc {pc:#010x} with no interrupt pending and enabled (nothing can wake the hart)")
            }
            Exit::Trap { trap, from } => format!(
                "unexpected trap to the host at pc {pc:#010x} from {}-mode: cause {} ({}), tval {:#010x}",
                from.letter(),
                trap.cause.code(),
                cause_name(trap.cause),
                trap.tval
            ),
            Exit::Interrupt(irq) => {
                format!("unexpected interrupt to the host at pc {pc:#010x}: cause {}", irq.code())
            }
        }
    }
}

/// The deterministic result of a run: equal for every engine except for the
/// `engine` field itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Engine name. Not part of the JSON: `--json` output must be byte for
    /// byte the same whichever engine ran the program.
    #[serde(skip)]
    pub engine: &'static str,
    /// `PASS`, `FAIL`, `LIMIT` or `STUCK`.
    pub result: &'static str,
    /// Why the engine stopped.
    pub exit: ExitSummary,
    /// Final pc.
    pub pc: u32,
    /// Final privilege (`M`, `S` or `U`).
    pub privilege: &'static str,
    /// Instructions retired.
    pub instret: u64,
    /// `x0`..`x31`.
    pub x: [u32; 32],
    /// Physical address reserved by `lr.w`, if any (`null` otherwise).
    pub reservation: Option<u32>,
    /// Every CSR field the differential tests compare, by name.
    pub csr: CsrSummary,
    /// Digest of RAM's contents.
    pub ram: RamDigest,
    /// Console output (lossy UTF-8).
    pub console: String,
}

/// Every CSR field by name ([`avm_mmu::Csrs::fields`]), serialized as one
/// JSON object in that fixed order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsrSummary(pub Vec<(&'static str, u64)>);

impl Serialize for CsrSummary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// [`Exit`] in a serializable, self-describing form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExitSummary {
    /// `tohost` written.
    Halt {
        /// exit code (0 = pass)
        code: u32,
    },
    /// Instruction limit reached.
    InstructionLimit,
    /// Trap to the host (firmware mode).
    Trap {
        /// `mcause` code
        cause: u32,
        /// readable cause
        cause_name: &'static str,
        /// trap value
        tval: u32,
        /// privilege it came from
        from: &'static str,
    },
    /// Interrupt to the host (firmware mode).
    Interrupt {
        /// interrupt code
        cause: u32,
    },
    /// `wfi` with nothing pending.
    WaitForInterrupt,
    /// Traps without progress.
    TrapLoop {
        /// `mcause` code of the last trap
        cause: u32,
        /// readable cause
        cause_name: &'static str,
        /// its trap value
        tval: u32,
    },
}

impl ExitSummary {
    /// The summary of an exit.
    pub fn of(exit: &Exit) -> ExitSummary {
        match *exit {
            Exit::Halt { code } => ExitSummary::Halt { code },
            Exit::InstructionLimit => ExitSummary::InstructionLimit,
            Exit::Trap { trap, from } => ExitSummary::Trap {
                cause: trap.cause.code(),
                cause_name: cause_name(trap.cause),
                tval: trap.tval,
                from: privilege_name(from),
            },
            Exit::Interrupt(irq) => ExitSummary::Interrupt { cause: irq.code() },
            Exit::WaitForInterrupt => ExitSummary::WaitForInterrupt,
            Exit::TrapLoop { trap } => {
                ExitSummary::TrapLoop { cause: trap.cause.code(), cause_name: cause_name(trap.cause), tval: trap.tval }
            }
        }
    }
}

/// `M`, `S` or `U`.
pub fn privilege_name(p: Privilege) -> &'static str {
    match p {
        Privilege::Machine => "M",
        Privilege::Supervisor => "S",
        Privilege::User => "U",
    }
}

/// The privileged spec's name of an exception cause.
pub fn cause_name(cause: TrapCause) -> &'static str {
    match cause {
        TrapCause::InstructionMisaligned => "instruction address misaligned",
        TrapCause::InstructionAccessFault => "instruction access fault",
        TrapCause::IllegalInstruction => "illegal instruction",
        TrapCause::Breakpoint => "breakpoint",
        TrapCause::LoadMisaligned => "load address misaligned",
        TrapCause::LoadAccessFault => "load access fault",
        TrapCause::StoreMisaligned => "store/AMO address misaligned",
        TrapCause::StoreAccessFault => "store/AMO access fault",
        TrapCause::EcallFromU => "environment call from U-mode",
        TrapCause::EcallFromS => "environment call from S-mode",
        TrapCause::EcallFromM => "environment call from M-mode",
        TrapCause::InstructionPageFault => "instruction page fault",
        TrapCause::LoadPageFault => "load page fault",
        TrapCause::StorePageFault => "store/AMO page fault",
    }
}
