//! The queue killed (and stopped) at every named step of a push and a pop,
//! from taking its lock to releasing it (see `kill_step`), with records
//! that lie inside the ring and records that wrap its end: the item is
//! whole in the queue or absent (gone only once its pop had taken it), the
//! lock comes back, and nobody is left counted as waiting.

use super::{Pop, Push, Queue};
use crate::core::kill_step::{at_every_step, Child, Death, Plan, Reached};
use crate::core::park::Blocking;
use crate::platform::monotonic_now;
use std::time::Duration;

/// Steps of a push.
const PUSHING: &[&str] = &[
    "mutex.lock.taken",
    "queue.push.locked",
    "queue.push.half_written",
    "queue.push.written",
    "queue.push.published",
    "mutex.unlock.released",
];

/// Steps of a pop.
const POPPING: &[&str] = &[
    "mutex.lock.taken",
    "queue.pop.locked",
    "queue.pop.half_read",
    "queue.pop.read",
    "queue.pop.published",
    "mutex.unlock.released",
];

/// Every step the queue's kill tests run through.
pub(crate) const STEPS: &[&[&str]] = &[PUSHING, POPPING];

/// The ring's size in every scenario.
const CAPACITY: u64 = 128;

/// Where the child's record starts: inside the ring, and where its payload
/// (64 bytes of record) wraps the end half-way through its first half.
const RECORD_STARTS: [usize; 2] = [16, 96];

fn in_ms(ms: u64) -> Option<Duration> {
    Some(monotonic_now() + Duration::from_millis(ms))
}

/// The item the child pushes or pops: 54 bytes, a 64-byte record.
fn child_item() -> Vec<u8> {
    (0..54u8).map(|byte| byte ^ 0x5a).collect()
}

fn push(queue: &Queue, payload: &[u8]) -> Push {
    queue
        .push(&mut Blocking, payload, false, in_ms(10_000))
        .unwrap()
        .expect("push blocked")
}

fn pop(queue: &Queue) -> Pop {
    queue
        .pop(&mut Blocking, false, in_ms(10_000))
        .unwrap()
        .expect("pop blocked")
}

/// An empty queue whose next record starts at `position` (a multiple of 8).
fn queue_writing_at(position: usize) -> Queue {
    let queue = Queue::new(CAPACITY, None).unwrap();
    if position > 0 {
        let filler = vec![0; position - super::RECORD_HEADER];
        assert_eq!(push(&queue, &filler), Push::Pushed);
        assert_eq!(pop(&queue), Pop::Item(filler));
    }
    queue
}

/// Whether the child's change is made (pushed, or popped): it finished,
/// is stopped (it finishes once resumed), or died at `published` or after.
fn made(steps: &[&str], published: &str, plan: Plan, reached: Reached) -> bool {
    let at = |name: &str| steps.iter().position(|&step| step == name);
    reached == Reached::No || plan.death == Death::Stop || at(plan.step) >= at(published)
}

/// Waits for the child's outcome. A stopped child keeps the queue's lock
/// if it holds it (nobody pushes or pops past it, nothing changes), and
/// finishes once resumed.
fn settle(queue: &Queue, child: &Child, plan: Plan) -> Reached {
    let reached = child.outcome();
    if child.is_stopped() {
        if queue.lock.owner_pid() == Some(child.pid as u32) {
            let (len, closed) = (queue.len(), queue.is_closed());
            let popped = queue.pop(&mut Blocking, false, in_ms(20)).unwrap();
            assert_eq!(popped, None, "{plan:?}: popped past a live holder");
            let pushed = queue.push(&mut Blocking, b"x", false, in_ms(20)).unwrap();
            assert_eq!(pushed, None, "{plan:?}: pushed past a live holder");
            assert_eq!((queue.len(), queue.is_closed()), (len, closed), "{plan:?}");
        }
        child.resume();
    }
    reached
}

/// The queue holds exactly `expected`, in order, and is as new: the lock
/// free, nobody counted as waiting, a round trip works.
fn check_holds(queue: &Queue, expected: &[&[u8]], plan: Plan) {
    for item in expected {
        assert_eq!(pop(queue), Pop::Item(item.to_vec()), "{plan:?}");
    }
    assert_eq!(pop(queue), Pop::Empty, "{plan:?}");
    assert_eq!(push(queue, b"after"), Push::Pushed, "{plan:?}");
    assert_eq!(pop(queue), Pop::Item(b"after".to_vec()), "{plan:?}");
    assert_eq!(
        queue.lock.owner_pid(),
        None,
        "{plan:?}: the lock stayed taken"
    );
    assert_eq!(queue.lock.waiting(), 0, "{plan:?}");
    assert_eq!(queue.num_waiting(), 0, "{plan:?}");
}

#[test]
fn a_producer_killed_at_any_step_leaves_the_item_whole_or_absent() {
    at_every_step(PUSHING, |plan| {
        let outcomes = RECORD_STARTS.map(|start| {
            // "before" takes the 16 bytes ahead of the child's record.
            let queue = queue_writing_at(start - 16);
            assert_eq!(push(&queue, b"before"), Push::Pushed);
            let child = Child::spawn(plan, || {
                assert_eq!(push(&queue, &child_item()), Push::Pushed);
            });
            let reached = settle(&queue, &child, plan);
            let item = child_item();
            let expected: &[&[u8]] = if made(PUSHING, "queue.push.published", plan, reached) {
                &[b"before", &item]
            } else {
                &[b"before"]
            };
            check_holds(&queue, expected, plan);
            reached
        });
        assert_eq!(outcomes[0], outcomes[1], "{plan:?}");
        outcomes[0]
    });
}

#[test]
fn a_consumer_killed_at_any_step_leaves_the_item_queued_unless_it_was_taken() {
    at_every_step(POPPING, |plan| {
        let outcomes = RECORD_STARTS.map(|start| {
            let queue = queue_writing_at(start);
            assert_eq!(push(&queue, &child_item()), Push::Pushed);
            assert_eq!(push(&queue, b"second"), Push::Pushed);
            let child = Child::spawn(plan, || {
                assert_eq!(pop(&queue), Pop::Item(child_item()));
            });
            let reached = settle(&queue, &child, plan);
            let item = child_item();
            let expected: &[&[u8]] = if made(POPPING, "queue.pop.published", plan, reached) {
                &[b"second"]
            } else {
                &[&item, b"second"]
            };
            check_holds(&queue, expected, plan);
            reached
        });
        assert_eq!(outcomes[0], outcomes[1], "{plan:?}");
        outcomes[0]
    });
}
