//! How generated programs behave on the interpreter: exit kinds, instructions
//! retired, traps taken, privilege at the end. A tool for tuning the generator
//! (`cargo run --release -p avm-testgen --example stats -- [COUNT] [LIMIT]`);
//! `--show SEED` prints one program's disassembly and outcome instead.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Instant;

use avm_interp::{Interpreter, Tracer};
use avm_isa::Decoded;
use avm_mmu::Exit;
use avm_mmu::Machine;
use avm_testgen::{generate_seeded, machine_for, run_to_end};

/// Records every pc executed.
struct Pcs(Rc<RefCell<BTreeSet<u32>>>);

impl Tracer for Pcs {
    fn before(&mut self, _m: &Machine, pc: u32, _d: &Decoded) {
        self.0.borrow_mut().insert(pc);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--show") {
        let seed = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let p = generate_seeded(seed);
        print!("{}", p.disassembly());
        let mut m = machine_for(&p);
        let out = run_to_end(&mut Interpreter::new(), &mut m, 2000, &[]);
        println!("{out:?} instret {} pc {:#x} {:?} traps {}", m.hart.instret, m.hart.pc, m.hart.privilege, m.hart.x[4]);
        return;
    }
    let count: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let limit: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let mut exits: BTreeMap<String, u64> = BTreeMap::new();
    let (mut instret, mut traps, mut gen_time, mut run_time, mut coverage) = (0u64, 0u64, 0f64, 0f64, 0f64);
    let mut ends: BTreeMap<char, u64> = BTreeMap::new();
    for seed in 0..count {
        let t = Instant::now();
        let p = generate_seeded(seed);
        gen_time += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut m = machine_for(&p);
        let mut engine = Interpreter::new();
        let pcs = Rc::new(RefCell::new(BTreeSet::new()));
        engine.set_tracer(Some(Box::new(Pcs(pcs.clone()))));
        let out = run_to_end(&mut engine, &mut m, limit, &[]);
        let body: Vec<u32> = p.instructions().into_iter().map(|(a, _, _)| a).filter(|&a| a >= p.body).collect();
        let hit = body.iter().filter(|a| pcs.borrow().contains(a)).count();
        coverage += hit as f64 / body.len().max(1) as f64;
        run_time += t.elapsed().as_secs_f64();
        let kind = match out.exit {
            Exit::Halt { .. } => "halt".to_string(),
            Exit::TrapLoop { trap } => format!("traploop {:?}", trap.cause),
            e => format!("{e:?}"),
        };
        *exits.entry(kind).or_default() += 1;
        *ends.entry(p.privilege.letter()).or_default() += 1;
        instret += m.hart.instret;
        traps += u64::from(m.hart.x[4].min(100));
    }
    println!("{count} programs, limit {limit}");
    println!("exits: {exits:?}");
    println!("start modes: {ends:?}");
    println!("mean instret {:.0}, mean traps {:.1}", instret as f64 / count as f64, traps as f64 / count as f64);
    println!("mean fraction of body instructions executed {:.2}", coverage / count as f64);
    println!(
        "generate {:.1} us/program, load+run {:.1} us/program",
        gen_time * 1e6 / count as f64,
        run_time * 1e6 / count as f64
    );
}
