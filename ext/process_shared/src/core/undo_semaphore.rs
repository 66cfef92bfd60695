//! A counting semaphore that knows who holds its units
//! (`Semaphore.new(value, undo: true)`): a holder that dies, or a thread
//! that ends, gives its units back.
//!
//! # Layout and algorithm
//!
//! A [`Holders`] table: the count word is the number of free units; each
//! holder's slot counts the units it took. `wait` is a transfer of kind
//! `take` (count − 1, slot + 1), `post` one of kind `give` from the
//! caller's own slot (`Misuse` if it holds none). The slot stays the
//! holder's while it holds nothing, and is taken back only when the table
//! is full. See `holders` for why no unit is lost whatever instruction a
//! process dies at, and why an idle slot is taken back safely. A waiter parks on
//! the table's wake word; at its first slice and after every slice that
//! ended without a wake-up it reclaims the units of holders whose process
//! is gone.

use super::error::{CoreError, CoreResult};
use super::holders::{Holders, Kind, Owner, Refused};
use super::kill_step::step;
use super::named::{self, SharedState};
use super::park::{wait_until, Park};
use super::region::SharedRegion;
use super::thread_end::HeldByThreads;
use std::time::Duration;

/// A counting semaphore whose units come back when their holder dies.
#[derive(Debug)]
pub struct UndoSemaphore {
    holders: Holders,
}

fn no_dead_writer(_: usize, _: u64) -> bool {
    false
}

fn add_back(count: u32, units: u32) -> u32 {
    count.saturating_add(units)
}

impl SharedState for UndoSemaphore {
    type Init = u64;

    fn state_size(_: &u64) -> usize {
        Holders::size()
    }

    fn check_init(initial: &u64) -> CoreResult<()> {
        Self::checked_initial(*initial).map(drop)
    }

    fn init_state(region: &SharedRegion, initial: u64) -> CoreResult<()> {
        Holders::init_state(region, Self::checked_initial(initial)?)
    }

    fn from_region(region: SharedRegion) -> Self {
        UndoSemaphore {
            holders: Holders::from_region(region),
        }
    }

    fn region(&self) -> &SharedRegion {
        self.holders.region()
    }
}

impl UndoSemaphore {
    /// The largest value (as a plain semaphore's, `SEM_VALUE_MAX`).
    pub const MAX_VALUE: u32 = i32::MAX as u32;

    /// A new semaphore with `initial` free units.
    pub fn new(initial: u64) -> CoreResult<Self> {
        named::anonymous(initial)
    }

    fn checked_initial(initial: u64) -> CoreResult<u32> {
        super::semaphore::checked_initial(initial, Self::MAX_VALUE)
    }

    /// Bytes mapped.
    pub fn size() -> usize {
        Holders::size()
    }

    /// Free units now.
    pub fn value(&self) -> u32 {
        self.holders.count()
    }

    /// Threads waiting now, in all processes.
    pub fn waiting(&self) -> u32 {
        self.holders.waiting()
    }

    /// `[(pid, units)]` held, per process.
    pub fn holders(&self) -> Vec<(u32, u64)> {
        self.holders.holders()
    }

    /// Takes a unit for `owner` if one is free and a slot is: no system
    /// call.
    #[inline(always)]
    pub fn try_take(&self, owner: Owner) -> bool {
        self.holders.transfer_kept(owner, Kind::Take) || self.try_take_claiming(owner)
    }

    /// [`UndoSemaphore::try_take`] when the kept slot's straight line did
    /// not do: out of line, so that the entry points inlining the straight
    /// line stay small.
    #[inline(never)]
    fn try_take_claiming(&self, owner: Owner) -> bool {
        if self.holders.count() == 0 {
            return false;
        }
        // The slot stays the owner's when it holds nothing again, so that
        // the next take needs no claim (it is taken back only when the
        // table is full): try the kept slot, and claim one only if the
        // transfer finds it is not, or no longer, the owner's.
        let mut slot = Holders::kept_slot(owner);
        loop {
            let taken = self
                .holders
                .transfer_owned(slot, owner, Kind::Take, |count, _| count.checked_sub(1));
            match taken {
                Ok(_) => return true,
                Err(Refused::Declined) => return false,
                Err(Refused::SlotLost) => match self.holders.claim_or_evict(owner) {
                    Some(other) => {
                        step!("undo.take.claimed");
                        slot = other;
                    }
                    None => return false,
                },
            }
        }
    }

