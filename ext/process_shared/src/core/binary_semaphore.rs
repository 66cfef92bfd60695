//! A semaphore whose value is only ever 0 or 1, shared across fork.
//!
//! # Layout (one shared page)
//!
//! | field     | type | meaning                                                  |
//! |-----------|------|----------------------------------------------------------|
//! | `value`   | u32  | 1: available; 0: taken; 2: taken, and a thread may sleep on it. Also the futex word |
//! | `waiters` | WaiterSlots | who waits, by process (for `waiting`; never read to decide a wake-up) |
//!
//! # Algorithm
//!
//! `try_wait` is a compare-and-swap of `value` from 1 to 0. `post` moves
//! the value from 0 or 2 to 1 and refuses at 1 (no process can ever read 2
//! as a value: 2 reads as 0). A waiter that finds the value taken marks it
//! 2 before it sleeps on the futex word (while the word is still 2), and a
//! waiter that was woken takes the 1 as 2, since others may still sleep.
//! `post` makes the `futex_wake` system call only when it replaced a 2, so:
//! no lost wake-up (a sleeper's 2 is always seen by the next post), and a
//! waiter killed in its sleep costs one wake-up at most, after which
//! uncontended `wait`/`post` are system-call free again (a count of
//! sleepers would stay raised for ever).

use super::error::{CoreError, CoreResult};
use super::kill_step::step;
use super::named::{self, SharedState};
use super::park::{wait_until, Park};
use super::region::SharedRegion;
use super::waiter_slots::{Registration, WaiterSlots};
use crate::platform::{self, WaitOutcome};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Values of the `value` word.
const TAKEN: u32 = 0;
const AVAILABLE: u32 = 1;
const SLEEPERS: u32 = 2;

#[repr(C)]
struct State {
    value: AtomicU32,
    waiters: WaiterSlots,
}

/// A binary semaphore shared with every process forked after it was made.
#[derive(Debug)]
pub struct BinarySemaphore {
    region: SharedRegion,
}

impl BinarySemaphore {
    /// A new binary semaphore with value 0 or 1 (`InvalidArgument` else).
    pub fn new(initial: u64) -> CoreResult<Self> {
        named::anonymous(initial)
    }

    fn state(&self) -> &State {
        // SAFETY: the region is a zero-filled, page-aligned mapping large
        // enough for a State, whose fields are atomics; it lives as long as
        // `self`.
        unsafe { &*self.region.base().cast::<State>() }
    }

    /// Takes the 1 if it is there: no system call, never blocks.
    pub fn try_wait(&self) -> bool {
        self.state()
            .value
            .compare_exchange(1, 0, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Takes the 1, parking until it is there (`Ok(true)`) or the monotonic
    /// `deadline` passes (`Ok(false)`; `None`: never). A wait the parker
    /// stops takes nothing.
    pub fn acquire<P: Park>(
        &self,
        park: &mut P,
        deadline: Option<Duration>,
    ) -> Result<bool, P::Error> {
        if self.try_wait() {
            return Ok(true);
        }
        let waiter = self.waiter();
        Ok(wait_until(park, deadline, |slice_end| waiter.wait_until(slice_end))?.is_some())
    }

    /// Counts the caller as a waiter until the guard is dropped.
    pub fn waiter(&self) -> Waiter<'_> {
        Waiter {
            semaphore: self,
            _registration: self.state().waiters.register(0),
        }
    }

    /// Raises the value from 0 to 1 and wakes one waiter if one may sleep.
    /// `Misuse` (and no change) when the value is already 1.
    pub fn post(&self) -> CoreResult<()> {
        let word = &self.state().value;
        let mut current = word.load(Ordering::Relaxed);
        loop {
            if current == AVAILABLE {
                return Err(CoreError::Misuse(
                    "binary semaphore is already at 1; post would raise it to 2".into(),
                ));
            }
            match word.compare_exchange_weak(
                current,
                AVAILABLE,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => current = now,
            }
        }
        step!("binary.post.raised");
        if current == SLEEPERS {
            platform::futex_wake(word, 1);
        }
        Ok(())
    }

    /// The current value, 0 or 1.
    pub fn value(&self) -> u32 {
        u32::from(self.state().value.load(Ordering::Acquire) == AVAILABLE)
    }

    /// How many threads of all processes wait for it now; a waiter whose
    /// process died is no longer counted. Reads `/proc` once per waiter:
    /// introspection only.
    pub fn waiting(&self) -> u32 {
        self.state().waiters.count(0)
    }
}

/// A thread counted as waiting on a [`BinarySemaphore`].
pub struct Waiter<'a> {
    semaphore: &'a BinarySemaphore,
    /// Its slot in the table `waiting` counts.
    _registration: Registration<'a>,
}

impl Waiter<'_> {
    /// Waits to take the 1 until the monotonic `slice_end`: `Some(())` once
    /// taken, `None` when the slice ended or a signal arrived (unchanged).
    pub fn wait_until(&self, slice_end: Duration) -> CoreResult<Option<()>> {
        let word = &self.semaphore.state().value;
        loop {
            // Taken as 2: other waiters may still sleep, and the next post
            // must wake one of them.
            match word.compare_exchange(AVAILABLE, SLEEPERS, Ordering::SeqCst, Ordering::Relaxed) {
                Ok(_) => {
                    step!("binary.wait.taken");
                    return Ok(Some(()));
                }
                Err(TAKEN) => {
                    if word
                        .compare_exchange(TAKEN, SLEEPERS, Ordering::SeqCst, Ordering::Relaxed)
                        .is_err()
                    {
                        continue;
                    }
                    step!("binary.wait.marked");
                }
                Err(_) => {}
            }
            match platform::futex_wait(word, SLEEPERS, slice_end)? {
                WaitOutcome::Acquired => continue,
                WaitOutcome::TimedOut | WaitOutcome::Interrupted => return Ok(None),
            }
        }
    }
}

