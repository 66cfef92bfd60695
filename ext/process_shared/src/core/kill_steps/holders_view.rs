//! What the kill tests need to see of a holder table beyond its API.

use super::{Holders, SLOTS};
use std::sync::atomic::Ordering::SeqCst;

impl Holders {
    /// Whether the next notify would make the `futex_wake` system call.
    pub(crate) fn sleepers_marked(&self) -> bool {
        self.header().sleepers.load(SeqCst) != 0
    }

    /// Whether every slot is free (no key, no token, no units).
    pub(crate) fn all_slots_free(&self) -> bool {
        (0..SLOTS).all(|index| {
            let slot = self.slot(index);
            slot.key.load(SeqCst) == 0
                && slot.token.load(SeqCst) == 0
                && super::units_of(slot.word.load(SeqCst)) == 0
        })
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
