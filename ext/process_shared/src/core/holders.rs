//! A table of holders shared across fork, and a count word that moves units
//! between the table and itself without ever losing one, whatever
//! instruction a process is killed at. The base of `UndoSemaphore` (free
//! units) and `ReadWriteLock` (read holds).
//!
//! # Layout (one shared mapping)
//!
//! | field      | type          | meaning                                               |
//! |------------|---------------|-------------------------------------------------------|
//! | `state`    | u64           | low 32 bits: the primitive's count; high 32: the last transfer |
//! | `wake`     | u32           | futex word, bumped to wake sleepers                    |
//! | `sleepers` | u32           | 1 when a thread may sleep on `wake`                    |
//! | `flags`    | u32           | the primitive's own flags                              |
//! | `reach`    | u32           | the farthest any slot was ever claimed from its home    |
//! | `slots`    | [Slot; SLOTS] | one per holder: `key`, `token`, `word`, `freer`        |
//! | `waiting`  | WaiterSlots   | who waits, by process (introspection; see `waiter_slots`) |
//!
//! A slot's `key` is 0 when never used (or freed by its own holder), else
//! the holding process's key (pid and start time, as the `Mutex` owner
//! word). `token` names the holder inside that process (its fiber's owner
//! token, see `identity`). `word` holds the holder's `units` (low 32 bits),
//! the slot's transfer `count` (bits 32..51), bumped by every transfer that
//! touched the slot, and two marks: `HELPED` and `CLOSED`. `freer` is
//! the process taking the slot over (or reclaiming it), if any.
//!
//! # Finding a holder's slot
//!
//! An owner's slot is looked for from its *home* (a hash of key and
//! token), by linear probing. Slots are freed in any order, so a free slot
//! does not end a probe: instead `reach` records the farthest from its home
//! that any slot was ever claimed (it only grows). An owner looks for its
//! own slot within `reach` of its home before it claims a free one, so it
//! never holds two slots, and finds its slot with one probe while no slot
//! was ever claimed away from home (`reach` 0: the uncontended case).
//!
//! # Algorithm: transfers
//!
//! Moving units between the count and a slot changes two words, and a
//! process may die between the two writes. So the first write, a
//! compare-and-swap of `state`, also records the transfer in `state`'s high
//! half: its kind (take, give, reclaim), its slot and the slot's count
//! after it. The second write applies it to the slot (a compare-and-swap of
//! `word` from count − 1 to count). Whoever next changes `state` with a
//! transfer first applies the one recorded there if the slot's count shows
//! it was not ("helping"), so a transfer is never lost: a slot's count is
//! either the recorded count − 1 (pending) or the recorded count (applied),
//! since no later transfer of that slot can start before this one is
//! applied. Both the holder and any helper apply with the same
//! compare-and-swap, so it is applied once.
//!
//! A holder that died is found by a waiter (at its first slice, and after
//! every slice that ended without a wake-up): its slot's key names a process
//! that is gone. The waiter reclaims its units with a transfer of kind
//! `reclaim`, which also marks the slot `CLOSED`: no one's any more. A
//! thread that ends has its slots reclaimed the same way by its own process
//! (`thread_end`).
//!
//! # Taking a slot over
//!
//! A closed slot keeps its key; only its `freer` changes it. A claimer that
//! finds no never-used slot makes itself `freer` of a closed one (a
//! compare-and-swap from 0, or from a process that is gone), writes its key
//! and token, then clears `CLOSED`, then `freer`. A reclaimer is `freer`
//! when it can be, so that the slot is not taken over before its `extra`
//! ran; but if a live (maybe stopped) process is, the units come back all
//! the same.
//!
//! # Kept slots (an undo semaphore's)
//!
//! An undo semaphore's holder keeps its slot while it holds nothing, so an
//! uncontended take and give are one compare-and-swap of `state` and a
//! store each ([`Holders::kept_slot`], [`Holders::transfer_owned`]). When
//! no slot is free, [`Holders::claim_or_evict`] takes back an idle one: as
//! its `freer`, it closes it with a `reclaim` transfer whose check (made
//! between reading `state` and the compare-and-swap that records it) is
//! that the slot holds nothing and has no `HELPED` mark, then takes it
//! over. The mark is set by a helper applying a holder's transfer and
//! cleared by the holder's own store of it: a holder stopped between
//! recording its last give and storing it would otherwise later overwrite
//! a new holder's word. A holder's own transfer checks, in its recording
//! step, that the word is not `CLOSED` and then that the key and token are
//! still its own (a taker-over writes them before it reopens the word); if
//! not, it claims another slot.
//!
//! The holder applies its own transfers with a plain store: nobody else
//! changes its slot while it lives (only helpers, with the same value).
//! Uncontended, with its slot kept, a take or a give is a probe of one
//! slot, one compare-and-swap of `state` and a store: no system call. When
//! the transfer recorded last is the holder's own and applied (one holder
//! in a loop), [`Holders::transfer_kept`] does it without the general
//! path's helping and loop.

use super::identity::{
    current_holder_key, current_owner, current_process, thread_part, ProcessIdentity,
};
use super::kill_step::step;
use super::region::SharedRegion;
use super::waiter_slots::{Registration, WaiterSlots};
use crate::platform::{self, WaitOutcome};
use std::sync::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{Release, SeqCst},
};
use std::time::Duration;

