//! A read-write lock shared across fork: many readers or one writer, a
//! waiting writer blocks new readers, and the holds of a dead reader or
//! writer (or of a thread that ended) are recovered.
//!
//! # Layout
//!
//! A [`Holders`] table (see `holders`) whose count word is:
//!
//! | bits   | meaning                                                      |
//! |--------|--------------------------------------------------------------|
//! | 0..19  | read holds, all readers together                              |
//! | 20     | the write lock is held                                        |
//! | 21..31 | the writer's slot + 1: the writer that holds or waits for it (0: none) |
//!
//! Each reader's slot counts its read holds; a writer's slot only names it.
//! The table's flags word has bit 0 set while the last writer died holding
//! the lock, until a writer releases it.
//!
//! # Algorithm
//!
//! A read hold is a transfer of kind `take` (read holds + 1, slot + 1),
//! refused while a writer is named unless the caller already holds a read
//! (a reader taking it again must not wait for a writer that waits for it).
//! A writer first names itself (a compare-and-swap of the writer field from
//! 0): from then on no new reader gets in; once the read holds reach 0 it
//! sets the held bit. A writer that stops waiting (timeout, interrupt)
//! clears the field again. Releasing the write lock clears both. A waiter
//! that finds a named writer or reader whose process is gone recovers its
//! hold (the read holds through a `reclaim` transfer, the writer field by a
//! compare-and-swap that checks the slot still names the dead process).

use super::error::{CoreError, CoreResult};
use super::holders::{Holders, Kind, Owner};
use super::kill_step::step;
use super::named::{self, SharedState};
use super::park::{wait_until, Park};
use super::region::SharedRegion;
use super::thread_end::HeldByThreads;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

const READERS: u32 = (1 << 20) - 1;
const HELD: u32 = 1 << 20;
const WRITER_SHIFT: u32 = 21;
const WRITER_DIED: u32 = 1;

fn readers(count: u32) -> u32 {
    count & READERS
}

fn writer_slot(count: u32) -> Option<usize> {
    match count >> WRITER_SHIFT {
        0 => None,
        named => Some(named as usize - 1),
    }
}

fn naming(slot: usize) -> u32 {
    ((slot as u32) + 1) << WRITER_SHIFT
}

fn remove_readers(count: u32, units: u32) -> u32 {
    (count & !READERS) | readers(count).saturating_sub(units)
}

/// What a non-blocking attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Acquired,
    Busy,
}

/// Free, zero-filled holders are a free lock.
impl SharedState for ReadWriteLock {
    type Init = ();

    fn state_size(_: &()) -> usize {
        Holders::size()
    }

    fn init_state(region: &SharedRegion, _: ()) -> CoreResult<()> {
        Holders::init_state(region, 0)
    }

    fn from_region(region: SharedRegion) -> Self {
        ReadWriteLock {
            holders: Holders::from_region(region),
        }
    }

    fn region(&self) -> &SharedRegion {
        self.holders.region()
    }
}

/// A read-write lock shared with every process forked after it was made.
#[derive(Debug)]
pub struct ReadWriteLock {
    holders: Holders,
}

impl ReadWriteLock {
    /// A new lock, free.
    pub fn new() -> CoreResult<Self> {
        named::anonymous(())
    }

    /// Bytes mapped.
    pub fn size() -> usize {
        Holders::size()
    }

    /// Whether a writer holds it.
    pub fn is_write_locked(&self) -> bool {
        self.holders.count() & HELD != 0
    }

    /// Read holds of all readers.
    pub fn read_holds(&self) -> u32 {
        readers(self.holders.count())
    }

    /// The pid of the writer that holds it, if one does.
    pub fn writer_pid(&self) -> Option<u32> {
        let count = self.holders.count();
        let slot = writer_slot(count).filter(|_| count & HELD != 0)?;
        Some(super::holders::key_pid(self.holders.key_of(slot))).filter(|&pid| pid != 0)
    }

    /// Threads waiting now, in all processes.
    pub fn waiting(&self) -> u32 {
        self.holders.waiting()
    }

    /// Whether `owner` holds the write lock.
    pub fn holds_write(&self, owner: Owner) -> bool {
        let count = self.holders.count();
        count & HELD != 0
            && writer_slot(count).is_some_and(|slot| self.holders.is_owners(slot, owner))
    }

    /// Whether `owner` holds a read lock.
    pub fn holds_read(&self, owner: Owner) -> bool {
        self.holders.find(owner).is_some()
    }

