//! Loads and stores: the inline TLB hit path of `Machine::load`/`store`,
//! one check per access group ([`crate::plan::group`]), a refill of the TLB
//! on a miss that needs nothing else (a helper call on a cold path), and
//! the side exit to the interpreter on any other miss.

use avm_isa::{LoadOp, Reg, StoreOp};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{BlockArg, InstBuilder, Value};

use avm_mmu::Machine;

use super::{Emitter, Site};
use crate::abi::layout::*;
use crate::abi::Status;
use crate::cranelift::ir::{ram_flags, state_flags, tlb_entry, I32, I64};
use crate::helpers;
use crate::plan::group::Group;

impl Emitter<'_, '_> {
    /// The TLB hit test of `Tlb::lookup` and the side exit on a miss;
    /// returns the host address to access in the continuation.
    ///
    /// The in-page check is folded into the tag compare: the tag is compared
    /// with the page of the access's *last* byte, looked up in the slot of its
    /// first byte. Without a page crossing both pages are the same; with one,
    /// the last byte's page is the next page, whose tag can never sit in the
    /// first page's slot (consecutive pages use consecutive slots, and there
    /// is more than one slot), so the access misses, as `Tlb::lookup` says.
    pub(super) fn tlb_access(&mut self, side: i32, addr: Value, width: u32, s: Site) -> Value {
        const _: () = assert!(avm_mmu::tlb::TLB_ENTRIES > 1);
        // The side exit needs `m.hart.x` exact.
        self.write_back();
        let entry = self.tlb_entry(addr);
        let b = &mut self.b;
        let tag = b.ins().load(I32, state_flags(), entry, side + OFF_TAG);
        let last = if width > 1 { b.ins().iadd_imm_s(addr, i64::from(width - 1)) } else { addr };
        let want = b.ins().band_imm_u(last, !0xfff_i64 & 0xffff_ffff);
        let hit = b.ins().icmp(IntCC::Equal, tag, want);
        let delta = b.ins().load(I32, state_flags(), entry, side + OFF_DELTA);
        let width = self.iconst(width);
        let delta = self.refill_unless(hit, delta, (helpers::jit_fill, [addr, width]), (side, entry), s);
        let b = &mut self.b;
        let off = b.ins().iadd(addr, delta);
        let off = b.ins().uextend(I64, off);
        b.ins().iadd(self.ram, off)
    }

    /// Continue with `delta` if `hit`; otherwise (in a region that already
    /// calls a helper and does not keep registers) call the refill helper
    /// `fill` (`jit_fill` or `jit_fill_group`) with the machine, the two
    /// values given and the side (1 for stores) on a cold path, and
    /// continue with the entry's new delta if it refilled the TLB, or take
    /// the side exit of site `s` if not (or in any other region). The helper touches no guest
    /// register, so nothing is written back or reloaded around it; a
    /// refill that is not exactly what the interpreter would do is refused
    /// (see `helpers::jit_fill`).
    fn refill_unless(
        &mut self,
        hit: Value,
        delta: Value,
        (fill, args): (extern "C" fn(*mut Machine, u32, u32, u32) -> u32, [Value; 2]),
        (side, entry): (i32, Value),
        s: Site,
    ) -> Value {
        // Only where the region calls a helper anyway. A call, even on a
        // cold path, makes a leaf function non-leaf: callee-saved registers
        // saved at every entry, and every value live across the call kept
        // out of the registers it clobbers. Measured on warm runs, refilling
        // everywhere cost ecdsa ~20% and keccak ~10% (loop regions that
        // keep registers suffer most), while the kernel and contract code
        // it is for (regions with `ecall`, `sret` or CSR helpers) gained
        // ~5% per ERC-20 transfer.
        if !self.has_exec || self.keep {
            self.side_exit_unless(hit, s);
            return delta;
        }
        let found = self.b.create_block();
        self.b.append_block_param(found, I32);
        let cold = self.b.create_block();
        self.b.set_cold_block(cold);
        self.b.ins().brif(hit, found, &[BlockArg::Value(delta)], cold, &[]);
        self.b.seal_block(cold);
        self.b.switch_to_block(cold);
        let write = self.iconst(u32::from(side == OFF_TLB_WRITE));
        let f = self.b.ins().iconst(I64, fill as *const () as i64);
        let call = self.b.ins().call_indirect(self.helpers.fill, f, &[self.m, args[0], args[1], write]);
        let filled = self.b.inst_results(call)[0];
        let refilled = self.b.ins().load(I32, state_flags(), entry, side + OFF_DELTA);
        let site = self.iconst(s.packed());
        self.b.ins().brif(filled, found, &[BlockArg::Value(refilled)], self.miss, &[BlockArg::Value(site)]);
        self.b.seal_block(found);
        self.b.switch_to_block(found);
        self.forget_registers();
        self.b.block_params(found)[0]
    }

    /// The address of the TLB entry for `addr` in the read side (add the
    /// side's offset): `m + (page % TLB_ENTRIES) * 8`.
    pub(super) fn tlb_entry(&mut self, addr: Value) -> Value {
        tlb_entry(self.b, self.m, addr)
    }

    /// Continue only if `ok`; otherwise take the side exit of site `s`
    /// (one jump to the shared miss block).
    pub(super) fn side_exit_unless(&mut self, ok: Value, s: Site) {
        let cont = self.unless_cold(ok);
        let site = self.iconst(s.packed());
        self.b.ins().jump(self.miss, &[BlockArg::Value(site)]);
        self.b.switch_to_block(cont);
        self.forget_registers();
    }