/// How many holders (fibers of any process) may hold at one time. A waiter
/// that finds no free slot waits for one, as for a unit.
pub const SLOTS: usize = 1024;
const SLOT_BITS: u32 = 10;
const COUNT_BITS: u32 = 20;
const COUNT_MASK: u32 = (1 << COUNT_BITS) - 1;

/// Bits of a process key holding the pid (Linux pids stay below 2^22).
const PID_BITS: u32 = 22;
/// Bits of the start time (ticks since boot; 2^41 at 100 Hz is centuries).
const START_BITS: u32 = 41;
const START_MASK: u64 = (1 << START_BITS) - 1;
/// Never set in a process key (so a key never collides with it).
pub const TOMBSTONE: u64 = 1 << 63;

/// The key of a process: never zero, never with [`TOMBSTONE`] set.
#[inline]
pub fn process_key(process: ProcessIdentity) -> u64 {
    ((u64::from(process.pid) & ((1 << PID_BITS) - 1)) << START_BITS)
        | (process.start_time & START_MASK)
}

/// The pid a key names.
pub fn key_pid(key: u64) -> u32 {
    ((key & !TOMBSTONE) >> START_BITS) as u32
}

fn key_is_gone(key: u64) -> bool {
    platform::process_is_gone(key_pid(key), key & START_MASK, START_MASK)
}

/// Who is calling: process key and owner token, read once per operation
/// (with the GVL held, in the binding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub key: u64,
    pub token: u64,
}

impl Owner {
    /// The calling fiber (or thread) of this process.
    pub fn current() -> Owner {
        Owner {
            key: process_key(current_process()),
            token: current_owner(),
        }
    }

    /// The owner `token` names in this process.
    #[inline]
    pub fn with_token(token: u64) -> Owner {
        Owner {
            key: current_holder_key(),
            token,
        }
    }

    #[inline]
    fn home(self) -> usize {
        let mixed = (self.key ^ self.token.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (mixed >> (64 - SLOT_BITS)) as usize
    }
}

/// What a transfer does to a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    /// One unit into the slot.
    Take = 1,
    /// One unit out of the slot.
    Give = 2,
    /// Every unit out of the slot.
    Reclaim = 3,
}

#[repr(C)]
struct Slot {
    key: AtomicU64,
    token: AtomicU64,
    word: AtomicU64,
    /// The process key of whoever frees the slot once it is closed (0:
    /// nobody): only it changes a closed slot's key.
    freer: AtomicU64,
}

#[repr(C)]
struct Header {
    state: AtomicU64,
    wake: AtomicU32,
    sleepers: AtomicU32,
    flags: AtomicU32,
    reach: AtomicU32,
}

#[repr(C)]
struct Layout {
    header: Header,
    slots: [Slot; SLOTS],
    waiting: WaiterSlots,
}

/// Set in a slot's word by a helper that applied its holder's transfer,
/// cleared by the holder's own store of it: while set, the holder may still
/// store, so the slot is not taken back.
const HELPED: u64 = 1 << 52;
/// Set in a slot's word by a transfer of kind `reclaim` (which also takes a
/// kept slot back): the slot is no one's any more, and its next claimer
/// opens it.
const CLOSED: u64 = 1 << 53;

fn units_of(word: u64) -> u32 {
    word as u32
}

fn count_of(word: u64) -> u32 {
    ((word >> 32) as u32) & COUNT_MASK
}

/// Why an owner's transfer did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `change` said no (no unit free, or none held).
    Declined,
    /// The slot is no longer the owner's (taken back while it held
    /// nothing): claim another.
    SlotLost,
}

fn descriptor(kind: Kind, slot: usize, count: u32) -> u32 {
    ((kind as u32) << 30) | descriptor_slot(slot, count)
}

/// A descriptor without its kind: the slot and its count.
#[inline(always)]
fn descriptor_slot(slot: usize, count: u32) -> u32 {
    ((slot as u32) << COUNT_BITS) | (count & COUNT_MASK)
}

/// The kind of the transfer a descriptor records (never 0 when one is).
fn descriptor_kind(recorded: u32) -> Kind {
    match recorded >> 30 {
        1 => Kind::Take,
        2 => Kind::Give,
        _ => Kind::Reclaim,
    }
}

/// A slot's word once the transfer of `kind` numbered `count` is applied
/// to `held`: its units moved (all of them out, and `CLOSED`, for a
/// reclaim), no `HELPED` mark.
#[inline(always)]
fn applied_word(kind: Kind, held: u64, count: u32) -> u64 {
    let units = units_of(held);
    let (units, closed) = match kind {
        Kind::Take => (units.wrapping_add(1), 0),
        Kind::Give => (units.saturating_sub(1), 0),
        Kind::Reclaim => (0, CLOSED),
    };
    (u64::from(count & COUNT_MASK) << 32) | u64::from(units) | closed
}

/// Applies a holder's own transfer: nobody else moves units in or out of a
/// live holder's slot, and a helper writes this same value (but with
/// [`HELPED`], which this store clears): a store does.
#[inline(always)]
fn store_own(word: &AtomicU64, _: u64, applied: u64) {
    word.store(applied, Release);
}

/// Applies a transfer as a helper does: another may have applied it first
/// (and the slot changed hands since).
fn apply_as_helper(word: &AtomicU64, held: u64, applied: u64) {
    let _ = word.compare_exchange(held, applied, SeqCst, SeqCst);
}

/// The holder table and its count word, in one shared mapping.
#[derive(Debug)]
pub struct Holders {
    region: SharedRegion,
}

