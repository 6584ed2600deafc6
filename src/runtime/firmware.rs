//! The host firmware: what happens when the kernel executes `ecall`.
//!
//! A [`Session`] is one top-level call in progress: the machine, the world
//! state, and a stack of call [`Frame`]s that mirrors the kernel's stack of
//! tasks (each frame holds a state checkpoint, the call's context, its logs
//! and the return data of its last nested call). [`Session::host_call`]
//! serves one host call: it reads the arguments from `a0..a3`, charges its
//! gas from [`avm_abi::gas`], does the work and writes the results back into
//! `a0..a3`. Nothing here trusts the guest: every pointer goes through
//! [`super::memory`], every size is checked against [`avm_abi::layout`], and
//! every failure is a status code for the kernel.

use std::collections::HashMap;
use std::sync::Arc;

use avm_abi::layout::{self, CallRequest, Context, CALL_REQUEST_SIZE, CONTEXT_DEPLOYING, CONTEXT_STATIC, PAGE_SIZE};
use avm_abi::status::{self, Fault, Outcome, E_FAULT, E_STATIC, E_TOO_LARGE, OK};
use avm_abi::{gas, host as hc, syscall as sc, Address};
use avm_mmu::Machine;

use super::image::CodeImage;
use super::memory::{read_user, write_frames, write_user, BadAddress};
use super::world::{Log, World};

/// One contract call in progress.
pub struct Frame<C> {
    /// Who called.
    pub caller: Address,
    /// The contract running.
    pub this: Address,
    /// Value sent with the call.
    pub value: u128,
    /// Call data.
    pub input: Vec<u8>,
    /// `CONTEXT_DEPLOYING` | `CONTEXT_STATIC`.
    pub flags: u32,
    /// The contract's code.
    pub code: Arc<CodeImage>,
    /// Where to revert to.
    checkpoint: Option<C>,
    /// Events of this call and its successful callees.
    logs: Vec<Log>,
    /// Return data of the last nested call.
    last_return: Vec<u8>,
}

/// How the session's top-level call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// `CALL_EXIT` of the top frame.
    Exited {
        /// Return, revert or fault.
        outcome: Outcome,
        /// Return data or the message.
        data: Vec<u8>,
    },
    /// The host must stop the guest: out of gas in a host call, or a kernel
    /// failure.
    Aborted(Abort),
}

/// Why the host stopped a session early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Abort {
    /// Gas ran out while charging a host call.
    OutOfGas,
    /// The kernel misbehaved (a panic, or an impossible host call).
    Kernel(String),
}

/// What the engine loop should do after a host call.
pub enum Next {
    /// Resume the guest after the `ecall`.
    Resume,
    /// The kernel is idle again (`NEXT_CALL`): the session is over.
    Idle,
    /// Stop now.
    Abort(Abort),
}

/// One top-level call in progress.
pub struct Session<'a, W: World> {
    /// The world state.
    pub world: &'a mut W,
    /// Cache of code images by code hash.
    pub images: &'a mut HashMap<[u8; 32], Arc<CodeImage>>,
    /// The call stack (index 0 = the transaction's call).
    pub frames: Vec<Frame<W::Checkpoint>>,
    /// Gas charged by host calls so far.
    pub host_gas: u64,
    /// The session's gas limit.
    pub gas_limit: u64,
    /// Instructions retired so far in this session (kept current by the
    /// engine loop, for the gas left in `CONTEXT`).
    pub instructions: u64,
    /// Block number for `CONTEXT`.
    pub block_number: u64,
    /// Set when the top frame exits.
    pub ending: Option<Ending>,
    /// Events of the top-level call, once it succeeded.
    pub logs: Vec<Log>,
    /// `DEBUG` lines.
    pub debug: Vec<String>,
}

/// Look up (or build and cache) the code image of an account.
pub fn image_of<W: World>(
    world: &W,
    images: &mut HashMap<[u8; 32], Arc<CodeImage>>,
    who: &Address,
) -> Result<Arc<CodeImage>, String> {
    let (hash, elf) = world.code(who).ok_or_else(|| format!("no contract at {who}"))?;
    if let Some(image) = images.get(&hash) {
        return Ok(image.clone());
    }
    let image = Arc::new(CodeImage::from_elf(&elf).map_err(|e| e.to_string())?);
    images.insert(hash, image.clone());
    Ok(image)
}