    /// True while `owner` holds the lock and the last writer died holding
    /// it (until a writer releases the write lock).
    pub fn previous_owner_died(&self, owner: Owner) -> bool {
        self.holders.flags().load(SeqCst) & WRITER_DIED != 0
            && (self.holds_write(owner) || self.holds_read(owner))
    }

    fn refuse_if_writer(&self, owner: Owner) -> CoreResult<()> {
        let count = self.holders.count();
        match writer_slot(count) {
            Some(slot) if self.holders.is_owners(slot, owner) => Err(CoreError::Misuse(
                "the calling thread holds the write lock".into(),
            )),
            _ => Ok(()),
        }
    }

    /// A read hold now, if no writer is named (or `owner` already reads).
    /// No system call.
    pub fn try_read(&self, owner: Owner) -> CoreResult<Attempt> {
        self.refuse_if_writer(owner)?;
        if readers(self.holders.count()) == READERS {
            return Err(CoreError::OutOfRange("too many read holds".into()));
        }
        let Some(slot) = self.holders.claim(owner) else {
            return Ok(Attempt::Busy);
        };
        step!("rw.read.claimed");
        let taken = self.holders.transfer(slot, Kind::Take, |count, units| {
            let free = writer_slot(count).is_none() || units > 0;
            (free && readers(count) < READERS).then_some(count + 1)
        });
        if taken.is_some() {
            Ok(Attempt::Acquired)
        } else {
            self.holders.release_if_empty(slot, owner);
            Ok(Attempt::Busy)
        }
    }

    /// The write lock now, if nobody reads or writes. No system call.
    pub fn try_write(&self, owner: Owner) -> CoreResult<Attempt> {
        self.refuse_if_writer(owner)?;
        let Some(slot) = self.holders.claim(owner) else {
            return Ok(Attempt::Busy);
        };
        // `claim` finds the caller's own slot whenever it has one.
        if self.holders.units(slot) > 0 {
            return Err(CoreError::Misuse(
                "the calling thread holds a read lock; it would wait for itself".into(),
            ));
        }
        step!("rw.write.claimed");
        let taken = self.holders.update_count(|count| {
            (count >> WRITER_SHIFT == 0 && readers(count) == 0).then(|| count | naming(slot) | HELD)
        });
        if taken {
            Ok(Attempt::Acquired)
        } else {
            self.holders.release_if_empty(slot, owner);
            Ok(Attempt::Busy)
        }
    }

    /// Recovers the holds of readers and writers whose process is gone;
    /// true if any came back.
    pub fn reclaim_dead(&self) -> bool {
        let recovered = self
            .holders
            .reclaim_dead(remove_readers, |slot, key| self.clear_writer(slot, key));
        if recovered {
            self.holders.notify();
        }
        recovered
    }

    /// Clears the writer field if it names `slot`, still held by `key`;
    /// marks the writer dead if it held the lock. The mark comes first: a
    /// recoverer killed between the two writes must not lose the news.
    fn clear_writer(&self, slot: usize, key: u64) -> bool {
        let names =
            |count: u32| writer_slot(count) == Some(slot) && self.holders.key_of(slot) == key;
        let count = self.holders.count();
        if names(count) && count & HELD != 0 {
            self.holders.flags().fetch_or(WRITER_DIED, SeqCst);
            step!("rw.reclaim.flagged");
        }
        self.holders
            .update_count(|count| names(count).then_some(count & READERS))
    }

    /// Parks until `attempt` succeeds or the deadline; reclaims dead
    /// holders at the first slice and after slices without a wake-up.
    fn wait_for<P: Park>(
        &self,
        park: &mut P,
        deadline: Option<Duration>,
        mut attempt: impl FnMut() -> bool,
    ) -> Result<bool, P::Error> {
        let _waiter = self.holders.waiter();
        let mut look_for_dead = true;
        let done = wait_until(park, deadline, |slice_end| {
            if std::mem::take(&mut look_for_dead) {
                self.reclaim_dead();
            }
            let outcome = self
                .holders
                .sleep_until(slice_end, || attempt().then_some(()))?;
            look_for_dead = outcome.is_none();
            Ok(outcome)
        })?;
        Ok(done.is_some())
    }

