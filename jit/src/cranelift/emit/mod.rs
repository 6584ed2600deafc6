//! Emitting one region as one Cranelift function: the state of the
//! function being built ([`Emitter`]), the prologue with its entry jump
//! table, guest registers as variables, write-backs and the shared exits.
//! The instructions themselves are emitted by topic: control flow, helper
//! calls and page-straddling instructions in [`control`], loads, stores and
//! their TLB checks in [`memory`], arithmetic in [`alu`], the plain CSRs'
//! instructions in [`csr`].

mod alu;
mod control;
mod csr;
mod memory;

use avm_interp::Op;
use avm_isa::{Inst, Reg};
use cranelift_codegen::ir::Block;
use cranelift_codegen::ir::{BlockArg, InstBuilder, JumpTableData, SigRef, Value};
use cranelift_frontend::{FunctionBuilder, Variable};

use super::ir::{state_flags, I32, I64};
use crate::abi::layout::*;
use crate::abi::{BlockFn, MissSite, Status};
use crate::plan::group::{self, Group};
use crate::plan::lower::{self, uses_helper};
use crate::plan::region::{keeps_registers, unrolls, RegionBlock, UNROLL};

/// The register an inline instruction writes, as a bit (0 for none).
fn written_bit(inst: Inst) -> u32 {
    lower::written(inst).map_or(0, |rd| 1 << rd.idx())
}

/// The signatures of the helpers a region calls, by absolute address
/// (so that region code needs no relocation, see [`CodeMemory`](crate::code::CodeMemory)).
#[derive(Clone, Copy)]
pub(super) struct Helpers {
    /// `helpers::jit_exec`.
    pub(super) exec: SigRef,
    /// `helpers::jit_exec_next`.
    pub(super) exec_next: SigRef,
    /// `helpers::jit_fill` and `helpers::jit_fill_group`.
    pub(super) fill: SigRef,
}

/// State of one function being emitted.
pub(super) struct Emitter<'f, 'r> {
    b: &'f mut FunctionBuilder<'r>,
    m: Value,
    ctx: Value,
    /// Host address of RAM (loaded in the prologue if the region accesses
    /// memory).
    ram: Value,
    helpers: Helpers,
    /// Guest registers.
    vars: [Variable; 32],
    /// Registers the region names: loaded in the prologue and again after a
    /// helper call.
    named: u32,
    /// Registers the region's inline instructions write.
    written: u32,
    /// Bit r: `vars[r]` differs from `m.hart.x[r]`.
    dirty: u32,
    /// Bit r: `vars[r]` holds the guest register.
    loaded: u32,
    /// Internal edges check the budget.
    metering: bool,
    /// A normal exit tail-calls the next region when the dispatcher would
    /// (see [`Emitter::tail_call`]): with chaining, in a region that calls
    /// no helper that can go on (`jit_exec`; `jit_exec_next` always ends
    /// the call).
    tail_calls: bool,
    /// The region signature, for the tail call.
    region_sig: SigRef,
    /// Which copy of the chain stub the tail call goes to.
    stub: usize,
    /// Registers stay in their variables across the whole region (a loop);
    /// otherwise they are reloaded after every memory access and helper call
    /// and at every guest block start (see [`keeps_registers`]).
    keep: bool,
    /// The budget left at the start of the current guest block: `limit -
    /// instret`. Counting down makes an internal edge one subtraction and
    /// one compare with a constant (the next block's length); `instret` is
    /// only computed where the code leaves.
    fuel: Variable,
    /// Some block of the region calls `jit_exec`.
    has_exec: bool,
    /// `m.stop_block` may have been set in the current guest block (only a
    /// helper can set it): stores must then check it.
    may_stop: bool,
    /// The region's guest blocks, in region order.
    blocks: Vec<GuestBlock>,
    /// How many of `blocks` control may jump to (all, or none without
    /// chaining).
    internal: usize,
    /// Per guest block: the extra copies of an unrolled self-loop
    /// ([`unrolls`]), empty for other blocks. Copy `j` continues unchecked
    /// into copy `j + 1`, the last one into the block itself.
    unrolled: Vec<Vec<Block>>,
    /// The guest block being emitted and which of its unrolled copies (`None`:
    /// the block itself).
    at_block: usize,
    at_copy: Option<usize>,
    /// Exit that stores `pc` and `instret` (params: pc, instret, status).
    ret: Block,
    /// Exit after a helper that set `pc`/`instret` itself (param: status).
    ret_raw: Block,
    /// Side exit of a load or store that missed the TLB (param: the packed
    /// [`MissSite`]).
    miss: Block,
    /// The current guest block's access groups ([`crate::plan::group`]): the
    /// group of each instruction, the groups, and each group's host address
    /// of `base + min` once its check is emitted.
    member: Vec<Option<usize>>,
    groups: Vec<Group>,
    group_host: Vec<Option<Value>>,
    /// Per instruction of the current guest block: store its result at
    /// once (see [`Emitter::last_definitions`]); and the instruction being
    /// emitted.
    store_now: Vec<bool>,
    cur: usize,
    /// The current guest block's instructions.
    insts: Vec<Inst>,
    /// Per guest register: how many times it was written (see [`alu`]).
    versions: [u32; 32],
    /// 64-bit products computed in the current guest block, for the other
    /// half of a wide multiply (see [`alu`]).
    products: Vec<alu::Product>,
    /// Wide multiplies share one product (see [`alu`]).
    fusion: bool,
}

