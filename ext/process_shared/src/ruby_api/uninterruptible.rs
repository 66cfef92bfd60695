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

use super::blocking::RubyPark;
use super::guard::catch_panic;
use crate::platform::monotonic_now;
use magnus::{prelude::*, Error, Ruby, Value};
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

/// Takes a lock again after a wait released it, whatever interrupts are
/// pending: `lock` runs under [`with_interrupts_deferred`] with a
/// [`RubyPark::deferring`] parker, and an exception raised meanwhile is raised once
/// the lock is held.
pub fn lock_again<F>(ruby: &Ruby, lock: F) -> Result<(), Error>
where
    F: FnOnce(&mut RubyPark<'_>) -> Result<(), Error> + Send + 'static,
{
    with_interrupts_deferred(ruby, move |ruby| {
        let mut park = RubyPark::deferring(ruby);
        lock(&mut park)?;
        park.finish()
    })
}

/// `Mutex#sleep` and `SemaphoreMutex#sleep`: `suspend` lets the lock go,
/// runs the sleep it is given, and takes the lock again however the sleep
/// ended. The sleep is `Kernel#sleep`'s (so `Thread#wakeup` and
/// `Thread#run` end it). Returns what `Thread::Mutex#sleep` does on Ruby
/// 3.1: `nil` when the timeout passed, otherwise the whole seconds slept.
/// `timeout` comes from `convert::timeout`, so `Kernel#sleep` accepts it.
pub fn sleep_released(
    ruby: &Ruby,
    timeout: Option<Duration>,
    suspend: impl FnOnce(&mut RubyPark<'_>, &dyn Fn() -> Result<Value, Error>) -> Result<Value, Error>,
) -> Result<Value, Error> {
    let start = monotonic_now();
    let kernel = ruby.module_kernel();
    let sleep = || match timeout {
        Some(timeout) => kernel.funcall("sleep", (timeout.as_secs_f64(),)),
        None => kernel.funcall("sleep", ()),
    };
    let slept = suspend(&mut RubyPark::interruptible(ruby), &sleep)?;
    match timeout {
        Some(timeout) if monotonic_now() - start >= timeout => Ok(ruby.qnil().as_value()),
        _ => Ok(slept),
    }
}