    /// Takes a read hold, parking until it can (`Ok(true)`) or the monotonic
    /// `deadline` passes (`Ok(false)`). An interrupted wait takes nothing.
    pub fn acquire_read<P: Park>(
        &self,
        park: &mut P,
        owner: Owner,
        deadline: Option<Duration>,
    ) -> Result<bool, P::Error> {
        match self.try_read(owner) {
            Ok(Attempt::Acquired) => return Ok(true),
            Ok(Attempt::Busy) => {}
            Err(error) => return Err(park.error(error)),
        }
        self.wait_for(park, deadline, || {
            matches!(self.try_read(owner), Ok(Attempt::Acquired))
        })
    }

    /// Takes the write lock, parking until it can (`Ok(true)`) or the
    /// monotonic `deadline` passes (`Ok(false)`). While it waits for
    /// readers to leave, no new reader gets in; a wait that stops early
    /// leaves the lock as it was.
    pub fn acquire_write<P: Park>(
        &self,
        park: &mut P,
        owner: Owner,
        deadline: Option<Duration>,
    ) -> Result<bool, P::Error> {
        match self.try_write(owner) {
            Ok(Attempt::Acquired) => return Ok(true),
            Ok(Attempt::Busy) => {}
            Err(error) => return Err(park.error(error)),
        }
        let mut named: Option<usize> = None;
        let outcome = self.wait_for(park, deadline, || self.write_step(owner, &mut named));
        if !matches!(outcome, Ok(true)) {
            if let Some(slot) = named {
                self.holders.update_count(|count| {
                    (writer_slot(count) == Some(slot)).then_some(count & READERS)
                });
                step!("rw.write.gave_up");
                self.holders.release_if_empty(slot, owner);
                self.holders.notify();
            }
        }
        outcome
    }

    /// One step toward the write lock: name the caller as the writer, then
    /// take the lock once the readers have left. True once held.
    fn write_step(&self, owner: Owner, named: &mut Option<usize>) -> bool {
        let slot = match *named {
            Some(slot) => slot,
            None => {
                let Some(slot) = self.holders.claim(owner) else {
                    return false;
                };
                step!("rw.write_wait.claimed");
                let took = self.holders.update_count(|count| {
                    (count >> WRITER_SHIFT == 0).then(|| {
                        let held = if readers(count) == 0 { HELD } else { 0 };
                        count | naming(slot) | held
                    })
                });
                if !took {
                    self.holders.release_if_empty(slot, owner);
                    return false;
                }
                *named = Some(slot);
                step!("rw.write_wait.named");
                slot
            }
        };
        self.holders.update_count(|count| {
            (writer_slot(count) == Some(slot) && readers(count) == 0).then_some(count | HELD)
        })
    }

    /// Releases one read hold of `owner`; `Misuse` if it holds none.
    pub fn release_read(&self, owner: Owner) -> CoreResult<()> {
        let refused = || CoreError::Misuse("the calling thread holds no read lock".into());
        let slot = self.holders.find(owner).ok_or_else(refused)?;
        self.holders
            .transfer(slot, Kind::Give, |count, units| {
                (units > 0).then(|| remove_readers(count, 1))
            })
            .ok_or_else(refused)?;
        step!("rw.read.released");
        self.holders.release_if_empty(slot, owner);
        self.holders.notify();
        Ok(())
    }

    /// Releases the write lock `owner` holds; `Misuse` if it does not.
    pub fn release_write(&self, owner: Owner) -> CoreResult<()> {
        let count = self.holders.count();
        let slot = writer_slot(count)
            .filter(|&slot| count & HELD != 0 && self.holders.is_owners(slot, owner))
            .ok_or_else(|| CoreError::Misuse("the calling thread holds no write lock".into()))?;
        self.holders.flags().fetch_and(!WRITER_DIED, SeqCst);
        step!("rw.write.flag_cleared");
        self.holders
            .update_count(|count| (writer_slot(count) == Some(slot)).then_some(count & READERS));
        step!("rw.write.released");
        self.holders.release_if_empty(slot, owner);
        self.holders.notify();
        Ok(())
    }

    /// Releases whatever `owner` holds (`close`).
    pub fn release_all(&self, owner: Owner) {
        let _ = self.release_write(owner);
        while self.release_read(owner).is_ok() {}
    }
}

impl HeldByThreads for ReadWriteLock {
    fn release_thread(&self, thread: u32) -> usize {
        let released = self
            .holders
            .reclaim_thread(thread, remove_readers, |slot, key| {
                self.clear_writer(slot, key)
            });
        if released > 0 {
            self.holders.notify();
        }
        released
    }
}

