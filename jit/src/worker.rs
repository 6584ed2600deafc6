//! Background compilation: a thread that owns a [`Translator`] and compiles
//! the regions the engine sends it, while the engine goes on interpreting.
//!
//! Cranelift needs thousands of interpreted executions' worth of time per
//! block (`benches/jit.rs`). Done on the engine's thread, that time is added
//! to the run; done here, it overlaps with the run on a second core, and a
//! hot loop switches to compiled code as soon as it is ready. Nothing about
//! the machine depends on *when* that happens: compiled and interpreted
//! execution of a block end in the same state (that is what the differential
//! tests prove), and the engine checks, before installing code, that the
//! bytes it was compiled from are still in memory. Only the counters differ
//! from run to run, which is why tests that assert counters compile
//! synchronously ([`crate::JitConfig::background`]).
//!
//! The compiled code lives in the code memory of the worker's translator;
//! the worker frees it once the engine has dropped the [`Worker`], which
//! happens only when the engine itself goes away (no compiled code can run
//! after that), without waiting for the thread to finish.
//!
//! A thread that *dies* (a panic outside a compile: Cranelift's own panics
//! are caught and returned as results) leaks its code memory on purpose:
//! the engine may hold functions from it in its maps and code cache, and
//! has no way to know when the last of them stops running, so the mappings
//! stay for the life of the process (the unwinding drops the translator,
//! and [`CodeMemory`](crate::code::CodeMemory) has no `Drop`, for this reason). It happens at most
//! `engine::MAX_WORKER_RESTARTS` times per engine, and no test or workload
//! has seen it happen outside the test that injects it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::cranelift::{CompileError, Compiled, Trampoline, Translator};
use crate::plan::region::OwnedRegion;

/// A finished compile.
pub struct Done {
    /// The region's cache key, as submitted.
    pub key: Box<[u8]>,
    /// The code, or why there is none.
    pub result: Result<Compiled, CompileError>,
    /// Time spent in Cranelift.
    pub time: Duration,
}

struct Job {
    key: Box<[u8]>,
    region: OwnedRegion,
}

/// Handle on the compile thread.
pub struct Worker {
    jobs: Option<Sender<Job>>,
    /// Set when the engine goes away: queued jobs are dropped, not compiled.
    quit: Arc<AtomicBool>,
    done: Receiver<Done>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Start a compile thread whose translator is set up as `setup` says.
    /// `None` if the thread cannot be created (the engine then compiles on
    /// its own thread).
    pub fn spawn(setup: impl FnOnce(&mut Translator) + Send + 'static) -> Option<Worker> {
        let (jobs, job_rx) = channel::<Job>();
        let (done_tx, done) = channel::<Done>();
        let quit = Arc::new(AtomicBool::new(false));
        let quitting = Arc::clone(&quit);
        let thread = std::thread::Builder::new()
            .name("avm-jit-compile".into())
            .spawn(move || {
                // The process's trampoline (~1 ms to make the first
                // time) is needed as soon as the first region is installed:
                // compile it here, off the engine's thread.
                let _ = Trampoline::shared();
                let mut translator = Translator::new();
                if let Ok(t) = translator.as_mut() {
                    setup(t);
                }
                for job in job_rx {
                    if quitting.load(Ordering::Relaxed) {
                        break;
                    }
                    let start = Instant::now();
                    let result = match translator.as_mut() {
                        Ok(t) => t.compile_region(&job.region.as_blocks()),
                        Err(e) => Err(e.clone()),
                    };
                    let done = Done { key: job.key, result, time: start.elapsed() };
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
                // A panic before this point unwinds past it and leaks the
                // code memory (see the module docs).
                if let Ok(t) = translator {
                    // SAFETY: the job channel closes only when the engine
                    // drops its `Worker`, which it does only when it goes
                    // away itself (it drops a dead thread's handle too, but
                    // a dead thread never gets here): none of this code is
                    // ever called again (see the module docs).
                    unsafe { t.free() };
                }
            })
            .ok()?;
        Some(Worker { jobs: Some(jobs), quit, done, thread: Some(thread) })
    }

    /// Queue a region. False if the worker is gone.
    pub fn submit(&self, key: Box<[u8]>, region: OwnedRegion) -> bool {
        self.jobs.as_ref().is_some_and(|j| j.send(Job { key, region }).is_ok())
    }

    /// False once the thread has ended. While the engine holds the handle
    /// the thread only ends by dying (its loop runs until the handle
    /// closes the job channel).
    pub fn is_alive(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// A finished compile, if one is ready.
    pub fn try_recv(&self) -> Option<Done> {
        self.done.try_recv().ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the job channel ends the thread's loop (without compiling
        // what is still queued); it then frees the compiled code.
        //
        // The thread is not joined: the engine is going away, so none of
        // the code can run again, and the thread frees it whenever it gets
        // there. Joining made every run wait for the compile in progress
        // (up to a few milliseconds for a large region, nearly always one
        // on the ecdsa workload, whose compile thread is busy to the end)
        // or, in a short run, for the thread's own start.
        self.quit.store(true, Ordering::Relaxed);
        self.jobs = None;
        drop(self.thread.take());
    }
}
