//! A reusable barrier for a fixed number of parties across processes, as
//! Python's `multiprocessing.Barrier`, broken by a timeout, an abort, or the
//! death of a waiting party.
//!
//! # Layout (one shared region)
//!
//! | field     | type        | meaning                                             |
//! |-----------|-------------|-----------------------------------------------------|
//! | `state`   | u64         | generation (high 32 bits), parties arrived (bits 2..32), `last_broken` (bit 1), `broken` (bit 0) |
//! | `parties` | u32         | fixed                                               |
//! | `seq`     | u32         | bumped after every change of `state`; waiters sleep on it |
//! | `slots`   | u32         | how many party slots follow                         |
//! | slot[i]   | 2 × u64     | `key`: the waiting process (0: free); `ticket`: generation (high 32) and status (low 32) |
//!
//! # Protocol
//!
//! All of the barrier's state is one word, changed only by compare-and-swap,
//! so a process killed between any two instructions leaves it consistent.
//! A party claims a free slot (its process key), writes in its ticket "waiting
//! in generation g", then arrives with one compare-and-swap (count + 1, its
//! arrival index being the count before). The last party instead moves the
//! word to generation g + 1, count 0, `last_broken` clear. `abort`, a timeout
//! or an interrupted wait sets `broken` in generation g; `reset` moves to
//! g + 1 with `last_broken` set.
//!
//! A waiter of generation g that finds the word in g + 1 learns its outcome
//! from `last_broken`. It may sleep through more than one generation,
//! though, so whoever moves the word out of generation h first *helps* the
//! waiters of h - 1: it writes their outcome (known from `last_broken` in
//! the word it is about to replace) into their tickets. A waiter that finds
//! the word two or more generations on reads its ticket instead.
//!
//! Waiters sleep at most [`POLL`] at a time; each time, they look for a
//! waiting party of their generation whose process has died, and break the
//! barrier if there is one, so every waiter raises within about 100 ms of a
//! death. A slot left behind by a killed process is reclaimed when no slot is
//! free.

use super::error::{CoreError, CoreResult};
use super::kill_step::step;
use super::named::{self, SharedState};
use super::park::{self, Park};
use super::region::SharedRegion;
use super::waiter_slots::{key_is_gone, process_key};
use crate::platform::{self, monotonic_now, WaitOutcome};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// The most parties a barrier can have.
pub const MAX_PARTIES: u32 = 1 << 16;
/// How long a waiter sleeps before looking for dead parties.
pub const POLL: Duration = Duration::from_millis(40);

const BROKEN: u64 = 1;
const LAST_BROKEN: u64 = 2;
const COUNT_SHIFT: u32 = 2;
const COUNT_MASK: u64 = (1 << 30) - 1;

const WAITING: u32 = 1;
const PASSED: u32 = 2;
const FAILED: u32 = 3;

#[repr(C)]
struct Header {
    state: AtomicU64,
    parties: AtomicU32,
    seq: AtomicU32,
    slots: AtomicU32,
    _pad: u32,
}

#[repr(C)]
struct Slot {
    key: AtomicU64,
    ticket: AtomicU64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State(u64);

impl State {
    fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
    fn count(self) -> u32 {
        ((self.0 >> COUNT_SHIFT) & COUNT_MASK) as u32
    }
    fn broken(self) -> bool {
        self.0 & BROKEN != 0
    }
    fn last_broken(self) -> bool {
        self.0 & LAST_BROKEN != 0
    }
    fn next_generation(self, last_broken: bool) -> State {
        let generation = u64::from(self.generation().wrapping_add(1)) << 32;
        State(generation | if last_broken { LAST_BROKEN } else { 0 })
    }
}

fn ticket(generation: u32, status: u32) -> u64 {
    (u64::from(generation) << 32) | u64::from(status)
}

impl SharedState for Barrier {
    type Init = u64;

