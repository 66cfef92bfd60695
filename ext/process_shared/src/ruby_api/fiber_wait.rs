//! Waiting in a fiber under a `Fiber.scheduler`.
//!
//! A non-blocking fiber (one an `Async` task runs in, say) must not block
//! its thread: the other fibers of the thread would stall. So instead of
//! sleeping in the kernel, such a wait polls: one attempt that cannot block
//! (a slice that has already ended), then `Fiber.scheduler.kernel_sleep`
//! for a short pause, during which the scheduler runs the other fibers; the
//! pause grows from 0.1 ms to 5 ms, which bounds the extra latency once the
//! awaited thing is free. Timeouts are honoured to the pause, and pending
//! interrupts are processed between polls, as in a GVL-free wait.

use super::errors::core_error;
use crate::core::CoreResult;
use crate::platform::monotonic_now;
use magnus::{rb_sys::FromRawValue, value::ReprValue, Error, Ruby, Value};
use std::time::Duration;

/// The first pause between two polls.
const FIRST_PAUSE: Duration = Duration::from_micros(100);
/// The longest pause: the most a wait adds once what it waits for is free.
const LONGEST_PAUSE: Duration = Duration::from_millis(5);

/// The scheduler to yield to while waiting: `Some` when the current fiber
/// is non-blocking and its thread has a `Fiber.scheduler`.
pub fn current_scheduler(_ruby: &Ruby) -> Option<Value> {
    // SAFETY: called with the GVL held (a `&Ruby` proves it); returns nil,
    // or the scheduler object, which the thread keeps alive.
    let scheduler = unsafe { Value::from_raw(rb_sys::rb_fiber_scheduler_current()) };
    (!scheduler.is_nil()).then_some(scheduler)
}

/// Calls `attempt` (with a slice that has already ended, so it never
/// blocks) until it yields a value or the monotonic `deadline` passes
/// (`Ok(None)`), letting `scheduler` run other fibers between attempts.
/// An exception raised into the fiber while it pauses (a stopped task,
/// `Thread#raise`, `Timeout`) ends the wait with nothing acquired.
pub fn poll_until<T>(
    ruby: &Ruby,
    scheduler: Value,
    deadline: Option<Duration>,
    mut attempt: impl FnMut(Duration) -> CoreResult<Option<T>>,
) -> Result<Option<T>, Error> {
    let mut pause = FIRST_PAUSE;
    loop {
        let now = monotonic_now();
        if let Some(value) = attempt(now).map_err(|err| core_error(ruby, err))? {
            return Ok(Some(value));
        }
        let this_pause = match deadline {
            Some(deadline) if now >= deadline => return Ok(None),
            Some(deadline) => pause.min(deadline - now),
            None => pause,
        };
        let _: Value = scheduler.funcall("kernel_sleep", (this_pause.as_secs_f64(),))?;
        ruby.thread_check_ints()?;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}
