//! Who is waiting, in shared memory, so that a waiter killed by `SIGKILL`
//! can be told apart from a live one and stops being counted.
//!
//! A plain shared counter of waiters stays too high for ever once a waiter
//! dies while counted: `num_waiting` lies, and every later wake-up makes a
//! system call for nobody. Instead each waiting thread claims a slot holding
//! its process key (pid and start time) and a kind (what it waits for), and
//! sets the slot's bit in its kind's bitmap. The bitmaps answer "is anyone
//! waiting?" with one load; counting or reaping reads `/proc` only for the
//! slots in use, only off the fast path.
//!
//! Every step tolerates a kill between any two instructions: a slot claimed
//! but not yet in the bitmap, or in the bitmap after its slot was cleared,
//! costs at most a spurious wake-up until the slot is reaped or reused, and
//! never a missed one (a waiter only sleeps after its bit is set and visible).
//! Waiters beyond [`SLOTS`] at once go uncounted in the slots and are kept in
//! an overflow counter instead (not recovered after a kill: documented).

use super::identity::current_process;
use super::kill_step::step;
use crate::platform;
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// Slots per table: one bitmap word.
pub const SLOTS: usize = 64;
/// Bits of a key holding the start time (the pid takes the upper 32).
const START_BITS: u32 = 31;
const START_MASK: u64 = (1 << START_BITS) - 1;

/// The calling process's key with `kind` (0 or 1) in the lowest bit; never 0.
pub fn process_key(kind: usize) -> u64 {
    let me = current_process();
    (u64::from(me.pid) << 32) | ((me.start_time & START_MASK) << 1) | (kind as u64 & 1)
}

/// Whether the process a key names has certainly exited.
pub fn key_is_gone(key: u64) -> bool {
    platform::process_is_gone((key >> 32) as u32, (key >> 1) & START_MASK, START_MASK)
}

/// The shared table: lives inside another object's shared state (all-zero
/// is an empty table).
#[repr(C)]
pub struct WaiterSlots {
    bits: [AtomicU64; 2],
    overflow: [AtomicU32; 2],
    slots: [AtomicU64; SLOTS],
}

/// A thread counted as waiting until dropped.
pub struct Registration<'a> {
    table: &'a WaiterSlots,
    kind: usize,
    slot: Option<usize>,
}

