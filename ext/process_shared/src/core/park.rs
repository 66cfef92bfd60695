//! How a waiter blocks, supplied by the caller.
//!
//! The wait protocols (a lock's wait loop, a condition wait) live in the
//! core; how to block for one *slice* of a wait depends on who waits. The
//! Ruby binding releases the GVL and lets Ruby process interrupts between
//! slices; the core's tests just block. As parking_lot's `park` takes
//! callbacks, every blocking protocol here takes a [`Park`].
//!
//! A slice is an `attempt(slice_end)`: one bounded sleep on the primitive's
//! wake-up channel that returns `Some` once the caller got what it waits
//! for and `None` when the slice ended, a signal arrived or it woke for
//! nothing, having changed nothing. A parker may pass any `slice_end` it
//! likes (a fiber-scheduler parker that polls passes "now" and sleeps in the
//! scheduler between polls), so protocols need no change to support one.
//! See ARCHITECTURE.md, "The wait protocol".

use super::error::{CoreError, CoreResult};
use crate::platform::monotonic_now;
use std::time::Duration;

/// How long one slice lasts at most before the waiter looks at the world
/// again (pending interrupts, a lock holder's death).
pub const SLICE: Duration = Duration::from_millis(100);

/// How one slice of a wait blocks, and how the wait reports failure.
pub trait Park {
    /// Why a wait stopped early: an interrupt, or a core error.
    type Error;

    /// Runs `attempt(slice_end)` once, blocked the way the caller's context
    /// requires. `Ok(Some(_))`: the attempt succeeded. `Ok(None)`: nothing
    /// yet, the protocol tries again. `Err`: stop waiting (the attempt
    /// changed nothing).
    fn park<T>(
        &mut self,
        slice_end: Duration,
        attempt: impl FnOnce(Duration) -> CoreResult<Option<T>>,
    ) -> Result<Option<T>, Self::Error>;

    /// A core error, as this parker reports errors.
    fn error(&self, error: CoreError) -> Self::Error;

    /// The error to report when a wait ended with `first` and taking the
    /// lock again afterwards failed with `second`. By default the later one
    /// wins, as when an exception interrupts an `ensure` clause.
    fn later_error(&self, first: Self::Error, second: Self::Error) -> Self::Error {
        let _ = first;
        second
    }
}

/// Parks slice after slice until `attempt` succeeds (`Ok(Some(_))`) or the
/// monotonic `deadline` passes (`Ok(None)`; `None`: never).
pub fn wait_until<P: Park, T>(
    park: &mut P,
    deadline: Option<Duration>,
    mut attempt: impl FnMut(Duration) -> CoreResult<Option<T>>,
) -> Result<Option<T>, P::Error> {
    loop {
        let now = monotonic_now();
        let slice_end = match deadline {
            Some(deadline) if now >= deadline => return Ok(None),
            Some(deadline) => deadline.min(now + SLICE),
            None => now + SLICE,
        };
        if let Some(value) = park.park(slice_end, &mut attempt)? {
            return Ok(Some(value));
        }
    }
}

/// Runs `wait`, then `reacquire` however `wait` ended (what a condition
/// wait or `Mutex#sleep` does once it let its lock go). `wait`'s value, or
/// the error that ended it or the reacquiring ([`Park::later_error`] when
/// both failed).
pub fn wait_then_reacquire<P: Park, T>(
    park: &mut P,
    wait: impl FnOnce(&mut P) -> Result<T, P::Error>,
    reacquire: impl FnOnce() -> Result<(), P::Error>,
) -> Result<T, P::Error> {
    let waited = wait(park);
    match (waited, reacquire()) {
        (Ok(value), Ok(())) => Ok(value),
        (Err(error), Ok(())) | (Ok(_), Err(error)) => Err(error),
        (Err(first), Err(second)) => Err(park.later_error(first, second)),
    }
}

/// A deadline `timeout` from now on the monotonic clock (`None`: never).
pub fn deadline_after(timeout: Option<Duration>) -> Option<Duration> {
    timeout.and_then(|timeout| monotonic_now().checked_add(timeout))
}

/// Blocks the calling thread outright: for callers with nothing to do
/// between slices (the core's tests).
#[derive(Debug, Default)]
pub struct Blocking;

impl Park for Blocking {
    type Error = CoreError;

    fn park<T>(
        &mut self,
        slice_end: Duration,
        attempt: impl FnOnce(Duration) -> CoreResult<Option<T>>,
    ) -> CoreResult<Option<T>> {
        attempt(slice_end)
    }

    fn error(&self, error: CoreError) -> CoreError {
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_never_pass_the_deadline_and_the_wait_ends_there() {
        let deadline = monotonic_now() + Duration::from_millis(30);
        let mut slices = 0;
        let outcome = wait_until(&mut Blocking, Some(deadline), |slice_end| {
            assert!(slice_end <= deadline);
            slices += 1;
            std::thread::sleep(Duration::from_millis(10));
            Ok(None::<()>)
        });
        assert_eq!(outcome.unwrap(), None);
        assert!(monotonic_now() >= deadline);
        assert!(slices >= 2);
    }

    #[test]
    fn a_successful_attempt_ends_the_wait_and_an_error_stops_it() {
        let mut tries = 0;
        let got = wait_until(&mut Blocking, None, |_| {
            tries += 1;
            Ok((tries == 3).then_some(tries))
        });
        assert_eq!(got.unwrap(), Some(3));
        let failed = wait_until(&mut Blocking, None, |_| {
            Err::<Option<()>, _>(CoreError::Misuse("no".into()))
        });
        assert!(matches!(failed, Err(CoreError::Misuse(_))));
    }

    #[test]
    fn no_deadline_means_slices_of_at_most_one_slice() {
        let start = monotonic_now();
        let got = wait_until(&mut Blocking, deadline_after(None), |slice_end| {
            assert!(slice_end <= monotonic_now() + SLICE);
            Ok(Some(slice_end))
        });
        assert!(got.unwrap().unwrap() >= start);
    }
}