impl Holders {
    /// A new table, every slot free, the count at `count`.
    pub fn new(count: u32) -> super::CoreResult<Self> {
        let region = SharedRegion::new(Self::size())?;
        Self::init_state(&region, count)?;
        Ok(Holders { region })
    }

    /// Sets up a table in fresh, zero-filled `region` (every slot free),
    /// the count at `count`.
    pub fn init_state(region: &SharedRegion, count: u32) -> super::CoreResult<()> {
        let layout = region.span(0, Self::size())?;
        // SAFETY: the span is aligned, zero-filled shared memory the size of
        // a Layout (atomics, valid when zero), which nothing else uses yet.
        let layout = unsafe { &*layout.cast::<Layout>() };
        layout.header.state.store(u64::from(count), SeqCst);
        Ok(())
    }

    /// The table in `region`, set up by [`Holders::init_state`].
    pub fn from_region(region: SharedRegion) -> Self {
        Holders { region }
    }

    /// The region holding the table.
    pub fn region(&self) -> &SharedRegion {
        &self.region
    }

    /// Bytes mapped, for the GC's accounting.
    pub fn size() -> usize {
        std::mem::size_of::<Layout>()
    }

    fn layout(&self) -> &Layout {
        // SAFETY: the region is a zero-filled mapping of a Layout's size;
        // every field is an atomic (all-zero is valid), shared safely
        // across threads and processes; it lives as long as `self`.
        unsafe { &*self.region.base().cast::<Layout>() }
    }

    fn header(&self) -> &Header {
        &self.layout().header
    }

    #[inline]
    fn slot(&self, index: usize) -> &Slot {
        &self.layout().slots[index % SLOTS]
    }

    /// The primitive's count (the low half of `state`).
    pub fn count(&self) -> u32 {
        self.header().state.load(SeqCst) as u32
    }

    /// The primitive's own flags word.
    pub fn flags(&self) -> &AtomicU32 {
        &self.header().flags
    }

    /// Threads waiting now, in all processes; a waiter whose process died
    /// is no longer counted. Reads `/proc` once per waiter: introspection
    /// only.
    pub fn waiting(&self) -> u32 {
        self.layout().waiting.count(0)
    }

    /// Units held in `slot`.
    pub fn units(&self, slot: usize) -> u32 {
        units_of(self.slot(slot).word.load(SeqCst))
    }

    /// Applies the transfer recorded in `state`, if it is not yet.
    #[inline(always)]
    fn help(&self, state: u64) {
        let recorded = (state >> 32) as u32;
        if recorded >> 30 == 0 {
            return;
        }
        let slot = self.slot(((recorded >> COUNT_BITS) & ((1 << SLOT_BITS) - 1)) as usize);
        let word = slot.word.load(SeqCst);
        // Almost always applied already: pending only while its author is
        // between its two writes (or died there).
        if count_of(word).wrapping_add(1) & COUNT_MASK == recorded & COUNT_MASK {
            Self::apply_pending(slot, recorded, word);
        }
    }

    /// Applies the pending transfer `recorded` to `slot`, whose word was
    /// `word`, unless someone else does first.
    #[cold]
    #[inline(never)]
    fn apply_pending(slot: &Slot, recorded: u32, mut word: u64) {
        let count = recorded & COUNT_MASK;
        while count_of(word).wrapping_add(1) & COUNT_MASK == count {
            let applied = applied_word(descriptor_kind(recorded), word, count) | HELPED;
            match slot.word.compare_exchange(word, applied, SeqCst, SeqCst) {
                Ok(_) => return,
                Err(now) => word = now,
            }
        }
    }

    /// Moves units between the count and `slot`, the caller's own (see
    /// [`Holders::claim`]): `change(count, units)` gives the new count
    /// (`None`: do nothing, return `None`), `units` being what the slot
    /// holds now. Returns the units the slot held before. Never blocks.
    #[inline]
    pub fn transfer(
        &self,
        slot: usize,
        kind: Kind,
        mut change: impl FnMut(u32, u32) -> Option<u32>,
    ) -> Option<u32> {
        self.record(
            slot,
            kind,
            |count, held| change(count, units_of(held)),
            store_own,
        )
    }

    /// [`Holders::transfer`] for a table whose idle slots are kept and may
    /// be taken back ([`Holders::claim_or_evict`]): refuses, in the same
    /// step that records the transfer, a slot that is no longer `owner`'s.
    #[inline]
    pub fn transfer_owned(
        &self,
        slot: usize,
        owner: Owner,
        kind: Kind,
        mut change: impl FnMut(u32, u32) -> Option<u32>,
    ) -> Result<u32, Refused> {
        let mut lost = false;
        let held = self.record(
            slot,
            kind,
            |count, held| {
                // The word first, then the key: a new claimer writes its key
                // and token before it opens the slot (`open`), so an open
                // word read before `owner`'s key and token means the slot
                // was still `owner`'s when `state` was read.
                lost = held & CLOSED != 0 || !self.is_keyed_to(slot, owner);
                if lost {
                    return None;
                }
                change(count, units_of(held))
            },
            store_own,
        );
        match held {
            Some(units) => Ok(units),
            None if lost => Err(Refused::SlotLost),
            None => Err(Refused::Declined),
        }
    }