    /// The check of access group `g` (see [`crate::plan::group`]), at its first
    /// access `s`: both ends of `[base + min, base + min + span)` hit the TLB
    /// on every side the group uses, with one delta. Returns the host address
    /// of `base + min`; on failure, the side exit of the first access.
    pub(super) fn group_check(&mut self, g: usize, s: Site) -> Value {
        let Group { base, min, span, reads, writes, .. } = self.groups[g].clone();
        // The side exit needs `m.hart.x` exact.
        self.write_back();
        let base = self.reg(base);
        let lo = self.address(base, min);
        let hi = self.b.ins().iadd_imm_s(lo, i64::from(span - 1));
        // Each end's slot and page are computed once for both sides. The
        // tests are folded into one word: `tag ^ page` is 0 on a hit and
        // `delta ^ delta0` is 0 when the deltas agree, so the group hits
        // exactly when the `or` of them all is 0 (no flag materialised per
        // test, one compare and branch).
        let ends = [lo, hi].map(|addr| {
            let entry = self.tlb_entry(addr);
            let page = self.b.ins().band_imm_u(addr, !0xfff_i64 & 0xffff_ffff);
            (entry, page)
        });
        let sides = [(reads, OFF_TLB_READ), (writes, OFF_TLB_WRITE)];
        let mut bad: Option<Value> = None;
        let mut delta: Option<Value> = None;
        for (_, side) in sides.into_iter().filter(|(used, _)| *used) {
            for (entry, page) in ends {
                let b = &mut self.b;
                let tag = b.ins().load(I32, state_flags(), entry, side + OFF_TAG);
                let mut miss = b.ins().bxor(tag, page);
                let d = b.ins().load(I32, state_flags(), entry, side + OFF_DELTA);
                match delta {
                    Some(d0) => {
                        let other = b.ins().bxor(d, d0);
                        miss = b.ins().bor(miss, other);
                    }
                    None => delta = Some(d),
                }
                bad = Some(match bad {
                    Some(all) => b.ins().bor(all, miss),
                    None => miss,
                });
            }
        }
        let (Some(bad), Some(delta)) = (bad, delta) else { unreachable!("a group has at least one access") };
        let ok = self.b.ins().icmp_imm_u(IntCC::Equal, bad, 0);
        // A group of loads only or stores only can refill its one entry
        // (see `helpers::jit_fill_group`); a mixed one leaves on a miss.
        let delta = if reads != writes {
            let side = if writes { OFF_TLB_WRITE } else { OFF_TLB_READ };
            self.refill_unless(ok, delta, (helpers::jit_fill_group, [lo, hi]), (side, ends[0].0), s)
        } else {
            self.side_exit_unless(ok, s);
            delta
        };
        let off = self.b.ins().iadd(lo, delta);
        let off = self.b.ins().uextend(I64, off);
        self.b.ins().iadd(self.ram, off)
    }

    /// The host address of an access, as a base and a displacement: its
    /// group's (checking the group at its first access), or its own
    /// single-access check.
    pub(super) fn host(&mut self, side: i32, rs1: Reg, offset: i32, width: u32, s: Site) -> (Value, i32) {
        let Some(g) = self.member.get(s.i as usize).copied().flatten() else {
            let base = self.reg(rs1);
            let addr = self.address(base, offset);
            return (self.tlb_access(side, addr, width, s), 0);
        };
        let min = self.groups[g].min;
        let host = match self.group_host[g] {
            Some(host) => host,
            None => {
                let host = self.group_check(g, s);
                self.group_host[g] = Some(host);
                host
            }
        };
        (host, offset - min)
    }

    /// `base + offset`, the guest address of an access. With offset 0 it is
    /// the register's value itself: an `iadd` of 0 would be lowered, without
    /// the optimiser, into a second copy of the instruction that computed
    /// the base (the sieve's `add a4,s0,a5; sb a0,0(a4)`).
    pub(super) fn address(&mut self, base: Value, offset: i32) -> Value {
        if offset == 0 {
            return base;
        }
        self.b.ins().iadd_imm_s(base, i64::from(offset))
    }

    pub(super) fn load(&mut self, op: LoadOp, rd: Reg, rs1: Reg, offset: i32, s: Site) {
        let (host, disp) = self.host(OFF_TLB_READ, rs1, offset, op.width(), s);
        let f = ram_flags();
        let v = match op {
            LoadOp::Lb => self.b.ins().sload8(I32, f, host, disp),
            LoadOp::Lbu => self.b.ins().uload8(I32, f, host, disp),
            LoadOp::Lh => self.b.ins().sload16(I32, f, host, disp),
            LoadOp::Lhu => self.b.ins().uload16(I32, f, host, disp),
            LoadOp::Lw => self.b.ins().load(I32, f, host, disp),
        };
        self.set(rd, v);
    }

    pub(super) fn store(&mut self, op: StoreOp, rs1: Reg, rs2: Reg, offset: i32, s: Site) {
        let (host, disp) = self.host(OFF_TLB_WRITE, rs1, offset, op.width(), s);
        let value = self.reg(rs2);
        let f = ram_flags();
        match op {
            StoreOp::Sb => self.b.ins().istore8(f, value, host, disp),
            StoreOp::Sh => self.b.ins().istore16(f, value, host, disp),
            StoreOp::Sw => self.b.ins().store(f, value, host, disp),
        };
        if self.may_stop {
            // A plain RAM write never sets `m.stop_block`, but a helper
            // earlier in this block may have: then this store ends the
            // block, as in the interpreter's `execute`.
            let stop = self.b.ins().uload8(I32, state_flags(), self.m, OFF_STOP);
            let clear = self.b.ins().icmp_imm_u(IntCC::Equal, stop, 0);
            let next = self.unless_cold(clear);
            let pc = self.pc_plus(s.at.wrapping_add(s.len));
            self.exit(pc, s.i + 1, Status::End.code());
            self.b.switch_to_block(next);
        }
    }
}
