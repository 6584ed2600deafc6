//! # The runtime: contracts on the machine
//!
//! Bare-metal mode gives a program the whole machine. The runtime instead
//! plays **M-mode firmware** for the guest kernel (`kernel/`), the way
//! OpenSBI does for Linux: the machine runs in *firmware* mode
//! ([`avm_mmu::ExecMode::Firmware`]), so every `ecall` from S-mode and every
//! trap the kernel does not take stops the engine, and the host handles it
//! here, in Rust, and resumes. Both engines stop at exactly the same
//! instructions, so the host sees the same host calls in the same order on
//! either, which is what makes receipts and gas engine-independent.
//!
//! - [`Vm::boot`] loads the kernel ELF at the start of RAM, writes its boot
//!   record, delegates U-mode exceptions to S-mode and runs the kernel until
//!   it asks for work (`NEXT_CALL`). The hart at that point is the
//!   **snapshot** every call starts from, so no call can leave anything
//!   behind for the next (see the kernel's docs on why that is enough).
//! - [`Vm::execute`] runs one top-level call: it pushes the call frame,
//!   restores the snapshot, resumes the kernel and serves host calls
//!   ([`firmware`]) until the kernel is idle again. Gas is the instruction
//!   count plus the host calls' charges; the engine's instruction limit is
//!   set to exactly the gas left, so running out stops both engines at the
//!   same instruction.
//! - [`image`] checks contract ELFs and lays them out as code images;
//!   [`memory`] is the host's page-table walk into contract memory;
//!   [`world`] is the interface to chain state.
//!
//! The engine and the machine live as long as the [`Vm`]: the kernel boots
//! once, and the JIT's code cache, keyed by code content, keeps compiled
//! contract code across calls, transactions and blocks.

pub mod firmware;
pub mod image;
pub mod memory;
pub mod world;

use std::collections::HashMap;
use std::sync::Arc;

use avm_abi::layout::{self, BootInfo, BOOT_MAGIC, PAGE_SIZE};
use avm_abi::status::Outcome;
use avm_abi::{host as hc, Address};
use avm_mmu::{ExecMode, Exit, Hart, Machine, MachineConfig, Privilege, TrapCause};

use crate::elf::{ram_range, ElfImage};
use crate::engine::{make_engine, EngineKind, EngineOptions, HostEngine};
use firmware::{image_of, top_flags, Abort, Ending, Next, Session};
pub use image::{CodeImage, ImageError};
pub use world::{ExecOutcome, ExecStatus, Log, World};

/// RAM of the runtime machine.
pub const RUNTIME_RAM: u32 = 64 << 20;
/// Instructions the kernel may take to boot.
const BOOT_BUDGET: u64 = 10_000_000;
/// U-mode exceptions the kernel handles: misaligned and faulting fetches,
/// loads and stores, illegal instructions, breakpoints, ecall from U, page
/// faults. Ecall from S (9) stays with the host: it is the host call.
const DELEGATED: u32 = 0b1011_0001_1111_1111;

