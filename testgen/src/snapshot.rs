//! The oracle's notion of "the same machine": a [`Snapshot`] of everything
//! the design says both engines must agree on, and [`compare`], which names
//! the first thing that differs.
//!
//! What is compared, in the order a reader wants to hear about it: the exit
//! reason, the exits met on the way (`wfi`), `pc`, privilege, `instret`, the
//! 32 registers by ABI name, the LR/SC reservation, every CSR by name, the
//! console output, RAM (page by page, so a difference names its page) and the
//! TLB. What is *not* compared: engine-private bookkeeping such as the RAM's
//! code-page flags, which record what an engine happened to decode.

use std::fmt;

use avm_isa::Reg;
use avm_mmu::memory::PAGE_SIZE;
use avm_mmu::{Exit, Hart, Machine, Tlb, RAM_BASE};

/// How a run ended: the final exit and the resumable exits met before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The exit that ended the run (`InstructionLimit` if the limit was hit).
    pub exit: Exit,
    /// Exits the runner resumed after (`WaitForInterrupt`), with the
    /// `instret` at which each happened. Slicing never adds entries here, so
    /// a one-shot run and a sliced run must produce the same list.
    pub resumed: Vec<(u64, Exit)>,
}

/// The comparable state of a machine after a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Which engine (and schedule) produced it, for messages.
    pub label: String,
    /// How the run ended.
    pub outcome: Outcome,
    /// Registers, pc, privilege, instret, reservation and CSRs.
    pub hart: Hart,
    /// Cached translations (part of the agreed state: both engines fill and
    /// flush it through the same MMU calls in the same order).
    pub tlb: Box<Tlb>,
    /// [`avm_mmu::Ram::digest`] of all RAM.
    pub ram_digest: u64,
    /// Digest of each RAM page that is not all zero, as (physical address, digest).
    pub ram_pages: Vec<(u32, u64)>,
    /// Console and HTIF output.
    pub console: Vec<u8>,
}

impl Snapshot {
    /// Capture `m` after a run that ended with `outcome`.
    pub fn capture(label: impl Into<String>, m: &Machine, outcome: Outcome) -> Snapshot {
        Snapshot {
            label: label.into(),
            outcome,
            hart: m.hart.clone(),
            tlb: Box::new(m.tlb.clone()),
            ram_digest: m.ram.digest(),
            ram_pages: page_digests(m.ram.bytes()),
            console: m.console.clone(),
        }
    }
}

/// FNV-1a of every nonzero page.
fn page_digests(ram: &[u8]) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    for (i, page) in ram.chunks(PAGE_SIZE as usize).enumerate() {
        if page.iter().all(|&b| b == 0) {
            continue;
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in page {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let addr = RAM_BASE.wrapping_add((i as u32).wrapping_mul(PAGE_SIZE));
        out.push((addr, h));
    }
    out
}

/// The first difference between two snapshots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Label of the first snapshot (usually the reference).
    pub left: String,
    /// Label of the second snapshot.
    pub right: String,
    /// What differs: `exit`, `pc`, `x10 (a0)`, `csr mepc`, `ram page 0x80005000`...
    pub field: String,
    /// Its value on the left.
    pub left_value: String,
    /// Its value on the right.
    pub right_value: String,
    /// Where each side stopped: `pc`, privilege and `instret`, for context.
    pub context: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} vs {}: {} differs: {} != {} ({})",
            self.left, self.right, self.field, self.left_value, self.right_value, self.context
        )
    }
}

impl std::error::Error for Divergence {}

