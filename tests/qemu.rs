//! The third opinion: QEMU runs the portable conformance programs too.
//!
//! Both aVM engines share one decoder and one MMU, so a misreading of the spec
//! there would make them agree on a wrong answer. QEMU's `spike` machine is an
//! independent implementation with the same HTIF `tohost` convention: every
//! portable conformance program must pass on it as on aVM, and the programs
//! that print through the HTIF console (the sieve's result line, and a program
//! that prints every byte value) must print exactly what aVM prints. (The
//! `avm_specific*` and `counters` programs pin down choices where QEMU differs
//! and are not run here; see their sources.)
//!
//! The test runs only where `qemu-system-riscv32` is installed (Debian package
//! `qemu-system-misc`); elsewhere it says so and passes, since the engines'
//! own suites do not depend on it.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use avm::run::load_bare_metal;
use avm_interp::Interpreter;
use avm_jit::{JitConfig, JitEngine};
use avm_mmu::{Engine, Exit};

fn qemu_available() -> bool {
    Command::new("qemu-system-riscv32").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Run a bundled program on QEMU: its exit status and console output.
fn run_on_qemu(name: &str) -> (Option<i32>, Vec<u8>) {
    let path = common::path(name);
    // The HTIF console is QEMU's first serial port: with no display, on stdout.
    let mut child = Command::new("qemu-system-riscv32")
        .args(["-machine", "spike", "-bios", "none", "-display", "none", "-serial", "stdio", "-monitor", "none"])
        .args(["-m", "128M", "-kernel", &path])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("qemu starts");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    // A wrong program on QEMU could spin forever: bound it.
    let mut waited = Duration::ZERO;
    let status = loop {
        if let Some(status) = child.try_wait().expect("qemu status") {
            break status;
        }
        if waited > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{name} did not finish on QEMU within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
        waited += Duration::from_millis(20);
    };
    (status.code(), reader.join().expect("stdout reader"))
}

/// Run a bundled program on aVM with `engine`: its exit and console output.
fn run_on_avm(name: &str, engine: &mut dyn Engine) -> (Exit, Vec<u8>) {
    let (mut m, _) = load_bare_metal(&common::elf(name), 64 << 20).expect("program loads");
    let exit = engine.run(&mut m, 2_000_000_000);
    (exit, m.console)
}

#[test]
fn portable_conformance_programs_pass_on_qemu() {
    if !qemu_available() {
        eprintln!("qemu-system-riscv32 not installed: skipping the QEMU third opinion");
        return;
    }
    for name in common::PORTABLE {
        let (status, _) = run_on_qemu(name);
        assert_eq!(status, Some(0), "{name} fails on QEMU (exit status is the failing test number)");
    }
}

#[test]
fn htif_console_output_matches_qemu_on_both_engines() {
    if !qemu_available() {
        eprintln!("qemu-system-riscv32 not installed: skipping the QEMU third opinion");
        return;
    }
    for name in common::CONSOLE {
        let (status, qemu_out) = run_on_qemu(name);
        assert_eq!(status, Some(0), "{name} fails on QEMU");
        assert!(!qemu_out.is_empty(), "{name} printed nothing on QEMU");
        let engines: [(&str, Box<dyn Engine>); 2] =
            [("interp", Box::new(Interpreter::new())), ("jit", Box::new(JitEngine::new(JitConfig::default())))];
        for (engine_name, mut engine) in engines {
            let (exit, out) = run_on_avm(name, engine.as_mut());
            assert_eq!(exit, Exit::Halt { code: 0 }, "{name} on {engine_name}");
            assert!(
                out == qemu_out,
                "{name} on {engine_name} prints differently from QEMU:\n aVM: {:?}\nQEMU: {:?}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&qemu_out)
            );
        }
    }
}
