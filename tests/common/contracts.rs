//! Running bundled contracts on every engine at once.
//!
//! A [`Chain`] holds one booted [`Vm`] and one [`State`] per engine
//! configuration (the interpreter, the JIT with its default tiering, and the
//! JIT compiling every block on first use, so the comparison is never the
//! interpreter against itself). Every deployment and call runs on all of them
//! and the helper asserts, after each one, that they agree on everything:
//! the outcome (status, return data, logs, gas, instructions), the state
//! root, the hart (registers, pc, CSRs, instret) and the RAM contents.
//! A test body therefore reads like a single-engine scenario while proving
//! the engines equal at every step.

#![allow(dead_code)] // each test file uses a different part

use avm::runtime::{ExecOutcome, ExecStatus, Message, Vm};
use avm::EngineKind;
use avm_abi::types::{Metadata, Type, Value};
use avm_abi::Address;
use avm_jit::{JitConfig, JitEngine};
use avm_state::State;

/// Gas for an ordinary call.
pub const GAS: u64 = 50_000_000;

/// An engine configuration a [`Chain`] runs.
pub struct Engine {
    /// Name for assertion messages.
    pub name: &'static str,
    /// The booted machine.
    pub vm: Vm,
    /// Its own copy of chain state.
    pub state: State,
}

/// The engines every scenario runs on.
pub fn engines() -> Vec<Engine> {
    let kernel = std::fs::read(avm::runtime::kernel_elf_path().expect("kernel built")).expect("kernel ELF");
    let jit0 = JitConfig { threshold: 0, ..JitConfig::default() };
    vec![
        Engine { name: "interp", vm: Vm::new(EngineKind::Interp).expect("boot interp"), state: State::new() },
        Engine { name: "jit", vm: Vm::new(EngineKind::Jit).expect("boot jit"), state: State::new() },
        Engine {
            name: "jit-threshold-0",
            vm: Vm::boot(&kernel, Box::new(JitEngine::new(jit0))).expect("boot jit0"),
            state: State::new(),
        },
    ]
}

