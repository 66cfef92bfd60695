//! Waiting in a fiber under a `Fiber.scheduler`.
//!
//! A non-blocking fiber (one an `Async` task runs in, say) must not block
//! its thread: the other fibers of the thread would stall. So instead of
//! sleeping in the kernel, such a wait polls: one attempt that cannot block
//! (a slice that has already ended), then `Fiber.scheduler.kernel_sleep`
//! for a short pause, during which the scheduler runs the other fibers; the
//! pause grows from 0.1 ms to 5 ms, which bounds the extra latency once the
//! awaited thing is free. The core's wait protocols need no change: they
//! call the parker slice after slice (see `core::park`), and the parkers of
//! `blocking` poll here when the current fiber has a scheduler, so every
//! class's waits (locks, semaphores, conditions) let other fibers run, and
//! still honour timeouts (to the pause) and interrupts.

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

/// Polls for a fiber under `scheduler`: one slice of a wait that never
/// blocks the thread.
pub struct Poller {
    scheduler: Value,
    pause: Duration,
}

impl Poller {
    /// A poller for the current fiber, if it must not block its thread.
    pub fn for_current_fiber(ruby: &Ruby) -> Option<Poller> {
        current_scheduler(ruby).map(|scheduler| Poller {
            scheduler,
            pause: FIRST_PAUSE,
        })
    }

    /// `attempt` with a slice that has already ended, so that it never
    /// blocks (the GVL stays held): the poll that begins every slice.
    pub fn poll<T>(
        &self,
        ruby: &Ruby,
        attempt: impl FnOnce(Duration) -> CoreResult<Option<T>>,
    ) -> Result<Option<T>, Error> {
        attempt(monotonic_now()).map_err(|err| core_error(ruby, err))
    }

    /// The rest of a slice whose poll got nothing: a pause in
    /// `Fiber.scheduler.kernel_sleep` (at most until `slice_end`) while the
    /// scheduler runs other fibers. An exception raised into the fiber
    /// meanwhile (a stopped task, say) is returned.
    pub fn pause(&mut self, slice_end: Duration) -> Result<(), Error> {
        let pause = self.pause.min(slice_end.saturating_sub(monotonic_now()));
        self.pause = (self.pause * 2).min(LONGEST_PAUSE);
        let _: Value = self
            .scheduler
            .funcall("kernel_sleep", (pause.as_secs_f64(),))?;
        Ok(())
    }
}
