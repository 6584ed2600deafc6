//! # Generators and oracles for the chain fuzz targets
//!
//! The `fuzz/` crate's chain targets are thin: each hands its input bytes to
//! a function here and panics with the message it gets back. The same
//! functions run from `tests/fuzz_smoke.rs` on a few hundred inputs from a
//! fixed seed, so the stable `cargo test` keeps every oracle working.
//!
//! - [`tx`]: transaction decoding, sender recovery and validation never
//!   panic, and whatever decodes re-encodes to the same bytes.
//! - [`chain`]: a sequence of signed transactions against every bundled
//!   contract (hostile ones included) with random gas limits gives the same
//!   receipts, gas, logs and state root on the interpreter and on the JIT
//!   (threshold 0 and default), and again when it is split across blocks
//!   with the store closed and reopened in between.
//! - [`syscall`]: the `hostile_syscall` contract makes raw syscalls with
//!   chosen numbers, pointers and lengths; every call ends in a receipt that
//!   is not a kernel fault, the engines agree, and the VM still works.
//! - [`scenario`]: mutations of scenario files for `avm test` (whose parser
//!   lives in the binary; the fuzz target includes it, see `fuzz/README.md`).
//!
//! Inputs are plain bytes read through a [`Source`]: every choice takes a
//! few bytes, and an exhausted input reads as zeros, so every input, even an
//! empty one, is a valid case. Smoke tests make their bytes with
//! [`SplitMix64`].

pub mod chain;
pub mod scenario;
pub mod source;
pub mod syscall;
pub mod tx;

pub use source::{Source, SplitMix64};

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::runtime::{kernel_elf_path, CodeImage, Vm};

/// A bundled contract's ELF and its code image.
pub type Compiled = Arc<(Vec<u8>, CodeImage)>;

/// A bundled contract's ELF and its code image, loaded once per process.
pub fn contract(name: &str) -> Compiled {
    static CACHE: OnceLock<Mutex<BTreeMap<String, Compiled>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    cache
        .entry(name.to_string())
        .or_insert_with(|| {
            let dir = crate::guest_dir().expect("the guest programs are built by build.rs");
            let elf = std::fs::read(format!("{dir}/contract-{name}"))
                .unwrap_or_else(|e| panic!("bundled contract {name}: {e}"));
            let image = CodeImage::from_elf(&elf).unwrap_or_else(|e| panic!("bundled contract {name}: {e}"));
            Arc::new((elf, image))
        })
        .clone()
}

/// The engine configurations every differential oracle runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineConfig {
    /// The reference interpreter.
    Interp,
    /// The JIT compiling every block on first use (threshold 0).
    JitEager,
    /// The JIT with its default settings (tiering).
    Jit,
}

impl EngineConfig {
    /// All of them, the reference first.
    pub const ALL: [EngineConfig; 3] = [EngineConfig::Interp, EngineConfig::JitEager, EngineConfig::Jit];

    /// A freshly booted VM with this engine.
    pub fn boot(self) -> Vm {
        let engine: Box<dyn crate::HostEngine> = match self {
            EngineConfig::Interp => Box::new(avm_interp::Interpreter::new()),
            EngineConfig::JitEager => Box::new(avm_jit::JitEngine::new(avm_jit::JitConfig {
                threshold: 0,
                background: false,
                ..avm_jit::JitConfig::default()
            })),
            EngineConfig::Jit => Box::new(avm_jit::JitEngine::new(avm_jit::JitConfig::default())),
        };
        let path = kernel_elf_path().expect("the kernel is built by build.rs");
        let kernel = std::fs::read(path).unwrap_or_else(|e| panic!("kernel {path}: {e}"));
        Vm::boot(&kernel, engine).unwrap_or_else(|e| panic!("the kernel does not boot on {self:?}: {e}"))
    }
}

/// VMs kept across cases (a JIT's code cache is worth keeping: compiling the
/// kernel for every case would dominate the run), one per configuration,
/// per thread (a VM stays on its thread). `take` and `give` back; a case
/// that panics simply loses its VM.
pub struct VmPool;

thread_local! {
    static POOL: std::cell::RefCell<Vec<(EngineConfig, Vm)>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl VmPool {
    /// This thread's pool.
    pub fn global() -> &'static VmPool {
        &VmPool
    }

    /// A VM for `config`, booted if none is free.
    pub fn take(&self, config: EngineConfig) -> Vm {
        let kept = POOL.with(|p| {
            let mut p = p.borrow_mut();
            p.iter().position(|(c, _)| *c == config).map(|i| p.swap_remove(i).1)
        });
        kept.unwrap_or_else(|| config.boot())
    }

    /// Return a VM for the next case.
    pub fn give(&self, config: EngineConfig, vm: Vm) {
        POOL.with(|p| p.borrow_mut().push((config, vm)));
    }
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    /// Create one, named after this process and a counter.
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("avm-fuzz-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("temp dir {}: {e}", dir.display()));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