/// A guest block of the function being emitted.
#[derive(Clone, Copy)]
pub(super) struct GuestBlock {
    /// Byte offset from the region's first block.
    rel: i32,
    /// Its Cranelift block.
    block: Block,
    /// Instructions, a straddler included: the budget entering it needs.
    len: u32,
    /// See [`RegionBlock::page`].
    page: i32,
}

/// Where an instruction sits: its index in its guest block, its byte offset
/// from the region's entry, its length, and the block's instruction count.
#[derive(Clone, Copy, Debug)]
pub(super) struct Site {
    i: u32,
    at: u32,
    len: u32,
    n: u32,
}

impl Site {
    /// The site of a side exit packed into one constant, so a miss path is
    /// a single jump (see [`MissSite`]).
    fn packed(self) -> u32 {
        MissSite { at: self.at as i32, retired: self.i, rest: self.n - self.i }.pack()
    }
}

impl<'f, 'r> Emitter<'f, 'r> {
    /// Emit the whole function for `region` into `b`.
    pub(super) fn emit(
        b: &'f mut FunctionBuilder<'r>,
        helpers: Helpers,
        (region_sig, stub): (SigRef, usize),
        region: &[RegionBlock],
        chaining: bool,
        metering: bool,
        fusion: bool,
    ) {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let params = b.block_params(entry).to_vec();
        let (m, ctx) = (params[0], params[1]);
        // Every instruction compiled inline, straddlers included.
        let insts = || {
            region
                .iter()
                .flat_map(|blk| blk.ops.iter().map(|op| op.inst).chain(blk.straddler.and_then(lower::straddles_inline)))
        };
        let named = insts().fold(0, |acc, inst| acc | lower::named(inst).bits()) & !1;
        let written = insts().fold(0, |acc, inst| acc | written_bit(inst)) & !1;
        let has_exec = insts().any(uses_helper);
        // An inline straddler reads its two halves from RAM.
        let has_mem = insts().any(lower::is_access)
            || region.iter().any(|blk| blk.straddler.and_then(lower::straddles_inline).is_some());

        // The dispatcher enters only with `instret <= limit` (the entry
        // block fits the budget), so the fuel never underflows.
        let fuel = b.declare_var(I64);
        let i0 = b.ins().load(I64, state_flags(), m, OFF_INSTRET);
        let limit = b.ins().load(I64, state_flags(), ctx, OFF_CTX_LIMIT);
        let f0 = b.ins().isub(limit, i0);
        b.def_var(fuel, f0);
        let ram = if has_mem { b.ins().load(I64, state_flags(), ctx, OFF_CTX_RAM) } else { b.ins().iconst(I64, 0) };
        let vars = std::array::from_fn(|_| b.declare_var(I32));
        let blocks = region
            .iter()
            .map(|blk| GuestBlock {
                rel: blk.rel,
                block: b.create_block(),
                len: blk.ops.len() as u32 + u32::from(blk.straddler.is_some()),
                page: blk.page,
            })
            .collect();
        let internal = if chaining { region.len() } else { 0 };
        let unrolled = region
            .iter()
            .map(|blk| {
                let copies = if chaining && unrolls(blk) { UNROLL - 1 } else { 0 };
                (0..copies).map(|_| b.create_block()).collect()
            })
            .collect();
        let ret = b.create_block();
        for t in [I32, I64, I32] {
            b.append_block_param(ret, t);
        }
        let ret_raw = b.create_block();
        b.append_block_param(ret_raw, I32);
        b.set_cold_block(ret_raw);
        let miss = b.create_block();
        b.append_block_param(miss, I32);
        b.set_cold_block(miss);

        let mut e = Emitter {
            b,
            m,
            ctx,
            ram,
            helpers,
            vars,
            named,
            written,
            dirty: 0,
            loaded: 0,
            keep: keeps_registers(region),
            metering,
            tail_calls: chaining && !has_exec,
            region_sig,
            stub,
            fuel,
            has_exec,
            may_stop: false,
            blocks,
            internal,
            unrolled,
            at_block: 0,
            at_copy: None,
            ret,
            ret_raw,
            miss,
            member: Vec::new(),
            groups: Vec::new(),
            group_host: Vec::new(),
            store_now: Vec::new(),
            cur: 0,
            insts: Vec::new(),
            versions: [0; 32],
            products: Vec::new(),
            fusion,
        };
        if e.keep {
            e.load_named();
        }
        if e.internal > 1 {
            // Every block of the region is an entry: the call starts at
            // block `ctx.entry` (0 = the block the region was formed for).
            let index = e.b.ins().load(I32, state_flags(), ctx, OFF_CTX_ENTRY);
            // Each target needs its own `BlockCall`: SSA construction
            // appends the variables' values to every one of them.
            let calls: Vec<_> = e.blocks.iter().map(|g| e.b.func.dfg.block_call(g.block, &[])).collect();
            let default = e.b.func.dfg.block_call(e.blocks[0].block, &[]);
            let table = JumpTableData::new(default, &calls);
            let table = e.b.create_jump_table(table);
            e.b.ins().br_table(index, table);
        } else {
            let first = e.blocks[0].block;
            e.b.ins().jump(first, &[]);
        }
        for (k, blk) in region.iter().enumerate() {
            let copies = e.unrolled[k].len();
            for copy in (0..copies).map(Some).chain([None]) {
                let cb = copy.map_or(e.blocks[k].block, |j| e.unrolled[k][j]);
                e.b.switch_to_block(cb);
                (e.at_block, e.at_copy) = (k, copy);
                e.dirty = 0;
                e.forget_registers();
                e.may_stop = false;
                e.guest_block(blk);
            }
        }
        e.epilogues();
    }

