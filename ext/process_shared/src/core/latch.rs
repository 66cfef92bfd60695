//! A count-down latch across processes, as concurrent-ruby's
//! `CountDownLatch`.
//!
//! # Layout (one shared region)
//!
//! | field      | type            | meaning                                   |
//! |------------|-----------------|-------------------------------------------|
//! | `count`    | u64             | what is left to count down                |
//! | `released` | u32             | 1 once `count` reached 0; waiters sleep on it |
//! | `waiters`  | [`WaiterSlots`] | who sleeps                                |
//!
//! `count_down` is a compare-and-swap loop that never goes below 0; the one
//! that reaches 0 sets `released` and wakes everyone, with a system call
//! only if someone waits. `count` is the truth: a process killed between
//! reaching 0 and setting `released` leaves waiters to see the count at the
//! end of their slice.

use super::error::CoreResult;
use super::named::{self, SharedState};
use super::park::{self, Park};
use super::region::SharedRegion;
use super::waiter_slots::{Registration, WaiterSlots};
use crate::platform::{self, WaitOutcome};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

#[repr(C)]
struct State {
    count: AtomicU64,
    released: AtomicU32,
    _pad: u32,
    waiters: WaiterSlots,
}

/// A latch shared with every process forked after it was made.
#[derive(Debug)]
pub struct CountDownLatch {
    region: SharedRegion,
}

impl CountDownLatch {
    /// A latch that opens after `count` count-downs (at once for 0).
    pub fn new(count: u64) -> CoreResult<Self> {
        named::anonymous(count)
    }

    fn state(&self) -> &State {
        // SAFETY: the region holds a State (atomics, valid when zero, safe
        // to share) and lives as long as `self`.
        unsafe { &*self.region.base().cast::<State>() }
    }

    /// What is left to count down.
    pub fn count(&self) -> u64 {
        self.state().count.load(Ordering::SeqCst)
    }

    /// Counts down by one, unless already at 0. No system call unless this
    /// reaches 0 while someone waits.
    pub fn count_down(&self) {
        let state = self.state();
        let previous = state
            .count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |count| {
                count.checked_sub(1)
            });
        if previous == Ok(1) {
            state.released.store(1, Ordering::SeqCst);
            if state.waiters.anyone(0) {
                platform::futex_wake(&state.released, u32::MAX);
            }
        }
    }

    /// Waits until the count is 0, parking until the monotonic `deadline`:
    /// `true` once it is, `false` when the deadline passed first. No system
    /// call when it is 0 already.
    pub fn wait<P: Park>(
        &self,
        park: &mut P,
        deadline: Option<Duration>,
    ) -> Result<bool, P::Error> {
        if self.count() == 0 {
            return Ok(true);
        }
        let waiter = self.waiter();
        Ok(park::wait_until(park, deadline, |slice_end| waiter.wait_until(slice_end))?.is_some())
    }

    /// Counts the caller as waiting until the waiter is dropped.
    pub fn waiter(&self) -> LatchWaiter<'_> {
        LatchWaiter {
            latch: self,
            _registration: self.state().waiters.register(0),
        }
    }
}

impl SharedState for CountDownLatch {
    type Init = u64;

    fn state_size(_: &u64) -> usize {
        std::mem::size_of::<State>()
    }

    fn init_state(region: &SharedRegion, count: u64) -> CoreResult<()> {
        let state = region.span(0, std::mem::size_of::<State>())?;
        // SAFETY: the span is aligned, zero-filled shared memory the size of
        // a State (atomics, valid when zero), which nothing else uses yet.
        let state = unsafe { &*state.cast::<State>() };
        state.count.store(count, Ordering::Relaxed);
        state
            .released
            .store(u32::from(count == 0), Ordering::Relaxed);
        Ok(())
    }

    fn from_region(region: SharedRegion) -> Self {
        CountDownLatch { region }
    }

    fn region(&self) -> &SharedRegion {
        &self.region
    }
}

/// A thread waiting for a [`CountDownLatch`] to open.
pub struct LatchWaiter<'a> {
    latch: &'a CountDownLatch,
    _registration: Registration<'a>,
}

impl LatchWaiter<'_> {
    /// `Some(())` once the count is 0; `None` when the slice ended or a
    /// signal arrived first.
    pub fn wait_until(&self, slice_end: Duration) -> CoreResult<Option<()>> {
        let state = self.latch.state();
        loop {
            if self.latch.count() == 0 {
                return Ok(Some(()));
            }
            match platform::futex_wait(&state.released, 0, slice_end)? {
                WaitOutcome::Acquired => continue,
                WaitOutcome::TimedOut | WaitOutcome::Interrupted => {
                    state.waiters.reap_dead();
                    return Ok((self.latch.count() == 0).then_some(()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::park::Blocking;
    use crate::core::test_support::{exit_code, fork_and};
    use crate::platform::monotonic_now;

    fn wait(latch: &CountDownLatch, timeout: Duration) -> bool {
        latch
            .wait(&mut Blocking, Some(monotonic_now() + timeout))
            .unwrap()
    }

    #[test]
    fn counts_down_to_zero_and_no_further() {
        let latch = CountDownLatch::new(2).unwrap();
        assert!(!wait(&latch, Duration::from_millis(20)));
        latch.count_down();
        assert_eq!(latch.count(), 1);
        latch.count_down();
        latch.count_down();
        assert_eq!(latch.count(), 0);
        assert!(latch.waiter().wait_until(Duration::ZERO).unwrap().is_some());
        let open = CountDownLatch::new(0).unwrap();
        assert!(open.waiter().wait_until(Duration::ZERO).unwrap().is_some());
    }

    #[test]
    fn waiters_in_other_processes_open_when_the_last_count_down_comes() {
        let latch = CountDownLatch::new(3).unwrap();
        let waiters: Vec<_> = (0..3)
            .map(|_| fork_and(|| i32::from(!wait(&latch, Duration::from_secs(20)))))
            .collect();
        let counters: Vec<_> = (0..3)
            .map(|_| {
                fork_and(|| {
                    latch.count_down();
                    0
                })
            })
            .collect();
        for child in counters.into_iter().chain(waiters) {
            assert_eq!(exit_code(child), 0);
        }
        assert_eq!(latch.count(), 0);
    }
}
