//! A text tracer: one line per executed instruction.
//!
//! Each line is `<instret> <priv> <pc>: <disassembly>`, for example
//! `42 M 80000010: addi a0,a0,1`, where `instret` counts the instructions
//! retired *before* this one and the disassembly is objdump's (with
//! `-M no-aliases`). Lines go through a [`BufWriter`] and are formatted
//! straight into it by [`Disasm`]'s `Display`, so tracing allocates nothing
//! per step. The first write error (a closed pipe, say) switches the tracer
//! off instead of failing the run; the buffer is flushed when the tracer is
//! dropped (with its engine).

use std::io::{BufWriter, Write};

use avm_interp::Tracer;
use avm_isa::disasm::Disasm;
use avm_isa::Decoded;
use avm_mmu::Machine;

/// Writes a trace line per instruction to `W`.
pub struct TextTracer<W: Write> {
    out: Option<BufWriter<W>>,
}

impl<W: Write> TextTracer<W> {
    /// A tracer writing to `out` (buffered).
    pub fn new(out: W) -> TextTracer<W> {
        TextTracer { out: Some(BufWriter::with_capacity(1 << 16, out)) }
    }
}

impl<W: Write> Tracer for TextTracer<W> {
    fn before(&mut self, m: &Machine, pc: u32, decoded: &Decoded) {
        let Some(out) = &mut self.out else { return };
        let disasm = Disasm { decoded: *decoded, pc };
        let line = writeln!(out, "{} {} {pc:08x}: {disasm}", m.hart.instret, m.hart.privilege.letter());
        if line.is_err() {
            self.out = None;
        }
    }
}