impl<'a, W: World> Session<'a, W> {
    /// A session whose top frame is `frame` (its checkpoint already taken
    /// and its value already moved by the caller).
    pub fn new(
        world: &'a mut W,
        images: &'a mut HashMap<[u8; 32], Arc<CodeImage>>,
        top: Frame<W::Checkpoint>,
        gas_limit: u64,
        block_number: u64,
    ) -> Self {
        Session {
            world,
            images,
            frames: vec![top],
            host_gas: 0,
            gas_limit,
            instructions: 0,
            block_number,
            ending: None,
            logs: Vec::new(),
            debug: Vec::new(),
        }
    }

    /// A frame for a call (the checkpoint is opened by [`Session::open`]).
    pub fn frame(
        caller: Address,
        this: Address,
        value: u128,
        input: Vec<u8>,
        flags: u32,
        code: Arc<CodeImage>,
    ) -> Frame<W::Checkpoint> {
        Frame { caller, this, value, input, flags, code, checkpoint: None, logs: Vec::new(), last_return: Vec::new() }
    }

    /// Open a frame's checkpoint and move its value; false if the caller
    /// cannot pay (nothing changed then).
    pub fn open(world: &mut W, frame: &mut Frame<W::Checkpoint>) -> bool {
        let cp = world.checkpoint();
        if frame.value > 0 && !world.transfer(&frame.caller, &frame.this, frame.value) {
            world.revert(cp);
            return false;
        }
        frame.checkpoint = Some(cp);
        true
    }

    /// Charge host gas; false if the limit is passed.
    fn charge(&mut self, amount: u64) -> bool {
        self.host_gas = self.host_gas.saturating_add(amount);
        self.host_gas.saturating_add(self.instructions) <= self.gas_limit
    }

    fn top(&mut self) -> &mut Frame<W::Checkpoint> {
        // The session always has a frame while the guest runs: the top one
        // is popped only by the last CALL_EXIT, after which the kernel goes
        // idle.
        self.frames.last_mut().expect("a session has a frame while the guest runs")
    }

    /// Serve the host call the kernel just made (number in `a7`).
    pub fn host_call(&mut self, m: &mut Machine) -> Next {
        let x = &m.hart.x;
        let (number, a) = (x[17], [x[10], x[11], x[12], x[13]]);
        if !self.charge(gas::HOST_CALL) {
            return Next::Abort(Abort::OutOfGas);
        }
        if number == hc::NEXT_CALL {
            return Next::Idle;
        }
        if self.frames.is_empty() {
            return Next::Abort(Abort::Kernel(format!("host call {} with no call in progress", hc::name(number))));
        }
        let reply = match number {
            hc::LOAD_CODE => self.load_code(m, a),
            hc::CALL_ENTER => self.call_enter(m, a[0]),
            hc::CALL_EXIT => self.call_exit(m, a),
            hc::ZERO_PAGES => self.zero_pages(m, a[0], a[1]),
            hc::KERNEL_PANIC => {
                return Next::Abort(Abort::Kernel(format!(
                    "kernel panic {} ({:#x} {:#x} {:#x})",
                    a[0], a[1], a[2], a[3]
                )))
            }
            n => self.service(m, n, a),
        };
        match reply {
            Ok(r) => {
                m.hart.x[10..14].copy_from_slice(&r);
                Next::Resume
            }
            Err(abort) => Next::Abort(abort),
        }
    }

    fn load_code(&mut self, m: &mut Machine, a: [u32; 4]) -> Result<[u32; 4], Abort> {
        let [dest, cap, table, max_segments] = a;
        let image = self.top().code.clone();
        if !self.charge(gas::CODE_LOAD_PAGE * u64::from(image.pages())) {
            return Err(Abort::OutOfGas);
        }
        if image.bytes.len() as u64 > u64::from(cap) || image.segments.len() as u64 > u64::from(max_segments) {
            return Ok([E_TOO_LARGE, 0, 0, 0]);
        }
        let mut records = Vec::with_capacity(image.segments.len() * 16);
        image.segments.iter().for_each(|s| records.extend_from_slice(&s.to_bytes()));
        let written = write_frames(m, dest, &image.bytes).and_then(|()| write_frames(m, table, &records));
        if written.is_err() {
            return Err(Abort::Kernel(format!("LOAD_CODE into {dest:#x}, which is not RAM")));
        }
        Ok([OK, image.bytes.len() as u32, image.entry, image.segments.len() as u32])
    }

