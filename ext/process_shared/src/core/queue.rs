//! A FIFO queue of byte records (encoded Ruby objects) in a fixed shared ring
//! buffer, safe against a producer or consumer killed at any instruction.
//!
//! # Layout (one shared region, so that a queue can also be a named object)
//!
//! | field        | type        | meaning                                            |
//! |--------------|-------------|----------------------------------------------------|
//! | `head`       | u64         | where the next pop reads: items popped (high 32 bits, wrapping) and byte position (low 32) |
//! | `tail`       | u64         | where the next push writes: items pushed and byte position, the same way |
//! | `capacity`   | u64         | ring size in bytes, a multiple of 8; fixed          |
//! | `max`        | u64         | `SizedQueue`'s item limit; 0 for none               |
//! | `closed`     | u32         | 1 once closed                                       |
//! | `pushed_seq` | u32         | bumped after every push and on close: consumers sleep on it |
//! | `popped_seq` | u32         | bumped after every pop, clear and close: producers sleep on it |
//! | `waiters`    | [`WaiterSlots`] | who sleeps: kind 0 consumers, kind 1 producers |
//! | lock         | [`Mutex`] state | the queue's lock, on cache lines of its own     |
//! | ring         | capacity bytes | records                                          |
//!
//! A record is an 8-byte length, then the payload, padded to a multiple of
//! 8 bytes. It may wrap around the end of the ring (copied in two pieces).
//! The item counts tell an empty ring from a full one when the positions are
//! equal.
//!
//! # Crash safety
//!
//! Everything that reads or writes the ring, `head` or `tail` does so
//! holding the queue's lock, a [`Mutex`] that a waiter takes over when its
//! holder has died. So the only question is what a holder killed half-way
//! leaves behind, and the answer is: nothing that anyone can see, because
//! every operation *publishes* with a single atomic store as its last change
//! to shared state:
//!
//! - `push` writes the payload, then the length, into free space (which no
//!   one reads), and only then stores the new `tail` (item count and
//!   position in one word). Killed before that store: the half-written
//!   bytes stay in free space and are overwritten by the next push; the item
//!   was never pushed. Killed after it: the item is in the queue, whole.
//! - `pop` copies the record out into private memory, then stores the new
//!   `head`. Killed before that store: the item is still first in the queue
//!   and the next consumer gets it. Killed after it: the item is gone with
//!   the process; this is the one item "whose pop had already returned" (its
//!   bytes had been taken; only unmarshalling them was left).
//! - `clear` stores `head := tail`, one store; `close` stores `closed`.
//!
//! The sequence words only put threads to sleep: a waiter registers (see
//! `waiter_slots`), reads the word, checks the queue, and sleeps only while
//! the word is unchanged; publishers bump the word after publishing and
//! wake someone only if a waiter is registered. A publisher killed between
//! its store and the bump leaves sleepers to notice at the end of their
//! slice (at most 100 ms), never for ever. A waiter killed while registered
//! is reaped from the slots when another waiter's slice ends.

use super::error::{CoreError, CoreResult};
use super::kill_step::step;
use super::mutex::{self, Mutex};
use super::named::{self, SharedState};
use super::park::{self, Park};
use super::region::SharedRegion;
use super::spin_wait::SpinWait;
use super::waiter_slots::{Registration, WaiterSlots};
use crate::platform::{self, WaitOutcome};
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// The smallest ring accepted, in bytes.
pub const MIN_CAPACITY: usize = 64;
/// The largest ring accepted, in bytes (positions are 32-bit).
pub const MAX_CAPACITY: usize = 1 << 31;
/// Bytes of a record before its payload.
pub const RECORD_HEADER: usize = 8;
/// Where the lock's state starts in the region.
const LOCK_OFFSET: usize = std::mem::size_of::<Header>().div_ceil(64) * 64;
/// Where the ring starts in the region.
const RING_OFFSET: usize = (LOCK_OFFSET + mutex::STATE_LEN).div_ceil(64) * 64;

/// Checks, and `pause`s between them, of a wait before it registers (a
/// few microseconds: about the time to encode and push a small item).
const SPIN_CHECKS: u32 = 32;
const PAUSES_PER_CHECK: u32 = 8;

const CONSUMERS: usize = 0;
const PRODUCERS: usize = 1;

#[repr(C)]
struct Header {
    head: AtomicU64,
    tail: AtomicU64,
    capacity: AtomicU64,
    max: AtomicU64,
    closed: AtomicU32,
    pushed_seq: AtomicU32,
    popped_seq: AtomicU32,
    _pad: u32,
    waiters: WaiterSlots,
}

/// Items (high 32 bits, wrapping) and byte position (low 32) in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cursor {
    items: u32,
    position: u32,
}

impl Cursor {
    fn unpack(word: u64) -> Self {
        Cursor {
            items: (word >> 32) as u32,
            position: word as u32,
        }
    }

    fn pack(self) -> u64 {
        (u64::from(self.items) << 32) | u64::from(self.position)
    }
}

