//! A counting semaphore in its own shared page.
//!
//! # Layout
//!
//! | field     | type  | meaning                                             |
//! |-----------|-------|-----------------------------------------------------|
//! | `wake`    | RawSemaphore | only the waiters' wake-up channel (see `platform::RawSemaphore`) |
//! | `waiters` | u32   | threads sleeping, or about to sleep, on `wake`      |
//! | `count`   | u32   | the semaphore's value                               |
//! | `waiting` | WaiterSlots | who waits, by process: what `waiting` counts  |
//!
//! # Algorithm
//!
//! The value is the `count` word: `wait` takes a unit with a
//! compare-and-swap, `post` gives one back with another, and neither makes
//! a system call unless someone sleeps. As in the `Mutex`, the platform
//! semaphore only puts waiters to sleep, and `post` wakes one only when
//! someone waits and no wake-up is pending already: the platform's own
//! `sem_post` would enter the kernel at every post while any process sleeps,
//! which with more processes than cores is nearly always. A waiter counts
//! itself in `waiters`, then retries after every wake-up; both sides order
//! their write before their read (waiter: count itself, sequentially
//! consistent fence, try `count`; poster: a sequentially consistent
//! compare-and-swap on `count`, then read `waiters`), so either the waiter
//! sees the unit or the poster sees the waiter: no lost wake-up. A waiter
//! that leaves while units remain and others wait wakes the next one, so
//! several posts in a row wake as many waiters. Before it sleeps, a busy
//! `wait` spins briefly as the `Mutex` does.
//!
//! A waiter killed while counted keeps `waiters` one too high for ever,
//! which costs at most one pending wake-up; `waiting` counts the `waiting`
//! table instead, where each sleeper also registers, off the fast path
//! (see `waiter_slots`), and the slots of dead processes are reaped.

use super::error::{CoreError, CoreResult};
use super::named::{self, SharedState};
use super::park::{wait_until, Park};
use super::region::SharedRegion;
use super::spin_wait::SpinWait;
use super::waiter_slots::{Registration, WaiterSlots};
use crate::platform::{RawSemaphore, WaitOutcome};
use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::time::Duration;