    /// (Re)load every register the region names from `m.hart.x`.
    fn load_named(&mut self) {
        for i in 1..32 {
            if self.named & (1 << i) != 0 {
                let v = self.b.ins().load(I32, state_flags(), self.m, OFF_X + 4 * i as i32);
                self.b.def_var(self.vars[i], v);
            }
        }
        self.loaded = self.named;
    }

    /// Without `keep`: registers are read from `m.hart.x` again on their
    /// next use (it is exact here: everything was written back), so no
    /// register value lives across this point.
    fn forget_registers(&mut self) {
        if !self.keep {
            self.loaded = 0;
        }
    }

    /// The two shared exits. `ret` stores `pc` and `instret` (and the side
    /// exit's remainder); both store the edge count and return the status.
    fn epilogues(&mut self) {
        // Every exit is emitted: the exits' predecessors are all known.
        self.b.seal_block(self.ret);
        self.b.seal_block(self.ret_raw);
        self.b.seal_block(self.miss);
        self.b.switch_to_block(self.ret);
        let p = self.b.block_params(self.ret).to_vec();
        if self.keep {
            self.store_written();
        }
        self.b.ins().store(state_flags(), p[0], self.m, OFF_PC);
        self.b.ins().store(state_flags(), p[1], self.m, OFF_INSTRET);
        if self.tail_calls {
            // Every exit through `ret` is `Status::End`, which the stub
            // returns when it does not chain.
            self.tail_call();
        } else {
            self.b.ins().return_(&[p[2]]);
        }

        self.b.switch_to_block(self.ret_raw);
        let status = self.b.block_params(self.ret_raw)[0];
        self.b.ins().return_(&[status]);

        // A side exit leaves `instret` at the start of the guest block and
        // the site in the context; the engine finishes `pc` and `instret`.
        self.b.switch_to_block(self.miss);
        let site = self.b.block_params(self.miss)[0];
        if self.keep {
            self.store_written();
        }
        let base = self.instret_plus(0);
        self.b.ins().store(state_flags(), base, self.m, OFF_INSTRET);
        self.b.ins().store(state_flags(), site, self.ctx, OFF_CTX_REST);
        let status = self.iconst(Status::Miss.code());
        self.b.ins().return_(&[status]);
    }

