//! Everything the runs need, found or built: the `avm` binary, `native_workload`, the
//! bare-metal guest ELFs (built by the root `build.rs`) and, for `qemu-riscv32`, the
//! Linux user-mode build of the same guest programs (`guest/bare`'s `linux-user`
//! feature), built here on demand so that CI never pays for it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::args::Workload;
use crate::ToolError;

/// The guest target, as in the root `build.rs`.
const GUEST_TARGET: &str = "riscv32imac-unknown-none-elf";

/// The QEMU user-mode emulator for 32-bit RISC-V Linux programs.
pub const QEMU: &str = "qemu-riscv32";

/// Where the programs are.
#[derive(Debug)]
pub struct Programs {
    /// `<target>/release/avm`.
    pub avm: PathBuf,
    /// `<target>/release/examples/native_workload`.
    pub native: PathBuf,
    /// The bare-metal guest ELFs, one per workload name (`AVM_GUEST_DIR`).
    pub bare_dir: PathBuf,
    /// The Linux builds of the guest programs, when `qemu-riscv32` is installed.
    pub linux_dir: Option<PathBuf>,
    /// The other `avm` of `--compare`.
    pub compare: Option<PathBuf>,
}

/// The host workspace's target directory: `AVM_GUEST_DIR` is
/// `<target>/guest/riscv32imac-unknown-none-elf/release` (see the root `build.rs`).
pub fn target_dir() -> PathBuf {
    let guest_dir = Path::new(env!("AVM_GUEST_DIR"));
    guest_dir.ancestors().nth(3).map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"), Path::to_path_buf)
}

/// The programs of a build in `target` (`linux` says whether to use the Linux guest
/// builds); the files `workloads` need must exist.
pub fn programs(
    target: &Path,
    linux: bool,
    workloads: &[Workload],
    compare: Option<&Path>,
) -> Result<Programs, ToolError> {
    let release = target.join("release");
    let programs = Programs {
        avm: release.join("avm"),
        native: release.join("examples").join("native_workload"),
        bare_dir: PathBuf::from(env!("AVM_GUEST_DIR")),
        linux_dir: linux.then(|| linux_guest_dir(target)),
        compare: compare.map(Path::to_path_buf),
    };
    let mut needed = vec![programs.avm.clone(), programs.native.clone()];
    needed.extend(programs.compare.clone());
    for dir in std::iter::once(&programs.bare_dir).chain(&programs.linux_dir) {
        needed.extend(workloads.iter().map(|w| dir.join(w.name())));
    }
    match needed.into_iter().find(|path| !path.is_file()) {
        Some(path) => Err(ToolError::Missing { path }),
        None => Ok(programs),
    }
}

/// `qemu-riscv32 --version`'s first line, or `None` when it is not installed.
pub fn qemu_version() -> Option<String> {
    let out = Command::new(QEMU).arg("--version").stdin(Stdio::null()).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success().then(|| text.lines().next().unwrap_or(QEMU).trim().to_string())
}

/// The cargo that runs us (`cargo run` sets `CARGO`), else the one on the path.
fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

/// Runs a cargo command with its output on our stderr (cargo's own progress).
fn run_cargo(mut cmd: Command) -> Result<(), ToolError> {
    let shown = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!("side_by_side: {shown}");
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|source| ToolError::Spawn { program: "cargo".into(), source })?;
    if status.success() {
        Ok(())
    } else {
        Err(ToolError::Build { command: shown, status })
    }
}

/// `cargo build --release --bin avm --example native_workload` into `target` (which
/// also rebuilds the bare guest programs when their sources changed).
pub fn build_host(target: &Path) -> Result<(), ToolError> {
    let mut cmd = Command::new(cargo());
    cmd.args(["build", "--release", "--bin", "avm", "--example", "native_workload"])
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target);
    run_cargo(cmd)
}

/// The directory of the Linux guest builds: their own target directory, so they never
/// replace the bare programs of the same names.
pub fn linux_guest_dir(target: &Path) -> PathBuf {
    target.join("guest-linux").join(GUEST_TARGET).join("release")
}

/// Builds the Linux user-mode variant of `workloads` (`avm-bare` with `linux-user`)
/// with the guest workspace's release profile, as the bare programs are built, and
/// returns the directory holding the ELFs.
pub fn build_linux_guest(target: &Path, workloads: &[Workload]) -> Result<PathBuf, ToolError> {
    let guest = Path::new(env!("CARGO_MANIFEST_DIR")).join("guest");
    let mut cmd = Command::new(cargo());
    cmd.args(["build", "--release", "--target", GUEST_TARGET, "-p", "avm-bare", "--features", "linux-user"])
        .arg("--manifest-path")
        .arg(guest.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target.join("guest-linux"))
        .current_dir(&guest);
    for w in workloads {
        cmd.args(["--bin", w.name()]);
    }
    clean_env(&mut cmd);
    run_cargo(cmd)?;
    Ok(linux_guest_dir(target))
}

/// Removes what the root `build.rs` removes before its guest build (see its
/// `clean_env`): the outer cargo's variables and host compiler flags, which would
/// change or break a cross build, so both guest builds get the same options.
fn clean_env(cmd: &mut Command) {
    const KEEP: &[&str] =
        &["CARGO_HOME", "CARGO_NET_OFFLINE", "CARGO_HTTP_PROXY", "CARGO_REGISTRIES_CRATES_IO_PROTOCOL"];
    const REMOVE: &[&str] =
        &["RUSTFLAGS", "RUSTDOCFLAGS", "RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER", "RUSTC_LINKER", "RUSTC_BOOTSTRAP"];
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if (key.starts_with("CARGO_") && !KEEP.contains(&key)) || REMOVE.contains(&key) {
            cmd.env_remove(key);
        }
    }
}