/// Where the waiter count lives in the page: after the platform semaphore.
const WAITERS_OFFSET: usize = std::mem::size_of::<RawSemaphore>().next_multiple_of(4);
/// Where the value lives: after the waiter count.
const COUNT_OFFSET: usize = WAITERS_OFFSET + std::mem::size_of::<AtomicU32>();
/// Where the table of who waits lives: after the value.
const SLOTS_OFFSET: usize = (COUNT_OFFSET + std::mem::size_of::<AtomicU32>()).next_multiple_of(8);

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

    fn wake(&self) -> &RawSemaphore {
        // SAFETY: `init_state` initialized a RawSemaphore at the region's
        // base, and the region lives as long as `self`.
        unsafe { &*self.region.base().cast::<RawSemaphore>() }
    }

    fn word(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: the region is page-aligned and large enough for an
        // AtomicU32 at `offset` (WAITERS_OFFSET or COUNT_OFFSET, multiples
        // of 4), zero-filled at first, and lives as long as `self`.
        unsafe { &*self.region.base().add(offset).cast::<AtomicU32>() }
    }

    fn waiters(&self) -> &AtomicU32 {
        self.word(WAITERS_OFFSET)
    }

    fn count(&self) -> &AtomicU32 {
        self.word(COUNT_OFFSET)
    }

    fn slots(&self) -> &WaiterSlots {
        // SAFETY: the region is page- or header-aligned and `state_size`
        // bytes long, so a WaiterSlots (atomics, valid when zero) fits at the
        // 8-aligned SLOTS_OFFSET; it lives as long as `self`.
        unsafe { &*self.region.base().add(SLOTS_OFFSET).cast::<WaiterSlots>() }
    }

    /// How many threads of all processes wait on it now; a waiter whose
    /// process died is no longer counted. Reads `/proc` once per waiter:
    /// introspection only.
    pub fn waiting(&self) -> u32 {
        self.slots().count(0)
    }

    /// Decrements now if the value is positive. Never blocks, no system call.
    #[inline]
    pub fn try_wait(&self) -> bool {
        let count = self.count();
        let mut value = count.load(Ordering::Relaxed);
        while value > 0 {
            match count.compare_exchange_weak(
                value,
                value - 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => value = now,
            }
        }
        false
    }

    /// Blocks until decremented, the monotonic `deadline`, or a signal.
    pub fn wait_until(&self, deadline: Duration) -> CoreResult<WaitOutcome> {
        if self.try_wait() {
            return Ok(WaitOutcome::Acquired);
        }
        let _waiter = self.waiter();
        self.sleep_until(deadline)
    }

    /// Counts the caller as a waiter until the guard is dropped.
    fn waiter(&self) -> SemaphoreWaiter<'_> {
        self.waiters().fetch_add(1, Ordering::SeqCst);
        SemaphoreWaiter {
            semaphore: self,
            _registration: self.slots().register(0),
        }
    }

    /// One wait of a counted waiter: sleeps on `wake` (again after a
    /// wake-up that found the value taken) until it takes a unit, the
    /// deadline passes or a signal arrives.
    fn sleep_until(&self, deadline: Duration) -> CoreResult<WaitOutcome> {
        loop {
            // Pairs with the compare-and-swap in `post` (see the module
            // comment).
            fence(Ordering::SeqCst);
            if self.try_wait() {
                return Ok(WaitOutcome::Acquired);
            }
            match self.wake().wait_until(deadline)? {
                WaitOutcome::Acquired => {}
                outcome => {
                    return Ok(if self.try_wait() {
                        WaitOutcome::Acquired
                    } else {
                        outcome
                    })
                }
            }
        }
    }

    /// Spins briefly (see `spin_wait`) for a unit; `false` when it is time
    /// to sleep instead. No system call but `sched_yield`.
    fn spin_acquire(&self) -> bool {
        let mut spin = SpinWait::default();
        while spin.spin() {
            if self.count().load(Ordering::Relaxed) > 0 && self.try_wait() {
                return true;
            }
        }
        false
    }

    /// Takes one unit, spinning briefly and then parking until one is
    /// available (`Ok(true)`) or the monotonic `deadline` passes
    /// (`Ok(false)`; `None`: never). A wait the parker stops takes nothing.
    pub fn acquire<P: Park>(
        &self,
        park: &mut P,
        deadline: Option<Duration>,
    ) -> Result<bool, P::Error> {
        if self.try_wait() || self.spin_acquire() {
            return Ok(true);
        }
        let _waiter = self.waiter();
        let acquired = wait_until(park, deadline, |slice_end| {
            Ok(match self.sleep_until(slice_end)? {
                WaitOutcome::Acquired => Some(()),
                WaitOutcome::TimedOut | WaitOutcome::Interrupted => None,
            })
        })?;
        Ok(acquired.is_some())
    }

    /// Increments, waking one waiter if any sleeps and no wake-up is
    /// pending. `OutOfRange` at [`Semaphore::MAX_VALUE`].
    #[inline]
    pub fn post(&self) -> CoreResult<()> {
        let count = self.count();
        let mut value = count.load(Ordering::Relaxed);
        loop {
            if value >= Self::MAX_VALUE {
                return Err(CoreError::OutOfRange(format!(
                    "semaphore value would exceed the maximum of {}",
                    Self::MAX_VALUE
                )));
            }
            // Sequentially consistent: pairs with the waiter's fence.
            match count.compare_exchange_weak(value, value + 1, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => value = now,
            }
        }
        if self.waiters().load(Ordering::SeqCst) > 0 {
            self.wake_one();
        }
        Ok(())
    }

    /// Posts `wake` unless a wake-up is pending already (where the value
    /// cannot be read, Mach, posts anyway: a spare wake-up only costs a
    /// waiter a retry).
    #[cold]
    fn wake_one(&self) {
        let wake = self.wake();
        if wake.value().is_none_or(|value| value == 0) {
            // Cannot overflow where readable: we only post at 0.
            let _ = wake.post();
        }
    }

    /// A snapshot of the current value. Always `Ok`: the value is a word of
    /// the shared page on every platform.
    pub fn value(&self) -> CoreResult<u32> {
        Ok(self.count().load(Ordering::Relaxed))
    }
}

/// A thread counted as waiting on a [`Semaphore`]; uncounted when dropped.
struct SemaphoreWaiter<'a> {
    semaphore: &'a Semaphore,
    /// Its slot in the table `waiting` counts.
    _registration: Registration<'a>,
}

impl Drop for SemaphoreWaiter<'_> {
    fn drop(&mut self) {
        let semaphore = self.semaphore;
        let others = semaphore.waiters().fetch_sub(1, Ordering::SeqCst) - 1;
        // Several posts while one wake-up was pending: pass the wake-up on
        // while units remain.
        if others > 0 && semaphore.count().load(Ordering::SeqCst) > 0 {
            semaphore.wake_one();
        }
    }
}

impl SharedState for Semaphore {
    type Init = u64;

    fn state_size(_: &u64) -> usize {
        SLOTS_OFFSET + std::mem::size_of::<WaiterSlots>()
    }

    fn check_init(initial: &u64) -> CoreResult<()> {
        Self::checked_initial(*initial).map(drop)
    }

