//! The waiter table killed (and stopped) at every named step of counting
//! a waiter in, out, and reaping a dead one (see `kill_step`): afterwards
//! nobody is counted and "is anyone waiting?" says no, so wake-ups make no
//! system call.

use super::WaiterSlots;
use crate::core::kill_step::{at_every_step, Child, Plan, Reached};
use crate::core::region::SharedRegion;
use crate::core::test_support::{exit_code, fork_and};

/// Steps of a waiter counted in, then out.
const REGISTERING: &[&str] = &["waiters.register.claimed", "waiters.leave.unmarked"];

/// Steps of a reaper freeing a dead waiter's slot.
const REAPING: &[&str] = &["waiters.reap.freed"];

/// Every step the waiter table's kill tests run through.
pub(crate) const STEPS: &[&[&str]] = &[REGISTERING, REAPING];

fn table(region: &SharedRegion) -> &WaiterSlots {
    // SAFETY: a zero-filled region large enough for the table, whose
    // fields are all atomics (valid when zero).
    unsafe { &*region.base().cast::<WaiterSlots>() }
}

fn check(table: &WaiterSlots, child: &Child, plan: Plan) -> Reached {
    let reached = child.outcome();
    if child.is_stopped() {
        let slots = || -> Vec<u64> {
            let slots = table.slots.iter();
            slots
                .map(|slot| slot.load(super::Ordering::SeqCst))
                .collect()
        };
        let before = slots();
        table.reap_dead();
        assert_eq!(before, slots(), "{plan:?}: a live waiter was reaped");
        child.resume();
    }
    assert_eq!(table.count(0), 0, "{plan:?}");
    assert!(
        !table.anyone(0),
        "{plan:?}: every wake-up would be a system call"
    );
    reached
}

fn new_region() -> SharedRegion {
    SharedRegion::new(std::mem::size_of::<WaiterSlots>()).unwrap()
}

#[test]
fn a_waiter_killed_at_any_step_is_counted_out() {
    at_every_step(REGISTERING, |plan| {
        let region = new_region();
        let table = table(&region);
        let child = Child::spawn(plan, || drop(table.register(0)));
        check(table, &child, plan)
    });
}

#[test]
fn a_reaper_killed_at_any_step_leaves_nobody_counted() {
    at_every_step(REAPING, |plan| {
        let region = new_region();
        let table = table(&region);
        let dead = fork_and(|| {
            std::mem::forget(table.register(0));
            0
        });
        assert_eq!(exit_code(dead), 0);
        let child = Child::spawn(plan, || table.reap_dead());
        check(table, &child, plan)
    });
}
