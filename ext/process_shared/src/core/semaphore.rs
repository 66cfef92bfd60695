//! A counting semaphore in its own shared page: the platform semaphore,
//! then a count of the threads waiting on it (for `waiting`; the platform
//! semaphore does its own wake-ups).

use super::error::{CoreError, CoreResult};
use super::named::{self, SharedState};
use super::park::{wait_until, Park};
use super::region::SharedRegion;
use crate::platform::{RawSemaphore, WaitOutcome};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Where the waiter count lives in the page: after the platform semaphore.
const WAITERS_OFFSET: usize = std::mem::size_of::<RawSemaphore>().next_multiple_of(4);

/// `initial` as a semaphore's value, if it is at most `max`
/// (`InvalidArgument` otherwise).
pub fn checked_initial(initial: u64, max: u32) -> CoreResult<u32> {
    u32::try_from(initial)
        .ok()
        .filter(|&value| value <= max)
        .ok_or_else(|| {
            CoreError::InvalidArgument(format!(
                "initial value {initial} is larger than the maximum of {max}"
            ))
        })
}

/// A counting semaphore shared with every process forked after it was made.
#[derive(Debug)]
pub struct Semaphore {
    region: SharedRegion,
}

impl Semaphore {
    /// The largest initial value and the largest value `post` reaches.
    pub const MAX_VALUE: u32 = RawSemaphore::MAX_VALUE;

    /// A new semaphore with the given count.
    pub fn new(initial: u64) -> CoreResult<Self> {
        named::anonymous(initial)
    }

    fn checked_initial(initial: u64) -> CoreResult<u32> {
        checked_initial(initial, Self::MAX_VALUE)
    }

    fn raw(&self) -> &RawSemaphore {
        // SAFETY: `new` initialized a RawSemaphore at the region's base, and
        // the region lives as long as `self`.
        unsafe { &*self.region.base().cast::<RawSemaphore>() }
    }

    fn waiters(&self) -> &AtomicU32 {
        // SAFETY: the region is page-aligned and large enough for an
        // AtomicU32 at WAITERS_OFFSET (a multiple of 4), zero-filled at
        // first, and lives as long as `self`.
        unsafe { &*self.region.base().add(WAITERS_OFFSET).cast::<AtomicU32>() }
    }

    /// How many threads of all processes wait on it now (a waiter killed
    /// while waiting stays counted).
    pub fn waiting(&self) -> u32 {
        self.waiters().load(Ordering::Relaxed)
    }

    /// Decrements now if the value is positive. Never blocks, no system call.
    pub fn try_wait(&self) -> bool {
        self.raw().try_wait()
    }

    /// Blocks until decremented, the monotonic `deadline`, or a signal.
    pub fn wait_until(&self, deadline: Duration) -> CoreResult<WaitOutcome> {
        Ok(self.raw().wait_until(deadline)?)
    }

    /// Takes one unit, parking until one is available (`Ok(true)`) or the
    /// monotonic `deadline` passes (`Ok(false)`; `None`: never). A wait the
    /// parker stops takes nothing.
    pub fn acquire<P: Park>(
        &self,
        park: &mut P,
        deadline: Option<Duration>,
    ) -> Result<bool, P::Error> {
        if self.try_wait() {
            return Ok(true);
        }
        self.waiters().fetch_add(1, Ordering::Relaxed);
        let acquired = wait_until(park, deadline, |slice_end| {
            Ok(match self.wait_until(slice_end)? {
                WaitOutcome::Acquired => Some(()),
                WaitOutcome::TimedOut | WaitOutcome::Interrupted => None,
            })
        });
        self.waiters().fetch_sub(1, Ordering::Relaxed);
        Ok(acquired?.is_some())
    }

    /// Increments, waking one waiter.
    pub fn post(&self) -> CoreResult<()> {
        self.raw().post().map_err(|err| {
            if err.raw_os_error() == Some(libc::EOVERFLOW) {
                CoreError::OutOfRange(format!(
                    "semaphore value would exceed the maximum of {}",
                    Self::MAX_VALUE
                ))
            } else {
                CoreError::Os(err)
            }
        })
    }

    /// A snapshot of the current value (on macOS, the shadow count kept
    /// next to the Mach semaphore). `Unsupported` only if a platform cannot
    /// report it; none of the supported ones.
    pub fn value(&self) -> CoreResult<u32> {
        self.raw().value().ok_or(CoreError::Unsupported(
            "Semaphore#value is not available on macOS: Mach semaphores cannot report their value",
        ))
    }
}