    /// The common case of [`Holders::transfer_owned`] on `owner`'s kept
    /// slot, straight-line: one unit in (`Take`, if one is free) or out
    /// (`Give`, if the slot holds one), when the transfer recorded last is
    /// this slot's own and applied (as in a loop of one holder). Anything
    /// else — another slot's transfer to help, no unit, a slot lost, a lost
    /// race for `state` — returns false with nothing changed, and the
    /// caller takes the general path.
    ///
    /// The steps are those of [`Holders::transfer_owned`], in its order
    /// (`state`, then the word, then the key and token; see there), minus
    /// helping: the only transfer that could need it is this slot's own,
    /// and the word read says it is applied.
    #[inline(always)]
    pub fn transfer_kept(&self, owner: Owner, kind: Kind) -> bool {
        let home = owner.home();
        let layout = self.layout();
        let state = &layout.header.state;
        let slot = &layout.slots[home % SLOTS];
        let current = state.load(SeqCst);
        let held = slot.word.load(SeqCst);
        let count = count_of(held);
        // Our own transfer, applied: its descriptor is this one's with the
        // slot's count (whichever kind it was).
        let recorded_here = ((current >> 32) as u32) & !(3 << 30) == descriptor_slot(home, count);
        if !recorded_here
            || held & (CLOSED | HELPED) != 0
            || slot.key.load(SeqCst) != owner.key
            || slot.token.load(SeqCst) != owner.token
        {
            return false;
        }
        let new_count = match kind {
            Kind::Take => (current as u32).checked_sub(1),
            Kind::Give if units_of(held) > 0 => Some((current as u32).saturating_add(1)),
            _ => None,
        };
        let Some(new_count) = new_count else {
            return false;
        };
        let count = count.wrapping_add(1) & COUNT_MASK;
        let next = (u64::from(descriptor(kind, home, count)) << 32) | u64::from(new_count);
        if state
            .compare_exchange(current, next, SeqCst, SeqCst)
            .is_err()
        {
            return false;
        }
        step!("holders.transfer.recorded");
        store_own(&slot.word, held, applied_word(kind, held, count));
        true
    }

    /// Records a transfer of `kind` into or out of `slot` in `state`
    /// (helping the one recorded there first), then has `apply(word, held,
    /// applied)` apply it to the slot's word, which held `held`.
    #[inline(always)]
    fn record(
        &self,
        slot: usize,
        kind: Kind,
        mut change: impl FnMut(u32, u64) -> Option<u32>,
        apply: impl FnOnce(&AtomicU64, u64, u64),
    ) -> Option<u32> {
        let state = &self.header().state;
        let word = &self.slot(slot).word;
        let mut current = state.load(SeqCst);
        loop {
            self.help(current);
            step!("holders.transfer.helped");
            let held = word.load(SeqCst);
            let new_count = change(current as u32, held)?;
            let count = count_of(held).wrapping_add(1);
            let recorded = descriptor(kind, slot, count);
            let next = (u64::from(recorded) << 32) | u64::from(new_count);
            match state.compare_exchange(current, next, SeqCst, SeqCst) {
                Ok(_) => {
                    step!("holders.transfer.recorded");
                    apply(word, held, applied_word(kind, held, count));
                    return Some(units_of(held));
                }
                Err(now) => current = now,
            }
        }
    }

    /// Changes the count alone (no slot), keeping the recorded transfer.
    pub fn update_count(&self, mut change: impl FnMut(u32) -> Option<u32>) -> bool {
        let state = &self.header().state;
        let mut current = state.load(SeqCst);
        loop {
            let Some(count) = change(current as u32) else {
                return false;
            };
            let next = (current & !0xffff_ffff) | u64::from(count);
            match state.compare_exchange(current, next, SeqCst, SeqCst) {
                Ok(_) => return true,
                Err(now) => current = now,
            }
        }
    }

    /// Whether `slot` belongs to `owner`.
    #[inline]
    pub fn is_owners(&self, slot: usize, owner: Owner) -> bool {
        self.is_keyed_to(slot, owner) && self.slot(slot).word.load(SeqCst) & CLOSED == 0
    }

    #[inline]
    fn is_keyed_to(&self, slot: usize, owner: Owner) -> bool {
        let slot = self.slot(slot);
        slot.key.load(SeqCst) == owner.key && slot.token.load(SeqCst) == owner.token
    }

    /// `owner`'s slot, if it has one (at its home, or within `reach` of
    /// it: see the module comment).
    #[inline]
    pub fn own_slot(&self, owner: Owner) -> Option<usize> {
        let home = owner.home();
        if self.is_owners(home, owner) {
            return Some(home);
        }
        self.own_slot_away(owner, home)
    }

    /// Where a table that keeps idle slots finds `owner`'s slot when it has
    /// one: its home. No check here: [`Holders::transfer_owned`] checks in
    /// the step that records the transfer that the slot is still `owner`'s
    /// (if not, look again with [`Holders::own_slot`] or
    /// [`Holders::claim_or_evict`]), so a check here would be made twice.
    #[inline(always)]
    pub fn kept_slot(owner: Owner) -> usize {
        owner.home()
    }

    #[cold]
    #[inline(never)]
    fn own_slot_away(&self, owner: Owner, home: usize) -> Option<usize> {
        let reach = self.header().reach.load(SeqCst) as usize;
        (1..=reach.min(SLOTS - 1))
            .map(|distance| (home + distance) % SLOTS)
            .find(|&index| self.is_owners(index, owner))
    }

    /// `owner`'s slot holding units, if any.
    #[inline]
    pub fn find(&self, owner: Owner) -> Option<usize> {
        self.own_slot(owner).filter(|&index| self.units(index) > 0)
    }

