//! End-to-end tests of the `avm` binary: exit statuses, console streaming,
//! `--json`, `--trace` and `--stats`, on small programs assembled here with
//! `avm_isa::asm::Asm` and wrapped by `avm::elf::write`.

use std::path::PathBuf;
use std::process::{Command, Output};

use avm::elf::write::{bare_metal, ElfBuilder};
use avm::elf::{PF_R, PF_W, PF_X};
use avm_isa::asm::Asm;
use avm_isa::{Inst, Reg, StoreOp};

const BASE: u32 = 0x8000_0000;
const TOHOST: u32 = 0x8000_1000;
const CONSOLE: u32 = 0x1000_0000;
const T0: Reg = Reg::new(5);
const T1: Reg = Reg::new(6);

/// A program: `body`, then `tohost = code << 1 | 1` (low word, then the high
/// word that runs the command), then spin.
fn program(body: impl FnOnce(&mut Asm), code: u32) -> Vec<u8> {
    let mut a = Asm::new(BASE);
    body(&mut a);
    a.li(T0, TOHOST);
    a.li(T1, code << 1 | 1);
    a.store(StoreOp::Sw, T1, T0, 0);
    a.store(StoreOp::Sw, Reg::ZERO, T0, 4);
    let spin = a.here();
    a.j(spin);
    bare_metal(BASE, &a.finish().expect("test program assembles"), TOHOST)
}

/// A program made of `body` only (it must not fall off its end).
fn raw(body: impl FnOnce(&mut Asm)) -> Vec<u8> {
    let mut a = Asm::new(BASE);
    body(&mut a);
    bare_metal(BASE, &a.finish().expect("test program assembles"), TOHOST)
}

/// Write `elf` to a fresh temporary file and return its path.
fn temp_elf(name: &str, elf: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("avm-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let path = dir.join(format!("{name}.elf"));
    std::fs::write(&path, elf).expect("write temp ELF");
    path
}

fn avm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_avm")).args(args).output().expect("run avm")
}

