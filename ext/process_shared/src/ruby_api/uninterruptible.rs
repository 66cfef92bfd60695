//! Locking again after a wait, whatever interrupts are pending.
//!
//! `ConditionVariable#wait` and `Mutex#sleep` must hold the mutex again when
//! they return, also when `Thread#raise`, `Thread#kill`, `Timeout` or a
//! signal ended the wait; core Ruby locks uninterruptibly there. A pending
//! interrupt, however, makes `rb_thread_call_without_gvl2` refuse to release
//! the GVL, and processing it would raise. So when the lock is contended we
//! wait under `Thread.handle_interrupt(Object => :never)`: interrupts stay
//! queued while we block (the GVL released as usual) and Ruby raises them
//! right after, with the lock held.

use super::blocking::block_until;
use super::guard::catch_panic;
use crate::core::CoreResult;
use crate::platform::monotonic_now;
use magnus::{error::ErrorType, prelude::*, Error, Ruby, Value};
use std::cell::Cell;
use std::time::Duration;

/// Runs `work` inside `Thread.handle_interrupt(Object => :never) { ... }`.
/// An interrupt that arrived meanwhile is raised when the block ends and
/// comes back as this call's error.
pub fn with_interrupts_deferred<F>(ruby: &Ruby, work: F) -> Result<(), Error>
where
    F: FnOnce(&Ruby) -> Result<(), Error> + Send + 'static,
{
    let mut work = Some(work);
    // magnus would raise a panic in the block as `fatal`: catch it first.
    let block = ruby.proc_from_fn(move |ruby, _args, _block| match work.take() {
        Some(work) => catch_panic(ruby, || work(ruby)),
        None => Ok(()),
    });
    let mask = ruby.hash_new();
    mask.aset(ruby.class_object(), ruby.to_symbol("never"))?;
    let _: Value = ruby
        .class_thread()
        .funcall_with_block("handle_interrupt", (mask,), block)?;
    Ok(())
}

/// Calls `attempt` without the GVL until it succeeds, as `block_until` does
/// with no deadline, but never gives up because of a Ruby exception: one
/// raised between slices (only a signal trap's handler can, under the mask
/// of [`with_interrupts_deferred`]) is raised after success instead. Gives
/// up only when `attempt` itself fails.
pub fn block_until_done(
    ruby: &Ruby,
    mut attempt: impl FnMut(Duration) -> CoreResult<Option<()>>,
) -> Result<(), Error> {
    let core_failed = Cell::new(false);
    let mut deferred: Option<Error> = None;
    loop {
        let outcome = block_until(ruby, None, |slice_end| {
            attempt(slice_end).inspect_err(|_| core_failed.set(true))
        });
        match outcome {
            Ok(Some(())) => return deferred.map_or(Ok(()), Err),
            Ok(None) => {}
            Err(err) if core_failed.get() => return Err(err),
            Err(err) => {
                deferred.get_or_insert(err);
            }
        }
    }
}

/// The error to raise when a wait ended with `first` and locking again
/// raised `second`: a thread being killed stays killed; otherwise the later
/// interrupt wins, as when an exception interrupts an `ensure` clause.
pub fn later_error(first: Error, second: Error) -> Error {
    if matches!(first.error_type(), ErrorType::Jump(_)) {
        first
    } else {
        second
    }
}

/// `Mutex#sleep` once the lock is released: sleeps as `Kernel#sleep` (so
/// `Thread#wakeup` and `Thread#run` end it), calls `relock` however the
/// sleep ended, and returns what `Thread::Mutex#sleep` does on Ruby 3.1:
/// `nil` when the timeout passed, otherwise the whole seconds slept.
pub fn sleep_then_relock(
    ruby: &Ruby,
    timeout: Option<Duration>,
    relock: impl FnOnce() -> Result<(), Error>,
) -> Result<Value, Error> {
    let start = monotonic_now();
    let kernel = ruby.module_kernel();
    let slept: Result<Value, Error> = match timeout {
        Some(timeout) => kernel.funcall("sleep", (timeout.as_secs_f64(),)),
        None => kernel.funcall("sleep", ()),
    };
    let slept = match (slept, relock()) {
        (Ok(slept), Ok(())) => slept,
        (Err(err), Ok(())) | (Ok(_), Err(err)) => return Err(err),
        (Err(first), Err(second)) => return Err(later_error(first, second)),
    };
    match timeout {
        Some(timeout) if monotonic_now() - start >= timeout => Ok(ruby.qnil().as_value()),
        _ => Ok(slept),
    }
}
