//! A condition variable shared across fork.
//!
//! # Layout (one shared page)
//!
//! | field      | type | meaning                                            |
//! |------------|------|----------------------------------------------------|
//! | `sequence` | u32  | bumped by every signal and broadcast; the futex word |
//! | `waiters`  | u32  | threads between "ticket taken" and "done waiting"  |
//! | `sleeping` | u64  | 0, or `1 << 32` ORed with the ticket of the last thread that went to sleep |
//! | `waiting`  | WaiterSlots | who waits, by process: what `waiting` counts |
//!
//! # Algorithm
//!
//! A waiter takes a [`Ticket`] while it still holds the mutex: it counts
//! itself in `waiters` and reads `sequence`. Then it releases the mutex and
//! sleeps on the futex word only while `sequence` still has the value it
//! read. A signal bumps `sequence` before waking, so a signal sent at any
//! moment after the ticket was taken either finds the waiter asleep and
//! wakes it, or changes the word so that the waiter does not fall asleep:
//! no lost wake-up. A signal with nobody counted in `waiters` changes
//! nothing, so it is not remembered. Waking may also end a wait that began
//! just after the signal (a spurious wake-up, which condition variables
//! allow).
//!
//! Only a sleeper needs the `futex_wake` system call, and a waiter killed
//! while counted stays in `waiters` for ever: so a signal wakes only when
//! `sleeping` is set, which every waiter sets (with its ticket) right
//! before it sleeps. A wake that found fewer sleepers than it could wake
//! woke them all, and clears the mark, unless the mark was set after the
//! signal's own bump (by a waiter that the signal does not concern). A
//! waiter that died asleep thus costs one more system call, not one per
//! signal for ever. `waiting` does not read `waiters` either: each ticket
//! also registers in the `waiting` table (see `waiter_slots`), and the
//! slots of dead processes are reaped when it is counted.

use super::error::CoreResult;
use super::kill_step::step;
use super::mutex::Mutex;
use super::named::{self, SharedState};
use super::park::{wait_until, Park};
use super::region::SharedRegion;
use super::waiter_slots::{Registration, WaiterSlots};
use crate::platform::{self, WaitOutcome};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

#[repr(C)]
struct State {
    sequence: AtomicU32,
    waiters: AtomicU32,
    sleeping: AtomicU64,
    waiting: WaiterSlots,
}

/// A condition variable shared with every process forked after it was made.
#[derive(Debug)]
pub struct CondVar {
    region: SharedRegion,
}

impl CondVar {
    /// A new condition variable in its own shared page.
    pub fn new() -> CoreResult<Self> {
        named::anonymous(())
    }

    fn state(&self) -> &State {
        // SAFETY: the region is a zero-filled, page-aligned mapping large
        // enough for a State, whose fields are atomics (valid when zero and
        // safe to share); it lives as long as `self`.
        unsafe { &*self.region.base().cast::<State>() }
    }

