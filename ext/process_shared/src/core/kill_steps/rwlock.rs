//! The read-write lock killed (and stopped) at every named step of taking
//! and releasing read and write holds, of a writer that gives up, and of
//! recovering a dead writer (see `kill_step`).

use super::{Attempt, ReadWriteLock};
use crate::core::holders::{key_pid, process_key, Owner, SLOTS};
use crate::core::identity::ProcessIdentity;
use crate::core::kill_step::{at_every_step, until_or_settled, Child, Plan, Reached};
use crate::core::park::Blocking;
use crate::core::test_support::{exit_code, fork_and};
use crate::platform::monotonic_now;
use std::time::Duration;

/// Steps of an uncontended read lock and unlock.
const READ_ROUND_TRIP: &[&str] = &[
    "holders.claim.keyed",
    "rw.read.claimed",
    "holders.transfer.helped",
    "holders.transfer.recorded",
    "rw.read.released",
    "holders.release.token_cleared",
];

/// Steps of an uncontended write lock and unlock.
const WRITE_ROUND_TRIP: &[&str] = &[
    "holders.claim.keyed",
    "rw.write.claimed",
    "rw.write.flag_cleared",
    "rw.write.released",
    "holders.release.token_cleared",
];

/// Steps of a writer that waits for a reader to leave, then unlocks.
const WRITER_WAITING: &[&str] = &[
    "rw.write.claimed",
    "waiters.register.claimed",
    "rw.write_wait.claimed",
    "rw.write_wait.named",
    "holders.sleep.marked",
    "waiters.leave.unmarked",
    "rw.write.released",
];

/// Steps of a reader that waits for a writer to leave, then unlocks.
const READER_WAITING: &[&str] = &[
    "rw.read.claimed",
    "holders.release.token_cleared",
    "waiters.register.claimed",
    "holders.sleep.marked",
    "rw.read.released",
];

/// Steps of a writer that stops waiting (its deadline passed).
const WRITER_GIVING_UP: &[&str] = &["rw.write.gave_up"];

/// Steps of a reader that first recovers a dead writer's lock.
const RECOVERING: &[&str] = &[
    "holders.reclaim.freer",
    "holders.reclaim.reclaimed",
    "rw.reclaim.flagged",
    "holders.reclaim.writer_cleared",
];

/// Every step the read-write lock's kill tests run through.
pub(crate) const STEPS: &[&[&str]] = &[
    READ_ROUND_TRIP,
    WRITE_ROUND_TRIP,
    WRITER_WAITING,
    READER_WAITING,
    WRITER_GIVING_UP,
    RECOVERING,
];

fn me() -> Owner {
    Owner::current()
}

fn soon() -> Option<Duration> {
    Some(monotonic_now() + Duration::from_secs(10))
}

fn in_ms(ms: u64) -> Option<Duration> {
    Some(monotonic_now() + Duration::from_millis(ms))
}

/// A read or a write hold.
#[derive(Clone, Copy)]
enum Hold {
    Read,
    Write,
}

impl Hold {
    /// Takes the hold without waiting (it must be free).
    fn take_now(self, lock: &ReadWriteLock) {
        let attempt = match self {
            Hold::Read => lock.try_read(me()),
            Hold::Write => lock.try_write(me()),
        };
        assert_eq!(attempt.unwrap(), Attempt::Acquired);
    }

    /// Waits for the hold until `deadline`: whether it was taken.
    fn take(self, lock: &ReadWriteLock, deadline: Option<Duration>) -> bool {
        match self {
            Hold::Read => lock.acquire_read(&mut Blocking, me(), deadline),
            Hold::Write => lock.acquire_write(&mut Blocking, me(), deadline),
        }
        .unwrap()
    }

    fn release(self, lock: &ReadWriteLock) {
        match self {
            Hold::Read => lock.release_read(me()),
            Hold::Write => lock.release_write(me()),
        }
        .unwrap();
    }
}

