//! The binary semaphore killed (and stopped) at every named step of a wait
//! and a post (see `kill_step`). It has no owner, so a unit taken by a
//! process that dies stays taken; what must not stay behind is a sleeper
//! mark that would make every later `post` a system call.

use super::{BinarySemaphore, AVAILABLE};
use crate::core::kill_step::{at_every_step, until_or_settled, Child, Reached};
use crate::core::park::Blocking;
use crate::platform::monotonic_now;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

/// Steps of a wait that sleeps until a post, then a post.
const WAIT_THEN_POST: &[&str] = &[
    "binary.wait.counted",
    "binary.wait.marked",
    "binary.wait.taken",
    "binary.post.raised",
];

/// Every step the binary semaphore's kill tests run through.
pub(crate) const STEPS: &[&[&str]] = &[WAIT_THEN_POST];

#[test]
fn a_waiter_killed_at_any_step_leaves_no_sleeper_mark() {
    at_every_step(WAIT_THEN_POST, |plan| {
        let semaphore = BinarySemaphore::new(0).unwrap();
        let word = &semaphore.state().value;
        let child = Child::spawn(plan, || {
            let deadline = Some(monotonic_now() + Duration::from_secs(10));
            assert!(semaphore.acquire(&mut Blocking, deadline).unwrap());
            semaphore.post().unwrap();
        });
        until_or_settled(&child, || word.load(SeqCst) != 0);
        semaphore.post().unwrap();
        let reached = child.outcome();
        // Exactly one unit, unless the child died between taking it and
        // giving it back.
        let lost = reached == Reached::Yes && plan.step == "binary.wait.taken";
        let stopped = child.is_stopped();
        if stopped {
            child.resume();
        }
        assert_eq!(semaphore.value(), u32::from(!lost || stopped), "{plan:?}");
        if lost && !stopped {
            semaphore.post().unwrap();
        }
        // One round, and the word is back to plain "available": later
        // posts wake nobody.
        assert!(semaphore.try_wait(), "{plan:?}");
        semaphore.post().unwrap();
        assert_eq!(
            word.load(SeqCst),
            AVAILABLE,
            "{plan:?}: a sleeper mark stayed"
        );
        assert!(semaphore.waiting() <= 1, "{plan:?}");
        reached
    });
}
