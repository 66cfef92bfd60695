//! An event across processes, as concurrent-ruby's `Event`: once set, every
//! waiter passes until it is reset.
//!
//! # Layout (one shared region)
//!
//! | field     | type            | meaning                                      |
//! |-----------|-----------------|----------------------------------------------|
//! | `word`    | u32             | bit 0: set; bits 1..: how many times it was reset (wrapping) |
//! | `waiters` | [`WaiterSlots`] | who sleeps                                   |
//!
//! Waiters sleep on the word itself. An unset word only ever changes by
//! being set, so a waiter that finds the word different from what it saw
//! when it began knows the event was set meanwhile, even if it was reset
//! again before the waiter woke: `set` followed at once by `reset` still
//! releases everyone who was waiting (as in concurrent-ruby).

use super::error::CoreResult;
use super::named::{self, SharedState};
use super::park::{self, Park};
use super::region::SharedRegion;
use super::waiter_slots::{Registration, WaiterSlots};
use crate::platform::{self, WaitOutcome};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const SET: u32 = 1;

#[repr(C)]
struct State {
    word: AtomicU32,
    _pad: u32,
    waiters: WaiterSlots,
}

/// Zero-filled state is an unset event that was never reset.
impl SharedState for Event {
    type Init = ();

    fn state_size(_: &()) -> usize {
        std::mem::size_of::<State>()
    }

    fn init_state(region: &SharedRegion, _: ()) -> CoreResult<()> {
        region.span(0, std::mem::size_of::<State>()).map(drop)
    }

    fn from_region(region: SharedRegion) -> Self {
        Event { region }
    }

    fn region(&self) -> &SharedRegion {
        &self.region
    }
}

/// An event shared with every process forked after it was made.
#[derive(Debug)]
pub struct Event {
    region: SharedRegion,
}

impl Event {
    /// A new, unset event.
    pub fn new() -> CoreResult<Self> {
        named::anonymous(())
    }

    fn state(&self) -> &State {
        // SAFETY: the region holds a State (atomics, valid when zero, safe
        // to share) and lives as long as `self`.
        unsafe { &*self.region.base().cast::<State>() }
    }

    /// Whether the event is set.
    pub fn is_set(&self) -> bool {
        self.state().word.load(Ordering::SeqCst) & SET != 0
    }

    /// Sets the event, waking every waiter; `false` if it was already set.
    /// No system call unless someone waits.
    pub fn set(&self) -> bool {
        let state = self.state();
        let previous = state.word.fetch_or(SET, Ordering::SeqCst);
        if previous & SET != 0 {
            return false;
        }
        if state.waiters.anyone(0) {
            platform::futex_wake(&state.word, u32::MAX);
        }
        true
    }

    /// Unsets the event; `false` if it was not set.
    pub fn reset(&self) -> bool {
        self.state()
            .word
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |word| {
                (word & SET != 0).then(|| (word & !SET).wrapping_add(2))
            })
            .is_ok()
    }

    /// Waits until the event is set, parking until the monotonic
    /// `deadline`: `true` once set (even if reset again meanwhile), `false`
    /// when the deadline passed first. No system call when it is set.
    pub fn wait<P: Park>(
        &self,
        park: &mut P,
        deadline: Option<Duration>,
    ) -> Result<bool, P::Error> {
        if self.is_set() {
            return Ok(true);
        }
        let waiter = self.waiter();
        Ok(park::wait_until(park, deadline, |slice_end| waiter.wait_until(slice_end))?.is_some())
    }

    /// Counts the caller as waiting until the waiter is dropped; the wait
    /// is for a `set` after this moment (or the event being set now).
    pub fn waiter(&self) -> EventWaiter<'_> {
        let registration = self.state().waiters.register(0);
        EventWaiter {
            event: self,
            seen: self.state().word.load(Ordering::SeqCst),
            _registration: registration,
        }
    }
}

/// A thread waiting for an [`Event`].
pub struct EventWaiter<'a> {
    event: &'a Event,
    seen: u32,
    _registration: Registration<'a>,
}

impl EventWaiter<'_> {
    fn released(&self) -> bool {
        self.seen & SET != 0 || self.event.state().word.load(Ordering::SeqCst) != self.seen
    }

    /// `Some(())` once the event is or was set since the waiter began;
    /// `None` when the slice ended or a signal arrived first.
    pub fn wait_until(&self, slice_end: Duration) -> CoreResult<Option<()>> {
        let state = self.event.state();
        loop {
            if self.released() {
                return Ok(Some(()));
            }
            match platform::futex_wait(&state.word, self.seen, slice_end)? {
                WaitOutcome::Acquired => continue,
                WaitOutcome::TimedOut | WaitOutcome::Interrupted => {
                    state.waiters.reap_dead();
                    return Ok(self.released().then_some(()));
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

    fn wait(waiter: &EventWaiter<'_>, timeout: Duration) -> bool {
        if waiter.wait_until(Duration::ZERO).unwrap().is_some() {
            return true;
        }
        park::wait_until(
            &mut Blocking,
            Some(monotonic_now() + timeout),
            |slice_end| waiter.wait_until(slice_end),
        )
        .unwrap()
        .is_some()
    }

    #[test]
    fn set_and_reset_report_whether_they_changed_anything() {
        let event = Event::new().unwrap();
        assert!(!event.is_set());
        assert!(!event.reset());
        assert!(!wait(&event.waiter(), Duration::from_millis(20)));
        assert!(event.set());
        assert!(!event.set());
        assert!(event.is_set());
        assert!(wait(&event.waiter(), Duration::ZERO));
        assert!(event.reset());
        assert!(!event.is_set());
        assert!(!wait(&event.waiter(), Duration::from_millis(20)));
    }

    #[test]
    fn a_set_then_reset_still_releases_those_already_waiting() {
        let event = Event::new().unwrap();
        let waiter = event.waiter();
        event.set();
        event.reset();
        assert!(wait(&waiter, Duration::ZERO));
    }

    #[test]
    fn waiters_in_other_processes_are_released_by_set() {
        let event = Event::new().unwrap();
        let children: Vec<_> = (0..3)
            .map(|_| {
                fork_and(|| {
                    i32::from(
                        !event
                            .wait(
                                &mut Blocking,
                                Some(monotonic_now() + Duration::from_secs(20)),
                            )
                            .unwrap(),
                    )
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        let start = monotonic_now();
        event.set();
        for child in children {
            assert_eq!(exit_code(child), 0);
        }
        assert!(monotonic_now() - start < Duration::from_secs(5));
    }
}
