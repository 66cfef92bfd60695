//! The condition variable killed (and stopped) at every named step of a
//! wait and a signal (see `kill_step`): the mutex comes back, and no
//! sleeper mark stays behind to make every later signal a system call.

use super::CondVar;
use crate::core::kill_step::{at_every_step, until_or_settled, Child, Death, Plan, Reached};
use crate::core::mutex::tests::lock;
use crate::core::mutex::{Mutex, TryLock};
use crate::core::park::Blocking;
use crate::platform::monotonic_now;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

/// Steps of a condition wait until a signal (the mutex's release and
/// relock included), then unlock.
const WAITING: &[&str] = &[
    "condvar.wait.counted",
    "mutex.unlock.released",
    "condvar.wait.marked",
    "mutex.lock.taken",
    "mutex.resume.relocked",
];

/// Steps of a signal that wakes a sleeper.
const SIGNALLING: &[&str] = &["condvar.signal.bumped", "condvar.signal.woken"];

/// Every step the condition variable's kill tests run through.
pub(crate) const STEPS: &[&[&str]] = &[WAITING, SIGNALLING];

fn wait(condvar: &CondVar, mutex: &Mutex) -> bool {
    let deadline = monotonic_now() + Duration::from_secs(10);
    condvar
        .wait(mutex, &mut Blocking, Some(deadline), || {
            mutex.relock(&mut Blocking)
        })
        .unwrap()
}

/// After the child's end: the mutex is free or taken over, and after one
/// signal the next makes no system call (nobody counted, or no mark).
fn check_whole(condvar: &CondVar, mutex: &Mutex, plan: Plan) {
    assert_eq!(mutex.try_lock(), TryLock::Acquired, "{plan:?}");
    condvar.signal();
    mutex.unlock().unwrap();
    let marked = condvar.state().sleeping.load(SeqCst) != 0;
    assert!(
        !(marked && condvar.waiting() > 0),
        "{plan:?}: every signal would wake"
    );
    assert!(condvar.waiting() <= 1, "{plan:?}");
}

/// A stopped child keeps the mutex if it holds it.
fn check_live_holder(mutex: &Mutex, child: &Child, plan: Plan) {
    if mutex.owner_pid() == Some(child.pid as u32) {
        assert_eq!(mutex.try_lock(), TryLock::Busy, "{plan:?}");
        let deadline = Some(monotonic_now() + Duration::from_millis(20));
        assert!(
            !mutex.lock_until(&mut Blocking, deadline).unwrap(),
            "{plan:?}"
        );
    }
}

fn signal_under(condvar: &CondVar, mutex: &Mutex, plan: Plan) {
    let deadline = Some(monotonic_now() + Duration::from_secs(2));
    let locked =
        mutex.try_lock() == TryLock::Acquired || mutex.lock_until(&mut Blocking, deadline).unwrap();
    assert!(locked, "{plan:?}");
    condvar.signal();
    mutex.unlock().unwrap();
}

#[test]
fn a_waiter_killed_at_any_step_leaves_the_mutex_and_no_mark() {
    at_every_step(WAITING, |plan| {
        let (condvar, mutex) = (CondVar::new().unwrap(), Mutex::new().unwrap());
        let child = Child::spawn(plan, || {
            lock(&mutex);
            assert!(wait(&condvar, &mutex));
            mutex.unlock().unwrap();
        });
        until_or_settled(&child, || condvar.state().sleeping.load(SeqCst) != 0);
        let reached = if plan.death == Death::Stop && child.settled() {
            // Stopped before its sleep: it cannot have been signalled yet.
            assert_eq!(child.outcome(), Reached::Yes);
            check_live_holder(&mutex, &child, plan);
            child.cont();
            signal_under(&condvar, &mutex, plan);
            child.wait_finished();
            Reached::Yes
        } else {
            signal_under(&condvar, &mutex, plan);
            let reached = child.outcome();
            if child.is_stopped() {
                check_live_holder(&mutex, &child, plan);
                child.resume();
            }
            reached
        };
        check_whole(&condvar, &mutex, plan);
        reached
    });
}

#[test]
fn a_signaller_killed_at_any_step_still_wakes_the_sleeper() {
    at_every_step(SIGNALLING, |plan| {
        let (condvar, mutex) = (CondVar::new().unwrap(), Mutex::new().unwrap());
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                lock(&mutex);
                let woken = wait(&condvar, &mutex);
                mutex.unlock().unwrap();
                woken
            });
            while condvar.state().sleeping.load(SeqCst) == 0 {
                std::thread::sleep(Duration::from_micros(200));
            }
            let child = Child::spawn(plan, || {
                lock(&mutex);
                condvar.signal();
                mutex.unlock().unwrap();
            });
            let reached = child.outcome();
            if child.is_stopped() {
                check_live_holder(&mutex, &child, plan);
                child.resume();
            }
            assert!(waiter.join().unwrap(), "{plan:?}: the sleeper missed it");
            check_whole(&condvar, &mutex, plan);
            reached
        })
    });
}