    /// `owner`'s slot, or a free one claimed for it; `None` when the table
    /// is full. Uncontended, one probe of its home slot.
    #[inline]
    pub fn claim(&self, owner: Owner) -> Option<usize> {
        self.claim_with(owner, false)
    }

    /// [`Holders::claim`] for a table that keeps a holder's slot while it
    /// holds nothing (an undo semaphore's): when no slot is free, takes
    /// back a slot holding nothing whose holder is not between its two
    /// writes, and gives it to `owner`. `None` only when every slot holds
    /// units (or is being taken over by a live process).
    #[inline]
    pub fn claim_or_evict(&self, owner: Owner) -> Option<usize> {
        self.claim_with(owner, true)
    }

    #[inline(always)]
    fn claim_with(&self, owner: Owner, evict: bool) -> Option<usize> {
        let home = owner.home();
        let slot = self.slot(home);
        let key = slot.key.load(SeqCst);
        if key == owner.key
            && slot.token.load(SeqCst) == owner.token
            && slot.word.load(SeqCst) & CLOSED == 0
        {
            return Some(home);
        }
        if key == 0 && self.header().reach.load(SeqCst) == 0 && self.try_key(home, owner) {
            return Some(home);
        }
        self.claim_away(owner, home, evict)
    }

    /// [`Holders::claim`] once the home slot is not the owner's: its slot
    /// within `reach`, else the first free one, `reach` growing to cover it.
    #[cold]
    #[inline(never)]
    fn claim_away(&self, owner: Owner, home: usize, evict: bool) -> Option<usize> {
        if let Some(index) = self.own_slot(owner) {
            return Some(index);
        }
        let at = |distance: usize| (home + distance) % SLOTS;
        let distance = (0..SLOTS)
            .find(|&distance| {
                self.slot(at(distance)).key.load(SeqCst) == 0 && self.try_key(at(distance), owner)
            })
            .or_else(|| (0..SLOTS).find(|&distance| self.take_over(at(distance), owner, false)))
            .or_else(|| {
                evict.then(|| {
                    (0..SLOTS).find(|&distance| self.take_over(at(distance), owner, true))
                })?
            })?;
        Some(at(distance))
    }

    /// Gives slot `index` to `owner` if it is closed (its holder's units
    /// were reclaimed, or it was taken back), or, with `evict`, if it holds
    /// nothing and its holder is not between its two writes (no
    /// [`HELPED`] mark), closing it first: see the module comment. `reach`
    /// grows to cover it before `owner` can use it.
    fn take_over(&self, index: usize, owner: Owner, evict: bool) -> bool {
        let slot = self.slot(index);
        let word = slot.word.load(SeqCst);
        let closable = evict && word & HELPED == 0 && units_of(word) == 0;
        if word & CLOSED == 0 && !closable || slot.key.load(SeqCst) == 0 {
            return false;
        }
        if !self.claim_freer(index) {
            return false;
        }
        step!("holders.take_over.freer");
        let (key, token) = (slot.key.load(SeqCst), slot.token.load(SeqCst));
        let mut closed = false;
        let taken = self.record(
            index,
            Kind::Reclaim,
            |count, held| {
                closed = held & CLOSED != 0;
                let idle = held & HELPED == 0 && units_of(held) == 0;
                (evict
                    && !closed
                    && idle
                    && slot.key.load(SeqCst) == key
                    && slot.token.load(SeqCst) == token)
                    .then_some(count)
            },
            apply_as_helper,
        );
        if taken.is_none() && !closed {
            slot.freer.store(0, SeqCst);
            return false;
        }
        step!("holders.take_over.closed");
        // Only the freer writes a closed slot's key and token; the word,
        // opened last, tells an evicted holder the slot is no longer its.
        slot.key.store(owner.key, SeqCst);
        step!("holders.take_over.keyed");
        slot.token.store(owner.token, SeqCst);
        step!("holders.take_over.tokened");
        self.reach_to(index, owner);
        slot.word.fetch_and(!(CLOSED | HELPED), SeqCst);
        step!("holders.take_over.opened");
        slot.freer.store(0, SeqCst);
        true
    }

    /// Makes this process the one freeing slot `index`, unless a live
    /// process is.
    fn claim_freer(&self, index: usize) -> bool {
        let freer = &self.slot(index).freer;
        let me = process_key(current_process());
        let now = freer.load(SeqCst);
        if now != 0 && (now == me || !key_is_gone(now)) {
            return false;
        }
        freer.compare_exchange(now, me, SeqCst, SeqCst).is_ok()
    }

    /// Claims the free slot `index` for `owner`.
    #[inline]
    fn try_key(&self, index: usize, owner: Owner) -> bool {
        let slot = self.slot(index);
        if slot
            .key
            .compare_exchange(0, owner.key, SeqCst, SeqCst)
            .is_err()
        {
            return false;
        }
        step!("holders.claim.keyed");
        // Read only with the key, which the CAS published first.
        slot.token.store(owner.token, Release);
        self.reach_to(index, owner);
        true
    }

    /// Grows `reach` to cover slot `index`, claimed for `owner`: before
    /// `owner` uses the slot, so that its next look finds it.
    fn reach_to(&self, index: usize, owner: Owner) {
        let distance = (index + SLOTS - owner.home()) % SLOTS;
        if distance != 0 {
            self.header().reach.fetch_max(distance as u32, SeqCst);
        }
    }