    /// At a normal exit (`pc` and `instret` stored): tail-call the chain
    /// stub ([`Trampoline`](crate::cranelift::Trampoline)), which calls the next region if the
    /// dispatcher's chain loop would, and returns otherwise.
    fn tail_call(&mut self) {
        let copy = OFF_CTX_CHAIN + (size_of::<Option<BlockFn>>() * self.stub) as i32;
        let stub = self.b.ins().load(I64, state_flags(), self.ctx, copy);
        self.b.ins().return_call_indirect(self.region_sig, stub, &[self.m, self.ctx]);
    }

    fn iconst(&mut self, v: u32) -> Value {
        self.b.ins().iconst(I32, i64::from(v))
    }

    /// The entry pc plus a byte offset (wrapping). The entry pc is read
    /// from the context where it is needed, like the limit, rather than
    /// kept in a register the whole time: in a loop, registers are for
    /// guest values.
    fn pc_plus(&mut self, delta: u32) -> Value {
        let pc = self.b.ins().load(I32, state_flags(), self.ctx, OFF_CTX_PC);
        self.b.ins().iadd_imm_s(pc, i64::from(delta))
    }

    fn reg(&mut self, r: Reg) -> Value {
        let i = r.idx();
        if i == 0 {
            return self.iconst(0);
        }
        if self.loaded & (1 << i) == 0 {
            let v = self.b.ins().load(I32, state_flags(), self.m, OFF_X + 4 * i as i32);
            self.b.def_var(self.vars[i], v);
            self.loaded |= 1 << i;
        }
        self.b.use_var(self.vars[i])
    }

    fn set(&mut self, r: Reg, v: Value) {
        let i = r.idx();
        if i == 0 {
            return;
        }
        self.b.def_var(self.vars[i], v);
        self.loaded |= 1 << i;
        self.versions[i] = self.versions[i].wrapping_add(1);
        if !self.keep && self.store_now.get(self.cur).copied().unwrap_or(false) {
            // The last definition before the next write-back: store it now,
            // so the value need not stay live until then (and the
            // write-back need not store an earlier definition again).
            self.b.ins().store(state_flags(), v, self.m, OFF_X + 4 * i as i32);
            self.dirty &= !(1 << i);
        } else {
            self.dirty |= 1 << i;
        }
    }

    /// Store every dirty register to `m.hart.x`; from here on they agree.
    ///
    /// With `keep` this is left to the exits (see [`Emitter::store_written`]):
    /// registers stay in host registers, and the main path of a loop stores
    /// nothing.
    fn write_back(&mut self) {
        if self.keep {
            return;
        }
        for i in 1..32 {
            if self.dirty & (1 << i) != 0 {
                let v = self.b.use_var(self.vars[i]);
                self.b.ins().store(state_flags(), v, self.m, OFF_X + 4 * i as i32);
            }
        }
        self.dirty = 0;
    }

    /// With `keep`: store every register the region writes. Their variables
    /// are defined everywhere (loaded in the prologue), so this is exact on
    /// every path; an unchanged register stores the value it already had.
    /// In the shared exit blocks, `use_var` makes each register a block
    /// parameter that every exit site passes.
    fn store_written(&mut self) {
        for i in 1..32 {
            if self.written & (1 << i) != 0 {
                let v = self.b.use_var(self.vars[i]);
                self.b.ins().store(state_flags(), v, self.m, OFF_X + 4 * i as i32);
            }
        }
    }

