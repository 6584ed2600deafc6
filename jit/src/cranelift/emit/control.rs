//! Control flow inside a region: the edges between guest blocks (taken
//! only where the dispatcher would do nothing else first), branches and
//! jumps, the dispatch over every instruction, helper calls, and the
//! page-straddling instruction at the end of a block.

use avm_isa::{AluImmOp, AluOp, Cond, Inst, Reg};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Block, BlockArg, InstBuilder, Value};

use super::{Emitter, GuestBlock, Site};
use crate::abi::layout::*;
use crate::abi::Status;
use crate::cranelift::ir::{fetch_entry, ram_flags, state_flags, I32, I64};
use crate::helpers;
use crate::plan::lower::{plain_csr, straddles_inline};
use crate::plan::region::UNROLL;

/// The Cranelift condition code of a comparison (branches and `slt`/`sltu`).
pub(super) fn int_cc(cond: Cond) -> IntCC {
    match cond {
        Cond::Eq => IntCC::Equal,
        Cond::Ne => IntCC::NotEqual,
        Cond::Lt => IntCC::SignedLessThan,
        Cond::Ge => IntCC::SignedGreaterThanOrEqual,
        Cond::Ltu => IntCC::UnsignedLessThan,
        Cond::Geu => IntCC::UnsignedGreaterThanOrEqual,
    }
}

