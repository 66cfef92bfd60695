//! The barrier killed (and stopped) at every named step of the last party's
//! arrival (see `kill_step`): the party waiting with it is told the
//! barrier broke if the trip was not yet recorded, passes if it was, and
//! never hangs; a stopped party is not taken for dead; the barrier is
//! usable afterwards.

use super::{Arrived, Barrier, Wait};
use crate::core::kill_step::{at_every_step, Child, Death, Reached};
use crate::core::park::Blocking;
use crate::core::test_support::{exit_code, fork_and};
use crate::platform::monotonic_now;
use std::time::Duration;

/// Steps of the last party's arrival, which trips the barrier and helps
/// a party of the previous generation that never read its outcome.
const LAST_PARTY: &[&str] = &[
    "barrier.arrive.claimed",
    "barrier.arrive.ticketed",
    "barrier.help.written",
    "barrier.change.swapped",
    "barrier.change.bumped",
    "barrier.leave.ticket_cleared",
];

/// Every step the barrier's kill tests run through.
pub(crate) const STEPS: &[&[&str]] = &[LAST_PARTY];

fn wait(barrier: &Barrier, timeout: Duration) -> Wait {
    barrier
        .wait(&mut Blocking, Some(monotonic_now() + timeout))
        .unwrap()
}

#[test]
fn the_last_party_killed_at_any_step_breaks_or_trips_the_barrier() {
    at_every_step(LAST_PARTY, |plan| {
        let barrier = Barrier::new(2).unwrap();
        // A party that died waiting in the previous generation: the next
        // trip writes its outcome into its ticket.
        let dead = fork_and(|| match barrier.arrive(Duration::ZERO) {
            Ok(Some(Arrived::Waiting(arrival))) => {
                std::mem::forget(arrival);
                0
            }
            _ => 1,
        });
        assert_eq!(exit_code(dead), 0);
        assert_eq!(wait(&barrier, Duration::from_secs(5)), Wait::Passed(1));
        let stopped = plan.death == Death::Stop;
        let patience = Duration::from_millis(if stopped { 10_000 } else { 300 });
        let reached = std::thread::scope(|scope| {
            let first = scope.spawn(|| wait(&barrier, patience));
            while barrier.n_waiting() == 0 {
                std::thread::sleep(Duration::from_micros(200));
            }
            let child = Child::spawn(plan, || {
                assert_eq!(wait(&barrier, Duration::from_secs(10)), Wait::Passed(1));
            });
            let reached = child.outcome();
            let tripped = barrier.state().generation() == 2;
            if stopped && reached == Reached::Yes {
                if !tripped {
                    // Longer than a few polls: a live party is never
                    // taken for dead.
                    std::thread::sleep(Duration::from_millis(150));
                    assert!(!barrier.is_broken(), "{plan:?}");
                }
                child.resume();
                assert_eq!(first.join().unwrap(), Wait::Passed(0), "{plan:?}");
            } else {
                let expected = if tripped {
                    Wait::Passed(0)
                } else {
                    Wait::Broken
                };
                assert_eq!(first.join().unwrap(), expected, "{plan:?}");
            }
            reached
        });
        if barrier.is_broken() {
            barrier.reset();
        }
        std::thread::scope(|scope| {
            let other = scope.spawn(|| wait(&barrier, Duration::from_secs(5)));
            assert!(matches!(
                wait(&barrier, Duration::from_secs(5)),
                Wait::Passed(_)
            ));
            assert!(matches!(other.join().unwrap(), Wait::Passed(_)), "{plan:?}");
        });
        assert_eq!(barrier.n_waiting(), 0, "{plan:?}");
        reached
    });
}