    /// instret at the start of the current guest block plus `k`.
    fn instret_plus(&mut self, k: u32) -> Value {
        let fuel = self.b.use_var(self.fuel);
        let limit = self.b.ins().load(I64, state_flags(), self.ctx, OFF_CTX_LIMIT);
        let base = self.b.ins().isub(limit, fuel);
        if k == 0 {
            return base;
        }
        self.b.ins().iadd_imm_s(base, i64::from(k))
    }

    /// Leave the function: registers, `pc`, `instret = base + retired`,
    /// status.
    ///
    /// An exit may sit on a cold side path (a store that finds
    /// `m.stop_block` set) while the main path goes on: the dirty set is
    /// the main path's and stays as it was.
    fn exit(&mut self, pc: Value, retired: u32, status: u32) {
        let dirty = self.dirty;
        self.write_back();
        self.dirty = dirty;
        let instret = self.instret_plus(retired);
        let s = self.iconst(status);
        self.b.ins().jump(self.ret, &[BlockArg::Value(pc), BlockArg::Value(instret), BlockArg::Value(s)]);
    }

    /// Emit one guest block (the current Cranelift block is its own).
    fn guest_block(&mut self, blk: &RegionBlock) {
        (self.member, self.groups) = group::plan(blk.ops);
        self.store_now = self.last_definitions(blk.ops);
        self.group_host = vec![None; self.groups.len()];
        self.products.clear();
        self.insts = blk.ops.iter().map(|op| op.inst).collect();
        let rel = blk.rel as u32;
        let n = blk.ops.len() as u32;
        let mut at = 0u32;
        for (i, op) in blk.ops.iter().enumerate() {
            let len = u32::from(op.len);
            let word = match op.len {
                2 => u32::from(u16::from_le_bytes([blk.bytes[at as usize], blk.bytes[at as usize + 1]])),
                _ => u32::from_le_bytes([
                    blk.bytes[at as usize],
                    blk.bytes[at as usize + 1],
                    blk.bytes[at as usize + 2],
                    blk.bytes[at as usize + 3],
                ]),
            };
            let site = Site { i: i as u32, at: rel.wrapping_add(at), len, n };
            self.cur = i;
            if self.inst(op.inst, site, word) {
                return;
            }
            at += len;
        }
        // No control transfer at the end: fall through (cut by the length
        // cap or the page end, or after a system instruction).
        let next = rel.wrapping_add(at);
        if let Some(word) = blk.straddler {
            self.straddler(n, next, word);
            return;
        }
        let last = blk.ops[blk.ops.len() - 1].inst;
        if last.ends_block() {
            let target = self.pc_plus(next);
            self.exit(target, n, Status::End.code());
        } else {
            self.leave(next, n);
        }
    }

    /// For each instruction of a block: whether it writes a register that no
    /// later instruction writes before the next write-back point (a load or
    /// store with its own TLB check, the first access of a group, a helper
    /// call, a plain CSR's privilege check; the block's end). Such a value is stored when it is computed
    /// rather than at the write-back: its live range then ends at its last
    /// use. Keeping every written register live to the next write-back made
    /// long ALU sequences spill, and register allocation is most of the
    /// compile time (~2 µs per instruction for 20 live registers against
    /// ~0.3 µs).
    fn last_definitions(&self, ops: &[Op]) -> Vec<bool> {
        let write_back_at = |k: usize| {
            let inst = ops[k].inst;
            uses_helper(inst)
                || lower::plain_csr(inst).is_some()
                || (lower::is_access(inst) && self.member[k].is_none_or(|g| self.groups[g].first == k))
        };
        (0..ops.len())
            .map(|i| {
                let rd = written_bit(ops[i].inst) & !1;
                rd != 0
                    && (i + 1..ops.len()).take_while(|&j| !write_back_at(j)).all(|j| written_bit(ops[j].inst) & rd == 0)
            })
            .collect()
    }
}
