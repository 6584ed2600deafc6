//! The tool's pure parts (arithmetic, formatting, arguments, the report's layout) on
//! made-up numbers, and one cheap real check: the Linux build of `alu` passes under
//! `qemu-riscv32` when it is installed. No times are asserted.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use clap::Parser;

use crate::args::{Args, Runner, Workload};
use crate::prepare;
use crate::report::{fmt_count, fmt_ratio, geomean, markdown_table, other_load, LoadAvg, Report};
use crate::runs;

#[test]
fn geomean_of_ratios() {
    let mean = geomean(&[2.0, 8.0]).expect("positive values");
    assert!((mean - 4.0).abs() < 1e-12, "{mean}");
    let mean = geomean(&[3.0, 3.0, 3.0]).expect("positive values");
    assert!((mean - 3.0).abs() < 1e-12, "{mean}");
    assert_eq!(geomean(&[]), None);
    assert_eq!(geomean(&[1.0, 0.0]), None);
    assert_eq!(geomean(&[1.0, f64::NAN]), None);
}

#[test]
fn numbers_are_formatted_as_the_issue_writes_them() {
    assert_eq!(fmt_ratio(3.12), "3.1x");
    assert_eq!(fmt_ratio(17.25), "17.2x");
    assert_eq!(fmt_ratio(1.0), "1.0x");
    assert_eq!(fmt_count(0), "0");
    assert_eq!(fmt_count(999), "999");
    assert_eq!(fmt_count(1_000), "1,000");
    assert_eq!(fmt_count(170_001_037), "170,001,037");
}

#[test]
fn markdown_table_layout() {
    let table = markdown_table(&["a", "b"], &[vec!["row".into(), "1".into(), "2".into()]]);
    assert_eq!(table, "| | a | b |\n|---|---|---|\n| row | 1 | 2 |\n");
}

#[test]
fn arguments() {
    let args = Args::try_parse_from(["side_by_side"]).expect("no arguments parse");
    assert_eq!(args.rounds, 3);
    assert_eq!(args.workloads(), Workload::ALL.to_vec());
    assert!(!args.no_build);
    assert_eq!(args.markdown, None);

    // Table order, each once, whatever the order given.
    let args = Args::try_parse_from(["side_by_side", "--rounds", "5", "--workloads", "alu,sieve,alu"]).expect("parses");
    assert_eq!(args.rounds, 5);
    assert_eq!(args.workloads(), vec![Workload::Sieve, Workload::Alu]);

    let args = Args::try_parse_from(["side_by_side", "--no-build", "--markdown", "out.md"]).expect("parses");
    assert!(args.no_build);
    assert_eq!(args.markdown.as_deref(), Some(std::path::Path::new("out.md")));

    for bad in [&["--rounds", "0"][..], &["--rounds", "x"], &["--workloads", "fib"], &["--bogus"]] {
        let argv = std::iter::once("side_by_side").chain(bad.iter().copied());
        assert!(Args::try_parse_from(argv).is_err(), "{bad:?} must be refused");
    }
}

#[test]
fn load_average() {
    let load = LoadAvg::parse("0.42 0.50 1.61 1/97 12345\n").expect("parses");
    assert_eq!(load, LoadAvg { one: 0.42, five: 0.50, fifteen: 1.61 });
    assert_eq!(load.to_string(), "0.42 0.50 1.61");
    assert_eq!(LoadAvg::parse(""), None);
    assert_eq!(LoadAvg::parse("0.1 x 0.3"), None);

    let at = |one| Some(LoadAvg { one, five: 0.0, fifteen: 0.0 });
    // One minute of our own runs adds 1 - 1/e = 0.63 to the 1-minute average.
    let other = other_load(at(0.1), at(0.9), Duration::from_secs(60)).expect("known");
    assert!((other - (0.9 - (1.0 - (-1.0f64).exp()))).abs() < 1e-9, "{other}");
    // Before the rounds everything is other work.
    assert_eq!(other_load(at(2.0), at(0.0), Duration::from_secs(60)), Some(2.0));
    assert_eq!(other_load(None, at(1.0), Duration::from_secs(60)), None);
}

/// A report on made-up times: native 10 ms everywhere, the issue's ratios for the JIT.
fn made_up_report(qemu: bool) -> Report {
    let ms = |n: f64| Duration::from_secs_f64(n / 1e3);
    let mut best = BTreeMap::new();
    let mut instret = BTreeMap::new();
    for (w, jit) in Workload::ALL.into_iter().zip([31.0, 75.0, 173.0, 15.0]) {
        best.insert((Runner::Native, w), ms(10.0));
        best.insert((Runner::Jit, w), ms(jit));
        best.insert((Runner::Interp, w), ms(400.0));
        if qemu {
            best.insert((Runner::Qemu, w), ms(20.0));
        }
        instret.insert(w, 200_000_000);
    }
    let mut runners = vec![Runner::Native, Runner::Jit, Runner::Interp];
    if qemu {
        runners.push(Runner::Qemu);
    }
    let load = |one| Some(LoadAvg { one, five: 0.3, fifteen: 0.2 });
    Report {
        rounds: 3,
        workloads: Workload::ALL.to_vec(),
        runners,
        best,
        instret,
        host: "x86_64, 2 cores".into(),
        qemu: qemu.then(|| "qemu-riscv32 version 7.2".into()),
        compare: None,
        load_before: load(0.1),
        load_after: load(0.2),
        elapsed: Duration::from_secs(10),
    }
}