    fn zero_pages(&mut self, m: &mut Machine, pa: u32, count: u32) -> Result<[u32; 4], Abort> {
        static ZERO: [u8; PAGE_SIZE as usize] = [0; PAGE_SIZE as usize];
        if !self.charge(gas::ZERO_PAGE * u64::from(count)) {
            return Err(Abort::OutOfGas);
        }
        for i in 0..count {
            let at = i.checked_mul(PAGE_SIZE).and_then(|o| pa.checked_add(o));
            if at.is_none_or(|at| write_frames(m, at, &ZERO).is_err()) {
                return Err(Abort::Kernel(format!("ZERO_PAGES at {pa:#x} x {count} is not RAM")));
            }
        }
        Ok([OK, 0, 0, 0])
    }

    fn call_enter(&mut self, m: &mut Machine, request: u32) -> Result<[u32; 4], Abort> {
        if !self.charge(gas::CALL) {
            return Err(Abort::OutOfGas);
        }
        let refuse = |s: &mut Self, code: u32, msg: String| {
            let len = msg.len() as u32;
            s.top().last_return = msg.into_bytes();
            Ok([code, len, 0, 0])
        };
        let Ok(bytes) = read_user(m, request, CALL_REQUEST_SIZE) else {
            return Ok([E_FAULT, 0, 0, 0]);
        };
        let req = CallRequest::from_bytes(bytes.as_slice().try_into().unwrap_or(&[0; CALL_REQUEST_SIZE as usize]));
        if req.input_len > layout::MAX_INPUT {
            return refuse(self, E_TOO_LARGE, "call data too large".into());
        }
        let Ok(input) = read_user(m, req.input_ptr, req.input_len) else {
            return Ok([E_FAULT, 0, 0, 0]);
        };
        if !self.charge(gas::COPY_WORD * gas::words(input.len() as u64)) {
            return Err(Abort::OutOfGas);
        }
        if self.frames.len() > layout::MAX_CALL_DEPTH as usize {
            return refuse(self, status::E_DEPTH, status::describe(status::E_DEPTH).into());
        }
        let parent = self.top();
        let flags = (parent.flags & CONTEXT_STATIC) | (req.flags & CONTEXT_STATIC);
        if flags & CONTEXT_STATIC != 0 && req.value > 0 {
            return refuse(self, E_STATIC, "value transfer in a read-only call".into());
        }
        let caller = parent.this;
        let code = match image_of(self.world, self.images, &req.target) {
            Ok(code) => code,
            Err(msg) => return refuse(self, status::E_NO_CODE, msg),
        };
        let mut frame = Self::frame(caller, req.target, req.value, input, flags, code);
        if !Self::open(self.world, &mut frame) {
            return refuse(self, status::E_INSUFFICIENT_BALANCE, "insufficient balance for the call's value".into());
        }
        self.frames.push(frame);
        Ok([OK, 0, 0, 0])
    }

    fn call_exit(&mut self, m: &mut Machine, a: [u32; 4]) -> Result<[u32; 4], Abort> {
        let outcome = Outcome::from_code(a[0]).unwrap_or(Outcome::Fault);
        let (outcome, data) = match outcome {
            Outcome::Return | Outcome::Revert if a[2] <= layout::MAX_RETURN => match read_user(m, a[1], a[2]) {
                Ok(data) => (outcome, data),
                Err(BadAddress(at)) => (Outcome::Fault, format!("bad return data pointer {at:#x}").into_bytes()),
            },
            Outcome::Return | Outcome::Revert => (Outcome::Fault, b"return data too large".to_vec()),
            _ => (Outcome::Fault, describe_fault(a[1], a[2], a[3]).into_bytes()),
        };
        if !self.charge(gas::COPY_WORD * gas::words(data.len() as u64)) {
            return Err(Abort::OutOfGas);
        }
        let Some(mut frame) = self.frames.pop() else {
            return Err(Abort::Kernel("CALL_EXIT with no call in progress".into()));
        };
        let cp = frame.checkpoint.take();
        if outcome == Outcome::Return {
            if let Some(cp) = cp {
                self.world.commit(cp);
            }
        } else if let Some(cp) = cp {
            self.world.revert(cp);
            frame.logs.clear();
        }
        let len = data.len() as u32;
        match self.frames.last_mut() {
            Some(parent) => {
                parent.logs.append(&mut frame.logs);
                parent.last_return = data;
            }
            None => {
                self.logs = std::mem::take(&mut frame.logs);
                self.ending = Some(Ending::Exited { outcome, data });
            }
        }
        Ok([outcome as u32, len, 0, 0])
    }