    /// Registers the caller as a waiter. Must be called while holding the
    /// mutex, before releasing it; the ticket uncounts itself when dropped.
    pub fn ticket(&self) -> Ticket<'_> {
        let state = self.state();
        state.waiters.fetch_add(1, Ordering::SeqCst);
        step!("condvar.wait.counted");
        Ticket {
            condvar: self,
            sequence: state.sequence.load(Ordering::SeqCst),
            _registration: state.waiting.register(0),
        }
    }

    /// A condition wait: takes a ticket while the caller still holds
    /// `mutex`, releases `mutex` (whatever its depth), parks until a signal
    /// or the monotonic `deadline`, then takes `mutex` again with `relock`
    /// (however the wait ended) and restores the depth. `Ok(true)` when
    /// woken (perhaps spuriously), `Ok(false)` when the deadline passed.
    pub fn wait<P: Park>(
        &self,
        mutex: &Mutex,
        park: &mut P,
        deadline: Option<Duration>,
        relock: impl FnOnce() -> Result<(), P::Error>,
    ) -> Result<bool, P::Error> {
        // Taken before the release: a signal sent after it is never missed.
        let ticket = self.ticket();
        mutex.release_during(
            park,
            move |park| {
                let woken = wait_until(park, deadline, |slice_end| ticket.wait_until(slice_end));
                drop(ticket);
                Ok(woken?.is_some())
            },
            relock,
        )
    }

    /// Wakes one waiter, if any (possibly more: spurious wake-ups).
    pub fn signal(&self) {
        self.wake(1);
    }

    /// Wakes every current waiter.
    pub fn broadcast(&self) {
        self.wake(u32::MAX);
    }

    fn wake(&self, count: u32) {
        let state = self.state();
        if state.waiters.load(Ordering::SeqCst) == 0 {
            return;
        }
        let bumped = state
            .sequence
            .fetch_add(1, Ordering::SeqCst)
            .wrapping_add(1);
        step!("condvar.signal.bumped");
        let mark = state.sleeping.load(Ordering::SeqCst);
        if mark == 0 {
            return;
        }
        let woken = platform::futex_wake(&state.sequence, count);
        step!("condvar.signal.woken");
        // Everyone asleep was woken; a mark set after our bump belongs to a
        // waiter this signal does not concern, and stays.
        if woken < count as usize && mark as u32 != bumped {
            let _ = state
                .sleeping
                .compare_exchange(mark, 0, Ordering::SeqCst, Ordering::Relaxed);
        }
    }

    /// How many threads of all processes wait on it now; a waiter whose
    /// process died is no longer counted. Reads `/proc` once per waiter:
    /// introspection only.
    pub fn waiting(&self) -> u32 {
        self.state().waiting.count(0)
    }
}

/// One wait on a [`CondVar`]: the sequence number seen when it began.
pub struct Ticket<'a> {
    condvar: &'a CondVar,
    sequence: u32,
    /// Its slot in the table `waiting` counts.
    _registration: Registration<'a>,
}

impl Ticket<'_> {
    /// Sleeps until a signal or broadcast sent after the ticket was taken,
    /// or until the monotonic `slice_end` or a signal from the OS. `Some(())`
    /// when woken (perhaps spuriously), `None` when the slice ended or was
    /// interrupted with no signal seen.
    pub fn wait_until(&self, slice_end: Duration) -> CoreResult<Option<()>> {
        let state = self.condvar.state();
        let word = &state.sequence;
        state
            .sleeping
            .store((1 << 32) | u64::from(self.sequence), Ordering::SeqCst);
        step!("condvar.wait.marked");
        Ok(
            match platform::futex_wait(word, self.sequence, slice_end)? {
                WaitOutcome::Acquired => Some(()),
                WaitOutcome::TimedOut | WaitOutcome::Interrupted => {
                    (word.load(Ordering::SeqCst) != self.sequence).then_some(())
                }
            },
        )
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.condvar.state().waiters.fetch_sub(1, Ordering::SeqCst);
    }
}

impl SharedState for CondVar {
    type Init = ();

    fn state_size((): &()) -> usize {
        std::mem::size_of::<State>()
    }

    /// All-zero state is a condition variable nobody waits on.
    fn init_state(_region: &SharedRegion, (): ()) -> CoreResult<()> {
        Ok(())
    }

    fn from_region(region: SharedRegion) -> Self {
        CondVar { region }
    }

    fn region(&self) -> &SharedRegion {
        &self.region
    }
}

