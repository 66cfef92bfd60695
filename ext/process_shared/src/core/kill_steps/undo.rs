//! The undo semaphore killed (and stopped) at every named step of `wait`,
//! `post` and the reclaiming of a dead holder's units (see `kill_step`).

use super::UndoSemaphore;
use crate::core::holders::{process_key, Owner, SLOTS};
use crate::core::identity::ProcessIdentity;
use crate::core::kill_step::{at_every_step, until_or_settled, Child, Death, Plan, Reached};
use crate::core::park::Blocking;
use crate::core::semaphore::Semaphore;
use crate::core::test_support::{exit_code, fork_and};
use crate::platform::{self, monotonic_now};
use std::time::Duration;

/// Steps of an uncontended `try_wait` then `post`.
const ROUND_TRIP: &[&str] = &[
    "holders.claim.keyed",
    "undo.take.claimed",
    "holders.transfer.helped",
    "holders.transfer.recorded",
    "undo.post.given",
];

/// Steps of an `acquire` that sleeps until a unit is posted, then `post`.
const CONTENDED: &[&str] = &[
    "waiters.register.claimed",
    "holders.sleep.marked",
    "holders.claim.keyed",
    "holders.transfer.recorded",
    "undo.acquire.done",
    "waiters.leave.unmarked",
];

/// Steps of a `post` that wakes a sleeper.
const WAKING_POST: &[&str] = &["holders.notify.unmarked", "holders.notify.bumped"];

/// Steps of a `try_wait` that first reclaims a dead holder's units.
const RECLAIMING: &[&str] = &[
    "holders.reclaim.freer",
    "holders.transfer.helped",
    "holders.transfer.recorded",
    "holders.reclaim.reclaimed",
    "holders.reclaim.writer_cleared",
];

/// Steps of a `try_wait` that finds every slot kept by a holder holding
/// nothing, and takes one over.
const TAKING_OVER: &[&str] = &[
    "holders.take_over.freer",
    "holders.take_over.closed",
    "holders.take_over.keyed",
    "holders.take_over.tokened",
    "holders.take_over.opened",
];

/// Every step the undo semaphore's kill tests run through.
pub(crate) const STEPS: &[&[&str]] = &[ROUND_TRIP, CONTENDED, WAKING_POST, RECLAIMING, TAKING_OVER];

const VALUE: u32 = 3;

fn me() -> Owner {
    Owner::current()
}

fn soon() -> Option<Duration> {
    Some(monotonic_now() + Duration::from_secs(10))
}

/// Takes every unit it can without waiting (reclaiming the dead's): how
/// many.
fn take_all_free(sem: &UndoSemaphore) -> u32 {
    let mut taken = 0;
    while sem.try_wait(me()) {
        taken += 1;
    }
    taken
}

fn give_back(sem: &UndoSemaphore, units: u32) {
    for _ in 0..units {
        sem.post(me()).unwrap();
    }
}

/// The parent holds `held` units and the child is dead: every other unit
/// comes back, exactly, and the semaphore is as new.
fn check_recovered(sem: &UndoSemaphore, held: u32, plan: Plan) {
    let taken = held + take_all_free(sem);
    assert_eq!(taken, VALUE, "{plan:?}: units lost or made up");
    let deadline = Some(monotonic_now() + Duration::from_millis(5));
    assert!(!sem.acquire(&mut Blocking, me(), deadline).unwrap());
    give_back(sem, taken);
    sem.reclaim_dead();
    assert_eq!(sem.value(), VALUE, "{plan:?}");
    assert!(sem.holders().is_empty(), "{plan:?}");
    assert!(sem.holders.all_slots_free(), "{plan:?}: a slot leaked");
    assert!(!sem.holders.transfer_pending(), "{plan:?}");
    assert!(!sem.holders.sleepers_marked(), "{plan:?}: post would wake");
    assert_eq!(sem.waiting(), 0, "{plan:?}: a dead waiter counted");
}

/// The child is stopped holding what it holds: the parent (which holds
/// `held`) can take every other unit (the dead's included) and not one
/// more, even after looking for dead holders; then it gives everything
/// back and lets the child finish, after which the semaphore is whole with
/// no recovery at all.
fn check_live_holder_keeps_its_units(sem: &UndoSemaphore, child: &Child, held: u32, plan: Plan) {
    let taken = take_all_free(sem);
    assert!(!sem.reclaim_dead(), "{plan:?}: a live holder's units taken");
    sem.holders.settle();
    let childs: u64 = sem
        .holders()
        .iter()
        .filter(|&&(pid, _)| pid == child.pid as u32)
        .map(|&(_, units)| units)
        .sum();
    assert_eq!(
        u64::from(held + taken) + childs,
        u64::from(VALUE),
        "{plan:?}"
    );
    let deadline = Some(monotonic_now() + Duration::from_millis(20));
    assert!(
        !sem.acquire(&mut Blocking, me(), deadline).unwrap(),
        "{plan:?}"
    );
    give_back(sem, held + taken);
    child.resume();
    assert_eq!(sem.value(), VALUE, "{plan:?}");
    // The child, gone now, kept its slot: closed for the next claimer.
    sem.reclaim_dead();
    assert!(sem.holders.all_slots_free(), "{plan:?}");
    assert_eq!(sem.waiting(), 0, "{plan:?}");
}

fn finish(sem: &UndoSemaphore, child: &Child, held: u32, plan: Plan) -> Reached {
    let reached = child.outcome();
    if child.is_stopped() {
        check_live_holder_keeps_its_units(sem, child, held, plan);
    } else {
        check_recovered(sem, held, plan);
    }
    reached
}