    fn state_size(parties: &u64) -> usize {
        // Bad counts are refused by `check_init`; clamp so sizing them is harmless.
        let parties = (*parties).clamp(1, u64::from(MAX_PARTIES)) as u32;
        std::mem::size_of::<Header>()
            + Self::slot_count(parties) as usize * std::mem::size_of::<Slot>()
    }

    fn check_init(parties: &u64) -> CoreResult<()> {
        Self::checked_parties(*parties).map(drop)
    }

    fn init_state(region: &SharedRegion, parties: u64) -> CoreResult<()> {
        let parties = Self::checked_parties(parties)?;
        let header = region.span(0, std::mem::size_of::<Header>())?;
        // SAFETY: the span is aligned, zero-filled shared memory the size of
        // a Header (atomics, valid when zero), which nothing else uses yet.
        let header = unsafe { &*header.cast::<Header>() };
        header.parties.store(parties, Ordering::Relaxed);
        header
            .slots
            .store(Self::slot_count(parties), Ordering::Relaxed);
        Ok(())
    }

    fn from_region(region: SharedRegion) -> Self {
        Barrier { region }
    }

    fn region(&self) -> &SharedRegion {
        &self.region
    }
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The barrier tripped; this party's arrival index.
    Passed(u32),
    /// The barrier was or became broken.
    Broken,
}

/// What arriving did.
pub enum Arrived<'a> {
    /// Decided at once (the last party, or a broken barrier).
    Done(Wait),
    /// Others are still to come: wait with [`Arrival::wait_until`].
    Waiting(Arrival<'a>),
}

/// A barrier shared with every process forked after it was made.
#[derive(Debug)]
pub struct Barrier {
    region: SharedRegion,
}

impl Barrier {
    /// A barrier for `parties` parties (1 to [`MAX_PARTIES`]).
    pub fn new(parties: u64) -> CoreResult<Self> {
        named::anonymous(parties)
    }

    fn checked_parties(parties: u64) -> CoreResult<u32> {
        u32::try_from(parties)
            .ok()
            .filter(|parties| (1..=MAX_PARTIES).contains(parties))
            .ok_or_else(|| {
                CoreError::InvalidArgument(format!(
                    "parties must be between 1 and {MAX_PARTIES}, not {parties}"
                ))
            })
    }

    /// Waiters of two generations may overlap (those not yet woken, and
    /// the next), plus slots left by killed processes until reclaimed.
    fn slot_count(parties: u32) -> u32 {
        parties * 2 + 16
    }

    fn header(&self) -> &Header {
        // SAFETY: the region starts with a Header (atomics, valid when zero,
        // safe to share) and lives as long as `self`.
        unsafe { &*self.region.base().cast::<Header>() }
    }

    fn slots(&self) -> &[Slot] {
        let count = (self.header().slots.load(Ordering::Relaxed) as usize)
            .min((self.region.len() - std::mem::size_of::<Header>()) / std::mem::size_of::<Slot>());
        // SAFETY: `new` sized the region for the header and `count` slots
        // (bounded by the region's length above); slots are atomics, valid
        // when zero; the region lives as long as `self`.
        unsafe {
            std::slice::from_raw_parts(
                self.region
                    .base()
                    .add(std::mem::size_of::<Header>())
                    .cast::<Slot>(),
                count,
            )
        }
    }

    fn state(&self) -> State {
        State(self.header().state.load(Ordering::SeqCst))
    }

    /// The number of parties.
    pub fn parties(&self) -> u32 {
        self.header().parties.load(Ordering::Relaxed)
    }

    /// Parties waiting in the current generation (0 while broken).
    pub fn n_waiting(&self) -> u32 {
        let state = self.state();
        if state.broken() {
            0
        } else {
            state.count()
        }
    }

    /// Whether the barrier is broken.
    pub fn is_broken(&self) -> bool {
        self.state().broken()
    }