impl SharedState for BinarySemaphore {
    type Init = u64;

    fn state_size(_: &u64) -> usize {
        std::mem::size_of::<State>()
    }

    fn check_init(initial: &u64) -> CoreResult<()> {
        match initial {
            0 | 1 => Ok(()),
            _ => Err(CoreError::InvalidArgument(format!(
                "binary semaphore value must be 0 or 1 (got {initial})"
            ))),
        }
    }

    fn init_state(region: &SharedRegion, initial: u64) -> CoreResult<()> {
        Self::check_init(&initial)?;
        region.write::<u32>(0, initial as u32)
    }

    fn from_region(region: SharedRegion) -> Self {
        BinarySemaphore { region }
    }

    fn region(&self) -> &SharedRegion {
        &self.region
    }
}

#[cfg(test)]
#[path = "kill_steps/binary_semaphore.rs"]
pub(crate) mod kill_steps;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::park::Blocking;
    use crate::platform::monotonic_now;
    use std::sync::Arc;

    /// The binding's wait, parked plainly.
    fn wait(semaphore: &BinarySemaphore, timeout: Duration) -> bool {
        let deadline = monotonic_now() + timeout;
        semaphore.acquire(&mut Blocking, Some(deadline)).unwrap()
    }

    #[test]
    fn only_zero_and_one_are_accepted() {
        assert!(BinarySemaphore::new(2).is_err());
        assert_eq!(BinarySemaphore::new(0).unwrap().value(), 0);
        assert_eq!(BinarySemaphore::new(1).unwrap().value(), 1);
    }

    #[test]
    fn post_at_one_is_refused_and_changes_nothing() {
        let semaphore = BinarySemaphore::new(1).unwrap();
        assert!(matches!(semaphore.post(), Err(CoreError::Misuse(_))));
        assert_eq!(semaphore.value(), 1);
        assert!(semaphore.try_wait());
        assert!(!semaphore.try_wait());
        semaphore.post().unwrap();
        assert_eq!(semaphore.value(), 1);
    }

    #[test]
    fn a_wait_times_out_at_zero() {
        let semaphore = BinarySemaphore::new(0).unwrap();
        let start = monotonic_now();
        assert!(!wait(&semaphore, Duration::from_millis(50)));
        assert!(monotonic_now() - start >= Duration::from_millis(50));
        assert_eq!(semaphore.value(), 0);
    }

    #[test]
    fn racing_posts_never_raise_it_past_one() {
        let semaphore = Arc::new(BinarySemaphore::new(0).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let semaphore = Arc::clone(&semaphore);
                std::thread::spawn(move || semaphore.post().is_ok())
            })
            .collect();
        let successes = threads
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .filter(|&ok| ok)
            .count();
        assert_eq!(successes, 1);
        assert_eq!(semaphore.value(), 1);
    }

    #[test]
    fn a_post_from_another_process_wakes_a_waiter() {
        let semaphore = BinarySemaphore::new(0).unwrap();
        let pid = crate::core::test_support::fork_and(|| {
            std::thread::sleep(Duration::from_millis(50));
            i32::from(semaphore.post().is_err())
        });
        assert!(wait(&semaphore, Duration::from_secs(10)));
        assert_eq!(crate::core::test_support::exit_code(pid), 0);
        assert_eq!(semaphore.value(), 0);
    }

    #[test]
    fn threads_using_it_as_a_lock_exclude_each_other() {
        let semaphore = Arc::new(BinarySemaphore::new(1).unwrap());
        let counter = Arc::new(SharedRegion::new(8).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (semaphore, counter) = (Arc::clone(&semaphore), Arc::clone(&counter));
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        assert!(wait(&semaphore, Duration::from_secs(30)));
                        let value = counter.read::<u64>(0).unwrap();
                        counter.write::<u64>(0, value + 1).unwrap();
                        semaphore.post().unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(counter.read::<u64>(0).unwrap(), 40_000);
        assert_eq!(semaphore.value(), 1);
    }

    #[test]
    fn a_waiter_killed_asleep_costs_one_wake_up_and_no_system_call_after() {
        use crate::core::test_support::{exit_code, fork_and};
        let semaphore = BinarySemaphore::new(0).unwrap();
        let child = fork_and(|| i32::from(!wait(&semaphore, Duration::from_secs(20))));
        while semaphore.waiting() == 0 || semaphore.state().value.load(Ordering::SeqCst) != SLEEPERS
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        // SAFETY: killing and reaping the child we forked.
        unsafe { libc::kill(child, libc::SIGKILL) };
        assert_eq!(exit_code(child), -1);
        assert_eq!(semaphore.waiting(), 0, "the dead waiter is not counted");
        // One post wakes (nobody); from then on no post finds a sleeper's
        // mark, so none makes the futex_wake system call.
        semaphore.post().unwrap();
        for _ in 0..1_000 {
            assert!(semaphore.try_wait());
            assert_eq!(semaphore.state().value.load(Ordering::SeqCst), TAKEN);
            semaphore.post().unwrap();
            assert_eq!(semaphore.state().value.load(Ordering::SeqCst), AVAILABLE);
        }
        assert_eq!(semaphore.value(), 1);
    }
}