    /// Reclaims the units of holders that died; true if any came back.
    pub fn reclaim_dead(&self) -> bool {
        let reclaimed = self.holders.reclaim_dead(add_back, no_dead_writer);
        if reclaimed {
            self.holders.notify();
        }
        reclaimed
    }

    /// A non-blocking take that also reclaims dead holders' units when
    /// none is free.
    pub fn try_wait(&self, owner: Owner) -> bool {
        self.try_take(owner) || (self.reclaim_dead() && self.try_take(owner))
    }

    /// Takes a unit, parking until one is free (`Ok(true)`) or the
    /// monotonic `deadline` (`Ok(false)`; `None`: never). An interrupted
    /// wait takes nothing.
    pub fn acquire<P: Park>(
        &self,
        park: &mut P,
        owner: Owner,
        deadline: Option<Duration>,
    ) -> Result<bool, P::Error> {
        if self.try_take(owner) {
            return Ok(true);
        }
        let _waiter = self.holders.waiter();
        let mut look_for_dead = true;
        let taken = wait_until(park, deadline, |slice_end| {
            if std::mem::take(&mut look_for_dead) {
                self.reclaim_dead();
            }
            let outcome = self
                .holders
                .sleep_until(slice_end, || self.try_take(owner).then_some(()))?;
            look_for_dead = outcome.is_none();
            Ok(outcome)
        })?;
        step!("undo.acquire.done");
        Ok(taken.is_some())
    }

    /// Gives back one unit `owner` holds; `Misuse` if it holds none.
    #[inline(always)]
    pub fn post(&self, owner: Owner) -> CoreResult<()> {
        if self.try_post(owner) {
            return Ok(());
        }
        Err(CoreError::Misuse(
            "post of a semaphore with undo: the calling thread holds no unit of it".into(),
        ))
    }

    /// [`UndoSemaphore::post`], for a caller that only needs to know
    /// whether a unit went back (a fast entry point: no error to make and
    /// drop).
    #[inline(always)]
    pub fn try_post(&self, owner: Owner) -> bool {
        if !self.holders.transfer_kept(owner, Kind::Give) && !self.give_looking_for_slot(owner) {
            return false;
        }
        step!("undo.post.given");
        // A slot holding nothing now may be taken back by a waiter that
        // found no free one: wake it as for a unit.
        self.holders.notify();
        true
    }

    /// The give of [`UndoSemaphore::try_post`] when the kept slot's straight
    /// line (see [`Holders::transfer_kept`]) did not do: out of line, as
    /// [`UndoSemaphore::try_take_claiming`]. False if `owner` holds no unit.
    #[inline(never)]
    fn give_looking_for_slot(&self, owner: Owner) -> bool {
        // Its kept slot, even empty: the transfer below checks that it is
        // still the owner's, refuses a slot holding nothing, and reads the
        // units with the word it changes.
        let mut slot = Holders::kept_slot(owner);
        loop {
            let given = self
                .holders
                .transfer_owned(slot, owner, Kind::Give, |count, units| {
                    (units > 0).then(|| count.saturating_add(1))
                });
            match given {
                Ok(_) => return true,
                Err(Refused::Declined) => return false,
                // Taken back while it held nothing: look again.
                Err(Refused::SlotLost) => match self.holders.own_slot(owner) {
                    Some(other) => slot = other,
                    None => return false,
                },
            }
        }
    }

    /// Units `owner` holds.
    pub fn held_by(&self, owner: Owner) -> u32 {
        self.holders
            .find(owner)
            .map_or(0, |slot| self.holders.units(slot))
    }

    /// Gives back every unit `owner` holds (`close`).
    pub fn release_all(&self, owner: Owner) {
        while self.try_post(owner) {}
    }
}

impl HeldByThreads for UndoSemaphore {
    fn release_thread(&self, thread: u32) -> usize {
        let released = self
            .holders
            .reclaim_thread(thread, add_back, no_dead_writer);
        if released > 0 {
            self.holders.notify();
        }
        released
    }
}