    /// Frees the caller's own slot, which holds nothing (found by
    /// [`Holders::find`] or [`Holders::claim`]).
    #[inline]
    pub fn free_own(&self, slot: usize) {
        let slot = self.slot(slot);
        slot.token.store(0, Release);
        step!("holders.release.token_cleared");
        slot.key.store(0, Release);
    }

    /// Frees `owner`'s slot if it holds nothing (the owner's own release).
    #[inline]
    pub fn release_if_empty(&self, slot: usize, owner: Owner) {
        if self.units(slot) == 0 && self.is_owners(slot, owner) {
            self.free_own(slot);
        }
    }

    /// Reclaims every unit of slot `index`, whose key is `key` and, if
    /// given, token `token` (a holder that died, or a thread of this
    /// process that ended), with `release(count, units)` giving the new
    /// count, and closes the slot (a later claimer takes it over);
    /// `extra(index, key)` runs after (a read-write lock clears its writer
    /// there). True if anything was reclaimed.
    fn reclaim_slot(
        &self,
        index: usize,
        key: u64,
        token: Option<u64>,
        release: &impl Fn(u32, u32) -> u32,
        extra: &impl Fn(usize, u64) -> bool,
    ) -> bool {
        let slot = self.slot(index);
        // Keeps the slot, once closed, from being taken over before `extra`
        // ran. Not needed to reclaim: if a live process (maybe stopped) is
        // the freer, the units still come back.
        let freer = self.claim_freer(index);
        step!("holders.reclaim.freer");
        let mut units = 0;
        let change = |count, held: u64| {
            units = units_of(held);
            // The word first, then the key and token, as `transfer_owned`.
            let ours = held & CLOSED == 0
                && slot.key.load(SeqCst) == key
                && token.is_none_or(|token| slot.token.load(SeqCst) == token);
            ours.then(|| release(count, units_of(held)))
        };
        let closed = self
            .record(index, Kind::Reclaim, change, apply_as_helper)
            .is_some();
        step!("holders.reclaim.reclaimed");
        let cleared = extra(index, key);
        step!("holders.reclaim.writer_cleared");
        if freer {
            slot.freer.store(0, SeqCst);
        }
        (closed && units > 0) || cleared
    }

    /// Reclaims the slots of holders whose process is gone. Reads `/proc`
    /// once per distinct holder process: only for waiters. True if
    /// anything came back.
    pub fn reclaim_dead(
        &self,
        release: impl Fn(u32, u32) -> u32,
        extra: impl Fn(usize, u64) -> bool,
    ) -> bool {
        let me = process_key(current_process());
        let mut verdicts: Vec<(u64, bool)> = Vec::new();
        let mut any = false;
        for index in 0..SLOTS {
            let slot = self.slot(index);
            let key = slot.key.load(SeqCst);
            // A closed slot with no freer was reclaimed to the end (a
            // reclaimer that died before `extra` is still its freer).
            let done = slot.word.load(SeqCst) & CLOSED != 0 && slot.freer.load(SeqCst) == 0;
            if key == 0 || key == me || done {
                continue;
            }
            let gone = match verdicts.iter().find(|(seen, _)| *seen == key) {
                Some(&(_, gone)) => gone,
                None => {
                    let gone = key_is_gone(key);
                    verdicts.push((key, gone));
                    gone
                }
            };
            if gone {
                any |= self.reclaim_slot(index, key, None, &release, &extra);
            }
        }
        any
    }

    /// Reclaims the slots of this process's thread `thread` (owner tokens'
    /// thread part): how many slots held something.
    pub fn reclaim_thread(
        &self,
        thread: u32,
        release: impl Fn(u32, u32) -> u32,
        extra: impl Fn(usize, u64) -> bool,
    ) -> usize {
        let me = process_key(current_process());
        (0..SLOTS)
            .filter(|&index| {
                let slot = self.slot(index);
                let token = slot.token.load(SeqCst);
                slot.key.load(SeqCst) == me
                    && thread_part(token) == thread
                    && self.reclaim_slot(index, me, Some(token), &release, &extra)
            })
            .count()
    }

    /// `[(pid, units)]` of every slot holding units, summed per process,
    /// ordered by pid.
    pub fn holders(&self) -> Vec<(u32, u64)> {
        let mut by_pid: Vec<(u32, u64)> = Vec::new();
        for index in 0..SLOTS {
            let key = self.slot(index).key.load(SeqCst);
            let units = self.units(index);
            if key == 0 || key & TOMBSTONE != 0 || units == 0 {
                continue;
            }
            let pid = key_pid(key);
            match by_pid.iter_mut().find(|(seen, _)| *seen == pid) {
                Some(entry) => entry.1 += u64::from(units),
                None => by_pid.push((pid, u64::from(units))),
            }
        }
        by_pid.sort_unstable();
        by_pid
    }

    /// The process key of the holder of slot `index` (0: free).
    pub fn key_of(&self, index: usize) -> u64 {
        self.slot(index).key.load(SeqCst) & !TOMBSTONE
    }

    /// Wakes every sleeper, if any may sleep: no system call otherwise.
    #[inline(always)]
    pub fn notify(&self) {
        if self.header().sleepers.load(SeqCst) != 0 {
            self.wake_sleepers();
        }
    }