#[test]
fn report_layout() {
    let text = made_up_report(true).render();
    // The issue's layout; the geometric mean of exactly 3.1, 7.5, 17.3 and 1.5 is 4.956.
    assert!(text.contains("| | sieve | keccak | ecdsa | ALU loop | geomean |\n|---|---|---|---|---|---|\n"), "{text}");
    assert!(text.contains("| aVM jit vs native | 3.1x | 7.5x | 17.3x | 1.5x | 5.0x |\n"), "{text}");
    assert!(text.contains("| aVM interp vs native | 40.0x | 40.0x | 40.0x | 40.0x | 40.0x |\n"), "{text}");
    assert!(text.contains("| qemu-riscv32 (TCG) vs native | 2.0x | 2.0x | 2.0x | 2.0x | 2.0x |\n"), "{text}");
    assert!(text.contains("| native | 10.0 | 10.0 | 10.0 | 10.0 |\n"), "{text}");
    assert!(
        text.contains("| guest instructions | 200,000,000 | 200,000,000 | 200,000,000 | 200,000,000 |\n"),
        "{text}"
    );
    // 200 M instructions in 400 ms.
    assert!(text.contains("| aVM interp MIPS | 500 | 500 | 500 | 500 |\n"), "{text}");
    assert!(text.contains("before 0.10 0.30 0.20, after 0.20 0.30 0.20"), "{text}");
    assert!(text.contains("Quiet"), "{text}");
    assert!(!text.contains("LOADED"), "{text}");

    let mut loaded = made_up_report(false);
    loaded.load_before = Some(LoadAvg { one: 2.5, five: 2.0, fifteen: 1.0 });
    let text = loaded.render();
    assert!(text.contains("**LOADED**"), "{text}");
    assert!(!text.contains("qemu-riscv32 (TCG) vs native"), "{text}");
    assert!(text.contains("`apt-get install qemu-user`"), "{text}");
}

#[test]
fn instret_from_avm_json() {
    assert_eq!(runs::parse_instret(br#"{"result":"PASS","instret":170001037,"x":[0]}"#), Some(170_001_037));
    assert_eq!(runs::parse_instret(br#"{"result":"PASS"}"#), None);
    assert_eq!(runs::parse_instret(b"not json"), None);
}

/// The Linux user-mode build of `alu` runs under `qemu-riscv32` and passes its
/// self-check (exit status 0). Builds only `alu` (incrementally after the first time).
#[test]
fn linux_alu_passes_under_qemu() {
    if prepare::qemu_version().is_none() {
        eprintln!("skipped: {} is not installed (Debian/Ubuntu: apt-get install qemu-user)", prepare::QEMU);
        return;
    }
    let dir = prepare::build_linux_guest(&prepare::target_dir(), &[Workload::Alu]).expect("the Linux guest builds");
    let out = Command::new(prepare::QEMU).arg(dir.join("alu")).output().expect("qemu-riscv32 starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}: {stdout}{}", out.status, String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout, "alu: 10000000 iterations, checksum 0x62130bbf\n");
}

#[test]
fn a_compared_build_gets_its_own_rows_and_is_named() {
    let mut report = made_up_report(false);
    for w in Workload::ALL {
        report.best.insert((Runner::JitCompare, w), Duration::from_millis(40));
    }
    report.runners.insert(2, Runner::JitCompare);
    report.compare = Some("/tmp/avm-before".into());
    let text = report.render();
    assert!(text.contains("| aVM jit (--compare) vs native | 4.0x | 4.0x | 4.0x | 4.0x | 4.0x |\n"), "{text}");
    assert!(text.contains("| aVM jit (--compare) MIPS | 5000 | 5000 | 5000 | 5000 |\n"), "{text}");
    assert!(text.contains("`/tmp/avm-before exec --engine=jit`"), "{text}");
}

#[test]
fn compare_runs_the_other_binary_with_the_jit() {
    use std::path::PathBuf;
    let programs = crate::prepare::Programs {
        avm: PathBuf::from("/new/avm"),
        native: PathBuf::from("/native"),
        bare_dir: PathBuf::from("/guest"),
        linux_dir: None,
        compare: Some(PathBuf::from("/old/avm")),
    };
    let cmd = crate::runs::command(&programs, Runner::JitCompare, Workload::Keccak).expect("a command");
    assert_eq!(cmd.get_program(), "/old/avm");
    let args: Vec<_> = cmd.get_args().collect();
    assert_eq!(args, ["exec", "--engine=jit", "/guest/keccak"]);
    let without = crate::prepare::Programs { compare: None, ..programs };
    assert!(crate::runs::command(&without, Runner::JitCompare, Workload::Keccak).is_none());
}