impl WaiterSlots {
    /// Counts the caller as waiting for `kind` (0 or 1) until the returned
    /// registration is dropped. No system call.
    pub fn register(&self, kind: usize) -> Registration<'_> {
        let kind = kind & 1;
        let key = process_key(kind);
        // From a slot that depends on the process, and skipping taken slots
        // with a load: waiters of many processes do not all fight over the
        // first cache line.
        let start = (key >> 32) as usize;
        let slot = (0..SLOTS)
            .map(|offset| (start + offset) % SLOTS)
            .find(|&index| {
                let slot = &self.slots[index];
                slot.load(Ordering::Relaxed) == 0
                    && slot
                        .compare_exchange(0, key, Ordering::SeqCst, Ordering::Relaxed)
                        .is_ok()
            });
        match slot {
            Some(index) => {
                step!("waiters.register.claimed");
                self.bits[kind].fetch_or(1 << index, Ordering::SeqCst);
            }
            None => {
                self.overflow[kind].fetch_add(1, Ordering::SeqCst);
            }
        }
        Registration {
            table: self,
            kind,
            slot,
        }
    }

    /// Whether anyone may be waiting for `kind`: one or two loads, after a
    /// full fence that pairs with the waiter's (so a waiter registered
    /// before the caller's preceding write is seen).
    pub fn anyone(&self, kind: usize) -> bool {
        fence(Ordering::SeqCst);
        self.bits[kind & 1].load(Ordering::Relaxed) != 0
            || self.overflow[kind & 1].load(Ordering::Relaxed) != 0
    }

    /// Threads waiting for `kind`, after reaping the dead ones. Reads
    /// `/proc` once per slot in use.
    pub fn count(&self, kind: usize) -> u32 {
        self.reap_dead();
        let kind = kind & 1;
        self.bits[kind].load(Ordering::SeqCst).count_ones()
            + self.overflow[kind].load(Ordering::SeqCst)
    }

    /// Frees the slots of processes that have exited. Off the fast path
    /// only: reads `/proc` for every slot in use.
    pub fn reap_dead(&self) {
        for (index, slot) in self.slots.iter().enumerate() {
            let key = slot.load(Ordering::SeqCst);
            if key == 0 || !key_is_gone(key) {
                continue;
            }
            if slot
                .compare_exchange(key, 0, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
            {
                step!("waiters.reap.freed");
                self.bits[(key & 1) as usize].fetch_and(!(1 << index), Ordering::SeqCst);
            }
        }
        self.clear_orphan_bits();
    }

    /// Clears the bits of free slots, left by a reaper killed between
    /// freeing a slot and clearing its bit: they would make every wake-up a
    /// system call until the slot is used again. A waiter registering in
    /// that slot meanwhile sets its bit after claiming the slot, so a slot
    /// found claimed after the clear gets its bit back.
    fn clear_orphan_bits(&self) {
        for bits in &self.bits {
            let mut orphans = bits.load(Ordering::SeqCst);
            while orphans != 0 {
                let index = orphans.trailing_zeros() as usize;
                orphans &= orphans - 1;
                if self.slots[index].load(Ordering::SeqCst) != 0 {
                    continue;
                }
                bits.fetch_and(!(1 << index), Ordering::SeqCst);
                let key = self.slots[index].load(Ordering::SeqCst);
                if key != 0 {
                    self.bits[(key & 1) as usize].fetch_or(1 << index, Ordering::SeqCst);
                }
            }
        }
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        match self.slot {
            Some(index) => {
                self.table.bits[self.kind].fetch_and(!(1 << index), Ordering::SeqCst);
                step!("waiters.leave.unmarked");
                self.table.slots[index].store(0, Ordering::SeqCst);
            }
            None => {
                self.table.overflow[self.kind].fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
}

#[cfg(test)]
#[path = "kill_steps/waiter_slots.rs"]
pub(crate) mod kill_steps;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::region::SharedRegion;
    use crate::core::test_support::{exit_code, fork_and};

    fn table(region: &SharedRegion) -> &WaiterSlots {
        // SAFETY: a zero-filled region large enough for the table, whose
        // fields are all atomics (valid when zero).
        unsafe { &*region.base().cast::<WaiterSlots>() }
    }

    #[test]
    fn counts_registrations_of_each_kind_until_dropped() {
        let region = SharedRegion::new(std::mem::size_of::<WaiterSlots>()).unwrap();
        let table = table(&region);
        assert!(!table.anyone(0) && !table.anyone(1));
        let first = table.register(0);
        let second = table.register(0);
        let other = table.register(1);
        assert_eq!((table.count(0), table.count(1)), (2, 1));
        drop(first);
        drop(other);
        assert_eq!((table.count(0), table.count(1)), (1, 0));
        assert!(table.anyone(0) && !table.anyone(1));
        drop(second);
        assert!(!table.anyone(0));
    }

    #[test]
    fn overflow_waiters_are_counted_too() {
        let region = SharedRegion::new(std::mem::size_of::<WaiterSlots>()).unwrap();
        let table = table(&region);
        let many: Vec<_> = (0..SLOTS + 3).map(|_| table.register(1)).collect();
        assert_eq!(table.count(1), (SLOTS + 3) as u32);
        drop(many);
        assert_eq!(table.count(1), 0);
        assert!(!table.anyone(1));
    }

    #[test]
    fn a_waiter_killed_while_registered_is_reaped() {
        let region = SharedRegion::new(std::mem::size_of::<WaiterSlots>()).unwrap();
        let table = table(&region);
        let child = fork_and(|| {
            std::mem::forget(table.register(0));
            // SAFETY: ends the child at once, as SIGKILL would.
            unsafe { libc::_exit(0) }
        });
        assert_eq!(exit_code(child), 0);
        assert!(table.anyone(0), "the dead waiter is still registered");
        assert_eq!(table.count(0), 0);
        assert!(!table.anyone(0));
    }
}