    /// The contract syscalls the kernel forwards (checked buffers).
    fn service(&mut self, m: &mut Machine, number: u32, a: [u32; 4]) -> Result<[u32; 4], Abort> {
        let fault = |_: BadAddress| [E_FAULT, 0, 0, 0];
        let frame = self.frames.last().expect("checked by host_call");
        let this = frame.this;
        let read_only = frame.flags & CONTEXT_STATIC != 0;
        let reply = match number {
            sc::INPUT_LEN => [frame.input.len() as u32, 0, 0, 0],
            sc::INPUT | sc::RETURN_DATA => {
                let src = if number == sc::INPUT { &frame.input } else { &frame.last_return };
                let n = src.len().min(a[1] as usize);
                let bytes = src[..n].to_vec();
                // INPUT also says how long the whole data is (a1).
                let whole = if number == sc::INPUT { src.len() as u32 } else { 0 };
                if !self.charge(gas::COPY_WORD * gas::words(n as u64)) {
                    return Err(Abort::OutOfGas);
                }
                write_user(m, a[0], &bytes).map(|()| [n as u32, whole, 0, 0]).unwrap_or_else(fault)
            }
            sc::CONTEXT => {
                let ctx = Context {
                    caller: frame.caller,
                    this,
                    value: frame.value,
                    block_number: self.block_number,
                    depth: (self.frames.len() - 1) as u32,
                    flags: frame.flags,
                    gas_left: self.gas_limit.saturating_sub(self.host_gas.saturating_add(self.instructions)),
                };
                write_user(m, a[0], &ctx.to_bytes()).map(|()| [OK, 0, 0, 0]).unwrap_or_else(fault)
            }
            sc::STORAGE_GET => {
                if a[1] > layout::MAX_KEY {
                    return Ok([E_TOO_LARGE, 0, 0, 0]);
                }
                let key = match read_user(m, a[0], a[1]) {
                    Ok(k) => k,
                    Err(e) => return Ok(fault(e)),
                };
                let value = self.world.storage_get(&this, &key).unwrap_or_default();
                let n = value.len().min(a[3] as usize);
                if !self.charge(gas::STORAGE_READ + gas::COPY_WORD * gas::words(n as u64)) {
                    return Err(Abort::OutOfGas);
                }
                write_user(m, a[2], &value[..n]).map(|()| [value.len() as u32, 0, 0, 0]).unwrap_or_else(fault)
            }
            sc::STORAGE_SET => {
                if read_only {
                    return Ok([E_STATIC, 0, 0, 0]);
                }
                if a[1] > layout::MAX_KEY || a[3] > layout::MAX_VALUE {
                    return Ok([E_TOO_LARGE, 0, 0, 0]);
                }
                let (key, value) = match (read_user(m, a[0], a[1]), read_user(m, a[2], a[3])) {
                    (Ok(k), Ok(v)) => (k, v),
                    (Err(e), _) | (_, Err(e)) => return Ok(fault(e)),
                };
                let bytes = (key.len() + value.len()) as u64;
                if !self.charge(gas::STORAGE_WRITE + gas::STORAGE_WRITE_BYTE * bytes) {
                    return Err(Abort::OutOfGas);
                }
                self.world.storage_set(&this, &key, &value);
                [OK, 0, 0, 0]
            }
            sc::EMIT => {
                if read_only {
                    return Ok([E_STATIC, 0, 0, 0]);
                }
                if a[1] == 0 || a[1] > layout::MAX_TOPICS || a[3] > layout::MAX_EVENT_DATA {
                    return Ok([status::E_BAD_ARGUMENT, 0, 0, 0]);
                }
                let (topics, data) = match (read_user(m, a[0], a[1] * 32), read_user(m, a[2], a[3])) {
                    (Ok(t), Ok(d)) => (t, d),
                    (Err(e), _) | (_, Err(e)) => return Ok(fault(e)),
                };
                if !self.charge(gas::EVENT + gas::EVENT_BYTE * (topics.len() + data.len()) as u64) {
                    return Err(Abort::OutOfGas);
                }
                let topics = topics.chunks_exact(32).map(|c| c.try_into().unwrap_or([0; 32])).collect();
                self.top().logs.push(Log { address: this, topics, data });
                [OK, 0, 0, 0]
            }
            sc::BALANCE => {
                if !self.charge(gas::BALANCE) {
                    return Err(Abort::OutOfGas);
                }
                let who = match read_address(m, a[0]) {
                    Ok(w) => w,
                    Err(e) => return Ok(fault(e)),
                };
                let balance = self.world.balance(&who);
                write_user(m, a[1], &balance.to_le_bytes()).map(|()| [OK, 0, 0, 0]).unwrap_or_else(fault)
            }
            sc::TRANSFER => {
                if read_only {
                    return Ok([E_STATIC, 0, 0, 0]);
                }
                if !self.charge(gas::TRANSFER) {
                    return Err(Abort::OutOfGas);
                }
                let (to, amount) = match (read_address(m, a[0]), read_user(m, a[1], 16)) {
                    (Ok(to), Ok(amount)) => (to, u128::from_le_bytes(amount.try_into().unwrap_or([0; 16]))),
                    (Err(e), _) | (_, Err(e)) => return Ok(fault(e)),
                };
                if self.world.transfer(&this, &to, amount) {
                    [OK, 0, 0, 0]
                } else {
                    [status::E_INSUFFICIENT_BALANCE, 0, 0, 0]
                }
            }
            sc::DEBUG => {
                let text = match read_user(m, a[0], a[1].min(1024)) {
                    Ok(t) => t,
                    Err(e) => return Ok(fault(e)),
                };
                if !self.charge(gas::EVENT + gas::EVENT_BYTE * text.len() as u64) {
                    return Err(Abort::OutOfGas);
                }
                self.debug.push(String::from_utf8_lossy(&text).into_owned());
                [OK, 0, 0, 0]
            }
            _ => [status::E_UNKNOWN_CALL, 0, 0, 0],
        };
        Ok(reply)
    }