    /// [`Holders::notify`] once a sleeper may be marked.
    #[cold]
    #[inline(never)]
    fn wake_sleepers(&self) {
        let header = self.header();
        if header.sleepers.swap(0, SeqCst) != 0 {
            step!("holders.notify.unmarked");
            header.wake.fetch_add(1, SeqCst);
            step!("holders.notify.bumped");
            platform::futex_wake(&header.wake, u32::MAX);
        }
    }

    /// Counts the caller as waiting until the guard is dropped.
    pub fn waiter(&self) -> WaiterGuard<'_> {
        WaiterGuard {
            _registration: self.layout().waiting.register(0),
        }
    }

    /// One slice of a wait: tries `attempt`, announces a sleeper, tries
    /// again, sleeps until woken or `slice_end`. `Some` once `attempt`
    /// succeeded; `None` when the slice ended or a signal came.
    pub fn sleep_until<T>(
        &self,
        slice_end: Duration,
        mut attempt: impl FnMut() -> Option<T>,
    ) -> super::CoreResult<Option<T>> {
        let header = self.header();
        loop {
            if let Some(value) = attempt() {
                return Ok(Some(value));
            }
            let seen = header.wake.load(SeqCst);
            header.sleepers.store(1, SeqCst);
            step!("holders.sleep.marked");
            if let Some(value) = attempt() {
                return Ok(Some(value));
            }
            match platform::futex_wait(&header.wake, seen, slice_end)? {
                WaitOutcome::Acquired => continue,
                WaitOutcome::TimedOut | WaitOutcome::Interrupted => return Ok(None),
            }
        }
    }
}

/// A thread counted in [`Holders::waiting`]; uncounted when dropped.
pub struct WaiterGuard<'a> {
    _registration: Registration<'a>,
}