#[test]
fn a_round_trip_killed_at_any_step_loses_no_unit() {
    at_every_step(ROUND_TRIP, |plan| {
        let sem = UndoSemaphore::new(VALUE.into()).unwrap();
        let child = Child::spawn(plan, || {
            assert!(sem.try_wait(me()));
            sem.post(me()).unwrap();
        });
        finish(&sem, &child, 0, plan)
    });
}

#[test]
fn a_waiter_killed_at_any_step_loses_no_unit() {
    at_every_step(CONTENDED, |plan| {
        let sem = UndoSemaphore::new(VALUE.into()).unwrap();
        assert_eq!(take_all_free(&sem), VALUE);
        let child = Child::spawn(plan, || {
            assert!(sem.acquire(&mut Blocking, me(), soon()).unwrap());
            sem.post(me()).unwrap();
        });
        until_or_settled(&child, || sem.holders.sleepers_marked());
        sem.post(me()).unwrap();
        finish(&sem, &child, VALUE - 1, plan)
    });
}

#[test]
fn a_post_killed_while_waking_a_sleeper_still_serves_it() {
    at_every_step(WAKING_POST, |plan| {
        let sem = UndoSemaphore::new(VALUE.into()).unwrap();
        assert!(sem.try_wait(me()) && sem.try_wait(me()));
        let go = Semaphore::new(0).unwrap();
        let child = Child::spawn(plan, || {
            assert!(sem.try_wait(me()));
            go.acquire(&mut Blocking, soon()).unwrap();
            sem.post(me()).unwrap();
        });
        until_or_settled(&child, || sem.value() == 0);
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                let got = sem.acquire(&mut Blocking, me(), soon()).unwrap();
                got && sem.post(me()).is_ok()
            });
            until_or_settled(&child, || sem.holders.sleepers_marked());
            go.post().unwrap();
            let reached = child.outcome();
            assert!(
                waiter.join().unwrap(),
                "{plan:?}: the sleeper was not served"
            );
            if child.is_stopped() {
                check_live_holder_keeps_its_units(&sem, &child, 2, plan);
            } else {
                check_recovered(&sem, 2, plan);
            }
            reached
        })
    });
}

#[test]
fn a_waiter_killed_while_reclaiming_a_dead_holders_units_loses_none() {
    at_every_step(RECLAIMING, |plan| {
        let sem = UndoSemaphore::new(VALUE.into()).unwrap();
        assert!(sem.try_wait(me()));
        let dead = fork_and(|| i32::from(!(sem.try_wait(me()) && sem.try_wait(me()))));
        assert_eq!(exit_code(dead), 0);
        assert_eq!(sem.value(), 0);
        let child = Child::spawn(plan, || {
            // Again if the parent reclaimed the units first.
            assert!(sem.try_wait(me()) || sem.try_wait(me()));
            sem.post(me()).unwrap();
        });
        finish(&sem, &child, 1, plan)
    });
}

#[test]
fn a_waiter_killed_while_taking_over_an_idle_slot_loses_no_unit() {
    at_every_step(TAKING_OVER, |plan| {
        let sem = UndoSemaphore::new(VALUE.into()).unwrap();
        for fiber in 0..SLOTS as u64 {
            let idle = Owner {
                token: 0x7_0000_0000 + fiber,
                ..me()
            };
            assert!(sem.try_wait(idle));
            sem.post(idle).unwrap();
        }
        assert_eq!(sem.holders.idle_kept_slots(), SLOTS);
        let child = Child::spawn(plan, || {
            assert!(sem.try_wait(me()));
            sem.post(me()).unwrap();
        });
        finish(&sem, &child, 0, plan)
    });
}

#[test]
fn a_live_holder_whose_start_time_differs_is_taken_for_a_reused_pid() {
    let sem = UndoSemaphore::new(VALUE.into()).unwrap();
    let (child, identity) = live_child();
    let stale = Owner {
        key: process_key(ProcessIdentity {
            start_time: identity.start_time - 1,
            ..identity
        }),
        token: 0x5_0000_0001,
    };
    let live = Owner {
        key: process_key(identity),
        token: 0x5_0000_0002,
    };
    assert!(sem.try_wait(stale) && sem.try_wait(stale) && sem.try_wait(live));
    assert_eq!(sem.value(), 0);
    assert!(sem.reclaim_dead());
    assert_eq!(sem.value(), 2, "the stale holder's units came back");
    assert_eq!(sem.holders(), vec![(identity.pid, 1)]);
    assert!(!sem.reclaim_dead(), "the live holder keeps its unit");
    drop(child);
    assert!(sem.reclaim_dead());
    assert_eq!(sem.value(), VALUE);
}

/// A child that sleeps until dropped, and its identity.
pub(crate) fn live_child() -> (Child, ProcessIdentity) {
    let plan = Plan {
        step: "never",
        nth: 1,
        death: Death::Kill,
    };
    let child = Child::spawn(plan, || std::thread::sleep(Duration::from_secs(30)));
    let pid = child.pid as u32;
    let give_up = monotonic_now() + Duration::from_secs(10);
    let start_time = loop {
        // Its start time is readable once it runs.
        if let Some(start) = platform::process_start_time(pid).filter(|&start| start > 1) {
            break start;
        }
        assert!(monotonic_now() < give_up);
        std::thread::sleep(Duration::from_millis(1));
    };
    (child, ProcessIdentity { pid, start_time })
}