#[cfg(test)]
#[path = "kill_steps/rwlock.rs"]
pub(crate) mod kill_steps;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::identity::{current_owner, thread_part};
    use crate::core::park::Blocking;
    use crate::core::region::SharedRegion;
    use crate::core::test_support::{exit_code, fork_and, fork_holding, me, soon};
    use crate::platform::monotonic_now;
    use std::sync::Arc;

    #[test]
    fn many_readers_or_one_writer() {
        let lock = Arc::new(ReadWriteLock::new().unwrap());
        assert_eq!(lock.try_read(me()).unwrap(), Attempt::Acquired);
        assert_eq!(lock.try_read(me()).unwrap(), Attempt::Acquired);
        let other = Arc::clone(&lock);
        let (read, write) = std::thread::spawn(move || {
            let read = other.try_read(me()).unwrap();
            other.release_read(me()).unwrap();
            (read, other.try_write(me()).unwrap())
        })
        .join()
        .unwrap();
        assert_eq!((read, write), (Attempt::Acquired, Attempt::Busy));
        assert!(matches!(lock.try_write(me()), Err(CoreError::Misuse(_))));
        lock.release_read(me()).unwrap();
        lock.release_read(me()).unwrap();
        assert!(matches!(lock.release_read(me()), Err(CoreError::Misuse(_))));
        assert_eq!(lock.try_write(me()).unwrap(), Attempt::Acquired);
        assert!(lock.is_write_locked());
        assert_eq!(lock.writer_pid(), Some(std::process::id()));
        assert!(matches!(lock.try_read(me()), Err(CoreError::Misuse(_))));
        assert!(matches!(lock.try_write(me()), Err(CoreError::Misuse(_))));
        lock.release_write(me()).unwrap();
        assert!(matches!(
            lock.release_write(me()),
            Err(CoreError::Misuse(_))
        ));
        assert_eq!((lock.read_holds(), lock.is_write_locked()), (0, false));
    }

    #[test]
    fn a_waiting_writer_blocks_new_readers_but_not_a_reader_again() {
        let lock = Arc::new(ReadWriteLock::new().unwrap());
        assert_eq!(lock.try_read(me()).unwrap(), Attempt::Acquired);
        let writer_lock = Arc::clone(&lock);
        let writer = std::thread::spawn(move || {
            let got = writer_lock
                .acquire_write(&mut Blocking, me(), soon())
                .unwrap();
            writer_lock.release_write(me()).unwrap();
            got
        });
        while lock.waiting() == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let reader_lock = Arc::clone(&lock);
        let blocked = std::thread::spawn(move || reader_lock.try_read(me()).unwrap())
            .join()
            .unwrap();
        assert_eq!(blocked, Attempt::Busy);
        assert_eq!(lock.try_read(me()).unwrap(), Attempt::Acquired);
        lock.release_read(me()).unwrap();
        lock.release_read(me()).unwrap();
        assert!(writer.join().unwrap());
        assert_eq!(lock.read_holds(), 0);
    }

    #[test]
    fn a_writer_that_gives_up_lets_readers_in_again() {
        let lock = Arc::new(ReadWriteLock::new().unwrap());
        assert_eq!(lock.try_read(me()).unwrap(), Attempt::Acquired);
        let other = Arc::clone(&lock);
        let gave_up = std::thread::spawn(move || {
            let deadline = Some(monotonic_now() + Duration::from_millis(50));
            !other.acquire_write(&mut Blocking, me(), deadline).unwrap()
                && other.try_read(me()).unwrap() == Attempt::Acquired
                && other.release_read(me()).is_ok()
        })
        .join()
        .unwrap();
        assert!(gave_up);
        lock.release_read(me()).unwrap();
        assert_eq!(lock.try_write(me()).unwrap(), Attempt::Acquired);
        lock.release_write(me()).unwrap();
    }

    #[test]
    fn a_dead_writer_is_recovered_and_reported() {
        let lock = ReadWriteLock::new().unwrap();
        let child = fork_and(|| i32::from(lock.try_write(me()).unwrap() != Attempt::Acquired));
        assert_eq!(exit_code(child), 0);
        assert!(lock.is_write_locked());
        let start = monotonic_now();
        assert!(lock.acquire_read(&mut Blocking, me(), soon()).unwrap());
        assert!(monotonic_now() - start < Duration::from_secs(1));
        assert!(lock.previous_owner_died(me()));
        lock.release_read(me()).unwrap();
        assert!(lock.acquire_write(&mut Blocking, me(), soon()).unwrap());
        assert!(lock.previous_owner_died(me()));
        lock.release_write(me()).unwrap();
        assert_eq!(lock.try_read(me()).unwrap(), Attempt::Acquired);
        assert!(!lock.previous_owner_died(me()));
        lock.release_read(me()).unwrap();
    }

    #[test]
    fn dead_readers_are_recovered_for_a_waiting_writer() {
        let lock = ReadWriteLock::new().unwrap();
        let child = fork_holding(|| {
            for _ in 0..3 {
                assert_eq!(lock.try_read(me()).unwrap(), Attempt::Acquired);
            }
        });
        assert_eq!(lock.read_holds(), 3);
        // SAFETY: killing the child we forked.
        unsafe { libc::kill(child, libc::SIGKILL) };
        assert!(lock.acquire_write(&mut Blocking, me(), soon()).unwrap());
        assert_eq!(exit_code(child), -1);
        assert!(!lock.previous_owner_died(me()), "readers wrote nothing");
        assert_eq!(lock.read_holds(), 0);
        lock.release_write(me()).unwrap();
    }

    #[test]
    fn a_stopped_reader_keeps_its_hold() {
        let lock = ReadWriteLock::new().unwrap();
        let child = fork_holding(|| {
            assert_eq!(lock.try_read(me()).unwrap(), Attempt::Acquired);
        });
        // SAFETY: stopping, then killing and reaping, the child we forked.
        unsafe { libc::kill(child, libc::SIGSTOP) };
        let deadline = Some(monotonic_now() + Duration::from_millis(350));
        assert!(!lock.acquire_write(&mut Blocking, me(), deadline).unwrap());
        assert_eq!(lock.read_holds(), 1);
        // SAFETY: as above.
        unsafe { libc::kill(child, libc::SIGKILL) };
        assert_eq!(exit_code(child), -1);
        assert!(lock.acquire_write(&mut Blocking, me(), soon()).unwrap());
        lock.release_write(me()).unwrap();
    }

    #[test]
    fn a_thread_that_ends_releases_its_holds() {
        let lock = Arc::new(ReadWriteLock::new().unwrap());
        let other = Arc::clone(&lock);
        let thread = std::thread::spawn(move || {
            assert_eq!(other.try_write(me()).unwrap(), Attempt::Acquired);
            thread_part(current_owner())
        })
        .join()
        .unwrap();
        assert!(lock.is_write_locked());
        assert_eq!(lock.release_thread(thread), 1);
        assert!(!lock.is_write_locked());
        assert_eq!(lock.try_read(me()).unwrap(), Attempt::Acquired);
        assert!(lock.previous_owner_died(me()));
        lock.release_read(me()).unwrap();
    }

    #[test]
    fn readers_never_see_a_half_written_pair_across_processes() {
        let lock = ReadWriteLock::new().unwrap();
        let pair = SharedRegion::new(16).unwrap();
        let children: Vec<_> = (0..4)
            .map(|child| {
                fork_and(|| {
                    std::thread::scope(|scope| {
                        let threads: Vec<_> = (0..2)
                            .map(|thread| {
                                let (lock, pair) = (&lock, &pair);
                                scope.spawn(move || {
                                    let writes = (child + thread) % 3 == 0;
                                    for round in 0..500u64 {
                                        if writes && round % 4 == 0 {
                                            assert!(lock
                                                .acquire_write(&mut Blocking, me(), soon())
                                                .unwrap());
                                            let value = pair.read::<u64>(0).unwrap() + 1;
                                            pair.write::<u64>(0, value).unwrap();
                                            std::thread::yield_now();
                                            pair.write::<u64>(8, value).unwrap();
                                            lock.release_write(me()).unwrap();
                                        } else {
                                            assert!(lock
                                                .acquire_read(&mut Blocking, me(), soon())
                                                .unwrap());
                                            let first = pair.read::<u64>(0).unwrap();
                                            std::thread::yield_now();
                                            let second = pair.read::<u64>(8).unwrap();
                                            lock.release_read(me()).unwrap();
                                            assert_eq!(first, second);
                                        }
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
        assert_eq!(pair.read::<u64>(0).unwrap(), pair.read::<u64>(8).unwrap());
        assert_eq!(pair.read::<u64>(0).unwrap(), 3 * 125);
        assert_eq!((lock.read_holds(), lock.is_write_locked()), (0, false));
    }
}
