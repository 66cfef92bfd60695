//! The mutex killed (and stopped) at every named step of locking, taking
//! over from a dead holder, waiting, the hand-off to a hungry waiter and
//! unlocking (see `kill_step`).

use super::tests::lock;
use super::{Mutex, TryLock, HANDED_OFF};
use crate::core::kill_step::{
    at_every_step, at_first_pass, until_or_settled, Child, Plan, Reached,
};
use crate::core::park::Blocking;
use crate::core::test_support::{exit_code, fork_and};
use crate::platform::monotonic_now;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

/// Steps of an uncontended lock and unlock.
const ROUND_TRIP: &[&str] = &[
    "mutex.lock.taken",
    "mutex.hold.thread",
    "mutex.unlock.thread_cleared",
    "mutex.unlock.decided",
    "mutex.unlock.released",
];

/// Steps of a `try_lock` that takes over from a dead holder, then unlock
/// (which clears the flag the take-over set).
const TAKE_OVER: &[&str] = &[
    "mutex.takeover.taken",
    "mutex.hold.thread",
    "mutex.hold.depth",
    "mutex.unlock.flag_cleared",
];

/// Steps of a lock that sleeps until the holder unlocks.
const CONTENDED: &[&str] = &[
    "mutex.wait.counted",
    "waiters.register.claimed",
    "mutex.lock.taken",
    "mutex.wait.heir_dropped",
    "waiters.leave.unmarked",
];

/// Steps of a waiter that makes itself the heir.
const BECOMING_HEIR: &[&str] = &["mutex.wait.heir"];

/// Steps of a waiter that wakes while a hand-off waits for an heir that is
/// late, and takes it.
const LATE_HEIR: &[&str] = &["mutex.wait.late_heir_taken"];

/// Steps of a waiter whose slice ends with the lock handed to nobody.
const STRANDED: &[&str] = &["mutex.wait.slice_heir_taken"];

/// Every step the mutex's kill tests run through.
pub(crate) const STEPS: &[&[&str]] = &[
    ROUND_TRIP,
    TAKE_OVER,
    CONTENDED,
    BECOMING_HEIR,
    LATE_HEIR,
    STRANDED,
];

/// The ticket of an heir whose process is gone (forked and reaped).
fn gone_heir() -> u64 {
    let pid = fork_and(|| 0);
    assert_eq!(exit_code(pid), 0);
    ((pid as u64) << 32) | 1
}

fn in_ms(ms: u64) -> Option<Duration> {
    Some(monotonic_now() + Duration::from_millis(ms))
}

/// Whether the child holds the lock (dead or alive).
fn held_by(mutex: &Mutex, child: &Child) -> bool {
    mutex.owner_pid() == Some(child.pid as u32)
}

/// The child is dead: the lock comes back (`previous_owner_died` exactly
/// when a holder died holding it) and is as new: an uncontended
/// `try_lock` takes it, and an unlock does not post.
fn check_recovered(mutex: &Mutex, plan: Plan, died_holding: bool) {
    assert_eq!(
        mutex.try_lock(),
        TryLock::Acquired,
        "{plan:?}: not recovered"
    );
    assert_eq!(
        mutex.previous_owner_died(),
        died_holding,
        "{plan:?}: previous_owner_died"
    );
    mutex.unlock().unwrap();
    for _ in 0..3 {
        assert_eq!(mutex.try_lock(), TryLock::Acquired, "{plan:?}: uncontended");
        assert!(!mutex.previous_owner_died(), "{plan:?}");
        mutex.unlock().unwrap();
    }
    let state = mutex.state();
    assert_eq!(state.owner.load(SeqCst), 0, "{plan:?}");
    assert!(
        state.wake.value().is_none_or(|value| value <= 1),
        "{plan:?}"
    );
    assert_eq!(mutex.waiting(), 0, "{plan:?}: a dead waiter counted");
}

/// The child is stopped: it keeps the lock if it holds it, and once
/// resumed unlocks it normally.
fn check_live_holder_keeps_the_lock(mutex: &Mutex, child: &Child, plan: Plan) {
    if held_by(mutex, child) {
        assert_eq!(mutex.try_lock(), TryLock::Busy, "{plan:?}");
        assert!(
            !mutex.lock_until(&mut Blocking, in_ms(20)).unwrap(),
            "{plan:?}"
        );
        assert!(held_by(mutex, child), "{plan:?}");
    }
    child.resume();
    assert!(
        mutex.lock_until(&mut Blocking, in_ms(2_000)).unwrap(),
        "{plan:?}"
    );
    assert!(!mutex.previous_owner_died(), "{plan:?}");
    mutex.unlock().unwrap();
    assert_eq!(mutex.state().owner.load(SeqCst), 0, "{plan:?}");
    assert_eq!(mutex.waiting(), 0, "{plan:?}");
}