    /// Replaces `from` with `to`; on success wakes every waiter.
    fn change(&self, from: State, to: State) -> bool {
        let header = self.header();
        let changed = header
            .state
            .compare_exchange(from.0, to.0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if changed {
            step!("barrier.change.swapped");
            header.seq.fetch_add(1, Ordering::SeqCst);
            step!("barrier.change.bumped");
            // Only parties counted in `from` can be asleep waiting for this
            // change (earlier generations were woken when they ended), so a
            // barrier nobody waits at makes no system call.
            if from.count() > 0 {
                platform::futex_wake(&header.seq, u32::MAX);
            }
        }
        changed
    }

    /// Writes the outcome of generation `state - 1` into the tickets of its
    /// waiters that have not read it yet (see the module comment).
    fn help(&self, state: State) {
        let previous = state.generation().wrapping_sub(1);
        let outcome = if state.last_broken() { FAILED } else { PASSED };
        for slot in self.slots() {
            let written = slot.ticket.compare_exchange(
                ticket(previous, WAITING),
                ticket(previous, outcome),
                Ordering::SeqCst,
                Ordering::Relaxed,
            );
            if written.is_ok() {
                step!("barrier.help.written");
            }
        }
    }

    /// Moves to the next generation (trip or reset).
    fn advance(&self, from: State, last_broken: bool) -> bool {
        self.help(from);
        self.change(from, from.next_generation(last_broken))
    }

    /// Breaks the current generation: its waiters and every later `wait`
    /// (until `reset`) see the barrier broken.
    pub fn abort(&self) {
        loop {
            let state = self.state();
            if state.broken() || self.change(state, State(state.0 | BROKEN)) {
                return;
            }
        }
    }

    /// Back to a fresh generation; parties waiting now see it broken.
    pub fn reset(&self) {
        loop {
            let state = self.state();
            if self.advance(state, true) {
                return;
            }
        }
    }

    /// Claims a free slot for the calling process (`None`: none free, even
    /// after reclaiming those of dead processes).
    fn claim_slot(&self) -> Option<usize> {
        let key = process_key(0);
        let slots = self.slots();
        let free = (0..slots.len()).find(|&index| {
            slots[index]
                .key
                .compare_exchange(0, key, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
        });
        free.or_else(|| {
            (0..slots.len()).find(|&index| {
                let old = slots[index].key.load(Ordering::SeqCst);
                old != 0
                    && key_is_gone(old)
                    && slots[index]
                        .key
                        .compare_exchange(old, key, Ordering::SeqCst, Ordering::Relaxed)
                        .is_ok()
            })
        })
    }

    /// Arrives and waits until the barrier trips or breaks, parking until
    /// the monotonic `deadline`. A deadline that passes, or a parker that
    /// gives up (an interrupt), breaks the barrier, as Python's `wait` does
    /// when it raises; the parker's error is then returned.
    pub fn wait<P: Park>(
        &self,
        park: &mut P,
        deadline: Option<Duration>,
    ) -> Result<Wait, P::Error> {
        let arrived = match self.arrive(Duration::ZERO) {
            Ok(Some(arrived)) => arrived,
            // Every slot taken (far more processes waiting than parties).
            Ok(None) => {
                match park::wait_until(park, deadline, |slice_end| self.arrive(slice_end)) {
                    Ok(Some(arrived)) => arrived,
                    Ok(None) => {
                        self.abort();
                        return Ok(Wait::Broken);
                    }
                    Err(err) => {
                        self.abort();
                        return Err(err);
                    }
                }
            }
            Err(err) => return Err(park.error(err)),
        };
        let arrival = match arrived {
            Arrived::Done(outcome) => return Ok(outcome),
            Arrived::Waiting(arrival) => arrival,
        };
        match park::wait_until(park, deadline, |slice_end| arrival.wait_until(slice_end)) {
            Ok(Some(outcome)) => Ok(outcome),
            Ok(None) => Ok(arrival.give_up()),
            Err(err) => {
                arrival.give_up();
                Err(err)
            }
        }
    }

    /// Arrives at the barrier. `None` when no slot is free (only with far
    /// more processes waiting than parties): sleep until `slice_end` and
    /// try again.
    pub fn arrive(&self, slice_end: Duration) -> CoreResult<Option<Arrived<'_>>> {
        let Some(slot) = self.claim_slot() else {
            let header = self.header();
            let seen = header.seq.load(Ordering::SeqCst);
            platform::futex_wait(&header.seq, seen, slice_end.min(monotonic_now() + POLL))?;
            return Ok(None);
        };
        step!("barrier.arrive.claimed");
        // Dropping it on an early return frees the slot.
        let mut arrival = Arrival {
            barrier: self,
            slot,
            generation: 0,
            index: 0,
        };
        let parties = self.parties();
        loop {
            let state = self.state();
            if state.broken() {
                return Ok(Some(Arrived::Done(Wait::Broken)));
            }
            let ticket_word = &self.slots()[slot].ticket;
            ticket_word.store(ticket(state.generation(), WAITING), Ordering::SeqCst);
            step!("barrier.arrive.ticketed");
            let index = state.count();
            if index + 1 >= parties {
                if self.advance(state, false) {
                    return Ok(Some(Arrived::Done(Wait::Passed(index))));
                }
            } else if self.change(state, State(state.0 + (1 << COUNT_SHIFT))) {
                arrival.generation = state.generation();
                arrival.index = index;
                return Ok(Some(Arrived::Waiting(arrival)));
            }
        }
    }
}

/// A party waiting in one generation; frees its slot when dropped.
pub struct Arrival<'a> {
    barrier: &'a Barrier,
    slot: usize,
    generation: u32,
    index: u32,
}

impl Arrival<'_> {
    /// This party's arrival index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The outcome, if decided.
    fn outcome(&self) -> Option<Wait> {
        let state = self.barrier.state();
        let ticket_word = self.barrier.slots()[self.slot]
            .ticket
            .load(Ordering::SeqCst);
        let passed = Some(Wait::Passed(self.index));
        if state.generation() == self.generation {
            return state.broken().then_some(Wait::Broken);
        }
        if ticket_word == ticket(self.generation, PASSED) {
            passed
        } else if ticket_word == ticket(self.generation, FAILED) {
            Some(Wait::Broken)
        } else if state.generation() == self.generation.wrapping_add(1) && !state.last_broken() {
            passed
        } else {
            Some(Wait::Broken)
        }
    }