impl Emitter<'_, '_> {
    /// Continue at byte offset `rel` (from the entry) after the current
    /// guest block's `n` instructions retired. Inside the region this is a
    /// jump, taken only where the dispatcher would run that same block next
    /// without doing anything else first:
    /// - the budget covers the whole next block (exact metering; the
    ///   dispatcher would otherwise interpret it);
    /// - `m.stop_block` is clear, if a helper ran: only a helper can set it
    ///   (a write to a code page or to the HTIF device; compiled stores
    ///   never reach either, their TLB side holds only plain RAM) and then
    ///   the dispatcher has invalidations to drain or an exit to report;
    /// - for a block in the region's other page: the fetch TLB maps that
    ///   page as at region formation ([`Self::same_fetch_mapping`]).
    ///
    /// Nothing else the dispatcher tests can have changed since it entered
    /// the function: interrupt state, privilege and translation only change
    /// in system instructions, which end a guest block with no static
    /// successor, and within a page the fetch translation is the one the
    /// dispatcher used (TLB fetch side untouched by compiled code). Otherwise
    /// (and for targets outside the region) return with `pc` = the target.
    pub(super) fn leave(&mut self, rel: u32, n: u32) {
        self.write_back();
        let Some(k) = self.blocks[..self.internal].iter().position(|g| g.rel as u32 == rel) else {
            let target = self.pc_plus(rel);
            self.exit(target, n, Status::End.code());
            return;
        };
        let GuestBlock { block: next, len, page, .. } = self.blocks[k];
        let here = self.blocks[self.at_block];
        let fuel = self.b.use_var(self.fuel);
        let left = self.b.ins().iadd_imm_s(fuel, -i64::from(n));
        // Inside an unrolled self-loop, the check made before its first copy
        // covered this one: no helper ran since, and the budget was checked
        // for every copy up to the block itself.
        if k == self.at_block {
            if let Some(j) = self.at_copy {
                let to = self.unrolled[k].get(j + 1).copied().unwrap_or(next);
                self.enter(to, left);
                return;
            }
        }
        let mut go = None;
        if self.metering {
            go = Some(self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, left, i64::from(len)));
        }
        if self.has_exec {
            let stop = self.b.ins().uload8(I32, state_flags(), self.m, OFF_STOP);
            let clear = self.b.ins().icmp_imm_u(IntCC::Equal, stop, 0);
            go = Some(match go {
                Some(fits) => self.b.ins().band(fits, clear),
                None => clear,
            });
        }
        if page != here.page {
            let same = self.same_fetch_mapping(here.rel as u32, rel);
            go = Some(match go {
                Some(ok) => self.b.ins().band(ok, same),
                None => same,
            });
        }
        let first_copy = self.unrolled[k].first().copied();
        let Some(go) = go else {
            self.enter(first_copy.unwrap_or(next), left);
            return;
        };
        let cont = self.unless_cold(go);
        // The target's pc is only computed where it is needed.
        let target = self.pc_plus(rel);
        self.exit(target, n, Status::End.code());
        self.b.switch_to_block(cont);
        match first_copy {
            // An unrolled self-loop: run all its copies if the budget covers
            // them (one check for `UNROLL` iterations), else the block alone.
            Some(first) if self.metering => {
                let all =
                    self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, left, i64::from(len) * UNROLL as i64);
                let (whole, single) = (self.b.create_block(), self.b.create_block());
                self.b.ins().brif(all, whole, &[], single, &[]);
                self.b.seal_block(whole);
                self.b.seal_block(single);
                self.b.switch_to_block(whole);
                self.enter(first, left);
                self.b.switch_to_block(single);
                self.enter(next, left);
            }
            _ => self.enter(first_copy.unwrap_or(next), left),
        }
    }

    /// Whether the fetch TLB maps the pages of region offsets `from` and
    /// `to` (adjacent pages) with one delta: then they are as adjacent in
    /// RAM as they were when the region was formed from RAM, and the block
    /// at `to` is the one compiled (its page is marked as code, so a write
    /// to it would have dropped this region). Both entries must hit, as a
    /// fetch that does not walk the page table would need; a miss, a remap
    /// or a privilege change that flushed the TLB make this false, and the
    /// code leaves for the dispatcher, which fetches through the MMU.
    pub(super) fn same_fetch_mapping(&mut self, from: u32, to: u32) -> Value {
        let [(e0, miss0), (e1, miss1)] = [from, to].map(|rel| {
            let addr = self.pc_plus(rel);
            self.fetch_entry(addr)
        });
        let b = &mut self.b;
        let [d0, d1] = [e0, e1].map(|entry| b.ins().load(I32, state_flags(), entry, OFF_TLB_FETCH + OFF_DELTA));
        let other_delta = b.ins().bxor(d0, d1);
        let misses = b.ins().bor(miss0, miss1);
        let bad = b.ins().bor(other_delta, misses);
        b.ins().icmp_imm_u(IntCC::Equal, bad, 0)
    }

    /// The fetch-TLB entry for `addr`'s page (the read side's address; add
    /// `OFF_TLB_FETCH`), and a value that is zero exactly when the entry
    /// holds that page: a hit, for an access that stays in the page.
    pub(super) fn fetch_entry(&mut self, addr: Value) -> (Value, Value) {
        fetch_entry(self.b, self.m, addr)
    }

    /// Branch on `ok`: go on in a new block if it holds, else to a new cold
    /// block, which becomes the current one. Returns the block to go on in,
    /// for the caller to switch to once the cold path is emitted.
    pub(super) fn unless_cold(&mut self, ok: Value) -> Block {
        let cont = self.b.create_block();
        let cold = self.b.create_block();
        self.b.set_cold_block(cold);
        self.b.ins().brif(ok, cont, &[], cold, &[]);
        self.b.seal_block(cont);
        self.b.seal_block(cold);
        self.b.switch_to_block(cold);
        cont
    }

    /// Cross an internal edge into guest block `next`, with `fuel` left.
    pub(super) fn enter(&mut self, next: Block, fuel: Value) {
        self.b.def_var(self.fuel, fuel);
        self.b.ins().jump(next, &[]);
    }

    /// Emit one instruction. Returns true if it ended the guest block (a
    /// jump or branch).
    pub(super) fn inst(&mut self, inst: Inst, s: Site, word: u32) -> bool {
        match inst {
            // `li` and `mv` (`addi rd, x0, imm`, `add rd, x0, rs`) are a
            // constant and a copy: no IR for an operation with x0.
            Inst::AluImm { op: AluImmOp::Addi | AluImmOp::Ori | AluImmOp::Xori, rd, rs1: Reg::ZERO, imm } => {
                let v = self.iconst(imm as u32);
                self.set(rd, v);
            }
            Inst::Alu { op: AluOp::Add | AluOp::Or | AluOp::Xor, rd, rs1: Reg::ZERO, rs2: r }
            | Inst::Alu { op: AluOp::Add | AluOp::Sub | AluOp::Or | AluOp::Xor, rd, rs1: r, rs2: Reg::ZERO } => {
                let v = self.reg(r);
                self.set(rd, v);
            }
            Inst::AluImm { op, rd, rs1, imm } => {
                let a = self.reg(rs1);
                let v = self.alu_imm(op, a, imm);
                self.set(rd, v);
            }
            Inst::Alu { op: op @ (AluOp::Mul | AluOp::Mulh | AluOp::Mulhu | AluOp::Mulhsu), rd, rs1, rs2 } => {
                self.multiply(op, rd, rs1, rs2);
            }
            Inst::Alu { op, rd, rs1, rs2 } => {
                let a = self.reg(rs1);
                let b = self.reg(rs2);
                let v = self.alu(op, a, b);
                self.set(rd, v);
            }
            Inst::Lui { rd, imm } => {
                let v = self.iconst(imm);
                self.set(rd, v);
            }
            Inst::Auipc { rd, imm } => {
                let v = self.pc_plus(s.at.wrapping_add(imm));
                self.set(rd, v);
            }
            Inst::Load { op, rd, rs1, offset } => self.load(op, rd, rs1, offset, s),
            Inst::Store { op, rs1, rs2, offset } => self.store(op, rs1, rs2, offset, s),
            Inst::Branch { op, rs1, rs2, offset } => {
                let a = self.reg(rs1);
                let b = self.reg(rs2);
                let taken = self.b.ins().icmp(int_cc(op.cond()), a, b);
                self.write_back();
                let (to, fall) = (s.at.wrapping_add(offset as u32), s.at.wrapping_add(s.len));
                let yes = self.b.create_block();
                let no = self.b.create_block();
                self.b.ins().brif(taken, yes, &[], no, &[]);
                self.b.seal_block(yes);
                self.b.seal_block(no);
                self.b.switch_to_block(yes);
                self.leave(to, s.n);
                self.b.switch_to_block(no);
                self.leave(fall, s.n);
                return true;
            }
            Inst::Jal { rd, offset } => {
                let link = self.pc_plus(s.at.wrapping_add(s.len));
                self.set(rd, link);
                let to = s.at.wrapping_add(offset as u32);
                self.leave(to, s.n);
                return true;
            }
            Inst::Jalr { rd, rs1, offset } => {
                let base = self.reg(rs1);
                let sum = self.b.ins().iadd_imm_s(base, i64::from(offset));
                let target = self.b.ins().band_imm_u(sum, 0xffff_fffe);
                let link = self.pc_plus(s.at.wrapping_add(s.len));
                self.set(rd, link);
                self.exit(target, s.n, Status::End.code());
                return true;
            }
            // One in-order hart: nothing to order.
            Inst::Fence { .. } => {}
            Inst::Csr { op, rd, rs1, csr } if plain_csr(inst).is_some() => self.plain_csr(op, rd, rs1, csr, s),
            // What `plan::lower::uses_helper` leaves to the interpreter.
            // Listed, not `_`: a new instruction is a decision here.
            Inst::Lr { .. }
            | Inst::Sc { .. }
            | Inst::Amo { .. }
            | Inst::FenceI
            | Inst::Ecall
            | Inst::Ebreak
            | Inst::Mret
            | Inst::Sret
            | Inst::Wfi
            | Inst::SfenceVma { .. }
            | Inst::Csr { .. }
            | Inst::Illegal { .. } => {
                debug_assert!(crate::plan::lower::uses_helper(inst));
                self.exec(s, word);
            }
        }
        false
    }

    /// Hand one instruction to the interpreter's `execute` (see
    /// `helpers::jit_exec`).
    pub(super) fn exec(&mut self, s: Site, word: u32) {
        // The helper reads and writes `m.hart.x`.
        if self.keep {
            self.store_written();
        } else {
            self.write_back();
        }
        let instret = self.instret_plus(s.i);
        self.b.ins().store(state_flags(), instret, self.m, OFF_INSTRET);
        let pc = self.pc_plus(s.at);
        let w = self.iconst(word);
        let f = self.b.ins().iconst(I64, helpers::jit_exec as *const () as i64);
        let call = self.b.ins().call_indirect(self.helpers.exec, f, &[self.m, self.ctx, w, pc]);
        let status = self.b.inst_results(call)[0];
        let cont = self.b.create_block();
        // `Status::Continue` is 0: any other status leaves as it is.
        const _: () = assert!(Status::Continue.code() == 0);
        self.b.ins().brif(status, self.ret_raw, &[BlockArg::Value(status)], cont, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
        // The helper may have written its rd (and x0 back to 0).
        self.versions = self.versions.map(|v| v.wrapping_add(1));
        if self.keep {
            self.load_named();
        } else {
            self.loaded = 0;
        }
        // The helper may have left `m.stop_block` set (a write to a code
        // page, or a page walk's A/D update in one) without ending the
        // block.
        self.may_stop = true;
    }

    /// Run the instruction at region offset `at`, after the block's `n`
    /// (it straddles the page end), and leave. If it is one that
    /// [`straddles_inline`] allows, and memory still holds the `word` it
    /// was compiled for, it runs compiled: both halves are fetched through
    /// the fetch TLB (a hit on both pages means the interpreter's
    /// `fetch_word` would succeed with no side effect) and compared with
    /// `word` on every run, so neither a rewrite of the next page nor a
    /// different mapping of it can run stale code, and neither needs an
    /// invalidation. Otherwise [`Self::exec_next`] runs it. On the keccak
    /// workload, whose round loop crosses a page, `jit_exec_next` with its
    /// fetch and decode was ~13% of a warm run.
    pub(super) fn straddler(&mut self, n: u32, at: u32, word: u32) {
        let Some(inst) = straddles_inline(word) else {
            self.exec_next(n, at);
            return;
        };
        // Each half sits at an even address, so it never crosses a page.
        let entries = [at, at.wrapping_add(2)].map(|rel| {
            let addr = self.pc_plus(rel);
            let (entry, miss) = self.fetch_entry(addr);
            (addr, entry, miss)
        });
        let b = &mut self.b;
        let misses = b.ins().bor(entries[0].2, entries[1].2);
        let both = b.ins().icmp_imm_u(IntCC::Equal, misses, 0);
        let (fetched, inline, slow) = (b.create_block(), b.create_block(), b.create_block());
        b.set_cold_block(slow);
        b.ins().brif(both, fetched, &[], slow, &[]);
        b.seal_block(fetched);
        b.switch_to_block(fetched);
        let ram = self.ram;
        let [low, high] = entries.map(|(addr, entry, _)| {
            let delta = b.ins().load(I32, state_flags(), entry, OFF_TLB_FETCH + OFF_DELTA);
            let off = b.ins().iadd(addr, delta);
            let off = b.ins().uextend(I64, off);
            let host = b.ins().iadd(ram, off);
            b.ins().uload16(I32, ram_flags(), host, 0)
        });
        let high = b.ins().ishl_imm_u(high, 16);
        let fetched_word = b.ins().bor(low, high);
        let same = b.ins().icmp_imm_u(IntCC::Equal, fetched_word, i64::from(word));
        b.ins().brif(same, inline, &[], slow, &[]);
        b.seal_block(inline);
        b.seal_block(slow);
        b.switch_to_block(slow);
        self.exec_next(n, at);
        self.b.switch_to_block(inline);
        self.cur = n as usize;
        let site = Site { i: n, at, len: 4, n: n + 1 };
        if !self.inst(inst, site, word) {
            self.leave(at.wrapping_add(4), n + 1);
        }
    }

    /// Run the instruction after the block (it straddles the page end)
    /// through `helpers::jit_exec_next` and leave: the helper fetches it
    /// across the boundary, executes it and sets `pc`/`instret` (or stashes
    /// the trap or exit) itself.
    pub(super) fn exec_next(&mut self, n: u32, at: u32) {
        if self.keep {
            self.store_written();
        } else {
            self.write_back();
        }
        let instret = self.instret_plus(n);
        self.b.ins().store(state_flags(), instret, self.m, OFF_INSTRET);
        let pc = self.pc_plus(at);
        let f = self.b.ins().iconst(I64, helpers::jit_exec_next as *const () as i64);
        let call = self.b.ins().call_indirect(self.helpers.exec_next, f, &[self.m, self.ctx, pc]);
        let status = self.b.inst_results(call)[0];
        self.b.ins().jump(self.ret_raw, &[BlockArg::Value(status)]);
    }
}