/// Locks `mutex`, then forks a child that waits for it (then unlocks),
/// and returns once the child waits or settled.
fn spawn_waiter(mutex: &Mutex, plan: Plan) -> Child {
    lock(mutex);
    let child = Child::spawn(plan, || {
        lock(mutex);
        mutex.unlock().unwrap();
    });
    until_or_settled(&child, || mutex.waiting() > 0);
    child
}

/// Checks the lock after the child's outcome, as a live holder or a dead
/// one (`died_before`: a holder had died holding it before the child ran).
fn finish(mutex: &Mutex, child: &Child, plan: Plan, died_before: bool) -> Reached {
    let reached = child.outcome();
    if child.is_stopped() {
        check_live_holder_keeps_the_lock(mutex, child, plan);
    } else {
        let holder_died = reached == Reached::Yes && (died_before || held_by(mutex, child));
        check_recovered(mutex, plan, holder_died);
    }
    reached
}

#[test]
fn a_holder_killed_at_any_step_leaves_the_lock_recoverable() {
    at_every_step(ROUND_TRIP, |plan| {
        let mutex = Mutex::new().unwrap();
        let child = Child::spawn(plan, || {
            lock(&mutex);
            mutex.unlock().unwrap();
        });
        finish(&mutex, &child, plan, false)
    });
}

#[test]
fn a_taker_over_killed_at_any_step_leaves_the_lock_recoverable() {
    at_every_step(TAKE_OVER, |plan| {
        let mutex = Mutex::new().unwrap();
        let dead = fork_and(|| i32::from(!mutex.try_acquire()));
        assert_eq!(exit_code(dead), 0);
        let child = Child::spawn(plan, || {
            assert_eq!(mutex.try_lock(), TryLock::Acquired);
            mutex.unlock().unwrap();
        });
        finish(&mutex, &child, plan, true)
    });
}

#[test]
fn a_waiter_killed_at_any_step_leaves_the_lock_recoverable() {
    at_every_step(CONTENDED, |plan| {
        let mutex = Mutex::new().unwrap();
        let child = spawn_waiter(&mutex, plan);
        mutex.unlock().unwrap();
        finish(&mutex, &child, plan, false)
    });
}

#[test]
fn a_waiter_killed_as_it_becomes_heir_strands_nothing() {
    at_every_step(BECOMING_HEIR, |plan| {
        let mutex = Mutex::new().unwrap();
        let child = spawn_waiter(&mutex, plan);
        // Wake it without unlocking until, hungry, it looks again and names
        // itself heir.
        until_or_settled(&child, || {
            super::post_unless_pending(&mutex.state().wake);
            mutex.state().heir.load(SeqCst) != 0
        });
        mutex.unlock().unwrap();
        finish(&mutex, &child, plan, false)
    });
}

#[test]
fn a_waiter_killed_as_it_takes_a_late_heirs_hand_off_strands_nothing() {
    at_first_pass(LATE_HEIR, |plan| {
        let mutex = Mutex::new().unwrap();
        let child = spawn_waiter(&mutex, plan);
        // Another waiter is heir; the unlock hands the lock to it.
        mutex.state().heir.store(gone_heir(), SeqCst);
        mutex.state().fair_at.store(0, SeqCst);
        mutex.unlock().unwrap();
        assert_eq!(mutex.state().owner.load(SeqCst), HANDED_OFF);
        // The hand-off woke only the (gone) heir: once it is late, wake the
        // waiter as a free lock's unlock would.
        std::thread::sleep(super::HEIR_GRACE + Duration::from_millis(5));
        mutex.state().wake.post().unwrap();
        finish(&mutex, &child, plan, false)
    });
}

#[test]
fn a_waiter_killed_as_it_takes_a_stranded_hand_off_strands_nothing() {
    at_every_step(STRANDED, |plan| {
        let mutex = Mutex::new().unwrap();
        // Handed to an heir that is gone, with no wake-up left.
        let state = mutex.state();
        state.owner.store(HANDED_OFF, SeqCst);
        state.heir.store(gone_heir(), SeqCst);
        let child = Child::spawn(plan, || {
            assert!(mutex.lock_until(&mut Blocking, in_ms(30)).unwrap());
            mutex.unlock().unwrap();
        });
        finish(&mutex, &child, plan, false)
    });
}
