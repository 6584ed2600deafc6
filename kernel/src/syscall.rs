//! The syscall dispatcher: check every buffer, then forward or handle.
//!
//! The table of [`avm_abi::syscall::buffers`] says, per syscall, which
//! argument registers are pointers, how long each buffer is and whether the
//! host will write it. Every buffer is checked page by page against the
//! task's regions ([`Task::check_range`]) before anything happens; a bad one
//! ends the call as [`Fault::BadPointer`]. Then:
//!
//! - host services go to the host unchanged (same number, same registers);
//! - `RETURN` and `REVERT` end the task through `CALL_EXIT`;
//! - `CALL` checks the call data the request points at, asks the host to
//!   enter the callee (`CALL_ENTER`), runs it as a new task
//!   ([`crate::task::run_call`], recursively) and hands the outcome and the
//!   return data length back to the caller in `a0`/`a1`.

use avm_abi::host as call;
use avm_abi::layout::{CallRequest, CALL_REQUEST_SIZE};
use avm_abi::status::{Fault, Outcome, OK};
use avm_abi::syscall::{self, Len};

use crate::frames::Frames;
use crate::host;
use crate::task::{run_call, Ended, Failure, Task};
use crate::trap;
use crate::Boot;

/// Serve the syscall the task just made. `Ok(None)`: resume the task;
/// `Ok(Some(ended))`: the task is over.
pub fn dispatch(task: &mut Task, boot: &Boot, frames: &mut Frames) -> Result<Option<Ended>, Failure> {
    let number = task.frame.number();
    let Some(buffers) = syscall::buffers(number) else {
        return Err(Failure::new(Fault::BadSyscall, number, 0));
    };
    for b in buffers {
        let ptr = task.frame.arg(b.ptr);
        let len = match b.len {
            Len::Arg(n) => Some(task.frame.arg(n)),
            Len::ArgTimes(n, k) => task.frame.arg(n).checked_mul(k),
            Len::Fixed(n) => Some(n),
        };
        if !len.is_some_and(|len| task.check_range(frames, ptr, len, b.write)) {
            return Err(Failure::new(Fault::BadPointer, number, ptr));
        }
    }
    let f = &task.frame;
    let (a0, a1, a2, a3) = (f.arg(0), f.arg(1), f.arg(2), f.arg(3));
    match number {
        syscall::RETURN | syscall::REVERT => {
            let outcome = if number == syscall::RETURN { Outcome::Return } else { Outcome::Revert };
            let r = host::call4(call::CALL_EXIT, outcome as u32, a0, a1, 0);
            return Ok(Some([r[0], r[1]]));
        }
        syscall::CALL => {
            let [outcome, len] = nested_call(task, boot, frames, a0)?;
            task.frame.reply(outcome, len);
        }
        _ => {
            let r = host::call4(number, a0, a1, a2, a3);
            task.frame.reply(r[0], r[1]);
        }
    }
    task.frame.pc += 4;
    Ok(None)
}

/// `CALL`: run another contract as a new task and come back.
fn nested_call(task: &mut Task, boot: &Boot, frames: &mut Frames, request: u32) -> Result<Ended, Failure> {
    // SAFETY: `check_range` has just verified that the CALL_REQUEST_SIZE
    // bytes at `request` are readable user memory of the current space,
    // which the kernel may read (sstatus.SUM). Unaligned is fine: the read
    // is a byte copy.
    let bytes: [u8; CALL_REQUEST_SIZE as usize] =
        unsafe { core::ptr::read_unaligned(request as *const [u8; CALL_REQUEST_SIZE as usize]) };
    let req = CallRequest::from_bytes(&bytes);
    if !task.check_range(frames, req.input_ptr, req.input_len, false) {
        return Err(Failure::new(Fault::BadPointer, syscall::CALL, req.input_ptr));
    }
    let r = host::call4(call::CALL_ENTER, request, 0, 0, 0);
    if r[0] != OK {
        // Refused (depth, balance, no code): the host holds a message as
        // return data, of length r[1].
        return Ok([Outcome::Rejected as u32, r[1]]);
    }
    let ended = run_call(boot, frames, task.depth + 1);
    trap::switch_space(task.space.satp());
    Ok(ended)
}