    fn init_state(region: &SharedRegion, initial: u64) -> CoreResult<()> {
        let initial = Self::checked_initial(initial)?;
        let slot = region.span(0, std::mem::size_of::<RawSemaphore>())?;
        // SAFETY: the span is suitably aligned shared memory large enough for
        // a RawSemaphore (the zero-filled words follow it), and nothing else
        // lives in it.
        unsafe {
            if region.is_named() {
                RawSemaphore::init_named(slot.cast(), 0)?;
            } else {
                RawSemaphore::init(slot.cast(), 0)?;
            }
        }
        let count = region.span(COUNT_OFFSET as u64, std::mem::size_of::<AtomicU32>())?;
        // SAFETY: a 4-aligned span of the region's zero-filled memory that
        // nothing uses yet.
        unsafe { (*count.cast::<AtomicU32>()).store(initial, Ordering::Release) };
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
        self.wake().release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::park::Blocking;
    use crate::core::test_support::{
        exit_code, fork_and, open_named, poll_until, unique_name, UnlinkOnDrop,
    };
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
    fn posts_in_a_row_wake_as_many_sleeping_waiters() {
        let sem = std::sync::Arc::new(Semaphore::new(0).unwrap());
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let sem = sem.clone();
                std::thread::spawn(move || {
                    sem.acquire(
                        &mut Blocking,
                        Some(monotonic_now() + Duration::from_secs(10)),
                    )
                    .unwrap()
                })
            })
            .collect();
        while sem.waiting() < 3 {
            std::thread::sleep(Duration::from_millis(1));
        }
        for _ in 0..3 {
            sem.post().unwrap();
        }
        assert!(waiters.into_iter().all(|waiter| waiter.join().unwrap()));
        assert_eq!(sem.value().unwrap(), 0);
        assert_eq!(sem.waiting(), 0);
        assert!(
            sem.wake().value().unwrap() <= 1,
            "at most one wake-up left pending"
        );
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

    #[test]
    fn a_named_semaphore_is_shared_by_every_process_that_opens_the_name() {
        let name = unique_name("sem");
        let _unlink = UnlinkOnDrop(name.clone());
        let sem: Semaphore = open_named(&name, 1);
        assert!(!sem.wake().is_kernel(), "futex words by name");
        assert!(Semaphore::new(0).unwrap().wake().is_kernel());
        // Each child maps the object afresh, as an unrelated process would;
        // its initial value (5) is ignored: the object exists.
        let children: Vec<_> = (0..3)
            .map(|_| {
                fork_and(|| {
                    let own: Semaphore = open_named(&name, 5);
                    i32::from(own.post().is_err())
                })
            })
            .collect();
        for _ in 0..4 {
            let acquired = sem
                .acquire(
                    &mut Blocking,
                    Some(monotonic_now() + Duration::from_secs(10)),
                )
                .unwrap();
            assert!(acquired);
        }
        for child in children {
            assert_eq!(exit_code(child), 0);
        }
        assert_eq!(sem.value().unwrap(), 0);
    }

    #[test]
    fn a_named_semaphore_wakes_a_sleeper_in_a_process_that_opened_it_by_name() {
        let name = unique_name("sew");
        let _unlink = UnlinkOnDrop(name.clone());
        let sem: Semaphore = open_named(&name, 0);
        let child = fork_and(|| {
            let own: Semaphore = open_named(&name, 0);
            let deadline = monotonic_now() + Duration::from_secs(10);
            i32::from(!own.acquire(&mut Blocking, Some(deadline)).unwrap())
        });
        poll_until("the child never waited", || sem.waiting() != 0);
        // Asleep by now, most likely; a post before it sleeps works too.
        std::thread::sleep(Duration::from_millis(20));
        sem.post().unwrap();
        assert_eq!(exit_code(child), 0);
        assert_eq!(sem.value().unwrap(), 0);
    }

    #[test]
    fn waiting_stops_counting_a_waiter_killed_in_its_sleep() {
        let sem = Semaphore::new(0).unwrap();
        let child = fork_and(|| {
            let deadline = monotonic_now() + Duration::from_secs(20);
            i32::from(!sem.acquire(&mut Blocking, Some(deadline)).unwrap())
        });
        poll_until("the child never waited", || sem.waiting() != 0);
        assert_eq!(sem.waiting(), 1);
        // SAFETY: killing and reaping the child we forked.
        unsafe { libc::kill(child, libc::SIGKILL) };
        assert_eq!(exit_code(child), -1);
        assert_eq!(sem.waiting(), 0);
        // The dead waiter's count costs at most one pending wake-up.
        for _ in 0..100 {
            sem.post().unwrap();
            assert!(sem.try_wait());
        }
        assert!(sem.wake().value().is_none_or(|value| value <= 1));
    }
}