/// What a push found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// The item is in the queue.
    Pushed,
    /// No room (bytes, or `max` items); nothing changed.
    Full,
    /// The queue is closed; nothing changed.
    Closed,
}

/// What a pop found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pop {
    /// The first item's bytes, now off the queue.
    Item(Vec<u8>),
    /// Nothing to pop, and the queue is open.
    Empty,
    /// Nothing to pop, and the queue is closed.
    Closed,
}

/// A queue shared with every process forked after it was made, or (named)
/// with every process that opens it.
#[derive(Debug)]
pub struct Queue {
    /// A view of the lock's state in `region`: declared first, so dropped
    /// before the region that maps it.
    lock: Mutex,
    region: SharedRegion,
}

/// The queue's lock, held until dropped.
struct Held<'a>(&'a Mutex);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// The ring size for a requested `bytes`: a multiple of 8 between
/// [`MIN_CAPACITY`] and [`MAX_CAPACITY`].
pub fn checked_capacity(bytes: u64) -> CoreResult<usize> {
    usize::try_from(bytes)
        .ok()
        .filter(|bytes| (MIN_CAPACITY..=MAX_CAPACITY).contains(bytes))
        .map(|bytes| bytes.next_multiple_of(8).min(MAX_CAPACITY))
        .ok_or_else(|| {
            CoreError::InvalidArgument(format!(
                "queue size {bytes} is outside {MIN_CAPACITY}..{MAX_CAPACITY} bytes"
            ))
        })
}

/// What a queue is made from: the ring's size in bytes and, for a sized
/// queue, its item limit (which applies only where the queue is created).
impl SharedState for Queue {
    type Init = (u64, Option<u64>);
    fn state_size(&(bytes, _): &Self::Init) -> usize {
        // Bad sizes are refused by `check_init`; clamp so sizing them is harmless.
        RING_OFFSET + checked_capacity(bytes).unwrap_or(MIN_CAPACITY)
    }

    fn check_init(&(bytes, max): &Self::Init) -> CoreResult<()> {
        checked_capacity(bytes)?;
        if max == Some(0) {
            return Err(CoreError::InvalidArgument(
                "queue size must be positive".into(),
            ));
        }
        Ok(())
    }

    fn init_state(region: &SharedRegion, (bytes, max): Self::Init) -> CoreResult<()> {
        let capacity = checked_capacity(bytes)?;
        let header = region.span(0, RING_OFFSET + capacity)?.cast::<Header>();
        // SAFETY: the span holds a Header at its aligned start (a region
        // starts page- or header-aligned) and the whole state after it;
        // zero-filled atomics are valid, and nothing uses them yet.
        let header = unsafe { &*header };
        header.capacity.store(capacity as u64, Ordering::Relaxed);
        header.max.store(max.unwrap_or(0), Ordering::Relaxed);
        // SAFETY: the lock's state lies inside the span checked above, and
        // the view is dropped on return, before `region`.
        let lock = unsafe { region.view(LOCK_OFFSET, mutex::STATE_LEN) };
        Mutex::init_state(&lock, ())
    }

    fn from_region(region: SharedRegion) -> Self {
        // SAFETY: a region handed to `from_region` is `state_size` bytes
        // of initialized state (anonymous, or a named object whose header
        // records that size), so more than RING_OFFSET; and `Queue` drops
        // `lock` before `region`.
        let lock = Mutex::from_region(unsafe { region.view(LOCK_OFFSET, mutex::STATE_LEN) });
        Queue { lock, region }
    }

    fn region(&self) -> &SharedRegion {
        &self.region
    }
}

impl Queue {
    /// A new, empty queue with a ring of `bytes` bytes (rounded up to a
    /// multiple of 8) and, for a sized queue, a limit of `max` items.
    pub fn new(bytes: u64, max: Option<u64>) -> CoreResult<Self> {
        named::anonymous((bytes, max))
    }

    fn header(&self) -> &Header {
        // SAFETY: the region starts with a Header (all atomics, valid when
        // zero, safe to share) and lives as long as `self`.
        unsafe { &*self.region.base().cast::<Header>() }
    }

    /// The ring size in bytes.
    pub fn capacity(&self) -> usize {
        self.header().capacity.load(Ordering::Relaxed) as usize
    }

    /// `SizedQueue`'s item limit (`None` for a plain queue).
    pub fn max(&self) -> Option<u64> {
        Some(self.header().max.load(Ordering::Relaxed)).filter(|&max| max != 0)
    }

    /// Changes the item limit of a sized queue, waking producers.
    pub fn set_max(&self, max: u64) -> CoreResult<()> {
        if max == 0 || self.max().is_none() {
            return Err(CoreError::InvalidArgument(
                "queue size must be positive".into(),
            ));
        }
        self.header().max.store(max, Ordering::SeqCst);
        self.wake(PRODUCERS, u32::MAX);
        Ok(())
    }

    /// Bytes a record with a payload of `len` bytes takes in the ring.
    pub fn record_len(len: usize) -> Option<usize> {
        len.checked_add(7)
            .map(|padded| RECORD_HEADER + padded / 8 * 8)
    }

