//! A task: one contract call in its own address space.
//!
//! [`run_call`] is the life of a call: build the space, load the code, run
//! the task until it returns, reverts or faults, report the end to the host
//! (`CALL_EXIT`) and release every frame the call used. It is re-entered
//! recursively for nested calls (see [`crate::syscall`]).

use core::mem::MaybeUninit;

use avm_abi::host as call;
use avm_abi::layout::{self, Segment, MAX_SEGMENTS, PAGE_SIZE};
use avm_abi::status::{Fault, Outcome, OK};

use crate::frames::Frames;
use crate::host;
use crate::trap::{self, TrapFrame};
use crate::vm::{page_of, AddressSpace};
use crate::Boot;

/// scause: environment call from U-mode.
const ECALL_FROM_U: u32 = 8;
/// scause: instruction, load and store/AMO page faults.
const INSTRUCTION_PAGE_FAULT: u32 = 12;
const LOAD_PAGE_FAULT: u32 = 13;
const STORE_PAGE_FAULT: u32 = 15;

/// How a call ended, as the host reported it back: the outcome code and the
/// length of the return data now held by the host.
pub type Ended = [u32; 2];

/// A running contract call.
pub struct Task {
    /// Its address space.
    pub space: AddressSpace,
    /// Its registers while the kernel runs.
    pub frame: TrapFrame,
    /// The code image's segments; the first `segment_count` are written
    /// (by the host, in `LOAD_CODE`), the rest never read.
    segments: [MaybeUninit<Segment>; MAX_SEGMENTS as usize],
    segment_count: usize,
    /// Call depth (0 = the transaction's call).
    pub depth: u32,
}

/// Why a task must end.
pub struct Failure {
    fault: Fault,
    detail: u32,
    addr: u32,
}

impl Failure {
    /// A failure with its reason and details (see [`Fault`]).
    pub fn new(fault: Fault, detail: u32, addr: u32) -> Failure {
        Failure { fault, detail, addr }
    }
}

/// Run the call the host has just entered, at `depth`, to its end.
pub fn run_call(boot: &Boot, frames: &mut Frames, depth: u32) -> Ended {
    let mark = frames.mark();
    let ended = match AddressSpace::new(boot, frames) {
        Some(space) => {
            // Built in place and run in place: a task is a few hundred
            // bytes, and a constructor returning one would copy it (a
            // memcpy loop of ~330 instructions) on every call.
            let mut task = Task {
                space,
                frame: TrapFrame::new(0, layout::STACK_TOP),
                // Not zeroed: the host writes the records that are read.
                segments: [const { MaybeUninit::uninit() }; MAX_SEGMENTS as usize],
                segment_count: 0,
                depth,
            };
            match task.load_code(frames) {
                Ok(()) => task.run(boot, frames),
                Err(f) => exit_fault(&f),
            }
        }
        None => exit_fault(&Failure::new(Fault::OutOfMemory, 0, 0)),
    };
    frames.release(mark);
    ended
}

fn exit_fault(f: &Failure) -> Ended {
    let r = host::call4(call::CALL_EXIT, Outcome::Fault as u32, f.fault as u32, f.detail, f.addr);
    [r[0], r[1]]
}

impl Task {
    /// The segments the host loaded.
    fn segments(&self) -> &[Segment] {
        // SAFETY: `LOAD_CODE` wrote `segment_count` (checked <= the array's
        // length) records into the array, and `Segment` is plain `u32`s.
        unsafe { core::slice::from_raw_parts(self.segments.as_ptr().cast::<Segment>(), self.segment_count) }
    }