/// The bundled kernel, if this binary was built with it.
pub fn kernel_elf_path() -> Option<&'static str> {
    option_env!("AVM_KERNEL_ELF")
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// No kernel ELF.
    #[error("the guest kernel is not available: {0}")]
    NoKernel(String),
    /// The kernel ELF is broken.
    #[error("the guest kernel ELF is invalid: {0}")]
    BadKernel(#[from] crate::elf::ElfError),
    /// The machine could not be created.
    #[error(transparent)]
    Machine(#[from] avm_mmu::MachineError),
    /// The engine could not be created.
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    /// The kernel did not reach its idle loop.
    #[error("the guest kernel did not boot: {0}")]
    Boot(String),
}

/// A call to run.
#[derive(Clone, Debug)]
pub struct Message {
    /// Who calls (the transaction's sender).
    pub caller: Address,
    /// The contract.
    pub target: Address,
    /// Native value sent along.
    pub value: u128,
    /// Call data: selector and arguments.
    pub input: Vec<u8>,
    /// Gas available to the call.
    pub gas_limit: u64,
    /// Number of the block being built.
    pub block_number: u64,
    /// This call is a deployment's `init`.
    pub deploying: bool,
    /// A read-only call: state changes fail.
    pub read_only: bool,
}

impl Message {
    /// A plain call: no value, a 10M gas limit, block 1.
    pub fn call(caller: Address, target: Address, input: Vec<u8>) -> Message {
        Message {
            caller,
            target,
            value: 0,
            input,
            gas_limit: 10_000_000,
            block_number: 1,
            deploying: false,
            read_only: false,
        }
    }
}

/// The machine with its kernel booted, and the engine that runs it.
pub struct Vm {
    machine: Machine,
    engine: Box<dyn HostEngine>,
    snapshot: Hart,
    images: HashMap<[u8; 32], Arc<CodeImage>>,
}

impl Vm {
    /// Boot the bundled kernel on a fresh machine run by `kind`.
    pub fn new(kind: EngineKind) -> Result<Vm, VmError> {
        let path = kernel_elf_path().ok_or_else(|| VmError::NoKernel("not built into this binary".into()))?;
        let elf = std::fs::read(path).map_err(|e| VmError::NoKernel(format!("{path}: {e}")))?;
        let engine = make_engine(kind, EngineOptions::default())?;
        Vm::boot(&elf, engine)
    }

    /// Boot a kernel ELF with an engine.
    pub fn boot(kernel: &[u8], mut engine: Box<dyn HostEngine>) -> Result<Vm, VmError> {
        let mut m = Machine::new(MachineConfig { ram_size: RUNTIME_RAM, mode: ExecMode::Firmware })?;
        let image = ElfImage::parse(kernel, ram_range(RUNTIME_RAM))?;
        image.load_into(&mut m)?;
        let end = image.segments.iter().map(|s| u64::from(s.paddr) + u64::from(s.memsz)).max().unwrap_or(0);
        let boot_info = end.next_multiple_of(u64::from(PAGE_SIZE)) as u32;
        let pool_start = boot_info + PAGE_SIZE;
        let ram_end = avm_mmu::RAM_BASE + RUNTIME_RAM;
        let mut record = [0u8; BootInfo::SIZE];
        for (at, v) in [
            (BootInfo::MAGIC, BOOT_MAGIC),
            (BootInfo::RAM_BASE, avm_mmu::RAM_BASE),
            (BootInfo::RAM_SIZE, RUNTIME_RAM),
            (BootInfo::POOL_START, pool_start),
            (BootInfo::POOL_END, ram_end),
        ] {
            record[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
        m.write_phys_bytes(boot_info, &record).map_err(|_| VmError::Boot("kernel too large for RAM".into()))?;
        m.hart.csr.medeleg = DELEGATED;
        m.hart.x[10] = boot_info;
        m.set_privilege(Privilege::Supervisor);
        match engine.run(&mut m, BOOT_BUDGET) {
            Exit::Trap { trap, from: Privilege::Supervisor }
                if trap.cause == TrapCause::EcallFromS && m.hart.x[17] == hc::NEXT_CALL => {}
            other => return Err(VmError::Boot(format!("stopped with {other:?} at pc {:#x}", m.hart.pc))),
        }
        let snapshot = m.hart.clone();
        Ok(Vm { machine: m, engine, snapshot, images: HashMap::new() })
    }

    /// The engine's name.
    pub fn engine_name(&self) -> &'static str {
        self.engine.name()
    }

    /// The engine, for its counters.
    pub fn engine(&self) -> &dyn HostEngine {
        self.engine.as_ref()
    }

    /// The machine (for tests that compare engines).
    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    /// The code image of a contract in `world` (cached by code hash).
    pub fn image<W: World>(&mut self, world: &W, who: &Address) -> Result<Arc<CodeImage>, String> {
        image_of(world, &mut self.images, who)
    }

    /// Run one top-level call against `world`. Effects are committed into
    /// `world` only if the call succeeds; otherwise they are undone.
    pub fn execute<W: World>(&mut self, world: &mut W, msg: &Message) -> ExecOutcome {
        let failed = |status, gas_used| ExecOutcome {
            status,
            return_data: Vec::new(),
            logs: Vec::new(),
            gas_used,
            instructions: 0,
            debug: Vec::new(),
        };
        // The limit a nested call's data meets in the firmware holds for the
        // transaction's own call too.
        if msg.input.len() > layout::MAX_INPUT as usize {
            return failed(ExecStatus::Revert("call data too large".into()), 0);
        }
        let code = match image_of(world, &mut self.images, &msg.target) {
            Ok(code) => code,
            Err(e) => return failed(ExecStatus::Fault(e), 0),
        };
        let flags = top_flags(msg.deploying, msg.read_only);
        let mut top = Session::<W>::frame(msg.caller, msg.target, msg.value, msg.input.clone(), flags, code);
        if !Session::open(world, &mut top) {
            return failed(ExecStatus::Revert("insufficient balance for the call's value".into()), 0);
        }
        let mut session = Session::new(world, &mut self.images, top, msg.gas_limit, msg.block_number);

        // Start from the idle kernel, resumed after its NEXT_CALL ecall.
        let m = &mut self.machine;
        m.hart = self.snapshot.clone();
        m.tlb.flush();
        m.hart.pc = m.hart.pc.wrapping_add(4);
        m.hart.x[10] = 0;
        let start = m.hart.instret;
        let abort = loop {
            session.instructions = m.hart.instret - start;
            let used = session.host_gas.saturating_add(session.instructions);
            if used > msg.gas_limit {
                break Some(Abort::OutOfGas);
            }
            let limit = m.hart.instret + (msg.gas_limit - used);
            match self.engine.run(m, limit) {
                Exit::Trap { trap, from: Privilege::Supervisor } if trap.cause == TrapCause::EcallFromS => {
                    session.instructions = m.hart.instret - start;
                    match session.host_call(m) {
                        Next::Resume => m.hart.pc = m.hart.pc.wrapping_add(4),
                        Next::Idle => break None,
                        Next::Abort(a) => break Some(a),
                    }
                }
                Exit::InstructionLimit => break Some(Abort::OutOfGas),
                other => break Some(Abort::Kernel(format!("the machine stopped: {other:?} at pc {:#x}", m.hart.pc))),
            }
        };
        let instructions = m.hart.instret - start;
        let gas_used = (session.host_gas.saturating_add(instructions)).min(msg.gas_limit);
        let (status, return_data) = match (abort, session.ending.take()) {
            (Some(Abort::OutOfGas), _) => (ExecStatus::OutOfGas, Vec::new()),
            (Some(Abort::Kernel(why)), _) => (ExecStatus::Fault(format!("kernel: {why}")), Vec::new()),
            (None, Some(Ending::Exited { outcome, data })) => match outcome {
                Outcome::Return => (ExecStatus::Success, data),
                Outcome::Revert => (ExecStatus::Revert(String::from_utf8_lossy(&data).into_owned()), data),
                _ => (ExecStatus::Fault(String::from_utf8_lossy(&data).into_owned()), data),
            },
            (None, _) => (ExecStatus::Fault("kernel: went idle without ending the call".into()), Vec::new()),
        };
        if !status.is_success() {
            session.unwind();
        }
        let logs = if status.is_success() { std::mem::take(&mut session.logs) } else { Vec::new() };
        ExecOutcome { status, return_data, logs, gas_used, instructions, debug: std::mem::take(&mut session.debug) }
    }
}