    /// Breaks the barrier if a party waiting in this generation has died.
    fn break_if_a_party_died(&self) {
        let state = self.barrier.state();
        if state.generation() != self.generation || state.broken() {
            return;
        }
        let waiting = ticket(self.generation, WAITING);
        let died = self
            .barrier
            .slots()
            .iter()
            .enumerate()
            .any(|(index, slot)| {
                let key = slot.key.load(Ordering::SeqCst);
                index != self.slot
                    && key != 0
                    && slot.ticket.load(Ordering::SeqCst) == waiting
                    && key_is_gone(key)
            });
        if died {
            self.barrier.change(state, State(state.0 | BROKEN));
        }
    }

    /// Waits until the barrier trips or breaks, or until `slice_end` or a
    /// signal (`None`, nothing changed). Looks for dead parties every
    /// [`POLL`].
    pub fn wait_until(&self, slice_end: Duration) -> CoreResult<Option<Wait>> {
        let seq = &self.barrier.header().seq;
        loop {
            let seen = seq.load(Ordering::SeqCst);
            if let Some(outcome) = self.outcome() {
                return Ok(Some(outcome));
            }
            let poll_end = slice_end.min(monotonic_now() + POLL);
            match platform::futex_wait(seq, seen, poll_end)? {
                WaitOutcome::Acquired => continue,
                outcome => {
                    self.break_if_a_party_died();
                    if let Some(decided) = self.outcome() {
                        return Ok(Some(decided));
                    }
                    if outcome == WaitOutcome::Interrupted || monotonic_now() >= slice_end {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Gives up (timeout or interrupt): breaks the barrier unless it has
    /// already tripped or broken, and returns how the wait ends.
    pub fn give_up(self) -> Wait {
        loop {
            if let Some(outcome) = self.outcome() {
                return outcome;
            }
            let state = self.barrier.state();
            if state.generation() == self.generation
                && self.barrier.change(state, State(state.0 | BROKEN))
            {
                return Wait::Broken;
            }
        }
    }
}

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        let slot = &self.barrier.slots()[self.slot];
        slot.ticket.store(0, Ordering::SeqCst);
        step!("barrier.leave.ticket_cleared");
        slot.key.store(0, Ordering::SeqCst);
    }
}

#[cfg(test)]
#[path = "kill_steps/barrier.rs"]
pub(crate) mod kill_steps;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::park::Blocking;
    use crate::core::test_support::{exit_code, fork_and};

    fn wait(barrier: &Barrier, timeout: Duration) -> Wait {
        barrier
            .wait(&mut Blocking, Some(monotonic_now() + timeout))
            .unwrap()
    }

    const LONG: Duration = Duration::from_secs(20);

    /// Forks `count` children that wait once and exit with 100 + their
    /// index, or 1 when broken.
    fn waiting_children(barrier: &Barrier, count: usize) -> Vec<libc::pid_t> {
        (0..count)
            .map(|_| {
                fork_and(|| match wait(barrier, LONG) {
                    Wait::Passed(index) => 100 + index as i32,
                    Wait::Broken => 1,
                })
            })
            .collect()
    }

    fn wait_for_waiting(barrier: &Barrier, count: u32) {
        let end = monotonic_now() + LONG;
        while barrier.n_waiting() < count {
            assert!(monotonic_now() < end, "parties never arrived");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn bad_party_counts_are_refused() {
        for parties in [0, u64::from(MAX_PARTIES) + 1, u64::MAX] {
            assert!(Barrier::new(parties).is_err());
        }
        assert_eq!(Barrier::new(1).unwrap().parties(), 1);
    }

    #[test]
    fn a_single_party_passes_at_once_every_time() {
        let barrier = Barrier::new(1).unwrap();
        for _ in 0..3 {
            assert_eq!(wait(&barrier, Duration::ZERO), Wait::Passed(0));
        }
    }

    #[test]
    fn parties_get_distinct_indexes_over_many_generations() {
        let barrier = Barrier::new(4).unwrap();
        let children: Vec<_> = (0..3)
            .map(|_| {
                fork_and(|| {
                    let mut seen = 0;
                    for _ in 0..200 {
                        match wait(&barrier, LONG) {
                            Wait::Passed(index) => seen |= 1 << index,
                            Wait::Broken => return 1,
                        }
                    }
                    i32::from(seen == 0)
                })
            })
            .collect();
        let mut indexes = 0u32;
        for _ in 0..200 {
            match wait(&barrier, LONG) {
                Wait::Passed(index) => indexes |= 1 << index,
                Wait::Broken => panic!("broken"),
            }
        }
        for child in children {
            assert_eq!(exit_code(child), 0);
        }
        assert_ne!(indexes, 0);
        assert!(!barrier.is_broken());
        assert_eq!(barrier.n_waiting(), 0);
    }

    #[test]
    fn the_last_party_releases_the_others_with_their_indexes() {
        let barrier = Barrier::new(3).unwrap();
        let children = waiting_children(&barrier, 2);
        wait_for_waiting(&barrier, 2);
        assert_eq!(wait(&barrier, LONG), Wait::Passed(2));
        let mut codes: Vec<_> = children.into_iter().map(exit_code).collect();
        codes.sort_unstable();
        assert_eq!(codes, vec![100, 101]);
    }

    #[test]
    fn a_timeout_breaks_the_barrier_for_every_waiter_until_reset() {
        let barrier = Barrier::new(3).unwrap();
        let children = waiting_children(&barrier, 1);
        wait_for_waiting(&barrier, 1);
        assert_eq!(wait(&barrier, Duration::from_millis(50)), Wait::Broken);
        assert_eq!(exit_code(children[0]), 1);
        assert!(barrier.is_broken());
        assert_eq!(barrier.n_waiting(), 0);
        assert_eq!(wait(&barrier, LONG), Wait::Broken);
        barrier.reset();
        assert!(!barrier.is_broken());
        let children = waiting_children(&barrier, 2);
        wait_for_waiting(&barrier, 2);
        assert_eq!(wait(&barrier, LONG), Wait::Passed(2));
        for child in children {
            assert!(exit_code(child) >= 100);
        }
    }

    #[test]
    fn abort_and_reset_break_those_waiting() {
        for reset in [false, true] {
            let barrier = Barrier::new(3).unwrap();
            let children = waiting_children(&barrier, 2);
            wait_for_waiting(&barrier, 2);
            if reset {
                barrier.reset();
            } else {
                barrier.abort();
            }
            for child in children {
                assert_eq!(exit_code(child), 1);
            }
            assert_eq!(barrier.is_broken(), !reset);
        }
    }

    #[test]
    fn a_waiter_that_slept_through_later_generations_learns_its_own_outcome() {
        let barrier = Barrier::new(2).unwrap();
        let first = match barrier.arrive(LONG).unwrap() {
            Some(Arrived::Waiting(arrival)) => arrival,
            _ => panic!("should wait"),
        };
        // Another party trips this generation; two more generations pass
        // (one reset, one trip) before the first waiter looks.
        assert_eq!(wait(&barrier, LONG), Wait::Passed(1));
        barrier.reset();
        let child = waiting_children(&barrier, 1);
        wait_for_waiting(&barrier, 1);
        assert_eq!(wait(&barrier, LONG), Wait::Passed(1));
        assert_eq!(exit_code(child[0]), 100);
        assert_eq!(
            first.wait_until(Duration::ZERO).unwrap(),
            Some(Wait::Passed(0))
        );

        let second = match barrier.arrive(LONG).unwrap() {
            Some(Arrived::Waiting(arrival)) => arrival,
            _ => panic!("should wait"),
        };
        barrier.reset();
        let child = waiting_children(&barrier, 1);
        wait_for_waiting(&barrier, 1);
        assert_eq!(wait(&barrier, LONG), Wait::Passed(1));
        assert_eq!(exit_code(child[0]), 100);
        assert_eq!(
            second.wait_until(Duration::ZERO).unwrap(),
            Some(Wait::Broken)
        );
    }

    #[test]
    fn the_death_of_a_waiting_party_breaks_the_barrier_within_100_ms() {
        let barrier = Barrier::new(4).unwrap();
        let survivors = waiting_children(&barrier, 2);
        let victim = waiting_children(&barrier, 1)[0];
        wait_for_waiting(&barrier, 3);
        // SAFETY: killing a child we forked (reaped just below).
        unsafe { libc::kill(victim, libc::SIGKILL) };
        assert_eq!(exit_code(victim), -1);
        let died = monotonic_now();
        for child in survivors {
            assert_eq!(exit_code(child), 1);
        }
        // Generous on a loaded machine: the poll is 40 ms.
        assert!(monotonic_now() - died < Duration::from_secs(2));
        assert!(barrier.is_broken());
        barrier.reset();
        let children = waiting_children(&barrier, 3);
        wait_for_waiting(&barrier, 3);
        assert_eq!(wait(&barrier, LONG), Wait::Passed(3));
        for child in children {
            assert!(exit_code(child) >= 100);
        }
    }

    #[test]
    fn slots_of_killed_processes_are_reclaimed() {
        let barrier = Barrier::new(1).unwrap();
        let total = barrier.slots().len();
        let child = fork_and(|| {
            for _ in 0..total {
                assert!(barrier.claim_slot().is_some());
            }
            0
        });
        assert_eq!(exit_code(child), 0);
        assert_eq!(wait(&barrier, LONG), Wait::Passed(0));
    }
}