    /// Have the host load the callee's code image into fresh frames and its
    /// segment table into `self.segments`, check the segments and map them.
    fn load_code(&mut self, frames: &mut Frames) -> Result<(), Failure> {
        let oom = || Failure::new(Fault::OutOfMemory, 0, 0);
        let dest = frames.next();
        let cap = frames.available().min(layout::MAX_CODE_SIZE);
        // The host writes the records through this address. `call4`'s `asm!`
        // may write any memory whose address was handed out (it has no
        // `nomem` option), so the compiler reads `segments` afresh after it.
        let table = self.segments.as_mut_ptr() as u32;
        let [status, bytes, entry, count] = host::call4(call::LOAD_CODE, dest, cap, table, MAX_SEGMENTS);
        if status != OK {
            return Err(Failure::new(Fault::BadCode, status, 0));
        }
        let pages = bytes / PAGE_SIZE;
        if count > MAX_SEGMENTS || bytes % PAGE_SIZE != 0 || frames.alloc(pages).is_none() {
            return Err(Failure::new(Fault::BadCode, 0, bytes));
        }
        self.frame.pc = entry;
        self.segment_count = count as usize;
        for i in 0..self.segment_count {
            let s = self.segments()[i];
            let in_image = s.image_page.checked_add(s.pages).is_some_and(|end| end <= pages);
            let end = s.vaddr.checked_add(s.pages.saturating_mul(PAGE_SIZE));
            let in_region = s.vaddr >= layout::USER_CODE_START && end.is_some_and(|e| e <= layout::USER_CODE_END);
            if !in_image || !in_region || s.vaddr % PAGE_SIZE != 0 {
                return Err(Failure::new(Fault::BadCode, 1, s.vaddr));
            }
            for i in 0..s.pages {
                let pa = dest + (s.image_page + i) * PAGE_SIZE;
                if !self.space.map(frames, s.vaddr + i * PAGE_SIZE, pa, s.flags) {
                    return Err(oom());
                }
            }
        }
        Ok(())
    }

    /// Enter the task and serve its traps until it ends.
    fn run(&mut self, boot: &Boot, frames: &mut Frames) -> Ended {
        trap::switch_space(self.space.satp());
        loop {
            let why = trap::run_user(&mut self.frame);
            let result = match why.cause {
                ECALL_FROM_U => crate::syscall::dispatch(self, boot, frames),
                INSTRUCTION_PAGE_FAULT => Err(self.page_fault_failure(why.cause, why.tval)),
                LOAD_PAGE_FAULT | STORE_PAGE_FAULT => {
                    self.demand_page(frames, why.tval).map(|()| None).map_err(|f| match f.fault {
                        // Not a heap or stack page: report the trap itself.
                        Fault::Trap => self.page_fault_failure(why.cause, why.tval),
                        _ => f,
                    })
                }
                cause => Err(Failure::new(Fault::Trap, cause, why.tval)),
            };
            match result {
                Ok(None) => {}
                Ok(Some(ended)) => return ended,
                Err(f) => return exit_fault(&f),
            }
        }
    }

    fn page_fault_failure(&self, cause: u32, tval: u32) -> Failure {
        if (layout::STACK_BOTTOM - layout::STACK_GUARD..layout::STACK_BOTTOM).contains(&tval) {
            Failure::new(Fault::StackOverflow, cause, tval)
        } else {
            Failure::new(Fault::Trap, cause, tval)
        }
    }

    /// The segment holding `va`, if any.
    fn segment_of(&self, va: u32) -> Option<&Segment> {
        self.segments().iter().find(|s| va.wrapping_sub(s.vaddr) < s.pages * PAGE_SIZE)
    }

    /// Map the heap or stack page holding `va` if it is not mapped yet.
    /// Any other address is a [`Fault::Trap`] for the caller to describe.
    pub fn demand_page(&self, frames: &mut Frames, va: u32) -> Result<(), Failure> {
        let heap = va.wrapping_sub(layout::HEAP_START) < layout::HEAP_MAX;
        let stack = va.wrapping_sub(layout::STACK_BOTTOM) < layout::STACK_MAX;
        if !heap && !stack {
            return Err(Failure::new(Fault::Trap, 0, va));
        }
        let page = page_of(va);
        if self.space.lookup(page).is_some() {
            // Mapped already, so the fault was about permissions.
            return Err(Failure::new(Fault::Trap, 0, va));
        }
        let frame = frames.alloc_zeroed(1).ok_or(Failure::new(Fault::OutOfMemory, 0, va))?;
        if !self.space.map(frames, page, frame, layout::pte::R | layout::pte::W) {
            return Err(Failure::new(Fault::OutOfMemory, 0, va));
        }
        trap::flush_page(page);
        Ok(())
    }

    /// Check that `[ptr, ptr + len)` is memory this task may read (or
    /// write), mapping heap and stack pages on the way.
    pub fn check_range(&self, frames: &mut Frames, ptr: u32, len: u32, write: bool) -> bool {
        if len == 0 {
            return true;
        }
        let Some(last) = ptr.checked_add(len - 1) else {
            return false;
        };
        let mut page = page_of(ptr);
        loop {
            let ok = match self.segment_of(page) {
                Some(s) => !write || s.flags & layout::pte::W != 0,
                None => self.space.lookup(page).is_some() || self.demand_page(frames, page).is_ok(),
            };
            if !ok {
                return false;
            }
            if page >= page_of(last) {
                return true;
            }
            page += PAGE_SIZE;
        }
    }
}