/// The child is dead, the parent holds nothing: the lock comes back (the
/// next writer told that the last one died holding it exactly when one
/// did), and is as new.
fn check_recovered(lock: &ReadWriteLock, plan: Plan, writer_died_holding: bool) {
    assert!(
        lock.acquire_write(&mut Blocking, me(), in_ms(2_000))
            .unwrap(),
        "{plan:?}"
    );
    assert_eq!(
        lock.previous_owner_died(me()),
        writer_died_holding,
        "{plan:?}: previous_owner_died"
    );
    assert_eq!(lock.read_holds(), 0, "{plan:?}");
    lock.release_write(me()).unwrap();
    assert_eq!(lock.try_read(me()).unwrap(), Attempt::Acquired, "{plan:?}");
    assert!(!lock.previous_owner_died(me()), "{plan:?}");
    lock.release_read(me()).unwrap();
    lock.reclaim_dead();
    assert_eq!((lock.read_holds(), lock.is_write_locked()), (0, false));
    assert_eq!(lock.holders.count(), 0, "{plan:?}: a writer is still named");
    assert!(lock.holders.all_slots_free(), "{plan:?}: a slot leaked");
    assert!(!lock.holders.transfer_pending(), "{plan:?}");
    assert!(
        !lock.holders.sleepers_marked(),
        "{plan:?}: unlock would wake"
    );
    assert_eq!(lock.waiting(), 0, "{plan:?}: a dead waiter counted");
}

/// The child is stopped: looking for dead holders changes nothing, a
/// writer cannot get in while it holds anything, and once resumed it
/// finishes and leaves the lock free.
fn check_live_holder_keeps_its_hold(lock: &ReadWriteLock, child: &Child, plan: Plan) {
    lock.holders.settle();
    let before = lock.holders.snapshot();
    assert!(!lock.reclaim_dead(), "{plan:?}: a live holder's hold taken");
    assert_eq!(lock.holders.snapshot(), before, "{plan:?}");
    let childs_slot = (0..SLOTS).any(|slot| key_pid(lock.holders.key_of(slot)) == child.pid as u32);
    let holds = lock.is_write_locked() || lock.read_holds() > 0;
    if holds {
        assert!(childs_slot, "{plan:?}");
        assert!(
            !lock.acquire_write(&mut Blocking, me(), in_ms(20)).unwrap(),
            "{plan:?}"
        );
    }
    child.resume();
    assert_eq!((lock.read_holds(), lock.is_write_locked()), (0, false));
    assert_eq!(lock.holders.count(), 0, "{plan:?}");
    assert!(lock.holders.all_slots_free(), "{plan:?}");
    assert_eq!(lock.waiting(), 0, "{plan:?}");
}

/// Waits for the child's outcome, then checks the lock (`died_holding`:
/// whether a writer holding the lock is dead already, before the child).
fn finish(lock: &ReadWriteLock, child: &Child, plan: Plan, died_holding: bool) -> Reached {
    let reached = child.outcome();
    if child.is_stopped() {
        check_live_holder_keeps_its_hold(lock, child, plan);
    } else {
        let held = died_holding || lock.is_write_locked();
        check_recovered(lock, plan, held && reached == Reached::Yes);
    }
    reached
}

/// A child that takes `hold` uncontended and releases it, stopped at `plan`.
fn round_trip(hold: Hold, plan: Plan) -> Reached {
    let lock = ReadWriteLock::new().unwrap();
    let child = Child::spawn(plan, || {
        hold.take_now(&lock);
        hold.release(&lock);
    });
    finish(&lock, &child, plan, false)
}

/// A child that waits for `hold` while the parent holds `blocking`, then
/// releases it, stopped at `plan`; the parent lets go once it sleeps.
fn waiting(hold: Hold, blocking: Hold, plan: Plan) -> Reached {
    let lock = ReadWriteLock::new().unwrap();
    blocking.take_now(&lock);
    let child = Child::spawn(plan, || {
        assert!(hold.take(&lock, soon()));
        hold.release(&lock);
    });
    until_or_settled(&child, || lock.holders.sleepers_marked());
    blocking.release(&lock);
    finish(&lock, &child, plan, false)
}

#[test]
fn a_reader_killed_at_any_step_leaves_the_lock_whole() {
    at_every_step(READ_ROUND_TRIP, |plan| round_trip(Hold::Read, plan));
}