#[cfg(test)]
#[path = "kill_steps/condvar.rs"]
pub(crate) mod kill_steps;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::mutex::tests::lock;
    use crate::core::park::Blocking;
    use crate::core::test_support::{exit_code, fork_and};
    use crate::core::CoreError;
    use crate::platform::monotonic_now;
    use std::sync::Arc;

    /// A condition wait with a plain blocking parker: the protocol the
    /// binding runs. `true` when woken before `timeout`.
    fn wait(condvar: &CondVar, mutex: &Mutex, timeout: Duration) -> bool {
        let deadline = monotonic_now() + timeout;
        condvar
            .wait(mutex, &mut Blocking, Some(deadline), || {
                mutex.relock(&mut Blocking)
            })
            .unwrap()
    }

    #[test]
    fn a_wait_times_out_without_a_signal_and_keeps_the_mutex() {
        let (condvar, mutex) = (CondVar::new().unwrap(), Mutex::new().unwrap());
        lock(&mutex);
        let start = monotonic_now();
        assert!(!wait(&condvar, &mutex, Duration::from_millis(50)));
        assert!(monotonic_now() - start >= Duration::from_millis(50));
        assert!(mutex.is_owned());
        assert_eq!(condvar.waiting(), 0);
    }

    #[test]
    fn a_wait_without_holding_the_mutex_is_refused_and_uncounted() {
        let (condvar, mutex) = (CondVar::new().unwrap(), Mutex::new().unwrap());
        let outcome = condvar.wait(&mutex, &mut Blocking, None, || {
            panic!("relocked a mutex it never held")
        });
        assert!(matches!(outcome, Err(CoreError::Misuse(_))));
        assert_eq!(condvar.waiting(), 0);
    }

    #[test]
    fn a_signal_with_no_waiter_is_not_remembered() {
        let (condvar, mutex) = (CondVar::new().unwrap(), Mutex::new().unwrap());
        condvar.signal();
        condvar.broadcast();
        lock(&mutex);
        assert!(!wait(&condvar, &mutex, Duration::from_millis(50)));
    }

    #[test]
    fn a_signal_after_the_ticket_is_never_lost() {
        let condvar = CondVar::new().unwrap();
        let ticket = condvar.ticket();
        condvar.signal();
        assert_eq!(
            ticket
                .wait_until(monotonic_now() + Duration::from_secs(5))
                .unwrap(),
            Some(())
        );
    }

    #[test]
    fn ping_pong_between_processes_loses_no_wakeup() {
        let condvar = CondVar::new().unwrap();
        let mutex = Mutex::new().unwrap();
        let turn = SharedRegion::new(8).unwrap();
        const ROUNDS: u64 = 2_000;
        let play = |me: u64| {
            lock(&mutex);
            for round in 0..ROUNDS {
                while turn.read::<u64>(0).unwrap() % 2 != me {
                    assert!(
                        wait(&condvar, &mutex, Duration::from_secs(10)),
                        "lost wake-up in round {round}"
                    );
                }
                turn.write::<u64>(0, turn.read::<u64>(0).unwrap() + 1)
                    .unwrap();
                condvar.signal();
            }
            mutex.unlock().unwrap();
        };
        let child = fork_and(|| {
            play(1);
            0
        });
        play(0);
        assert_eq!(exit_code(child), 0);
        assert_eq!(turn.read::<u64>(0).unwrap(), 2 * ROUNDS);
    }

    #[test]
    fn broadcast_wakes_every_waiting_thread() {
        let condvar = Arc::new(CondVar::new().unwrap());
        let mutex = Arc::new(Mutex::new().unwrap());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (condvar, mutex) = (Arc::clone(&condvar), Arc::clone(&mutex));
                std::thread::spawn(move || {
                    lock(&mutex);
                    let woken = wait(&condvar, &mutex, Duration::from_secs(10));
                    mutex.unlock().unwrap();
                    woken
                })
            })
            .collect();
        while condvar.waiting() < 4 {
            std::thread::sleep(Duration::from_millis(1));
        }
        lock(&mutex);
        condvar.broadcast();
        mutex.unlock().unwrap();
        for thread in threads {
            assert!(thread.join().unwrap());
        }
    }

    #[test]
    fn a_waiter_killed_asleep_costs_one_wake_up_and_no_system_call_after() {
        let condvar = CondVar::new().unwrap();
        let mutex = Mutex::new().unwrap();
        let child = fork_and(|| {
            lock(&mutex);
            i32::from(wait(&condvar, &mutex, Duration::from_secs(20)))
        });
        while condvar.state().sleeping.load(Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        // SAFETY: killing and reaping the child we forked.
        unsafe { libc::kill(child, libc::SIGKILL) };
        assert_eq!(exit_code(child), -1);
        assert_eq!(condvar.state().waiters.load(Ordering::SeqCst), 1);
        assert_eq!(condvar.waiting(), 0, "the dead waiter is not counted");
        // The first signal wakes (nobody) and clears the mark; no later one
        // finds it, so none makes the futex_wake system call.
        condvar.signal();
        for _ in 0..1_000 {
            assert_eq!(condvar.state().sleeping.load(Ordering::SeqCst), 0);
            condvar.signal();
            condvar.broadcast();
        }
    }
}
