//! What the kill tests need to see of a holder table beyond its API.

use super::{Holders, SLOTS};
use std::sync::atomic::Ordering::SeqCst;

impl Holders {
    /// Whether the next notify would make the `futex_wake` system call.
    pub(crate) fn sleepers_marked(&self) -> bool {
        self.header().sleepers.load(SeqCst) != 0
    }

    /// Whether no slot leaked: none holds units or is being freed, and
    /// each is free, closed (to be taken over), or kept by a live process
    /// (an undo semaphore keeps a slot holding nothing).
    pub(crate) fn all_slots_free(&self) -> bool {
        (0..SLOTS).all(|index| {
            let slot = self.slot(index);
            let (key, word) = (slot.key.load(SeqCst), slot.word.load(SeqCst));
            let freer = slot.freer.load(SeqCst);
            // A freer that died is taken over by the next one.
            super::units_of(word) == 0
                && (freer == 0 || super::key_is_gone(freer))
                && (key == 0 || word & super::CLOSED != 0 || !super::key_is_gone(key))
        })
    }

    /// Slots kept (keyed and open) by holders that hold nothing.
    pub(crate) fn idle_kept_slots(&self) -> usize {
        (0..SLOTS)
            .filter(|&index| {
                let slot = self.slot(index);
                let word = slot.word.load(SeqCst);
                slot.key.load(SeqCst) != 0
                    && word & super::CLOSED == 0
                    && super::units_of(word) == 0
            })
            .count()
    }

    /// Applies the last recorded transfer if it is not yet, as the next
    /// transfer would: the slots then show every unit.
    pub(crate) fn settle(&self) {
        self.help(self.header().state.load(SeqCst));
    }

    /// The count word and every slot's key: what another process's
    /// recovery must leave as it is while the holders live.
    pub(crate) fn snapshot(&self) -> (u32, Vec<u64>) {
        let keys = (0..SLOTS).map(|index| self.slot(index).key.load(SeqCst));
        (self.count(), keys.collect())
    }

    /// Whether the last recorded transfer has been applied to its slot.
    pub(crate) fn transfer_pending(&self) -> bool {
        let recorded = (self.header().state.load(SeqCst) >> 32) as u32;
        if recorded >> 30 == 0 {
            return false;
        }
        let index = ((recorded >> super::COUNT_BITS) & ((1 << super::SLOT_BITS) - 1)) as usize;
        let count = recorded & super::COUNT_MASK;
        super::count_of(self.slot(index).word.load(SeqCst)) & super::COUNT_MASK != count
    }
}
