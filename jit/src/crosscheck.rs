//! Crosscheck mode (`AVM_CROSSCHECK=1` or [`JitConfig::crosscheck`]): the
//! reference interpreter runs in lockstep on a copy of the machine, block by
//! block, and the first difference stops everything with a report naming the
//! register, CSR, pc or counter that differs and the disassembly of the block
//! that produced it.
//!
//! Both sides take the same steps: the boundary work (device exit, budget,
//! invalidations, interrupts) and one block. The JIT side may run that block
//! compiled or interpreted; the reference always interprets. After each step
//! the harts, TLBs, consoles and exits are compared; RAM (a digest of all of
//! it, too slow for every block) is compared when the run ends.
//!
//! This is a debugging aid: a difference is a bug in the JIT, so it panics
//! with the report (after printing it to stderr).
//!
//! [`JitConfig::crosscheck`]: crate::JitConfig::crosscheck

use std::fmt::Write as _;

use avm_interp::{decode_block, Interpreter};
use avm_isa::disasm::Disasm;
use avm_isa::Decoded;
use avm_mmu::{Exit, Machine};

/// Run to an exit, `jit_step` (the engine's boundary work and one block)
/// beside the reference interpreter on a copy of the machine, comparing
/// after every step. The engine passes its step in, so this module needs
/// nothing of the engine's and sits below it.
pub(crate) fn run(m: &mut Machine, limit: u64, mut jit_step: impl FnMut(&mut Machine, u64) -> Option<Exit>) -> Exit {
    let mut shadow = match m.try_clone() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("avm-jit crosscheck: cannot copy the machine ({e}); running without crosscheck");
            return loop {
                if let Some(exit) = jit_step(m, limit) {
                    break exit;
                }
            };
        }
    };
    let mut reference = Interpreter::new();
    loop {
        let pc = m.hart.pc;
        let a = jit_step(m, limit);
        let b = reference_step(&mut reference, &mut shadow, limit);
        let mut diff = compare(m, &shadow, a, b);
        if diff.is_empty() && a.is_some() && m.ram.digest() != shadow.ram.digest() {
            diff.push_str("  RAM contents differ\n");
        }
        if !diff.is_empty() {
            // Translating the pc may touch the TLB: fine, we are stopping.
            let block = match shadow.fetch_offset(pc) {
                Ok(off) => disassemble(&shadow, off, pc),
                Err(_) => String::from("  (block not fetchable)\n"),
            };
            let report = format!(
                "avm-jit crosscheck: JIT and interpreter differ after the block at {pc:#010x}:\n{diff}block:\n{block}"
            );
            eprintln!("{report}");
            panic!("{report}");
        }
        if let Some(exit) = a {
            return exit;
        }
    }
}

/// The interpreter's own loop body: boundary, then one block.
fn reference_step(interp: &mut Interpreter, m: &mut Machine, limit: u64) -> Option<Exit> {
    if let Some(exit) = m.take_pending_exit() {
        return Some(exit);
    }
    if m.hart.instret >= limit {
        return Some(Exit::InstructionLimit);
    }
    interp.sync_invalidations(m);
    if m.hart.csr.mip & m.hart.csr.mie != 0 {
        if let Some(exit) = m.take_interrupt() {
            return Some(exit);
        }
    }
    interp.run_block(m, limit)
}

/// Every difference between the two machines, one per line (empty if none).
pub fn compare(jit: &Machine, reference: &Machine, a: Option<Exit>, b: Option<Exit>) -> String {
    let mut out = String::new();
    let (h, r) = (&jit.hart, &reference.hart);
    for i in 0..32 {
        if h.x[i] != r.x[i] {
            let _ = writeln!(
                out,
                "  x{i} ({}): jit {:#010x}, interp {:#010x}",
                avm_isa::Reg::new(i as u32),
                h.x[i],
                r.x[i]
            );
        }
    }
    if h.pc != r.pc {
        let _ = writeln!(out, "  pc: jit {:#010x}, interp {:#010x}", h.pc, r.pc);
    }
    if h.instret != r.instret {
        let _ = writeln!(out, "  instret: jit {}, interp {}", h.instret, r.instret);
    }
    if h.privilege != r.privilege {
        let _ = writeln!(out, "  privilege: jit {:?}, interp {:?}", h.privilege, r.privilege);
    }
    if h.reservation != r.reservation {
        let _ = writeln!(out, "  reservation: jit {:?}, interp {:?}", h.reservation, r.reservation);
    }
    if h.csr != r.csr {
        // Csrs is a struct of named fields: its Debug output names them.
        let (dj, di) = (format!("{:#?}", h.csr), format!("{:#?}", r.csr));
        for (lj, li) in dj.lines().zip(di.lines()) {
            if lj != li {
                let _ = writeln!(out, "  csr: jit `{}`, interp `{}`", lj.trim(), li.trim());
            }
        }
    }
    // The digest, not `==`: this runs after every block.
    if jit.tlb.digest() != reference.tlb.digest() {
        let _ = writeln!(out, "  TLB contents differ");
    }
    if jit.console != reference.console {
        let _ = writeln!(out, "  console output differs");
    }
    if a != b {
        let _ = writeln!(out, "  exit: jit {a:?}, interp {b:?}");
    }
    out
}

fn disassemble(m: &Machine, off: u32, pc: u32) -> String {
    let mut out = String::new();
    let Some(block) = decode_block(m, off) else {
        return String::from("  (instruction straddles a page)\n");
    };
    let mut at = pc;
    for op in block.ops.iter() {
        let d = Disasm { decoded: Decoded { inst: op.inst, len: op.len }, pc: at };
        let _ = writeln!(out, "  {at:08x}: {d}");
        at = at.wrapping_add(u32::from(op.len));
    }
    out
}