#[test]
fn a_writer_killed_at_any_step_leaves_the_lock_recoverable() {
    at_every_step(WRITE_ROUND_TRIP, |plan| round_trip(Hold::Write, plan));
}

#[test]
fn a_writer_killed_while_waiting_for_a_reader_leaves_the_lock_recoverable() {
    at_every_step(WRITER_WAITING, |plan| {
        waiting(Hold::Write, Hold::Read, plan)
    });
}

#[test]
fn a_reader_killed_while_waiting_for_a_writer_leaves_the_lock_whole() {
    at_every_step(READER_WAITING, |plan| {
        waiting(Hold::Read, Hold::Write, plan)
    });
}

#[test]
fn a_writer_killed_while_giving_up_lets_readers_in_again() {
    at_every_step(WRITER_GIVING_UP, |plan| {
        let lock = ReadWriteLock::new().unwrap();
        assert_eq!(lock.try_read(me()).unwrap(), Attempt::Acquired);
        let child = Child::spawn(plan, || {
            assert!(!lock.acquire_write(&mut Blocking, me(), in_ms(30)).unwrap());
        });
        let reached = child.outcome();
        // A reader gets in at once, beside the parent's hold.
        let reader = fork_and(|| {
            let got = lock.acquire_read(&mut Blocking, me(), in_ms(2_000));
            i32::from(!(got.unwrap() && lock.release_read(me()).is_ok()))
        });
        assert_eq!(exit_code(reader), 0, "{plan:?}");
        lock.release_read(me()).unwrap();
        if child.is_stopped() {
            check_live_holder_keeps_its_hold(&lock, &child, plan);
        } else {
            check_recovered(&lock, plan, false);
        }
        reached
    });
}

#[test]
fn a_reader_killed_while_recovering_a_dead_writer_loses_no_news_of_it() {
    at_every_step(RECOVERING, |plan| {
        let lock = ReadWriteLock::new().unwrap();
        let writer = fork_and(|| i32::from(lock.try_write(me()).unwrap() != Attempt::Acquired));
        assert_eq!(exit_code(writer), 0);
        let child = Child::spawn(plan, || {
            assert!(lock.acquire_read(&mut Blocking, me(), soon()).unwrap());
            lock.release_read(me()).unwrap();
        });
        let reached = child.outcome();
        if child.is_stopped() {
            // Whoever recovers the dead writer first, the next writer hears
            // of it, once.
            assert!(lock
                .acquire_write(&mut Blocking, me(), in_ms(2_000))
                .unwrap());
            assert!(lock.previous_owner_died(me()), "{plan:?}");
            lock.release_write(me()).unwrap();
            child.resume();
            check_recovered(&lock, plan, false);
        } else {
            // The dead writer died holding the lock: until a writer
            // releases it, the news stands.
            check_recovered(&lock, plan, true);
        }
        reached
    });
}

#[test]
fn holders_whose_start_time_differs_are_taken_for_reused_pids() {
    let (child, identity) = crate::core::undo_semaphore::kill_steps::live_child();
    let owner = |start_time: u64, token: u64| Owner {
        key: process_key(ProcessIdentity {
            start_time,
            ..identity
        }),
        token,
    };
    let (stale, live) = (
        owner(identity.start_time - 1, 0x6_0000_0001),
        owner(identity.start_time, 0x6_0000_0002),
    );
    let lock = ReadWriteLock::new().unwrap();
    assert_eq!(lock.try_write(stale).unwrap(), Attempt::Acquired);
    assert!(lock.acquire_read(&mut Blocking, live, soon()).unwrap());
    assert!(
        lock.previous_owner_died(live),
        "the stale writer was recovered"
    );
    assert_eq!(lock.try_write(me()).unwrap(), Attempt::Busy);
    assert!(!lock.reclaim_dead(), "the live reader keeps its hold");
    assert_eq!(lock.read_holds(), 1);
    drop(child);
    assert!(lock.acquire_write(&mut Blocking, me(), soon()).unwrap());
    lock.release_write(me()).unwrap();
}