    /// The largest payload that can ever fit.
    pub fn max_payload(&self) -> usize {
        self.capacity() - RECORD_HEADER
    }

    /// Items in the queue (a snapshot, no lock).
    pub fn len(&self) -> usize {
        let header = self.header();
        let head = Cursor::unpack(header.head.load(Ordering::Acquire));
        let tail = Cursor::unpack(header.tail.load(Ordering::Acquire));
        tail.items.wrapping_sub(head.items) as usize
    }

    /// Whether the queue holds no item (a snapshot, no lock).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the queue was closed.
    pub fn is_closed(&self) -> bool {
        self.header().closed.load(Ordering::Acquire) != 0
    }

    /// Threads of all processes blocked in `pop` (and `push`, for a sized
    /// queue), dead ones not counted.
    pub fn num_waiting(&self) -> u32 {
        let waiters = &self.header().waiters;
        waiters.count(CONSUMERS) + waiters.count(PRODUCERS)
    }

    /// Takes the lock, waiting until `slice_end` at most (`None`: the slice
    /// ended first). A holder that died is taken over at the slice's end.
    /// A zero `slice_end` only spins: the caller's fast path, which makes
    /// no system call.
    fn lock_until(&self, slice_end: Duration) -> CoreResult<Option<Held<'_>>> {
        if self.lock.try_acquire() || self.lock.spin_acquire() {
            return Ok(Some(Held(&self.lock)));
        }
        if slice_end.is_zero() {
            return Ok(None);
        }
        let waiter = self.lock.waiter();
        Ok(waiter.wait_until(slice_end)?.map(|()| Held(&self.lock)))
    }

    fn wake(&self, kind: usize, count: u32) {
        let header = self.header();
        let word = if kind == CONSUMERS {
            &header.pushed_seq
        } else {
            &header.popped_seq
        };
        word.fetch_add(1, Ordering::SeqCst);
        if header.waiters.anyone(kind) {
            platform::futex_wake(word, count);
        }
    }

    /// Bytes used in the ring between two cursors.
    fn used(&self, head: Cursor, tail: Cursor) -> usize {
        if head.items == tail.items {
            return 0;
        }
        let capacity = self.capacity();
        let (head, tail) = (head.position as usize, tail.position as usize);
        if tail > head {
            tail - head
        } else {
            capacity - head + tail
        }
    }

    /// Copies `bytes` into the ring at `position`, wrapping at the end.
    fn write_ring(&self, position: usize, bytes: &[u8]) -> CoreResult<()> {
        let capacity = self.capacity();
        let first = bytes.len().min(capacity - position);
        self.region
            .write_bytes((RING_OFFSET + position) as u64, &bytes[..first])?;
        self.region.write_bytes(RING_OFFSET as u64, &bytes[first..])
    }

    /// Copies `len` bytes out of the ring from `position`, wrapping.
    fn read_ring(&self, position: usize, out: &mut Vec<u8>, len: usize) -> CoreResult<()> {
        let capacity = self.capacity();
        let first = len.min(capacity - position);
        for (offset, len) in [(RING_OFFSET + position, first), (RING_OFFSET, len - first)] {
            let at = self.region.span(offset as u64, len)?;
            // SAFETY: `span` checked that `len` bytes at `at` are inside the
            // region; `out` is private memory, never the mapping.
            out.extend_from_slice(unsafe { std::slice::from_raw_parts(at, len) });
        }
        Ok(())
    }

    /// Pushes `payload` if there is room, waiting for the lock until
    /// `slice_end` at most (`None`: the slice ended first, nothing changed).
    /// A payload that can never fit is `InvalidArgument`, queue untouched.
    pub fn push_until(&self, payload: &[u8], slice_end: Duration) -> CoreResult<Option<Push>> {
        let record = Self::record_len(payload.len())
            .filter(|&record| record <= self.capacity())
            .ok_or_else(|| {
                CoreError::InvalidArgument(format!(
                    "the object takes {} bytes encoded, more than this queue can ever \
                     hold ({} bytes)",
                    payload.len(),
                    self.max_payload()
                ))
            })?;
        let header = self.header();
        if self.is_closed() {
            return Ok(Some(Push::Closed));
        }
        let Some(_held) = self.lock_until(slice_end)? else {
            return Ok(None);
        };
        step!("queue.push.locked");
        if self.is_closed() {
            return Ok(Some(Push::Closed));
        }
        let head = Cursor::unpack(header.head.load(Ordering::Acquire));
        let tail = Cursor::unpack(header.tail.load(Ordering::Relaxed));
        let items = tail.items.wrapping_sub(head.items);
        let at_max = self.max().is_some_and(|max| u64::from(items) >= max);
        if at_max || self.used(head, tail) + record > self.capacity() {
            return Ok(Some(Push::Full));
        }
        let capacity = self.capacity();
        let position = tail.position as usize;
        let payload_at = (position + RECORD_HEADER) % capacity;
        let half = payload.len() / 2;
        self.write_ring(payload_at, &payload[..half])?;
        step!("queue.push.half_written");
        self.write_ring((payload_at + half) % capacity, &payload[half..])?;
        self.write_ring(position, &(payload.len() as u64).to_le_bytes())?;
        step!("queue.push.written");
        let new_tail = Cursor {
            items: tail.items.wrapping_add(1),
            position: ((position + record) % capacity) as u32,
        };
        // Publication: the item exists from this store on.
        header.tail.store(new_tail.pack(), Ordering::Release);
        step!("queue.push.published");
        drop(_held);
        self.wake(CONSUMERS, 1);
        Ok(Some(Push::Pushed))
    }

    /// Pops the first item, waiting for the lock until `slice_end` at most
    /// (`None`: the slice ended first, nothing changed). An empty queue
    /// answers without taking the lock.
    pub fn pop_until(&self, slice_end: Duration) -> CoreResult<Option<Pop>> {
        let header = self.header();
        let closed = self.is_closed();
        if self.is_empty() {
            return Ok(Some(if closed { Pop::Closed } else { Pop::Empty }));
        }
        let Some(held) = self.lock_until(slice_end)? else {
            return Ok(None);
        };
        step!("queue.pop.locked");
        let head = Cursor::unpack(header.head.load(Ordering::Relaxed));
        let tail = Cursor::unpack(header.tail.load(Ordering::Acquire));
        if head.items == tail.items {
            let closed = self.is_closed();
            return Ok(Some(if closed { Pop::Closed } else { Pop::Empty }));
        }
        let capacity = self.capacity();
        let position = head.position as usize;
        // Positions and the capacity are multiples of 8: a length never wraps.
        let len = u64::from_le(self.region.read::<u64>((RING_OFFSET + position) as u64)?);
        // Only whole records are ever published, so this holds unless the
        // memory was overwritten from outside; refuse rather than misread.
        let (payload_len, record) = usize::try_from(len)
            .ok()
            .and_then(|len| Some((len, Self::record_len(len)?)))
            .filter(|&(_, record)| record <= self.used(head, tail))
            .ok_or_else(|| {
                CoreError::InvalidArgument(format!("queue record of {len} bytes is corrupt"))
            })?;
        let mut out = Vec::with_capacity(payload_len);
        let payload_at = (position + RECORD_HEADER) % capacity;
        let half = payload_len / 2;
        self.read_ring(payload_at, &mut out, half)?;
        step!("queue.pop.half_read");
        self.read_ring((payload_at + half) % capacity, &mut out, payload_len - half)?;
        step!("queue.pop.read");
        let new_head = Cursor {
            items: head.items.wrapping_add(1),
            position: ((position + record) % capacity) as u32,
        };
        // Publication: the item leaves the queue with this store.
        header.head.store(new_head.pack(), Ordering::Release);
        step!("queue.pop.published");
        drop(held);
        self.wake(PRODUCERS, 1);
        Ok(Some(Pop::Item(out)))
    }

    /// Removes every item, waiting for the lock until `slice_end` at most.
    pub fn clear_until(&self, slice_end: Duration) -> CoreResult<Option<()>> {
        let Some(held) = self.lock_until(slice_end)? else {
            return Ok(None);
        };
        let header = self.header();
        header
            .head
            .store(header.tail.load(Ordering::Acquire), Ordering::Release);
        drop(held);
        self.wake(PRODUCERS, u32::MAX);
        Ok(Some(()))
    }

    /// Closes the queue and wakes every waiter, waiting for the lock until
    /// `slice_end` at most (so no push is half-way when it closes).
    pub fn close_until(&self, slice_end: Duration) -> CoreResult<Option<()>> {
        let Some(held) = self.lock_until(slice_end)? else {
            return Ok(None);
        };
        self.header().closed.store(1, Ordering::Release);
        drop(held);
        self.wake(CONSUMERS, u32::MAX);
        self.wake(PRODUCERS, u32::MAX);
        Ok(Some(()))
    }

    /// Pushes `payload`: parks while the lock is busy and, with
    /// `wait_for_room`, while the queue is full, until the monotonic
    /// `deadline` (`Ok(None)`: it passed, nothing changed). Without
    /// `wait_for_room` a full queue answers `Full` at once.
    pub fn push<P: Park>(
        &self,
        park: &mut P,
        payload: &[u8],
        wait_for_room: bool,
        deadline: Option<Duration>,
    ) -> Result<Option<Push>, P::Error> {
        match self.push_until(payload, Duration::ZERO) {
            Ok(Some(Push::Full)) if wait_for_room => {}
            Ok(Some(done)) => return Ok(Some(done)),
            Ok(None) => {}
            Err(err) => return Err(park.error(err)),
        }
        if !wait_for_room {
            return park::wait_until(park, deadline, |slice_end| {
                self.push_until(payload, slice_end)
            });
        }
        let popped = &self.header().popped_seq;
        let mut seen = popped.load(Ordering::Acquire);
        let spun = self.spin_before_sleeping(|| {
            let now = popped.load(Ordering::Acquire);
            if now == seen && !self.is_closed() {
                return Ok(None);
            }
            seen = now;
            Ok(self
                .push_until(payload, Duration::ZERO)?
                .filter(|&done| done != Push::Full))
        });
        match spun {
            Ok(Some(done)) => return Ok(Some(done)),
            Ok(None) => {}
            Err(err) => return Err(park.error(err)),
        }
        let waiter = self.push_waiter();
        park::wait_until(park, deadline, |slice_end| {
            waiter.wait_until(payload, slice_end)
        })
    }

    /// Pops the first item: parks while the lock is busy and, with
    /// `wait_for_item`, while the queue is empty and open, until the
    /// monotonic `deadline` (`Ok(None)`: it passed, nothing changed).
    /// Without `wait_for_item` an empty queue answers `Empty` (or `Closed`)
    /// at once.
    pub fn pop<P: Park>(
        &self,
        park: &mut P,
        wait_for_item: bool,
        deadline: Option<Duration>,
    ) -> Result<Option<Pop>, P::Error> {
        match self.pop_until(Duration::ZERO) {
            Ok(Some(Pop::Empty)) if wait_for_item => {}
            Ok(Some(done)) => return Ok(Some(done)),
            Ok(None) => {}
            Err(err) => return Err(park.error(err)),
        }
        if !wait_for_item {
            return park::wait_until(park, deadline, |slice_end| self.pop_until(slice_end));
        }
        let spun = self.spin_before_sleeping(|| {
            if self.is_empty() && !self.is_closed() {
                return Ok(None);
            }
            Ok(self
                .pop_until(Duration::ZERO)?
                .filter(|done| *done != Pop::Empty))
        });
        match spun {
            Ok(Some(done)) => return Ok(Some(done)),
            Ok(None) => {}
            Err(err) => return Err(park.error(err)),
        }
        let waiter = self.pop_waiter();
        park::wait_until(park, deadline, |slice_end| waiter.wait_until(slice_end))
    }

    /// Retries `attempt` for a few microseconds (`None`: not yet) before
    /// the caller registers as a sleeper. In a steady stream the other side
    /// publishes again within that time; catching it unregistered spares
    /// both sides a system call (this side's sleep, and the other's
    /// wake-up, which it makes only for registered sleepers).
    fn spin_before_sleeping<T>(
        &self,
        mut attempt: impl FnMut() -> CoreResult<Option<T>>,
    ) -> CoreResult<Option<T>> {
        for _ in 0..SPIN_CHECKS {
            for _ in 0..PAUSES_PER_CHECK {
                std::hint::spin_loop();
            }
            if let Some(done) = attempt()? {
                return Ok(Some(done));
            }
        }
        Ok(None)
    }

    /// Runs a lock-taking operation to its end, parking while the lock is
    /// busy (never for long: holders copy one item; a dead one is taken
    /// over at the end of a slice).
    fn locked<P: Park>(
        &self,
        park: &mut P,
        mut operation: impl FnMut(&Self, Duration) -> CoreResult<Option<()>>,
    ) -> Result<(), P::Error> {
        match operation(self, Duration::ZERO) {
            Ok(Some(())) => Ok(()),
            Ok(None) => {
                park::wait_until(park, None, |slice_end| operation(self, slice_end)).map(drop)
            }
            Err(err) => Err(park.error(err)),
        }
    }

    /// Removes every item (see [`Queue::clear_until`]).
    pub fn clear<P: Park>(&self, park: &mut P) -> Result<(), P::Error> {
        self.locked(park, Self::clear_until)
    }

    /// Closes the queue (see [`Queue::close_until`]).
    pub fn close<P: Park>(&self, park: &mut P) -> Result<(), P::Error> {
        self.locked(park, Self::close_until)
    }

    /// Counts the caller as a blocked consumer until the waiter is dropped.
    pub fn pop_waiter(&self) -> PopWaiter<'_> {
        PopWaiter {
            queue: self,
            _registration: self.header().waiters.register(CONSUMERS),
        }
    }

    /// Counts the caller as a blocked producer until the waiter is dropped.
    pub fn push_waiter(&self) -> PushWaiter<'_> {
        PushWaiter {
            queue: self,
            _registration: self.header().waiters.register(PRODUCERS),
        }
    }

    /// Sleeps on `word` while it holds `seen`, until `slice_end`; reaps dead
    /// waiters when the slice ends without a wake-up. `true` if woken.
    ///
    /// Spins a few microseconds first: the other side usually publishes
    /// again within that time, and catching it awake spares both sides a
    /// system call (the sleep here and the wake-up there).
    fn sleep(&self, word: &AtomicU32, seen: u32, slice_end: Duration) -> CoreResult<bool> {
        let mut spin = SpinWait::default();
        while spin.spin() {
            if word.load(Ordering::Acquire) != seen {
                return Ok(true);
            }
        }
        match platform::futex_wait(word, seen, slice_end)? {
            WaitOutcome::Acquired => Ok(true),
            WaitOutcome::TimedOut | WaitOutcome::Interrupted => {
                self.header().waiters.reap_dead();
                Ok(false)
            }
        }
    }
}