#[cfg(test)]
#[path = "kill_steps/undo.rs"]
pub(crate) mod kill_steps;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::holders::SLOTS;
    use crate::core::identity::{current_owner, thread_part};
    use crate::core::park::Blocking;
    use crate::core::region::SharedRegion;
    use crate::core::test_support::{exit_code, fork_and, fork_holding, me, soon};
    use crate::platform::monotonic_now;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    fn take(sem: &UndoSemaphore) -> bool {
        sem.acquire(&mut Blocking, me(), soon()).unwrap()
    }

    #[test]
    fn units_are_held_and_given_back_by_their_holder_only() {
        let sem = UndoSemaphore::new(2).unwrap();
        assert!(sem.try_wait(me()));
        assert!(sem.try_wait(me()));
        assert!(!sem.try_wait(me()));
        assert_eq!(sem.held_by(me()), 2);
        assert_eq!(sem.holders(), vec![(std::process::id(), 2)]);
        let other = std::thread::spawn(move || {
            let sem = sem;
            let refused = matches!(sem.post(me()), Err(CoreError::Misuse(_)));
            (sem, refused)
        });
        let (sem, refused) = other.join().unwrap();
        assert!(refused);
        sem.post(me()).unwrap();
        sem.post(me()).unwrap();
        assert!(matches!(sem.post(me()), Err(CoreError::Misuse(_))));
        assert_eq!(sem.value(), 2);
        assert!(sem.holders().is_empty());
    }

    #[test]
    fn values_up_to_the_maximum() {
        let sem = UndoSemaphore::new(u64::from(UndoSemaphore::MAX_VALUE)).unwrap();
        assert!(sem.try_wait(me()));
        assert_eq!(sem.value(), UndoSemaphore::MAX_VALUE - 1);
        sem.post(me()).unwrap();
        assert_eq!(sem.value(), UndoSemaphore::MAX_VALUE);
        assert!(UndoSemaphore::new(u64::from(UndoSemaphore::MAX_VALUE) + 1).is_err());
    }

    #[test]
    fn a_killed_holders_units_come_back_to_a_waiter() {
        let sem = UndoSemaphore::new(3).unwrap();
        let child = fork_holding(|| {
            assert!(sem.try_wait(me()) && sem.try_wait(me()) && sem.try_wait(me()));
        });
        assert_eq!(sem.value(), 0);
        // SAFETY: killing the child we forked.
        unsafe { libc::kill(child, libc::SIGKILL) };
        let start = monotonic_now();
        assert!(take(&sem));
        assert!(monotonic_now() - start < Duration::from_secs(1));
        assert_eq!(exit_code(child), -1);
        assert_eq!(sem.value(), 2);
        sem.post(me()).unwrap();
        assert_eq!(sem.value(), 3);
    }

    #[test]
    fn a_reaped_holders_units_come_back_to_try_wait_at_once() {
        let sem = UndoSemaphore::new(1).unwrap();
        let child = fork_and(|| i32::from(!sem.try_wait(me())));
        assert_eq!(exit_code(child), 0);
        assert_eq!(sem.value(), 0);
        assert!(sem.try_wait(me()));
        assert_eq!(sem.value(), 0);
        sem.post(me()).unwrap();
        assert_eq!(sem.value(), 1);
    }

    #[test]
    fn a_stopped_holder_keeps_its_units() {
        let sem = UndoSemaphore::new(1).unwrap();
        let child = fork_holding(|| {
            assert!(sem.try_wait(me()));
        });
        // SAFETY: stopping, then killing and reaping, the child we forked.
        unsafe { libc::kill(child, libc::SIGSTOP) };
        let deadline = monotonic_now() + Duration::from_millis(350);
        assert!(!sem.acquire(&mut Blocking, me(), Some(deadline)).unwrap());
        assert!(!sem.try_wait(me()));
        assert_eq!(sem.holders(), vec![(child as u32, 1)]);
        // SAFETY: as above.
        unsafe { libc::kill(child, libc::SIGKILL) };
        assert_eq!(exit_code(child), -1);
        assert!(sem.try_wait(me()));
    }

    #[test]
    fn a_thread_that_ends_gives_its_units_back() {
        let sem = Arc::new(UndoSemaphore::new(2).unwrap());
        let theirs = Arc::clone(&sem);
        let thread = std::thread::spawn(move || {
            assert!(theirs.try_wait(me()));
            thread_part(current_owner())
        })
        .join()
        .unwrap();
        assert_eq!(sem.value(), 1);
        assert_eq!(sem.release_thread(thread), 1);
        assert_eq!(sem.value(), 2);
        assert!(sem.holders().is_empty());
    }

    #[test]
    fn a_thread_that_ends_holding_nothing_gives_its_kept_slot_back() {
        let sem = Arc::new(UndoSemaphore::new(1).unwrap());
        let theirs = Arc::clone(&sem);
        let thread = std::thread::spawn(move || {
            assert!(theirs.try_wait(me()));
            theirs.post(me()).unwrap();
            thread_part(current_owner())
        })
        .join()
        .unwrap();
        assert_eq!(sem.holders.idle_kept_slots(), 1, "kept while idle");
        assert_eq!(sem.release_thread(thread), 0, "it held no unit");
        assert_eq!(sem.holders.idle_kept_slots(), 0, "the slot was closed");
        assert!(sem.try_wait(me()));
        assert_eq!(sem.value(), 0);
    }

    #[test]
    fn processes_and_threads_never_exceed_the_value_and_lose_nothing() {
        let sem = UndoSemaphore::new(3).unwrap();
        let inside = SharedRegion::new(16).unwrap();
        let children: Vec<_> = (0..4)
            .map(|_| {
                fork_and(|| {
                    std::thread::scope(|scope| {
                        let threads: Vec<_> = (0..2)
                            .map(|_| {
                                scope.spawn(|| {
                                    for _ in 0..2_000 {
                                        assert!(take(&sem));
                                        let now = bump(&inside, 1);
                                        max(&inside, now);
                                        bump(&inside, -1);
                                        sem.post(me()).unwrap();
                                    }
                                })
                            })
                            .collect();
                        i32::from(!threads.into_iter().all(|t| t.join().is_ok()))
                    })
                })
            })
            .collect();
        for child in children {
            assert_eq!(exit_code(child), 0);
        }
        assert_eq!(sem.value(), 3);
        assert!(inside.read::<u64>(8).unwrap() <= 3);
        assert!(sem.holders().is_empty());
    }

    fn word(region: &SharedRegion, offset: u64) -> &AtomicU64 {
        let at = region.span(offset, 8).unwrap().cast::<AtomicU64>();
        // SAFETY: 8 bytes inside the region, aligned (offsets 0 and 8 of a
        // page-aligned mapping); an AtomicU64 tolerates other processes.
        unsafe { &*at }
    }

    /// Atomically adds `delta` to the counter at offset 0; the new value.
    fn bump(region: &SharedRegion, delta: i64) -> u64 {
        let old = word(region, 0).fetch_add(delta as u64, Ordering::SeqCst);
        old.wrapping_add(delta as u64)
    }

    /// Keeps the largest value seen at offset 8.
    fn max(region: &SharedRegion, value: u64) {
        word(region, 8).fetch_max(value, Ordering::SeqCst);
    }

    #[test]
    fn a_table_full_of_idle_kept_slots_still_gives_a_waiter_one() {
        let sem = UndoSemaphore::new(2).unwrap();
        let idle_round = |fibers: std::ops::Range<u64>| {
            for fiber in fibers {
                let owner = Owner {
                    token: 0x8_0000_0000 + fiber,
                    ..me()
                };
                assert!(sem.try_wait(owner));
                sem.post(owner).unwrap();
            }
        };
        let half = SLOTS as u64 / 2;
        // A live process keeps half the slots, threads of this one the rest.
        let child = fork_holding(|| idle_round(0..half));
        std::thread::scope(|scope| {
            for part in 0..2 {
                let from = half + part * half / 2;
                scope.spawn(move || idle_round(from..from + half / 2));
            }
        });
        assert_eq!(sem.holders.idle_kept_slots(), SLOTS);
        assert!(sem.holders().is_empty(), "idle slots are not holders");
        // A holder keeps its unit while idle slots are taken back around it.
        let holding = Owner {
            token: 0x9_0000_0001,
            ..me()
        };
        assert!(sem.try_wait(holding));
        assert!(take(&sem));
        assert_eq!(sem.value(), 0);
        assert_eq!(sem.holders(), vec![(std::process::id(), 2)]);
        sem.post(me()).unwrap();
        sem.post(holding).unwrap();
        assert_eq!(sem.value(), 2);
        // SAFETY: killing the child we forked.
        unsafe { libc::kill(child, libc::SIGKILL) };
        assert_eq!(exit_code(child), -1);
    }

    #[test]
    fn a_full_table_makes_a_waiter_wait_for_a_slot() {
        let sem = UndoSemaphore::new(SLOTS as u64 + 1).unwrap();
        let owners: Vec<Owner> = (0..SLOTS as u64)
            .map(|fiber| Owner {
                token: 0x7_0000_0000 + fiber,
                ..me()
            })
            .collect();
        for owner in &owners {
            assert!(sem.try_wait(*owner));
        }
        assert_eq!(sem.value(), 1);
        assert!(!sem.try_wait(me()), "no slot is free");
        sem.post(owners[5]).unwrap();
        assert!(sem.try_wait(me()));
    }
}