#[cfg(test)]
#[path = "kill_steps/holders_view.rs"]
mod kill_view;

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(token: u64) -> Owner {
        Owner {
            key: process_key(current_process()),
            token,
        }
    }

    #[test]
    fn a_transfer_moves_one_unit_and_records_itself() {
        let holders = Holders::new(3).unwrap();
        let me = owner(0x1_0000_0001);
        let slot = holders.claim(me).unwrap();
        assert_eq!(holders.claim(me), Some(slot));
        holders.transfer(slot, Kind::Take, |count, _| count.checked_sub(1));
        assert_eq!((holders.count(), holders.units(slot)), (2, 1));
        assert_eq!(holders.find(me), Some(slot));
        holders.transfer(slot, Kind::Give, |count, _| Some(count + 1));
        assert_eq!((holders.count(), holders.units(slot)), (3, 0));
        assert_eq!(holders.find(me), None);
        holders.release_if_empty(slot, me);
        assert_eq!(holders.key_of(slot), 0);
    }

    #[test]
    fn a_transfer_left_half_done_is_applied_by_the_next_one() {
        let holders = Holders::new(5).unwrap();
        let (first, second) = (owner(0x1_0000_0002), owner(0x1_0000_0003));
        let a = holders.claim(first).unwrap();
        let b = holders.claim(second).unwrap();
        // As if `first` died between its two writes: the state records a
        // take into `a` that `a` does not show yet.
        let recorded = descriptor(Kind::Take, a, 1);
        holders
            .header()
            .state
            .store((u64::from(recorded) << 32) | 4, SeqCst);
        assert_eq!(holders.units(a), 0);
        holders.transfer(b, Kind::Take, |count, _| count.checked_sub(1));
        assert_eq!(holders.units(a), 1, "the pending take was applied");
        assert_eq!(holders.units(b), 1);
        assert_eq!(holders.count(), 3);
        // Applying twice changes nothing.
        holders.help((u64::from(recorded) << 32) | 3);
        assert_eq!(holders.units(a), 1);
    }

    #[test]
    fn the_kept_slots_straight_line_runs_only_after_its_own_applied_transfer() {
        let holders = Holders::new(5).unwrap();
        let (me, other) = (owner(0x1_0000_0004), owner(0x1_0000_0005));
        let take = |count: u32, _| count.checked_sub(1);
        let mine = holders.claim_or_evict(me).unwrap();
        let theirs = holders.claim_or_evict(other).unwrap();
        assert_ne!(mine, theirs);
        // The last transfer is `other`'s: it may need helping.
        holders.transfer_owned(mine, me, Kind::Take, take).unwrap();
        holders
            .transfer_owned(theirs, other, Kind::Take, take)
            .unwrap();
        assert!(!holders.transfer_kept(me, Kind::Give));
        assert_eq!((holders.count(), holders.units(mine)), (3, 1));
        // After its own: a give, a take, a give, and no unit to give.
        holders.transfer_owned(mine, me, Kind::Take, take).unwrap();
        assert!(holders.transfer_kept(me, Kind::Give));
        assert!(holders.transfer_kept(me, Kind::Take));
        assert!(holders.transfer_kept(me, Kind::Give));
        assert!(holders.transfer_kept(me, Kind::Give));
        assert_eq!((holders.count(), holders.units(mine)), (4, 0));
        assert!(!holders.transfer_kept(me, Kind::Give), "holds none");
        assert!(
            !holders.transfer_kept(other, Kind::Give),
            "the last was mine"
        );
        // A transfer of another slot recorded and not applied (its author
        // died between its writes) is left to the general path, which
        // applies it first.
        let pending = descriptor(Kind::Give, theirs, 2);
        let state = (u64::from(pending) << 32) | 4;
        holders.header().state.store(state, SeqCst);
        assert!(!holders.transfer_kept(me, Kind::Take));
        assert_eq!(holders.header().state.load(SeqCst), state, "unchanged");
        assert_eq!(holders.transfer_owned(mine, me, Kind::Take, take), Ok(0));
        assert_eq!((holders.units(theirs), holders.count()), (0, 3));
        // A slot taken over is not its old holder's any more.
        assert!(holders.transfer_kept(me, Kind::Give));
        let newcomer = same_home_as(me);
        assert!(holders.take_over(mine, newcomer, true));
        assert!(!holders.transfer_kept(me, Kind::Take));
        assert_eq!(holders.count(), 4);
        // Nor is one whose holder's own store is still due (`HELPED`).
        holders
            .transfer_owned(mine, newcomer, Kind::Take, take)
            .unwrap();
        let word = &holders.slot(mine).word;
        word.fetch_or(HELPED, SeqCst);
        assert!(!holders.transfer_kept(newcomer, Kind::Give));
        word.fetch_and(!HELPED, SeqCst);
        assert!(holders.transfer_kept(newcomer, Kind::Give));
        assert_eq!(holders.count(), 4);
    }

    /// An owner other than `of` whose home slot is the same.
    fn same_home_as(of: Owner) -> Owner {
        (1..)
            .map(|fiber| owner(0x5_0000_0000 + fiber))
            .find(|other| other.home() == of.home() && *other != of)
            .unwrap()
    }

    #[test]
    fn an_owner_whose_home_was_freed_keeps_its_one_slot() {
        let holders = Holders::new(5).unwrap();
        let me = owner(0x4_0000_0001);
        let first = same_home_as(me);
        // `first` sits on the home slot, so `me` takes a unit one further.
        let home = holders.claim(first).unwrap();
        let mine = holders.claim(me).unwrap();
        assert_ne!(mine, home);
        holders.transfer(mine, Kind::Take, |count, _| count.checked_sub(1));
        // The home slot comes free while `me` still holds its unit there.
        holders.release_if_empty(home, first);
        assert_eq!(holders.key_of(home), 0);
        assert_eq!(holders.claim(me), Some(mine), "a second slot for one owner");
        holders.transfer(mine, Kind::Take, |count, _| count.checked_sub(1));
        assert_eq!(holders.units(mine), 2);
        assert_eq!(holders.find(me), Some(mine));
        assert_eq!(holders.key_of(home), 0);
    }

    #[test]
    fn an_idle_slot_taken_back_is_refused_to_its_old_holder() {
        let holders = Holders::new(5).unwrap();
        let (old, new) = (owner(0x6_0000_0001), owner(0x6_0000_0002));
        let slot = holders.claim_or_evict(old).unwrap();
        let take = |count: u32, _| count.checked_sub(1);
        assert_eq!(holders.transfer_owned(slot, old, Kind::Take, take), Ok(0));
        // Holding a unit: never taken back.
        assert!(!holders.take_over(slot, new, true));
        let give = |count: u32, _| Some(count + 1);
        assert_eq!(holders.transfer_owned(slot, old, Kind::Give, give), Ok(1));
        assert!(holders.is_owners(slot, old), "kept while idle");
        assert!(holders.take_over(slot, new, true));
        assert!(holders.is_owners(slot, new));
        assert_eq!(holders.transfer_owned(slot, new, Kind::Take, take), Ok(0));
        // The old holder's next take finds the slot is no longer its own,
        // and claims another.
        assert_eq!(
            holders.transfer_owned(slot, old, Kind::Take, take),
            Err(Refused::SlotLost)
        );
        assert_eq!(holders.units(slot), 1);
        let other = holders.claim_or_evict(old).unwrap();
        assert_ne!(other, slot);
        assert_eq!(holders.transfer_owned(other, old, Kind::Take, take), Ok(0));
        assert_eq!((holders.count(), holders.units(slot)), (3, 1));
    }

    #[test]
    fn a_slot_whose_holder_has_not_stored_its_helped_transfer_is_kept() {
        let holders = Holders::new(5).unwrap();
        let (holder, other) = (owner(0x6_0000_0003), owner(0x6_0000_0004));
        let slot = holders.claim_or_evict(holder).unwrap();
        let take = |count: u32, _| count.checked_sub(1);
        holders
            .transfer_owned(slot, holder, Kind::Take, take)
            .unwrap();
        // As if `holder` recorded its give and stopped before its store:
        // a helper applies it, so the slot holds nothing...
        let recorded = descriptor(Kind::Give, slot, 2);
        let state = (u64::from(recorded) << 32) | 5;
        holders.header().state.store(state, SeqCst);
        holders.help(state);
        assert_eq!(holders.units(slot), 0);
        // ...but the holder's late store would overwrite a new holder's.
        assert!(!holders.take_over(slot, other, true));
        // Its own store (the same value, unmarked) lets it go.
        holders.slot(slot).word.store(2 << 32, SeqCst);
        assert!(holders.take_over(slot, other, true));
        assert!(holders.is_owners(slot, other));
    }

    #[test]
    fn a_full_table_claims_nothing_and_keys_round_trip() {
        let holders = Holders::new(1).unwrap();
        for token in 0..SLOTS as u64 {
            assert!(holders.claim(owner(0x2_0000_0000 + token)).is_some());
        }
        assert_eq!(holders.claim(owner(0x3_0000_0000)), None);
        let me = current_process();
        assert_eq!(key_pid(process_key(me)), me.pid);
        assert_ne!(process_key(me), 0);
        assert_eq!(process_key(me) & TOMBSTONE, 0);
    }
}