/// Compare two snapshots; `Err` names the first field that differs (boxed:
/// a divergence is rare and its report is large).
pub fn compare(a: &Snapshot, b: &Snapshot) -> Result<(), Box<Divergence>> {
    let diverge = |field: String, l: String, r: String| {
        Box::new(Divergence {
            left: a.label.clone(),
            right: b.label.clone(),
            field,
            left_value: l,
            right_value: r,
            context: format!(
                "{}: pc {:#010x} {} instret {}; {}: pc {:#010x} {} instret {}",
                a.label,
                a.hart.pc,
                a.hart.privilege.letter(),
                a.hart.instret,
                b.label,
                b.hart.pc,
                b.hart.privilege.letter(),
                b.hart.instret
            ),
        })
    };
    let (ha, hb) = (&a.hart, &b.hart);
    macro_rules! check {
        ($name:expr, $l:expr, $r:expr, $fmt:literal) => {
            if $l != $r {
                return Err(diverge($name.to_string(), format!($fmt, $l), format!($fmt, $r)));
            }
        };
    }
    check!("exit", a.outcome.exit, b.outcome.exit, "{:?}");
    check!("resumed exits", a.outcome.resumed, b.outcome.resumed, "{:?}");
    check!("pc", ha.pc, hb.pc, "{:#010x}");
    check!("privilege", ha.privilege, hb.privilege, "{:?}");
    check!("instret", ha.instret, hb.instret, "{}");
    for i in 0..32 {
        let name = format!("x{i} ({})", Reg::new(i as u32).abi_name());
        check!(name, ha.x[i], hb.x[i], "{:#010x}");
    }
    check!("reservation", ha.reservation, hb.reservation, "{:x?}");
    // Every CSR field by its name (`Csrs::fields`); a field added to `Csrs`
    // but not named there is still caught by the whole-struct comparison below.
    for ((name, l), (_, r)) in ha.csr.fields().into_iter().zip(hb.csr.fields()) {
        check!(format!("csr {name}"), l, r, "{:#x}");
    }
    check!("csrs (field without a name in the oracle)", ha.csr, hb.csr, "{:?}");
    check!("hart (field without a name in the oracle)", ha, hb, "{:?}");
    if a.console != b.console {
        let l = String::from_utf8_lossy(&a.console).into_owned();
        let r = String::from_utf8_lossy(&b.console).into_owned();
        return Err(diverge("console".into(), format!("{l:?}"), format!("{r:?}")));
    }
    if a.ram_pages != b.ram_pages || a.ram_digest != b.ram_digest {
        let page = first_page_difference(&a.ram_pages, &b.ram_pages);
        let field = match page {
            Some(addr) => format!("ram page {addr:#010x}"),
            None => "ram digest".to_string(),
        };
        return Err(diverge(field, format!("{:#018x}", a.ram_digest), format!("{:#018x}", b.ram_digest)));
    }
    for (side, la, lb) in [
        ("read", &a.tlb.read, &b.tlb.read),
        ("write", &a.tlb.write, &b.tlb.write),
        ("fetch", &a.tlb.fetch, &b.tlb.fetch),
    ] {
        for (i, (ea, eb)) in la.iter().zip(lb.iter()).enumerate() {
            check!(format!("tlb.{side}[{i}]"), ea, eb, "{:x?}");
        }
    }
    Ok(())
}

/// The lowest page address whose digest differs (or that only one side has).
fn first_page_difference(a: &[(u32, u64)], b: &[(u32, u64)]) -> Option<u32> {
    let mut pages: Vec<u32> = a.iter().chain(b).map(|&(p, _)| p).collect();
    pages.sort_unstable();
    pages.dedup();
    let get = |v: &[(u32, u64)], p: u32| v.iter().find(|&&(q, _)| q == p).map(|&(_, h)| h);
    pages.into_iter().find(|&p| get(a, p) != get(b, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use avm_mmu::MachineConfig;

    fn machine() -> Machine {
        Machine::new(MachineConfig { ram_size: 64 << 10, ..MachineConfig::default() }).expect("map RAM")
    }

    fn snap(label: &str, m: &Machine) -> Snapshot {
        Snapshot::capture(label, m, Outcome { exit: Exit::InstructionLimit, resumed: Vec::new() })
    }

    #[test]
    fn identical_machines_agree() {
        let m = machine();
        assert!(compare(&snap("a", &m), &snap("b", &m)).is_ok());
    }

    #[test]
    fn names_register_csr_ram_and_exit() {
        let a = machine();
        let mut b = machine();
        b.hart.x[10] = 5;
        let d = compare(&snap("a", &a), &snap("b", &b)).unwrap_err();
        assert_eq!(d.field, "x10 (a0)");
        assert!(d.to_string().contains("0x00000005"), "{d}");

        let mut b = machine();
        b.hart.csr.mepc = 8;
        assert_eq!(compare(&snap("a", &a), &snap("b", &b)).unwrap_err().field, "csr mepc");

        let mut b = machine();
        b.write_phys_bytes(RAM_BASE + 0x5004, &[1]).unwrap();
        assert_eq!(compare(&snap("a", &a), &snap("b", &b)).unwrap_err().field, "ram page 0x80005000");

        let b = machine();
        let mut sb = snap("b", &b);
        sb.outcome.exit = Exit::Halt { code: 0 };
        assert_eq!(compare(&snap("a", &a), &sb).unwrap_err().field, "exit");

        let mut b = machine();
        b.tlb.fill(avm_mmu::tlb::Access::Read, 0x1000, 0);
        assert_eq!(compare(&snap("a", &a), &snap("b", &b)).unwrap_err().field, "tlb.read[1]");
    }
}