/// A thread blocked in `pop`; see [`Queue::pop_waiter`].
pub struct PopWaiter<'a> {
    queue: &'a Queue,
    _registration: Registration<'a>,
}

impl PopWaiter<'_> {
    /// Pops an item, sleeping while the queue is empty and open, until
    /// `slice_end`. `Some(Item)` or `Some(Closed)` (empty and closed);
    /// `None` when the slice ended or a signal arrived, nothing changed.
    pub fn wait_until(&self, slice_end: Duration) -> CoreResult<Option<Pop>> {
        let word = &self.queue.header().pushed_seq;
        loop {
            fence(Ordering::SeqCst);
            let seen = word.load(Ordering::SeqCst);
            match self.queue.pop_until(slice_end)? {
                None => return Ok(None),
                Some(Pop::Empty) => {}
                Some(done) => return Ok(Some(done)),
            }
            if !self.queue.sleep(word, seen, slice_end)? {
                return Ok(None);
            }
        }
    }
}

/// A thread blocked in `push`; see [`Queue::push_waiter`].
pub struct PushWaiter<'a> {
    queue: &'a Queue,
    _registration: Registration<'a>,
}

impl PushWaiter<'_> {
    /// Pushes `payload`, sleeping while the queue is full and open, until
    /// `slice_end`. `Some(Pushed)` or `Some(Closed)`; `None` when the slice
    /// ended or a signal arrived, nothing changed.
    pub fn wait_until(&self, payload: &[u8], slice_end: Duration) -> CoreResult<Option<Push>> {
        let word = &self.queue.header().popped_seq;
        loop {
            fence(Ordering::SeqCst);
            let seen = word.load(Ordering::SeqCst);
            match self.queue.push_until(payload, slice_end)? {
                None => return Ok(None),
                Some(Push::Full) => {}
                Some(done) => return Ok(Some(done)),
            }
            if !self.queue.sleep(word, seen, slice_end)? {
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
#[path = "kill_steps/queue.rs"]
pub(crate) mod kill_steps;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::park::Blocking;
    use crate::core::test_support::{exit_code, fork_and};
    use crate::platform::monotonic_now;

    /// A deadline far enough for a loaded machine, near enough to fail fast.
    fn give_up() -> Duration {
        monotonic_now() + Duration::from_secs(20)
    }

    fn pop(queue: &Queue) -> Pop {
        queue
            .pop(&mut Blocking, true, Some(give_up()))
            .unwrap()
            .expect("pop blocked for ever")
    }

    fn push(queue: &Queue, payload: &[u8]) -> Push {
        queue
            .push(&mut Blocking, payload, true, Some(give_up()))
            .unwrap()
            .expect("push blocked for ever")
    }

    fn try_push(queue: &Queue, payload: &[u8]) -> Push {
        queue
            .push(&mut Blocking, payload, false, None)
            .unwrap()
            .unwrap()
    }

    fn try_pop(queue: &Queue) -> Pop {
        queue.pop(&mut Blocking, false, None).unwrap().unwrap()
    }

    fn item(number: u32, len: usize) -> Vec<u8> {
        let mut bytes = number.to_le_bytes().to_vec();
        bytes.extend((0..len).map(|index| (index as u32 ^ number) as u8));
        bytes
    }

    #[test]
    fn items_come_out_in_order_whole_across_many_wraps() {
        let queue = Queue::new(256, None).unwrap();
        let mut expected = std::collections::VecDeque::new();
        let mut next = 0u32;
        for round in 0..2_000usize {
            let payload = item(next, (round * 7) % 90);
            if try_push(&queue, &payload) == Push::Pushed {
                expected.push_back(payload);
                next += 1;
            }
            if round % 3 == 0 || queue.len() > 3 {
                match try_pop(&queue) {
                    Pop::Item(bytes) => assert_eq!(Some(bytes), expected.pop_front()),
                    other => assert!(expected.is_empty(), "{other:?}"),
                }
            }
            assert_eq!(queue.len(), expected.len());
        }
        assert!(next > 1_000);
        while let Pop::Item(bytes) = try_pop(&queue) {
            assert_eq!(Some(bytes), expected.pop_front());
        }
        assert!(expected.is_empty() && queue.is_empty());
    }

    #[test]
    fn empty_payloads_and_a_payload_filling_the_whole_ring_work() {
        let queue = Queue::new(64, None).unwrap();
        assert_eq!(try_push(&queue, b""), Push::Pushed);
        assert_eq!(try_pop(&queue), Pop::Item(vec![]));
        let whole = vec![7u8; queue.max_payload()];
        assert_eq!(try_push(&queue, &whole), Push::Pushed);
        assert_eq!(try_push(&queue, b""), Push::Full);
        assert_eq!(try_pop(&queue), Pop::Item(whole));
    }

    #[test]
    fn a_payload_that_can_never_fit_is_refused_and_changes_nothing() {
        let queue = Queue::new(64, None).unwrap();
        assert_eq!(try_push(&queue, b"kept"), Push::Pushed);
        let too_big = vec![0u8; queue.max_payload() + 1];
        assert!(matches!(
            queue.push(&mut Blocking, &too_big, true, None),
            Err(CoreError::InvalidArgument(_))
        ));
        assert_eq!(queue.len(), 1);
        assert_eq!(try_pop(&queue), Pop::Item(b"kept".to_vec()));
    }

    #[test]
    fn bad_sizes_are_refused() {
        for bytes in [0, 63, u64::MAX, MAX_CAPACITY as u64 + 1] {
            assert!(matches!(
                Queue::new(bytes, None),
                Err(CoreError::InvalidArgument(_))
            ));
        }
        assert!(Queue::new(1 << 20, Some(0)).is_err());
        assert_eq!(Queue::new(65, None).unwrap().capacity(), 72);
    }

    #[test]
    fn a_sized_queue_is_full_at_max_items() {
        let queue = Queue::new(4096, Some(2)).unwrap();
        assert_eq!(queue.max(), Some(2));
        assert_eq!(try_push(&queue, b"a"), Push::Pushed);
        assert_eq!(try_push(&queue, b"b"), Push::Pushed);
        assert_eq!(try_push(&queue, b"c"), Push::Full);
        queue.set_max(3).unwrap();
        assert_eq!(try_push(&queue, b"c"), Push::Pushed);
        assert!(Queue::new(4096, None).unwrap().set_max(3).is_err());
    }

    #[test]
    fn closing_refuses_pushes_and_drains_then_reports_closed() {
        let queue = Queue::new(4096, None).unwrap();
        assert_eq!(try_push(&queue, b"last"), Push::Pushed);
        queue.close(&mut Blocking).unwrap();
        assert!(queue.is_closed());
        assert_eq!(try_push(&queue, b"more"), Push::Closed);
        assert_eq!(try_pop(&queue), Pop::Item(b"last".to_vec()));
        assert_eq!(try_pop(&queue), Pop::Closed);
        assert_eq!(pop(&queue), Pop::Closed);
    }

    #[test]
    fn clear_empties_the_queue_and_makes_room() {
        let queue = Queue::new(64, None).unwrap();
        assert_eq!(try_push(&queue, &[1; 40]), Push::Pushed);
        assert_eq!(try_push(&queue, &[2; 40]), Push::Full);
        queue.clear(&mut Blocking).unwrap();
        assert!(queue.is_empty());
        assert_eq!(try_push(&queue, &[2; 40]), Push::Pushed);
        assert_eq!(try_pop(&queue), Pop::Item(vec![2; 40]));
    }

    #[test]
    fn blocked_consumers_and_producers_are_woken_by_other_processes() {
        let queue = Queue::new(64, Some(1)).unwrap();
        let producer = fork_and(|| {
            for number in 0..200u32 {
                if push(&queue, &number.to_le_bytes()) != Push::Pushed {
                    return 1;
                }
            }
            0
        });
        for number in 0..200u32 {
            assert_eq!(pop(&queue), Pop::Item(number.to_le_bytes().to_vec()));
        }
        assert_eq!(exit_code(producer), 0);
        assert_eq!(queue.num_waiting(), 0);
    }

    #[test]
    fn close_wakes_every_blocked_consumer_with_closed() {
        let queue = Queue::new(4096, None).unwrap();
        let consumers: Vec<_> = (0..3)
            .map(|_| fork_and(|| i32::from(pop(&queue) != Pop::Closed)))
            .collect();
        let end = give_up();
        while queue.num_waiting() < 3 {
            assert!(monotonic_now() < end);
            std::thread::sleep(Duration::from_millis(5));
        }
        let start = monotonic_now();
        queue.close(&mut Blocking).unwrap();
        for consumer in consumers {
            assert_eq!(exit_code(consumer), 0);
        }
        assert!(monotonic_now() - start < Duration::from_secs(5));
    }

    #[test]
    fn many_producers_and_consumers_pass_every_item_exactly_once() {
        const PER_PRODUCER: u32 = 2_000;
        let queue = Queue::new(1024, None).unwrap();
        let seen = SharedRegion::new(4 * PER_PRODUCER as usize).unwrap();
        let producers: Vec<_> = (0..4u32)
            .map(|producer| {
                let queue = &queue;
                fork_and(move || {
                    for number in 0..PER_PRODUCER {
                        let id = producer * PER_PRODUCER + number;
                        if push(queue, &item(id, (number % 50) as usize)) != Push::Pushed {
                            return 1;
                        }
                    }
                    0
                })
            })
            .collect();
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                fork_and(|| loop {
                    match pop(&queue) {
                        Pop::Item(bytes) => {
                            let id = u32::from_le_bytes(bytes[..4].try_into().unwrap());
                            if bytes != item(id, bytes.len() - 4) {
                                return 2;
                            }
                            let old = seen.read::<u8>(u64::from(id)).unwrap();
                            seen.write::<u8>(u64::from(id), old + 1).unwrap();
                        }
                        Pop::Closed => return 0,
                        Pop::Empty => return 3,
                    }
                })
            })
            .collect();
        for producer in producers {
            assert_eq!(exit_code(producer), 0);
        }
        queue.close(&mut Blocking).unwrap();
        for consumer in consumers {
            assert_eq!(exit_code(consumer), 0);
        }
        let counts = seen.read_bytes(0, 4 * PER_PRODUCER as usize).unwrap();
        assert!(counts.iter().all(|&count| count == 1));
    }

    mod named_queue {
        use super::*;
        use crate::core::named::{create, Create, Hooks, Layout, NamedSpec, Origin, Step};

        const TAG: &str = "ProcessShared::TestQueue";

        /// Unlinks the name when the test ends, whatever happens.
        struct Named(Origin);

        impl Named {
            fn new(tag: &str) -> Named {
                let name = format!("tq{tag}{}", std::process::id());
                Named(Origin::shm(&name).unwrap())
            }

            fn open(
                &self,
                create_mode: Create,
                init: (u64, Option<u64>),
                on_step: &mut dyn FnMut(Step),
            ) -> Result<(Queue, bool), crate::core::named::NamedError> {
                let spec = NamedSpec {
                    origin: self.0.clone(),
                    create: create_mode,
                    mode: None,
                };
                let layout = Layout {
                    class: TAG,
                    element: "u8",
                    count: checked_capacity(init.0).unwrap() as u64,
                    size: Queue::state_size(&init),
                };
                let mut pause = || {
                    std::thread::sleep(Duration::from_millis(1));
                    Ok(())
                };
                create::<Queue>(
                    Some((&spec, &layout)),
                    init,
                    &mut Hooks {
                        pause: &mut pause,
                        on_step,
                    },
                )
            }
        }

        impl Drop for Named {
            fn drop(&mut self) {
                let _ = self.0.unlink();
            }
        }

        #[test]
        fn a_named_queue_is_one_mapping_shared_by_name_with_the_creators_max() {
            let named = Named::new("s");
            let (queue, created) = named
                .open(Create::Exclusive, (256, Some(2)), &mut |_| {})
                .unwrap();
            assert!(created);
            assert_eq!(queue.region().len(), RING_OFFSET + 256);
            let child = fork_and(|| {
                // A separate mapping of the same object, as another program has.
                let Ok((queue, false)) = named.open(Create::OpenOnly, (256, Some(9)), &mut |_| {})
                else {
                    return 1;
                };
                if queue.max() != Some(2) {
                    return 2;
                }
                for number in 0..50u32 {
                    if push(&queue, &number.to_le_bytes()) != Push::Pushed {
                        return 3;
                    }
                }
                queue.close(&mut Blocking).map_or(4, |()| 0)
            });
            for number in 0..50u32 {
                assert_eq!(pop(&queue), Pop::Item(number.to_le_bytes().to_vec()));
            }
            assert_eq!(exit_code(child), 0);
            assert_eq!(pop(&queue), Pop::Closed);
            assert!(matches!(
                named.open(Create::OpenOnly, (512, Some(2)), &mut |_| {}),
                Err(crate::core::named::NamedError::Invalid(_))
            ));
        }

        /// A creator killed after each step of creating leaves a name that
        /// the next opener initializes, with its own ring size and max.
        #[test]
        fn a_creator_killed_at_any_step_leaves_a_usable_queue() {
            for step in Step::ALL {
                let named = Named::new(&format!("k{step:?}"));
                let child = fork_and(|| {
                    let _ = named.open(Create::Exclusive, (128, Some(1)), &mut |reached| {
                        if reached == step {
                            // SAFETY: raising a signal in our own process.
                            unsafe { libc::raise(libc::SIGKILL) };
                        }
                    });
                    0
                });
                assert_eq!(exit_code(child), -1, "{step:?}");
                let (queue, created) = named
                    .open(Create::OpenOrCreate, (128, Some(3)), &mut |_| {})
                    .unwrap_or_else(|err| panic!("{step:?}: {err}"));
                assert!(created, "{step:?}");
                assert_eq!((queue.capacity(), queue.max()), (128, Some(3)));
                assert_eq!(try_push(&queue, b"works"), Push::Pushed);
                assert_eq!(try_pop(&queue), Pop::Item(b"works".to_vec()));
            }
        }
    }

    #[test]
    fn a_waiter_killed_while_blocked_is_no_longer_counted() {
        let queue = Queue::new(4096, None).unwrap();
        let child = fork_and(|| {
            pop(&queue);
            0
        });
        let end = give_up();
        while queue.header().waiters.count(CONSUMERS) == 0 {
            assert!(monotonic_now() < end);
            std::thread::sleep(Duration::from_millis(2));
        }
        // SAFETY: killing the child we forked (reaped just below).
        unsafe { libc::kill(child, libc::SIGKILL) };
        assert_eq!(exit_code(child), -1);
        assert_eq!(queue.num_waiting(), 0);
        assert!(!queue.header().waiters.anyone(CONSUMERS));
    }
}