impl SharedState for Semaphore {
    type Init = u64;
    const USES_RAW_SEMAPHORE: bool = true;

    fn state_size(_: &u64) -> usize {
        WAITERS_OFFSET + std::mem::size_of::<AtomicU32>()
    }

    fn check_init(initial: &u64) -> CoreResult<()> {
        Self::checked_initial(*initial).map(drop)
    }

    fn init_state(region: &SharedRegion, initial: u64) -> CoreResult<()> {
        let initial = Self::checked_initial(initial)?;
        let slot = region.span(0, std::mem::size_of::<RawSemaphore>())?;
        // SAFETY: the span is suitably aligned shared memory large enough for
        // a RawSemaphore (the zero-filled waiter count follows it), and
        // nothing else lives in it.
        unsafe { RawSemaphore::init(slot.cast(), initial)? };
        Ok(())
    }

    fn from_region(region: SharedRegion) -> Self {
        Semaphore { region }
    }

    fn region(&self) -> &SharedRegion {
        &self.region
    }
}

impl Drop for Semaphore {
    fn drop(&mut self) {
        self.raw().release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::park::Blocking;
    use crate::core::test_support::{exit_code, fork_and};
    use crate::platform::monotonic_now;

    #[test]
    fn counts_down_and_up() {
        let sem = Semaphore::new(2).unwrap();
        assert!(sem.try_wait());
        assert!(sem.try_wait());
        assert!(!sem.try_wait());
        assert_eq!(sem.value().unwrap(), 0);
        sem.post().unwrap();
        assert_eq!(sem.value().unwrap(), 1);
    }

    #[test]
    fn timed_wait_times_out_on_the_monotonic_clock() {
        let sem = Semaphore::new(0).unwrap();
        let start = monotonic_now();
        let outcome = sem.wait_until(start + Duration::from_millis(50)).unwrap();
        assert_eq!(outcome, WaitOutcome::TimedOut);
        assert!(monotonic_now() - start >= Duration::from_millis(50));
        assert_eq!(sem.value().unwrap(), 0);
    }

    #[test]
    fn a_thread_posting_wakes_a_waiter() {
        let sem = std::sync::Arc::new(Semaphore::new(0).unwrap());
        let poster = {
            let sem = sem.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                sem.post().unwrap();
            })
        };
        let acquired = sem
            .acquire(
                &mut Blocking,
                Some(monotonic_now() + Duration::from_secs(10)),
            )
            .unwrap();
        poster.join().unwrap();
        assert!(acquired);
        assert_eq!(sem.value().unwrap(), 0);
    }

    #[test]
    fn acquire_gives_up_at_the_deadline_taking_nothing() {
        let sem = Semaphore::new(0).unwrap();
        let deadline = monotonic_now() + Duration::from_millis(30);
        assert!(!sem.acquire(&mut Blocking, Some(deadline)).unwrap());
        assert!(monotonic_now() >= deadline);
        sem.post().unwrap();
        assert!(sem.acquire(&mut Blocking, None).unwrap());
        assert_eq!(sem.value().unwrap(), 0);
    }

    #[test]
    fn initial_values_past_the_maximum_are_refused() {
        assert!(Semaphore::new(u64::from(Semaphore::MAX_VALUE) + 1).is_err());
        assert!(Semaphore::new(u64::from(Semaphore::MAX_VALUE)).is_ok());
    }

    #[test]
    fn post_at_the_maximum_is_out_of_range() {
        let sem = Semaphore::new(u64::from(Semaphore::MAX_VALUE)).unwrap();
        assert!(matches!(sem.post(), Err(CoreError::OutOfRange(_))));
        assert_eq!(sem.value().unwrap(), Semaphore::MAX_VALUE);
    }

    #[test]
    fn a_forked_child_posts_to_the_parent() {
        let sem = Semaphore::new(0).unwrap();
        let pid = fork_and(|| i32::from(sem.post().is_err()));
        let outcome = sem
            .wait_until(monotonic_now() + Duration::from_secs(10))
            .unwrap();
        assert_eq!(exit_code(pid), 0);
        assert_eq!(outcome, WaitOutcome::Acquired);
    }
}
