//! The third opinion: QEMU runs the portable conformance programs too.
//!
//! Both aVM engines share one decoder and one MMU, so a misreading of the spec
//! there would make them agree on a wrong answer. QEMU's `spike` machine is an
//! independent implementation with the same HTIF `tohost` convention: every
//! portable conformance program must pass on it as on aVM. (The
//! `avm_specific*` programs pin down choices where QEMU differs and are not run
//! here; see their sources.)
//!
//! The test runs only where `qemu-system-riscv32` is installed (Debian package
//! `qemu-system-misc`); elsewhere it says so and passes, since the engines'
//! own suites do not depend on it.

mod common;

use std::process::Command;
use std::time::Duration;

fn qemu_available() -> bool {
    Command::new("qemu-system-riscv32").arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn portable_conformance_programs_pass_on_qemu() {
    if !qemu_available() {
        eprintln!("qemu-system-riscv32 not installed: skipping the QEMU third opinion");
        return;
    }
    for name in common::PORTABLE {
        let path = common::path(name);
        let mut child = Command::new("qemu-system-riscv32")
            .args(["-machine", "spike", "-bios", "none", "-nographic", "-m", "128M", "-kernel", &path])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("qemu starts");
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
        assert_eq!(status.code(), Some(0), "{name} fails on QEMU (exit status is the failing test number)");
    }
}