/// The ELF of a bundled contract.
pub fn contract_elf(name: &str) -> Vec<u8> {
    let dir = avm::guest_dir().expect("guest dir");
    let path = format!("{dir}/contract-{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// A test address.
pub const fn addr(n: u8) -> Address {
    Address([n; 20])
}

/// A `u128` argument.
pub fn u128v(v: u128) -> Value {
    Value::Uint(Type::U128, v)
}

/// A `u64` argument.
pub fn u64v(v: u64) -> Value {
    Value::Uint(Type::U64, u128::from(v))
}

/// A `u32` argument.
pub fn u32v(v: u32) -> Value {
    Value::Uint(Type::U32, u128::from(v))
}

/// A `u8` argument.
pub fn u8v(v: u8) -> Value {
    Value::Uint(Type::U8, u128::from(v))
}

/// An `Address` argument.
pub fn addrv(a: Address) -> Value {
    Value::Address(a.0)
}

/// A `Bytes` argument.
pub fn bytesv(b: &[u8]) -> Value {
    Value::Bytes(Type::Bytes, b.to_vec())
}

/// A `String` argument.
pub fn stringv(s: &str) -> Value {
    Value::String(s.into())
}

/// What a call did (identical on every engine), with its return value
/// decoded by the contract's metadata when it succeeded.
#[derive(Debug)]
pub struct Called {
    /// The outcome (the same on every engine).
    pub out: ExecOutcome,
    /// The decoded return value, on success.
    pub value: Option<Value>,
}

impl Called {
    /// Assert success and return the decoded value.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.out.status, ExecStatus::Success, "call failed: {:?}", self.out);
        self.value.as_ref().expect("return value decodes")
    }

    /// Assert success and return a decoded unsigned integer.
    #[track_caller]
    pub fn uint(&self) -> u128 {
        match self.ok() {
            Value::Uint(_, v) => *v,
            other => panic!("expected an integer, got {other:?}"),
        }
    }

    /// Assert success and return a decoded bool.
    #[track_caller]
    pub fn bool(&self) -> bool {
        match self.ok() {
            Value::Bool(b) => *b,
            other => panic!("expected a bool, got {other:?}"),
        }
    }

    /// Assert a revert and return its message.
    #[track_caller]
    pub fn revert_message(&self) -> &str {
        match &self.out.status {
            ExecStatus::Revert(m) => m,
            other => panic!("expected a revert, got {other:?}"),
        }
    }

    /// Assert a fault and return its message.
    #[track_caller]
    pub fn fault_message(&self) -> &str {
        match &self.out.status {
            ExecStatus::Fault(m) => m,
            other => panic!("expected a fault, got {other:?}"),
        }
    }
}

/// The same chain on every engine.
pub struct Chain {
    /// One machine and state per engine configuration.
    pub engines: Vec<Engine>,
    /// Metadata of deployed contracts.
    metadata: Vec<(Address, Metadata)>,
    /// Block number of the next call.
    pub block_number: u64,
}

impl Default for Chain {
    fn default() -> Self {
        Chain::new()
    }
}

impl Chain {
    /// A fresh chain on every engine, with accounts 1..=4 funded.
    pub fn new() -> Chain {
        let mut engines = engines();
        for e in &mut engines {
            for n in 1..=4 {
                e.state.set_balance(&avm_state::Address(addr(n).0), 1_000_000_000);
            }
        }
        Chain { engines, metadata: Vec::new(), block_number: 1 }
    }

    /// The first engine's state (equal to every other's).
    pub fn state(&self) -> &State {
        &self.engines[0].state
    }

    /// The state root (asserted equal on every engine).
    pub fn root(&self) -> avm_state::Hash32 {
        let root = avm_state::state_root(&self.engines[0].state);
        for e in &self.engines[1..] {
            assert_eq!(avm_state::state_root(&e.state), root, "state root differs on {}", e.name);
        }
        root
    }

    /// The metadata of a deployed contract.
    pub fn metadata(&self, at: Address) -> &Metadata {
        &self.metadata.iter().find(|(a, _)| *a == at).expect("contract deployed").1
    }

    /// Install a bundled contract's code at `at` (no constructor run).
    pub fn install(&mut self, name: &str, at: Address) {
        let elf = contract_elf(name);
        for e in &mut self.engines {
            e.state.set_code(&avm_state::Address(at.0), elf.clone());
        }
        let Engine { vm, state, .. } = &mut self.engines[0];
        let image = vm.image(state, &at).expect("contract image");
        self.metadata.retain(|(a, _)| *a != at);
        self.metadata.push((at, image.metadata.clone()));
    }

    /// Deploy a bundled contract at `at`, running `init(args)` as `from` if
    /// the contract has a constructor; panics if it fails. Returns the
    /// constructor's outcome (`None` without a constructor).
    pub fn deploy(&mut self, name: &str, at: Address, from: Address, args: &[Value]) -> Option<Called> {
        self.install(name, at);
        let init = self.metadata(at).method("init")?;
        let input = init.call_data(args);
        let c = self.run(from, at, input, GAS, true, false, Some("init"));
        assert_eq!(c.out.status, ExecStatus::Success, "init of {name} failed: {:?}", c.out);
        Some(c)
    }

    /// Call `method(args)` on `to` as `from`.
    pub fn call(&mut self, from: Address, to: Address, method: &str, args: &[Value]) -> Called {
        self.call_gas(from, to, method, args, GAS)
    }

    /// Call with an explicit gas limit.
    pub fn call_gas(&mut self, from: Address, to: Address, method: &str, args: &[Value], gas: u64) -> Called {
        let m = self.metadata(to).method(method).unwrap_or_else(|| panic!("no method {method}"));
        let input = m.call_data(args);
        self.run(from, to, input, gas, false, false, Some(method))
    }

    /// A read-only call.
    pub fn view(&mut self, to: Address, method: &str, args: &[Value]) -> Called {
        let m = self.metadata(to).method(method).unwrap_or_else(|| panic!("no method {method}"));
        let input = m.call_data(args);
        self.run(addr(1), to, input, GAS, false, true, Some(method))
    }

    /// Run a message on every engine and assert they agree on everything.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &mut self,
        from: Address,
        to: Address,
        input: Vec<u8>,
        gas_limit: u64,
        deploying: bool,
        read_only: bool,
        method: Option<&str>,
    ) -> Called {
        let msg = Message {
            caller: from,
            target: to,
            value: 0,
            input,
            gas_limit,
            block_number: self.block_number,
            deploying,
            read_only,
        };
        let outs: Vec<ExecOutcome> = self.engines.iter_mut().map(|e| e.vm.execute(&mut e.state, &msg)).collect();
        self.assert_same(&outs);
        let out = outs.into_iter().next().expect("at least one engine");
        let value = match (method, &out.status) {
            (Some(name), ExecStatus::Success) => {
                let m = self.metadata(to).method(name).expect("method");
                Some(m.returns.decode_all(&out.return_data).expect("return data decodes"))
            }
            _ => None,
        };
        Called { out, value }
    }

    /// Assert that every engine ended in the same place.
    #[track_caller]
    pub fn assert_same(&self, outs: &[ExecOutcome]) {
        let (first, base) = (&self.engines[0], &outs[0]);
        let root = avm_state::state_root(&first.state);
        let ram = first.vm.machine().ram.digest();
        for (e, out) in self.engines.iter().zip(outs).skip(1) {
            assert_eq!(out, base, "outcome differs: {} vs {}", e.name, first.name);
            assert_eq!(avm_state::state_root(&e.state), root, "state root differs: {} vs {}", e.name, first.name);
            assert_eq!(e.vm.machine().hart, first.vm.machine().hart, "hart differs: {} vs {}", e.name, first.name);
            assert_eq!(e.vm.machine().ram.digest(), ram, "RAM differs: {} vs {}", e.name, first.name);
        }
    }

    /// Decode every log of an outcome with the emitting contract's metadata:
    /// (event name, field values).
    pub fn events(&self, out: &ExecOutcome) -> Vec<(String, Vec<Value>)> {
        out.logs
            .iter()
            .map(|log| {
                let md = self.metadata(log.address);
                let ev = md.event_of(&log.topics).expect("known event");
                (ev.name.clone(), ev.decode_log(&log.topics, &log.data).expect("log decodes"))
            })
            .collect()
    }
}

/// Pages of RAM that hold anything but zeros, and the highest such page:
/// how much memory the kernel has ever touched.
pub fn ram_footprint(vm: &Vm) -> (usize, usize) {
    let bytes = vm.machine().ram.bytes();
    let mut count = 0;
    let mut highest = 0;
    for (i, page) in bytes.chunks(4096).enumerate() {
        if page.iter().any(|&b| b != 0) {
            count += 1;
            highest = i;
        }
    }
    (count, highest)
}