fn run(name: &str, elf: &[u8], extra: &[&str]) -> Output {
    let path = temp_elf(name, elf);
    let path = path.to_str().expect("utf-8 temp path");
    let mut args = vec!["exec"];
    args.extend_from_slice(extra);
    args.push(path);
    avm(&args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn passing_program_exits_0_with_summary() {
    let o = run("pass", &program(|_| {}, 0), &[]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("PASS: 4 instructions in"), "stderr: {err}");
    assert!(err.contains("MIPS, jit)"), "the JIT is the default engine; stderr: {err}");
    let o = run("pass", &program(|_| {}, 0), &["--engine=interp"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(stderr(&o).contains("MIPS, interp)"), "stderr: {}", stderr(&o));
}

#[test]
fn failing_program_prints_fail_test_n_and_exits_1() {
    let o = run("fail", &program(|_| {}, 3), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("FAIL test 3"), "stderr: {}", stderr(&o));
}

#[test]
fn infinite_loop_hits_the_instruction_limit_exit_2() {
    let elf = raw(|a| {
        let top = a.here();
        a.j(top);
    });
    let o = run("loop", &elf, &["--max-insns", "1000"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("out of instructions after 1000"), "stderr: {err}");
    assert!(err.contains("LIMIT: 1000 instructions"), "stderr: {err}");
}

#[test]
fn bad_elf_and_missing_file_exit_3() {
    let o = run("garbage", b"this is not an ELF file at all", &[]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("bad magic"), "stderr: {}", stderr(&o));

    let mut elf = program(|_| {}, 0);
    elf[18] = 62; // e_machine = x86-64
    let o = run("x86", &elf, &[]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("not a RISC-V program"), "stderr: {}", stderr(&o));

    let o = avm(&["exec", "/nonexistent/avm/program.elf"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("cannot read"), "stderr: {}", stderr(&o));
}

#[test]
fn usage_errors_exit_3_and_help_exits_0() {
    assert_eq!(avm(&["exec"]).status.code(), Some(3));
    assert_eq!(avm(&["exec", "--engine", "nonsense", "x.elf"]).status.code(), Some(3));
    let help = avm(&["exec", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = stdout(&help);
    assert!(text.contains("0x8000_0000") && text.contains("Exit status"), "help: {text}");
}

#[test]
fn trap_loop_exits_4_naming_reason_pc_and_cause() {
    // An illegal instruction with mtvec = 0: trap entry jumps to address 0,
    // where fetching faults again, forever.
    let elf = raw(|a| a.word(0));
    let o = run("trap-loop", &elf, &[]);
    assert_eq!(o.status.code(), Some(4));
    let err = stderr(&o);
    assert!(err.contains("trap loop") && err.contains("pc 0x") && err.contains("cause"), "stderr: {err}");
}

#[test]
fn wfi_with_nothing_pending_exits_4() {
    let elf = raw(|a| {
        a.inst(Inst::Wfi);
        let top = a.here();
        a.j(top);
    });
    let o = run("wfi", &elf, &[]);
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("wfi"), "stderr: {}", stderr(&o));
}

#[test]
fn console_output_goes_to_stdout() {
    let elf = program(
        |a| {
            a.li(T0, CONSOLE);
            for &b in b"hi\n" {
                a.li(T1, u32::from(b));
                a.store(StoreOp::Sb, T1, T0, 0);
            }
        },
        0,
    );
    let o = run("console", &elf, &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "hi\n");
}

#[test]
fn json_output_has_the_final_state() {
    let elf = program(
        |a| {
            a.li(T0, CONSOLE);
            a.li(T1, u32::from(b'x'));
            a.store(StoreOp::Sb, T1, T0, 0);
            a.li(Reg::new(10), 0x1234_5678);
        },
        5,
    );
    let o = run("json", &elf, &["--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("stdout is one JSON object");
    assert!(v.get("engine").is_none(), "engine name stays out of the JSON so engines compare equal");
    assert_eq!(v["result"], "FAIL");
    assert_eq!(v["exit"]["kind"], "halt");
    assert_eq!(v["exit"]["code"], 5);
    assert_eq!(v["privilege"], "M");
    assert_eq!(v["console"], "x");
    assert_eq!(v["x"].as_array().map(Vec::len), Some(32));
    assert_eq!(v["x"][10], 0x1234_5678);
    assert_eq!(v["x"][0], 0);
    assert!(v["pc"].as_u64().is_some_and(|pc| pc >= u64::from(BASE)));
    assert!(v["instret"].as_u64().is_some_and(|n| n > 0));
    assert!(v.get("wall").is_none() && !stdout(&o).contains("MIPS"), "no timing in JSON");
    for name in ["mstatus", "mcause", "mepc", "satp", "medeleg", "mscratch", "minstret offset", "pmpcfg0", "pmpaddr15"]
    {
        assert!(v["csr"][name].is_u64(), "csr {name} in JSON");
    }
    assert!(v["reservation"].is_null());
    assert!(v["ram"]["keccak256"].as_str().is_some_and(|h| h.len() == 66 && h.starts_with("0x")));
    assert!(v["ram"]["nonzero_pages"].as_u64().is_some_and(|n| n >= 1), "the program's own page");
    // Same program, same JSON: runs are deterministic.
    let again = run("json2", &elf, &["--json"]);
    assert_eq!(stdout(&o), stdout(&again));
}

#[test]
fn json_exit_reason_is_structured() {
    let elf = raw(|a| {
        let top = a.here();
        a.j(top);
    });
    let o = run("json-limit", &elf, &["--json", "--max-insns", "10"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["exit"]["kind"], "instruction_limit");
    assert_eq!(v["instret"], 10);

    let o = run("json-trap", &raw(|a| a.word(0)), &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["exit"]["kind"], "trap_loop");
    assert!(v["exit"]["cause"].is_u64() && v["exit"]["tval"].is_u64());
}

#[test]
fn trace_prints_every_instruction_disassembled() {
    let o = run("trace", &program(|_| {}, 0), &["--trace"]);
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| l.contains(": ")).collect();
    // li t0,0x80001000 is a single lui; li t1,1 a single addi.
    assert_eq!(lines.first().copied(), Some("0 M 80000000: lui t0,0x80001"), "stderr: {err}");
    assert!(lines.iter().any(|l| l.starts_with("1 M 80000004: addi t1,zero,1")), "stderr: {err}");
    assert!(lines.iter().any(|l| l.starts_with("2 M 80000008: sw t1,0(t0)")), "stderr: {err}");
}

#[test]
fn stats_prints_engine_counters() {
    let o = run("stats", &program(|_| {}, 0), &["--stats", "--engine=interp"]);
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(err.contains("stats: engine=interp") && err.contains("blocks_decoded="), "stderr: {err}");
    let o = run("stats", &program(|_| {}, 0), &["--stats", "--engine=jit"]);
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(err.contains("stats: engine=jit") && err.contains("blocks_compiled="), "stderr: {err}");
}

#[test]
fn json_output_is_identical_on_both_engines_for_every_bundled_program() {
    for name in
        ["rv32i", "rv32m", "rv32a", "rvc", "rv32i_v", "rvc_v", "csr", "traps", "priv", "misaligned", "vm", "sieve"]
    {
        let outputs: Vec<String> = ["interp", "jit"]
            .iter()
            .map(|engine| {
                let o = Command::new(env!("CARGO_BIN_EXE_avm"))
                    .args(["exec", "--json", "--example", name, &format!("--engine={engine}")])
                    .output()
                    .expect("avm runs");
                assert_eq!(o.status.code(), Some(0), "{name} on {engine}: {}", stderr(&o));
                stdout(&o)
            })
            .collect();
        assert_eq!(outputs[0], outputs[1], "{name}: --json differs between interp and jit");
    }
}

#[test]
fn hot_loop_runs_compiled_code_on_the_jit() {
    let o = Command::new(env!("CARGO_BIN_EXE_avm"))
        .args(["exec", "--stats", "--example", "sieve"])
        .output()
        .expect("avm runs");
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    let counter = |key: &str| -> u64 {
        err.split_whitespace()
            .find_map(|w| w.strip_prefix(key).and_then(|v| v.parse().ok()))
            .unwrap_or_else(|| panic!("no {key} in {err}"))
    };
    assert!(counter("blocks_compiled=") > 0, "{err}");
    assert!(counter("insts_run_compiled=") > 100 * counter("blocks_run_interpreted="), "{err}");
    // Every region compiled, so there is nothing to warn about.
    assert_eq!(counter("compile_failures="), 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn bundled_examples_are_listed_and_run() {
    let Some(dir) = avm::guest_dir() else { return };
    let o = avm(&["examples"]);
    assert_eq!(o.status.code(), Some(0));
    let names = stdout(&o);
    assert!(names.lines().any(|n| n == "rv32i"), "examples: {names} in {dir}");
    let o = avm(&["exec", "--example", "rv32i"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let o = avm(&["exec", "--example", "../sieve"]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn an_odd_entry_point_exits_3_with_a_clear_error() {
    let mut elf = program(|_| {}, 0);
    // e_entry: BASE + 1.
    elf[24..28].copy_from_slice(&(BASE + 1).to_le_bytes());
    let o = run("odd-entry", &elf, &[]);
    assert_eq!(o.status.code(), Some(3), "stderr: {}", stderr(&o));
    assert!(stderr(&o).contains("odd"), "stderr: {}", stderr(&o));
}

#[test]
fn exec_of_an_endless_file_reads_a_bounded_amount_and_refuses() {
    let o = avm(&["exec", "--ram-mib", "1", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(3), "stderr: {}", stderr(&o));
    assert!(stderr(&o).contains("larger than"), "stderr: {}", stderr(&o));
}

#[test]
fn htif_console_prints_odd_bytes_written_low_word_first() {
    // putchar('a'), putchar('b'): low word (the byte) first, then the high word.
    let elf = program(
        |a| {
            a.li(T0, TOHOST);
            for &b in b"ab" {
                a.li(T1, u32::from(b));
                a.store(StoreOp::Sw, T1, T0, 0);
                a.li(T1, 0x0101_0000);
                a.store(StoreOp::Sw, T1, T0, 4);
            }
        },
        0,
    );
    for engine in ["--engine=interp", "--engine=jit"] {
        let o = run("htif-putchar", &elf, &[engine]);
        assert_eq!(o.status.code(), Some(0), "{engine}: stderr: {}", stderr(&o));
        assert_eq!(stdout(&o), "ab", "{engine}");
    }
}

#[test]
fn json_of_runs_that_differ_only_in_ram_differs() {
    // The same code; only a data page the program never reads differs.
    let mut a = Asm::new(BASE);
    a.li(T0, TOHOST);
    a.li(T1, 1);
    a.store(StoreOp::Sw, T1, T0, 0);
    a.store(StoreOp::Sw, Reg::ZERO, T0, 4);
    let spin = a.here();
    a.j(spin);
    let code = a.finish().expect("assembles");
    let with_data = |byte: u8| {
        ElfBuilder::new(BASE)
            .segment(BASE, &code, 0x100, PF_R | PF_X)
            .segment(TOHOST, &[0; 16], 16, PF_R | PF_W)
            .segment(BASE + 0x4000, &[byte; 4], 4, PF_R | PF_W)
            .symbol("tohost", TOHOST)
            .symbol("fromhost", TOHOST + 8)
            .build()
    };
    let a = run("json-ram-1", &with_data(1), &["--json"]);
    let b = run("json-ram-2", &with_data(2), &["--json"]);
    let (va, vb): (serde_json::Value, serde_json::Value) =
        (serde_json::from_str(&stdout(&a)).expect("JSON"), serde_json::from_str(&stdout(&b)).expect("JSON"));
    assert_eq!((&va["x"], &va["pc"], &va["csr"]), (&vb["x"], &vb["pc"], &vb["csr"]), "same hart");
    assert_ne!(va["ram"]["keccak256"], vb["ram"]["keccak256"], "RAM differs, so the JSON does");
}