    /// Undo every open frame (out of gas, kernel failure).
    pub fn unwind(&mut self) {
        while let Some(mut frame) = self.frames.pop() {
            if let Some(cp) = frame.checkpoint.take() {
                self.world.revert(cp);
            }
        }
        self.logs.clear();
    }
}

fn read_address(m: &Machine, va: u32) -> Result<Address, BadAddress> {
    let bytes = read_user(m, va, 20)?;
    let mut a = [0u8; 20];
    a.copy_from_slice(&bytes);
    Ok(Address(a))
}

/// The message of a fault reported by the kernel.
pub fn describe_fault(code: u32, detail: u32, addr: u32) -> String {
    match Fault::from_code(code) {
        // `stval` holds what the trap is about: the faulting address for
        // memory traps, the instruction's bits for an illegal instruction,
        // the pc for a breakpoint.
        Some(Fault::Trap) => match detail {
            2 => format!("illegal instruction (bits {addr:#010x})"),
            3 => format!("breakpoint at pc {addr:#x}"),
            _ => format!("{} at address {addr:#x}", trap_name(detail)),
        },
        Some(Fault::BadPointer) => {
            format!("bad pointer {addr:#x} passed to syscall {}", sc::name(detail))
        }
        Some(Fault::BadSyscall) => format!("unknown syscall {detail}"),
        Some(Fault::OutOfMemory) => format!("out of memory (address {addr:#x})"),
        Some(Fault::StackOverflow) => format!("stack overflow (address {addr:#x})"),
        Some(Fault::BadCode) => format!("the contract's code could not be loaded ({})", status::describe(detail)),
        None => format!("unknown fault {code}"),
    }
}

fn trap_name(cause: u32) -> &'static str {
    match cause {
        0 => "misaligned instruction fetch",
        1 => "instruction access fault",
        2 => "illegal instruction",
        3 => "breakpoint",
        4 => "misaligned load",
        5 => "load access fault",
        6 => "misaligned store or atomic",
        7 => "store access fault",
        12 => "instruction page fault",
        13 => "load page fault",
        15 => "store page fault",
        _ => "trap",
    }
}

/// Flags of a top-level call.
pub fn top_flags(deploying: bool, read_only: bool) -> u32 {
    (if deploying { CONTEXT_DEPLOYING } else { 0 }) | (if read_only { CONTEXT_STATIC } else { 0 })
}
