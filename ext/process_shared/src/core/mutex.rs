//! A lock shared across fork whose owner is one thread of one process, with
//! an optional reentrancy depth (for `Monitor`), and recovery from a holder
//! that died.
//!
//! # Layout (one shared page)
//!
//! | field        | type    | meaning                                              |
//! |--------------|---------|------------------------------------------------------|
//! | `owner`      | u64     | 0 when free, else the holder's process key           |
//! | `thread`     | u64     | the holding thread's token (0 while none recorded)   |
//! | `reentries`  | u64     | entries beyond the first (`Monitor`); only the holder touches it |
//! | `waiters`    | u32     | threads sleeping, or about to sleep, on `wake`       |
//! | `owner_died` | u32     | 1 while the current hold was taken from a dead holder |
//! | `heir`       | u64     | ticket of a waiter that waited over `FAIR_AFTER`, or 0 |
//! | `fair_at`    | u64     | monotonic ns before which no unlock hands over again |
//! | `wake`       | RawSemaphore | the wake-up channel for waiters (`platform`)    |
//! | `heir_wake`  | RawSemaphore | the heir's own wake-up channel                  |
//! | `waiting`    | WaiterSlots  | who waits, by process: what `waiting` counts    |
//!
//! # Algorithm
//!
//! The lock *is* the `owner` word: taking it is one compare-and-swap from 0
//! to the caller's process key (pid and start time, packed). A process thus
//! never holds the lock without the word naming it, whatever instruction it
//! is killed at, which is what lets a waiter recognize a dead holder and take
//! the lock over with another compare-and-swap from the dead key.
//!
//! Which thread of the holding process owns it is recorded in `thread` just
//! after taking the word and cleared just before releasing it. Only a thread
//! ever writes its own token there, so a thread that reads its own token
//! knows it holds the lock: `owned?`, `locked?` and the owner checks of
//! `unlock` are plain loads, no system call.
//!
//! `reentries` and `owner_died` are 0 whenever the word is free: every
//! release that finds either set clears both before it frees the word, and
//! a take-over (the only hold that can find them set, left by a holder that
//! died) writes both. So an uncontended `lock` writes nothing but the word
//! and `thread`, and `unlock` nothing but `thread` and the word.
//!
//! The semaphore only puts waiters to sleep. A waiter counts itself in
//! `waiters`, then retries the compare-and-swap after every wake-up.
//! `unlock` clears the word and posts once if anyone waits and no wake-up is
//! already pending, so the semaphore's value stays tiny even when a waiter
//! died while counted. Both sides order their write before their read
//! (waiter: count, sequentially consistent fence, try the word; unlocker:
//! clear the word with a sequentially consistent swap, read the count), so
//! either the waiter sees the lock free or the unlocker sees the waiter and
//! wakes someone: no lost wake-up. Uncontended `lock` is one
//! compare-and-swap and `unlock` one swap, with no system call.
//!
//! `waiters` stays one too high for ever once a waiter dies counted, which
//! costs at most one pending wake-up. So `waiting` does not read it: a
//! waiter also registers in the `waiting` table (see `waiter_slots`), once
//! per wait, off the fast path, and `waiting` counts that table after
//! reaping the slots of processes that are gone.
//!
//! # Eventual fairness
//!
//! A process that unlocks and locks again at once would otherwise win the
//! word nearly every time against a waiter that has to wake up first. A
//! waiter that has waited longer than [`FAIR_AFTER`] makes itself the
//! `heir` (its ticket, unique to one wait, unless another waiter is heir
//! already); the next unlock then hands the lock over instead of freeing
//! it: it stores [`HANDED_OFF`] in the word (which no compare-and-swap from 0
//! takes) and posts `heir_wake`, on which only the heir sleeps: one wake-up,
//! for the right process, however many others sleep on `wake` (they would
//! otherwise have to pass it on from one to the next, the lock idle
//! meanwhile). While there is an heir, an unlock that frees the lock wakes
//! the heir too, so the heir is never left asleep beside a free lock. Only
//! the heir takes the word from `HANDED_OFF`; an heir that leaves gives the
//! hand-off back (and wakes a waiter); a waiter whose slice ended, or that
//! wakes once the heir is [`HEIR_GRACE`] late, takes it too (and clears
//! `heir`), and so does `try_lock` when nobody waits any more: an heir that
//! died asleep cannot strand the lock for longer than a slice.
//!
//! As in parking_lot, hand-offs are also spaced by at least
//! [`HAND_OFF_EVERY`], and by [`HAND_OFF_SPACING`] times as long as the
//! last one left the lock idle (up to [`HAND_OFF_SPACING_MAX`]): a
//! hand-off leaves the lock idle until the woken
//! waiter runs, and with every waiter hungry (more processes than cores)
//! handing over at every unlock would cost most of the throughput. Waits
//! are thus bounded by a few milliseconds per hungry process ahead, while
//! the uncontended path is unchanged.
//!
//! Hand-offs can be switched off for a whole process (see
//! [`set_hand_off`]) to measure what they cost: waiters then never become
//! heir, and the lock is as unfair as `flock`.

use super::error::{CoreError, CoreResult};
use super::identity::{current_owner, current_process, thread_part, ProcessIdentity};
use super::kill_step::step;
use super::named::{self, SharedState};
use super::park::{wait_then_reacquire, wait_until, Park};
use super::region::SharedRegion;
use super::spin_wait::SpinWait;
use super::thread_end::HeldByThreads;
use super::waiter_slots::{Registration, WaiterSlots};
use crate::platform::{self, RawSemaphore, WaitOutcome};
use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// The owner word while the lock passes from its unlocker to a woken
/// waiter: no process key (the pid part would exceed every `pid_max`, the
/// start time part a thousand years), never 0.
const HANDED_OFF: u64 = u64::MAX;

/// How long a waiter waits before it asks for the lock to be handed over.
pub const FAIR_AFTER: Duration = Duration::from_millis(1);

/// The least time between two hand-offs of one lock.
pub const HAND_OFF_EVERY: Duration = Duration::from_millis(1);

/// After a hand-off that left the lock idle for a time `t` (until the heir
/// ran), the next one waits at least `t` times this: hand-offs then keep
/// the lock idle at most a tenth of the time, however long woken processes
/// wait for a core.
pub const HAND_OFF_SPACING: u32 = 9;

/// The most a slow hand-off delays the next one. With many more runnable
/// processes than cores a woken heir may wait a whole scheduling round
/// (tens of milliseconds) for a core: a bound of 10 ms let hand-offs keep
/// the lock idle most of the time with 32 processes on 2 cores.
pub const HAND_OFF_SPACING_MAX: Duration = Duration::from_millis(100);

/// How long after a hand-off other waiters that wake up leave the lock to
/// the heir before they take it themselves (an heir killed in its sleep).
pub const HEIR_GRACE: Duration = Duration::from_millis(10);

/// Whether waiters of this process ask for hand-offs (see [`set_hand_off`]).
static HAND_OFF: AtomicBool = AtomicBool::new(true);

/// Switches eventual fairness on or off for every lock this process (and
/// the children it forks later) waits for: a benchmarking knob. Off,
/// waiters never ask for the lock to be handed over; unlocking is
/// unchanged either way.
pub fn set_hand_off(enabled: bool) {
    HAND_OFF.store(enabled, Ordering::Relaxed);
}

/// Whether eventual fairness is on in this process (the default).
pub fn hand_off_enabled() -> bool {
    HAND_OFF.load(Ordering::Relaxed)
}

/// Bits of a process key holding the pid (Linux pids stay below 2^22).
const PID_BITS: u32 = 22;
/// Bits holding the start time in clock ticks since boot (2^42 ticks at
/// 100 Hz is over a thousand years of uptime).
const START_BITS: u32 = 64 - PID_BITS;
const START_MASK: u64 = (1 << START_BITS) - 1;

/// The process key stored in the lock word: never zero (pids start at 1).
fn process_key(process: ProcessIdentity) -> u64 {
    (u64::from(process.pid) << START_BITS) | (process.start_time & START_MASK)
}

fn my_key() -> u64 {
    process_key(current_process())
}

/// The pid a process key names.
fn pid_of(key: u64) -> u32 {
    (key >> START_BITS) as u32
}

/// Whether the process a key names has certainly exited (a start time of 0
/// means "unknown", and only the pid's disappearance counts then).
fn holder_is_gone(key: u64) -> bool {
    platform::process_is_gone(pid_of(key), key & START_MASK, START_MASK)
}

/// Bytes of a lock's shared state (for types that keep a lock inside
/// their own region).
pub const STATE_LEN: usize = std::mem::size_of::<State>();

#[repr(C)]
struct State {
    owner: AtomicU64,
    thread: AtomicU64,
    reentries: AtomicU64,
    waiters: AtomicU32,
    owner_died: AtomicU32,
    heir: AtomicU64,
    fair_at: AtomicU64,
    wake: RawSemaphore,
    heir_wake: RawSemaphore,
    waiting: WaiterSlots,
}

/// What a non-blocking attempt to lock found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryLock {
    /// The caller now holds the lock.
    Acquired,
    /// Someone else holds it.
    Busy,
    /// The calling fiber already holds it.
    AlreadyOwned,
    /// Another fiber of the calling thread holds it: without a fiber
    /// scheduler to run that fiber, waiting could never end.
    HeldByOtherFiber,
}

/// A lock shared with every process forked after it was made.
#[derive(Debug)]
pub struct Mutex {
    region: SharedRegion,
}

impl Mutex {
    /// A new, unlocked lock in its own shared page.
    pub fn new() -> CoreResult<Self> {
        named::anonymous(())
    }

    fn state(&self) -> &State {
        // SAFETY: `new` initialized a State at the region's base; every
        // field is an atomic or a semaphore, which tolerate concurrent use by
        // other threads and processes; the region lives as long as `self`.
        unsafe { &*self.region.base().cast::<State>() }
    }

    /// Held by anyone (a holder that died still counts until taken over).
    pub fn is_locked(&self) -> bool {
        self.state().owner.load(Ordering::Acquire) != 0
    }

    /// Held by the calling fiber (see `identity::current_owner`) of this
    /// process.
    pub fn is_owned(&self) -> bool {
        self.is_owned_by(current_owner())
    }

    fn is_owned_by(&self, owner: u64) -> bool {
        let state = self.state();
        state.thread.load(Ordering::Relaxed) == owner
            && state.owner.load(Ordering::Relaxed) == my_key()
    }

    /// The pid of the process holding the lock (perhaps dead, until taken
    /// over), or `None` when it is free or being handed to a waiter. A
    /// snapshot.
    pub fn owner_pid(&self) -> Option<u32> {
        let owner = self.state().owner.load(Ordering::Acquire);
        (owner != 0 && owner != HANDED_OFF).then(|| pid_of(owner))
    }

    /// How many threads, of all processes, wait for the lock now; a waiter
    /// whose process died is no longer counted. Reads `/proc` once per
    /// waiter: introspection only.
    pub fn waiting(&self) -> u32 {
        self.state().waiting.count(0)
    }

    /// True while the caller holds the lock and took it over from a holder
    /// that died holding it.
    pub fn previous_owner_died(&self) -> bool {
        self.is_owned() && self.state().owner_died.load(Ordering::Relaxed) != 0
    }

    /// Names the thread of a hold just taken from a free or handed-off
    /// word (whose `reentries` and `owner_died` are 0, see the module
    /// comment).
    #[inline(always)]
    fn record_hold(&self, owner: u64) {
        self.state().thread.store(owner, Ordering::Relaxed);
        step!("mutex.hold.thread");
    }

    /// Records a hold taken over from a dead holder, which may have died
    /// entered several times, or holding it from a dead holder itself.
    fn record_take_over(&self, owner: u64) {
        let state = self.state();
        self.record_hold(owner);
        state.reentries.store(0, Ordering::Relaxed);
        step!("mutex.hold.depth");
        state.owner_died.store(1, Ordering::Relaxed);
    }

    /// Takes the lock if it is free: one compare-and-swap, no system call.
    /// Does not check whether the caller already holds it.
    pub fn try_acquire(&self) -> bool {
        self.try_acquire_as(current_owner())
    }

    fn try_acquire_as(&self, owner: u64) -> bool {
        self.try_acquire_from(0, owner)
    }

    /// Takes the lock for `owner` if the owner word is `from` (0, or
    /// [`HANDED_OFF`]).
    #[inline]
    fn try_acquire_from(&self, from: u64, owner: u64) -> bool {
        self.take_from(from, owner, my_key()).is_ok()
    }

    /// Takes the lock for `owner`, whose process key is `key`, if the owner
    /// word is `from`; else the word as found.
    #[inline(always)]
    fn take_from(&self, from: u64, owner: u64, key: u64) -> Result<(), u64> {
        self.state()
            .owner
            .compare_exchange(from, key, Ordering::Acquire, Ordering::Relaxed)?;
        step!("mutex.lock.taken");
        self.record_hold(owner);
        Ok(())
    }

    /// Takes the lock over if its holder has exited without releasing it.
    /// Reads `/proc`, so only called when the lock is busy.
    pub fn try_take_over(&self) -> bool {
        self.try_take_over_as(current_owner())
    }

    fn try_take_over_as(&self, owner: u64) -> bool {
        let state = self.state();
        let holder = state.owner.load(Ordering::Acquire);
        if holder == HANDED_OFF {
            // Handed to a waiter that left (or died) since: nobody else
            // will take it. A waiter killed while counted stays counted,
            // so an heir that is gone, or none, counts as nobody waiting.
            let heir = state.heir.load(Ordering::Relaxed);
            let heir_gone = heir == 0 || platform::no_such_process(ticket_pid(heir));
            let taken = (state.waiters.load(Ordering::Relaxed) == 0 || heir_gone)
                && self.try_acquire_from(HANDED_OFF, owner);
            if taken && heir != 0 {
                let _ = state
                    .heir
                    .compare_exchange(heir, 0, Ordering::Relaxed, Ordering::Relaxed);
            }
            return taken;
        }
        if holder == 0 || holder == my_key() || !holder_is_gone(holder) {
            return false;
        }
        let taken = state
            .owner
            .compare_exchange(holder, my_key(), Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
        if taken {
            step!("mutex.takeover.taken");
            self.record_take_over(owner);
        }
        taken
    }

    /// Takes the lock over at once if its holder's pid names no process at
    /// all any more (the usual case once a dead holder was reaped): one
    /// `kill(pid, 0)`, and `/proc` only then. A holder that died but is not
    /// reaped yet, or whose pid was reused, is found at the end of the
    /// first wait slice instead.
    fn try_take_over_from_reaped(&self, owner: u64) -> bool {
        let holder = self.state().owner.load(Ordering::Relaxed);
        holder != 0
            && holder != HANDED_OFF
            && holder != my_key()
            && platform::no_such_process(pid_of(holder))
            && self.try_take_over_as(owner)
    }

    /// The fast path of a blocking lock: no system call, ever.
    pub fn lock_fast(&self) -> TryLock {
        self.lock_fast_as(current_owner())
    }

    /// [`Mutex::lock_fast`] for the caller whose token is `owner` (see
    /// `identity::current_owner`): one compare-and-swap when the lock is
    /// free.
    #[inline]
    pub fn lock_fast_as(&self, owner: u64) -> TryLock {
        let key = my_key();
        match self.take_from(0, owner, key) {
            Ok(()) => TryLock::Acquired,
            Err(holder) => self.not_taken(holder, owner, key),
        }
    }

    /// Why the caller `owner` (process key `key`) could not take the lock
    /// whose owner word was `holder`.
    #[cold]
    fn not_taken(&self, holder: u64, owner: u64, key: u64) -> TryLock {
        if holder != key {
            return TryLock::Busy;
        }
        let thread = self.state().thread.load(Ordering::Relaxed);
        if thread == owner {
            TryLock::AlreadyOwned
        } else if thread_part(thread) == thread_part(owner) {
            TryLock::HeldByOtherFiber
        } else {
            TryLock::Busy
        }
    }

    /// Spins briefly (see `spin_wait`) for a busy lock to be released, and
    /// takes it if so; `false` when it is time to sleep instead. Spins only
    /// while the lock is held by someone else, never on a lock the caller
    /// holds, and makes no system call but `sched_yield`.
    pub fn spin_acquire(&self) -> bool {
        let mut spin = SpinWait::default();
        while spin.spin() {
            if self.state().owner.load(Ordering::Relaxed) == 0 && self.try_acquire() {
                return true;
            }
        }
        false
    }

    /// A non-blocking lock: also takes over from a holder that died.
    pub fn try_lock(&self) -> TryLock {
        match self.lock_fast() {
            TryLock::Busy if self.try_take_over() => TryLock::Acquired,
            outcome => outcome,
        }
    }

    /// The slow path of a blocking lock, once [`Mutex::lock_fast`] found it
    /// busy: spins briefly, then parks until the caller holds it.
    pub fn lock_contended<P: Park>(&self, park: &mut P) -> Result<(), P::Error> {
        if self.spin_acquire() || self.try_take_over_from_reaped(current_owner()) {
            return Ok(());
        }
        self.lock_until(park, None).map(drop)
    }

    /// Parks until the caller holds the lock (`Ok(true)`) or the monotonic
    /// `deadline` passes (`Ok(false)`; `None`: never). Every slice that
    /// ends without a wake-up checks whether the holder died. A wait the
    /// parker stops leaves the lock as it was.
    pub fn lock_until<P: Park>(
        &self,
        park: &mut P,
        deadline: Option<Duration>,
    ) -> Result<bool, P::Error> {
        let waiter = self.waiter();
        Ok(wait_until(park, deadline, |slice_end| waiter.wait_until(slice_end))?.is_some())
    }

    /// Takes the lock again after [`Mutex::release_during`] let it go: the
    /// parker decides what happens to interrupts meanwhile (the binding
    /// defers them, since the caller must hold the lock when it returns).
    pub fn relock<P: Park>(&self, park: &mut P) -> Result<(), P::Error> {
        if self.try_acquire() {
            return Ok(());
        }
        self.lock_until(park, None).map(drop)
    }

    /// Suspends the caller's hold while `wait` runs (a condition wait,
    /// `Mutex#sleep`): releases the lock whatever its depth, runs `wait`,
    /// takes the lock again with `relock` however `wait` ended, and
    /// restores the depth. `wait`'s value, or the error that ended it or
    /// the relock (see [`Park::later_error`]). Raises `Misuse` without
    /// calling either unless the caller holds the lock.
    pub fn release_during<P: Park, T>(
        &self,
        park: &mut P,
        wait: impl FnOnce(&mut P) -> Result<T, P::Error>,
        relock: impl FnOnce() -> Result<(), P::Error>,
    ) -> Result<T, P::Error> {
        let depth = self.release_for_wait().map_err(|error| park.error(error))?;
        wait_then_reacquire(park, wait, || {
            let relocked = relock();
            self.resume_hold(depth);
            relocked
        })
    }

    /// Counts the caller as a waiter until the returned guard is dropped;
    /// the guard's `wait_until` does the waiting.
    pub fn waiter(&self) -> Waiter<'_> {
        let state = self.state();
        state.waiters.fetch_add(1, Ordering::Relaxed);
        step!("mutex.wait.counted");
        Waiter {
            _registration: state.waiting.register(0),
            mutex: self,
            owner: current_owner(),
            ticket: next_ticket(),
            hungry_at: platform::monotonic_now() + FAIR_AFTER,
        }
    }

    /// Releases a lock the calling thread holds, whatever its depth.
    pub fn unlock(&self) -> CoreResult<()> {
        if self.unlock_as(current_owner()) {
            Ok(())
        } else {
            Err(self.not_owned())
        }
    }

    /// Releases the lock, whatever its depth, if the caller whose token is
    /// `owner` holds it; `false`, with nothing changed, otherwise.
    #[inline]
    pub fn unlock_as(&self, owner: u64) -> bool {
        let held = self.is_owned_by(owner);
        if held {
            self.release();
        }
        held
    }

    fn check_owner(&self) -> CoreResult<()> {
        if self.is_owned() {
            Ok(())
        } else {
            Err(self.not_owned())
        }
    }

    /// The error of an unlock by a caller that does not hold the lock.
    #[cold]
    fn not_owned(&self) -> CoreError {
        if self.is_locked() {
            CoreError::Misuse(
                "Attempt to unlock a mutex which is locked by another thread or process".into(),
            )
        } else {
            CoreError::Misuse("Attempt to unlock a mutex which is not locked".into())
        }
    }

    /// Releases the lock, or hands it to a woken waiter when one is
    /// hungry (see the module comment); the caller must hold it.
    #[inline(always)]
    fn release(&self) {
        let state = self.state();
        state.thread.store(0, Ordering::Relaxed);
        step!("mutex.unlock.thread_cleared");
        if state.reentries.load(Ordering::Relaxed) != 0
            || state.owner_died.load(Ordering::Relaxed) != 0
        {
            self.clear_hold();
        }
        let hand_off = state.heir.load(Ordering::Relaxed) != 0 && self.time_to_hand_off();
        step!("mutex.unlock.decided");
        // Sequentially consistent: pairs with the waiter's fence (see the
        // module comment), and no fence of its own is needed.
        state
            .owner
            .swap(if hand_off { HANDED_OFF } else { 0 }, Ordering::SeqCst);
        step!("mutex.unlock.released");
        if hand_off || state.waiters.load(Ordering::SeqCst) > 0 {
            self.wake_after_release(hand_off);
        }
    }

    /// Whether an unlock that found an heir hands the lock over: someone
    /// still waits and it is [`Mutex::time_to_be_fair`].
    #[cold]
    #[inline(never)]
    fn time_to_hand_off(&self) -> bool {
        self.state().waiters.load(Ordering::Relaxed) > 0 && self.time_to_be_fair()
    }

    /// The wake-up after [`Mutex::release`] freed the word with someone
    /// waiting, or handed it over (`hand_off`): out of line, so that the
    /// uncontended unlock stays small enough to inline.
    #[cold]
    #[inline(never)]
    fn wake_after_release(&self, hand_off: bool) {
        let state = self.state();
        // Read after freeing the word: pairs with the heir's fence in
        // `Waiter::claim_heir`, so a new heir either sees the lock free or
        // is woken here.
        if hand_off || state.heir.load(Ordering::SeqCst) != 0 {
            post_unless_pending(&state.heir_wake);
        } else {
            post_unless_pending(&state.wake);
        }
    }

    /// Leaves `reentries` and `owner_died` at 0 for the next holder (see
    /// the module comment): only after a take-over or an unlock of a
    /// monitor entered more than once.
    #[cold]
    #[inline(never)]
    fn clear_hold(&self) {
        let state = self.state();
        state.reentries.store(0, Ordering::Relaxed);
        state.owner_died.store(0, Ordering::Relaxed);
        step!("mutex.unlock.flag_cleared");
    }

    /// Wakes a waiter sleeping on `wake` (see [`post_unless_pending`]).
    fn wake_a_waiter(&self) {
        post_unless_pending(&self.state().wake);
    }

    /// Whether this unlock should hand the lock over to the heir (at most
    /// once per [`HAND_OFF_EVERY`]). Only the holder calls this, so plain
    /// loads and stores do.
    #[cold]
    fn time_to_be_fair(&self) -> bool {
        let state = self.state();
        let now = platform::monotonic_now();
        let now_ns = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
        if now_ns < state.fair_at.load(Ordering::Relaxed) {
            return false;
        }
        let next = now + HAND_OFF_EVERY;
        state.fair_at.store(
            u64::try_from(next.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        true
    }

    /// `Monitor#enter`'s fast path, no system call: one level deeper if the
    /// caller holds the lock (`Acquired`), else as [`Mutex::lock_fast`].
    pub fn enter_fast(&self) -> CoreResult<TryLock> {
        self.enter_fast_as(current_owner())
    }

    /// [`Mutex::enter_fast`] for the caller whose token is `owner`: one
    /// compare-and-swap when the lock is free, none when the caller holds
    /// it (the word is read first, so reentry costs no failed
    /// compare-and-swap).
    #[inline]
    pub fn enter_fast_as(&self, owner: u64) -> CoreResult<TryLock> {
        let key = my_key();
        let holder = match self.state().owner.load(Ordering::Relaxed) {
            0 => match self.take_from(0, owner, key) {
                Ok(()) => return Ok(TryLock::Acquired),
                Err(holder) => holder,
            },
            holder => holder,
        };
        match self.not_taken(holder, owner, key) {
            TryLock::AlreadyOwned => {
                self.deepen()?;
                Ok(TryLock::Acquired)
            }
            other => Ok(other),
        }
    }

    /// Called by the heir that took a hand-off: spaces the next hand-off by
    /// [`HAND_OFF_SPACING`] times the time the lock stayed idle. Only the
    /// holder writes `fair_at`.
    #[cold]
    fn space_next_hand_off(&self) {
        let fair_at = &self.state().fair_at;
        let due = Duration::from_nanos(fair_at.load(Ordering::Relaxed));
        let now = platform::monotonic_now();
        let idle = now.saturating_sub(due.saturating_sub(HAND_OFF_EVERY));
        let next = now + (idle * HAND_OFF_SPACING).min(HAND_OFF_SPACING_MAX);
        if next > due {
            fair_at.store(
                u64::try_from(next.as_nanos()).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
        }
    }

    /// Whether the last hand-off is older than [`HEIR_GRACE`].
    fn heir_is_late(&self) -> bool {
        let handed_at = Duration::from_nanos(self.state().fair_at.load(Ordering::Relaxed))
            .saturating_sub(HAND_OFF_EVERY);
        platform::monotonic_now() >= handed_at + HEIR_GRACE
    }

    /// Reentrant entry (`Monitor#try_enter`'s fast path): if the caller
    /// holds the lock, one level deeper and `true`; otherwise `false`.
    pub fn reenter(&self) -> CoreResult<bool> {
        if !self.is_owned() {
            return Ok(false);
        }
        self.deepen()?;
        Ok(true)
    }

    #[cold]
    fn deepen(&self) -> CoreResult<()> {
        let reentries = &self.state().reentries;
        let deeper = reentries
            .load(Ordering::Relaxed)
            .checked_add(1)
            .ok_or_else(|| CoreError::OutOfRange("monitor entered too many times".to_string()))?;
        reentries.store(deeper, Ordering::Relaxed);
        Ok(())
    }

    /// Reentrant exit (`Monitor#exit`): one level up, releasing the lock
    /// when the outermost entry exits. `Misuse` unless the caller holds it.
    pub fn exit_once(&self) -> CoreResult<()> {
        if self.exit_once_as(current_owner()) {
            Ok(())
        } else {
            Err(CoreError::Misuse(
                "current thread of this process does not own the monitor".into(),
            ))
        }
    }

    /// [`Mutex::exit_once`] for the caller whose token is `owner`: `false`,
    /// with nothing changed, unless it holds the lock.
    #[inline]
    pub fn exit_once_as(&self, owner: u64) -> bool {
        if !self.is_owned_by(owner) {
            return false;
        }
        let reentries = &self.state().reentries;
        match reentries.load(Ordering::Relaxed) {
            0 => self.release(),
            more => reentries.store(more - 1, Ordering::Relaxed),
        }
        true
    }

    /// Releases the caller's hold entirely for a condition wait and returns
    /// the reentries to restore with [`Mutex::resume_hold`] after locking
    /// again.
    pub fn release_for_wait(&self) -> CoreResult<u64> {
        self.check_owner()?;
        let reentries = self.state().reentries.load(Ordering::Relaxed);
        self.release();
        Ok(reentries)
    }

    /// Restores the reentries saved by [`Mutex::release_for_wait`]; the
    /// caller must hold the lock again.
    pub fn resume_hold(&self, reentries: u64) {
        if self.is_owned() {
            step!("mutex.resume.relocked");
            self.state().reentries.store(reentries, Ordering::Relaxed);
        }
    }
}

/// Posts `channel` unless a wake-up is pending on it already, so its value
/// stays tiny even when a waiter died while counted. Where the value cannot
/// be read (Mach), posts anyway: an extra pending wake-up only costs a
/// waiter a spurious retry.
fn post_unless_pending(channel: &RawSemaphore) {
    if channel.value().is_none_or(|value| value == 0) {
        // Cannot overflow where readable: we only post at 0.
        let _ = channel.post();
    }
}

/// A thread counted as waiting for a [`Mutex`]; uncounted when dropped.
pub struct Waiter<'a> {
    mutex: &'a Mutex,
    /// Who waits: read once, when the wait begins (see `current_owner`).
    owner: u64,
    /// This wait's ticket, for `heir`.
    ticket: u64,
    /// When this waiter starts asking for the lock to be handed over.
    hungry_at: Duration,
    /// Its slot in `waiting`: dropped after `Drop::drop` uncounted it.
    _registration: Registration<'a>,
}

/// A ticket no other wait of any process has at the same time: the pid and
/// a counter of this process, never 0.
fn next_ticket() -> u64 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    (u64::from(current_process().pid) << 32) | u64::from(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The pid of the process that drew a ticket.
fn ticket_pid(ticket: u64) -> u32 {
    (ticket >> 32) as u32
}

impl Waiter<'_> {
    /// Waits for the lock until the monotonic `slice_end`. `Some(())` once
    /// the caller holds it; `None` when the slice ended or a signal arrived,
    /// with nothing changed. Whenever the sleep ends without a wake-up (the
    /// slice ended, or a signal arrived), a holder that died is taken over.
    pub fn wait_until(&self, slice_end: Duration) -> CoreResult<Option<()>> {
        let state = self.mutex.state();
        // Pairs with the swap in `release` (see the module comment).
        fence(Ordering::SeqCst);
        if self.mutex.try_acquire_as(self.owner) {
            return Ok(Some(()));
        }
        loop {
            let heir = self.is_heir() || self.claim_heir();
            if heir && self.take_free_or_handed_off() {
                return Ok(Some(()));
            }
            let channel = if heir { &state.heir_wake } else { &state.wake };
            match channel.wait_until(slice_end)? {
                // A wake-up: the lock was freed, or handed over (to us, when
                // we are heir).
                WaitOutcome::Acquired => {
                    fence(Ordering::SeqCst);
                    if self.mutex.try_acquire_as(self.owner) {
                        return Ok(Some(()));
                    }
                    if !heir
                        && state.owner.load(Ordering::Relaxed) == HANDED_OFF
                        && self.mutex.heir_is_late()
                        && self.mutex.try_acquire_from(HANDED_OFF, self.owner)
                    {
                        // The heir died or is stuck: the lock is anyone's.
                        step!("mutex.wait.late_heir_taken");
                        state.heir.store(0, Ordering::Relaxed);
                        return Ok(Some(()));
                    }
                }
                // Also after a signal: the caller starts a fresh slice after
                // one, so a process that gets signals more often than once a
                // slice (SIGCHLD from many children, a timer) would never
                // reach the slice's end and never take over.
                WaitOutcome::TimedOut | WaitOutcome::Interrupted => {
                    if self.mutex.try_acquire_from(HANDED_OFF, self.owner) {
                        step!("mutex.wait.slice_heir_taken");
                        // The heir did not take it for a whole slice.
                        state.heir.store(0, Ordering::Relaxed);
                        return Ok(Some(()));
                    }
                    return Ok(self.mutex.try_take_over_as(self.owner).then_some(()));
                }
            }
        }
    }

    fn is_heir(&self) -> bool {
        self.mutex.state().heir.load(Ordering::Relaxed) == self.ticket
    }

    /// Becomes the heir if this waiter has waited long enough, nobody else
    /// is heir and hand-offs are on in this process.
    fn claim_heir(&self) -> bool {
        let heir = &self.mutex.state().heir;
        let claimed = hand_off_enabled()
            && heir.load(Ordering::Relaxed) == 0
            && platform::monotonic_now() >= self.hungry_at
            && heir
                .compare_exchange(0, self.ticket, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok();
        if claimed {
            step!("mutex.wait.heir");
        }
        claimed
    }

    /// The heir's look at the word before it sleeps: takes the lock if it
    /// is free or handed over. Fenced, so that an unlock either is seen
    /// here or sees the heir (and posts `heir_wake`).
    fn take_free_or_handed_off(&self) -> bool {
        fence(Ordering::SeqCst);
        if self.mutex.try_acquire_as(self.owner) {
            return true;
        }
        let handed_over = self.mutex.try_acquire_from(HANDED_OFF, self.owner);
        if handed_over {
            self.mutex.space_next_hand_off();
        }
        handed_over
    }
}

impl SharedState for Mutex {
    type Init = ();

    fn state_size((): &()) -> usize {
        STATE_LEN
    }

    fn init_state(region: &SharedRegion, (): ()) -> CoreResult<()> {
        let state = region
            .span(0, std::mem::size_of::<State>())?
            .cast::<State>();
        // SAFETY: the span is zero-filled, suitably aligned (regions start
        // page- or header-aligned) shared memory for a State that nothing
        // uses yet; all-zero atomics are valid, and the semaphore is
        // initialized in place before any use (futex words in a named
        // object, which any process can reach; see `platform::RawSemaphore`).
        unsafe {
            for channel in [
                std::ptr::addr_of_mut!((*state).wake),
                std::ptr::addr_of_mut!((*state).heir_wake),
            ] {
                if region.is_named() {
                    RawSemaphore::init_named(channel, 0)?;
                } else {
                    RawSemaphore::init(channel, 0)?;
                }
            }
        }
        Ok(())
    }

    fn from_region(region: SharedRegion) -> Self {
        Mutex { region }
    }

    fn region(&self) -> &SharedRegion {
        &self.region
    }
}

impl HeldByThreads for Mutex {
    /// Releases the lock, whatever its depth, if a fiber of the thread
    /// `thread` of this process holds it.
    fn release_thread(&self, thread: u32) -> usize {
        let state = self.state();
        // `release` clears the token before the owner word, so a hold just
        // taken by another thread (owner set, token not yet) never matches.
        let held = state.owner.load(Ordering::Acquire) == my_key()
            && thread_part(state.thread.load(Ordering::Relaxed)) == thread;
        if held {
            self.release();
        }
        usize::from(held)
    }
}

impl Drop for Mutex {
    fn drop(&mut self) {
        // This process is done with the wake-up semaphore (frees the Mach
        // port of an anonymous mutex on macOS; nothing otherwise).
        self.state().wake.release();
        self.state().heir_wake.release();
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        // Served or gone: another hungry waiter becomes heir when it next
        // wakes up.
        let state = self.mutex.state();
        let was_heir = state
            .heir
            .compare_exchange(self.ticket, 0, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok();
        step!("mutex.wait.heir_dropped");
        let waiters = state.waiters.fetch_sub(1, Ordering::Relaxed);
        if was_heir && !self.mutex.is_owned_by(self.owner) {
            // An heir that leaves without the lock (a timeout, an
            // interrupt) gives back a hand-off meant for it, and passes on
            // the wake-ups that went to it alone.
            let _ =
                state
                    .owner
                    .compare_exchange(HANDED_OFF, 0, Ordering::Release, Ordering::Relaxed);
            if waiters > 1 {
                self.mutex.wake_a_waiter();
            }
        }
    }
}

#[cfg(test)]
#[path = "kill_steps/mutex.rs"]
pub(crate) mod kill_steps;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::test_support::{
        exit_code, fork_and, open_named, poll_until, unique_name, UnlinkOnDrop,
    };
    use crate::platform::monotonic_now;
    use std::sync::Arc;

    use crate::core::park::{Blocking, SLICE};

    /// Blocks until locked: the binding's protocol, parked plainly.
    pub(crate) fn lock(mutex: &Mutex) {
        match mutex.lock_fast() {
            TryLock::Acquired => {}
            TryLock::Busy => mutex.lock_contended(&mut Blocking).unwrap(),
            TryLock::AlreadyOwned | TryLock::HeldByOtherFiber => panic!("already owned"),
        }
    }

    /// A parker that counts its slices (each one waits at most 10 ms).
    struct CountingPark(u32);

    impl Park for CountingPark {
        type Error = CoreError;

        fn park<T>(
            &mut self,
            slice_end: Duration,
            attempt: impl FnOnce(Duration) -> CoreResult<Option<T>>,
        ) -> CoreResult<Option<T>> {
            self.0 += 1;
            attempt(slice_end.min(monotonic_now() + Duration::from_millis(10)))
        }

        fn error(&self, error: CoreError) -> CoreError {
            error
        }
    }

    #[test]
    fn a_lock_whose_holder_was_reaped_is_taken_over_without_waiting_a_slice() {
        let mutex = Mutex::new().unwrap();
        let child = fork_and(|| i32::from(mutex.lock_fast() != TryLock::Acquired));
        assert_eq!(exit_code(child), 0);
        assert_eq!(mutex.lock_fast(), TryLock::Busy);
        let mut park = CountingPark(0);
        mutex.lock_contended(&mut park).unwrap();
        assert_eq!(park.0, 0, "waited before taking over");
        assert!(mutex.previous_owner_died());
        mutex.unlock().unwrap();
    }

    thread_local! {
        /// The "current fiber" of the fake owner source below.
        static FAKE_OWNER: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    fn as_owner<R>(thread: u32, fiber: u32, f: impl FnOnce() -> R) -> R {
        FAKE_OWNER.with(|owner| owner.set(crate::core::identity::owner_token(thread, fiber)));
        f()
    }

    /// Runs `test` in a child whose owner tokens come from [`as_owner`],
    /// as the Ruby binding's name fibers (the source is process-wide).
    fn with_fake_owners(test: impl FnOnce() -> bool) {
        let child = fork_and(|| {
            crate::core::identity::set_owner_source(|| FAKE_OWNER.with(std::cell::Cell::get));
            i32::from(!test())
        });
        assert_eq!(exit_code(child), 0);
    }

    #[test]
    fn the_owner_is_one_fiber_and_other_fibers_of_its_thread_are_told_apart() {
        let mutex = Mutex::new().unwrap();
        with_fake_owners(|| {
            let locked = as_owner(1, 1, || mutex.lock_fast() == TryLock::Acquired);
            let (owned, unlock, fast, try_lock, reenter) = as_owner(1, 2, || {
                (
                    mutex.is_owned(),
                    mutex.unlock().is_err(),
                    mutex.lock_fast(),
                    mutex.try_lock(),
                    mutex.reenter().unwrap(),
                )
            });
            let other_thread = as_owner(2, 3, || mutex.lock_fast());
            let still_owned = as_owner(1, 1, || mutex.is_owned() && mutex.unlock().is_ok());
            locked
                && !owned
                && unlock
                && fast == TryLock::HeldByOtherFiber
                && try_lock == TryLock::HeldByOtherFiber
                && !reenter
                && other_thread == TryLock::Busy
                && still_owned
        });
    }

    #[test]
    fn a_thread_that_ends_releases_what_its_fibers_hold_and_nothing_else() {
        let mutex = Arc::new(Mutex::new().unwrap());
        let other = Arc::new(Mutex::new().unwrap());
        let (held, registered) = (Arc::clone(&mutex), Arc::clone(&other));
        with_fake_owners(move || {
            let first: Arc<dyn HeldByThreads> = held.clone();
            let second: Arc<dyn HeldByThreads> = registered.clone();
            crate::core::thread_end::register(Arc::downgrade(&first));
            crate::core::thread_end::register(Arc::downgrade(&second));
            let taken = as_owner(7, 1, || {
                held.lock_fast() == TryLock::Acquired && held.reenter().unwrap()
            }) && as_owner(8, 2, || registered.lock_fast() == TryLock::Acquired);
            let released = crate::core::thread_end::release_thread(7);
            taken
                && released == 1
                && !held.is_locked()
                && registered.is_locked()
                && as_owner(8, 2, || registered.is_owned())
        });
        // In the parent: the first came free, the second stays held by the
        // (now exited) child until taken over.
        assert_eq!(mutex.lock_fast(), TryLock::Acquired);
        assert!(!mutex.previous_owner_died());
        assert_eq!(other.try_lock(), TryLock::Acquired);
        assert!(other.previous_owner_died());
    }

    #[test]
    fn owner_pid_and_waiting_tell_the_state() {
        let mutex = Arc::new(Mutex::new().unwrap());
        assert_eq!(mutex.owner_pid(), None);
        assert_eq!(mutex.lock_fast(), TryLock::Acquired);
        assert_eq!(mutex.owner_pid(), Some(std::process::id()));
        let waiting = Arc::clone(&mutex);
        let waiter = std::thread::spawn(move || lock(&waiting));
        while mutex.waiting() == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(mutex.waiting(), 1);
        mutex.unlock().unwrap();
        waiter.join().unwrap();
        assert_eq!(mutex.waiting(), 0);
    }

    #[test]
    fn waiting_stops_counting_a_waiter_killed_in_its_sleep() {
        let mutex = Mutex::new().unwrap();
        assert_eq!(mutex.lock_fast(), TryLock::Acquired);
        let child = fork_and(|| {
            lock(&mutex);
            0
        });
        poll_until("the child never waited", || mutex.waiting() != 0);
        assert_eq!(mutex.waiting(), 1);
        // SAFETY: killing and reaping the child we forked.
        unsafe { libc::kill(child, libc::SIGKILL) };
        assert_eq!(exit_code(child), -1);
        assert_eq!(mutex.waiting(), 0);
        mutex.unlock().unwrap();
    }

    fn waiters(mutex: &Mutex) -> u32 {
        mutex.state().waiters.load(Ordering::Relaxed)
    }

    #[test]
    fn locks_unlocks_and_knows_its_owner() {
        let mutex = Mutex::new().unwrap();
        assert!(!mutex.is_locked());
        assert_eq!(mutex.lock_fast(), TryLock::Acquired);
        assert!(mutex.is_locked() && mutex.is_owned());
        assert_eq!(mutex.lock_fast(), TryLock::AlreadyOwned);
        assert_eq!(mutex.try_lock(), TryLock::AlreadyOwned);
        assert!(!mutex.previous_owner_died());
        mutex.unlock().unwrap();
        assert!(!mutex.is_locked() && !mutex.is_owned());
        assert!(matches!(mutex.unlock(), Err(CoreError::Misuse(_))));
    }

    #[test]
    fn another_thread_can_neither_unlock_nor_relock() {
        let mutex = Arc::new(Mutex::new().unwrap());
        assert_eq!(mutex.lock_fast(), TryLock::Acquired);
        let other = Arc::clone(&mutex);
        let (unlock, owned, try_lock) =
            std::thread::spawn(move || (other.unlock(), other.is_owned(), other.try_lock()))
                .join()
                .unwrap();
        assert!(matches!(unlock, Err(CoreError::Misuse(message)) if message.contains("another")));
        assert!(!owned);
        assert_eq!(try_lock, TryLock::Busy);
        assert!(mutex.is_owned());
        mutex.unlock().unwrap();
    }

    #[test]
    fn threads_exclude_each_other() {
        let mutex = Arc::new(Mutex::new().unwrap());
        let counter = Arc::new(SharedRegion::new(8).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (mutex, counter) = (Arc::clone(&mutex), Arc::clone(&counter));
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        lock(&mutex);
                        let value = counter.read::<u64>(0).unwrap();
                        counter.write::<u64>(0, value + 1).unwrap();
                        mutex.unlock().unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(counter.read::<u64>(0).unwrap(), 80_000);
        assert_eq!(waiters(&mutex), 0);
        assert!(!mutex.is_locked());
    }

    #[test]
    fn processes_and_their_threads_exclude_each_other() {
        let mutex = Arc::new(Mutex::new().unwrap());
        let counter = Arc::new(SharedRegion::new(8).unwrap());
        let children: Vec<_> = (0..4)
            .map(|_| {
                let (mutex, counter) = (Arc::clone(&mutex), Arc::clone(&counter));
                fork_and(move || {
                    let threads: Vec<_> = (0..2)
                        .map(|_| {
                            let (mutex, counter) = (Arc::clone(&mutex), Arc::clone(&counter));
                            std::thread::spawn(move || {
                                for _ in 0..10_000 {
                                    lock(&mutex);
                                    let value = counter.read::<u64>(0).unwrap();
                                    counter.write::<u64>(0, value + 1).unwrap();
                                    mutex.unlock().unwrap();
                                }
                            })
                        })
                        .collect();
                    let joined: Vec<bool> = threads.into_iter().map(|t| t.join().is_ok()).collect();
                    i32::from(!joined.iter().all(|&ok| ok))
                })
            })
            .collect();
        for child in children {
            assert_eq!(exit_code(child), 0);
        }
        assert_eq!(counter.read::<u64>(0).unwrap(), 80_000);
        assert!(!mutex.is_locked());
    }

    #[test]
    fn a_forked_child_is_not_the_owner_of_its_parents_lock() {
        let mutex = Mutex::new().unwrap();
        assert_eq!(mutex.lock_fast(), TryLock::Acquired);
        let child = fork_and(|| {
            let refused = matches!(mutex.unlock(), Err(CoreError::Misuse(_)));
            let busy = mutex.try_lock() == TryLock::Busy;
            i32::from(!(refused && busy && !mutex.is_owned() && mutex.is_locked()))
        });
        assert_eq!(exit_code(child), 0);
        assert!(mutex.is_owned());
        mutex.unlock().unwrap();
    }

    #[test]
    fn a_waiter_wakes_when_another_process_unlocks() {
        let mutex = Mutex::new().unwrap();
        let ready = crate::core::semaphore::Semaphore::new(0).unwrap();
        let child = fork_and(|| {
            assert_eq!(mutex.lock_fast(), TryLock::Acquired);
            ready.post().unwrap();
            std::thread::sleep(Duration::from_millis(150));
            mutex.unlock().map_or(1, |()| 0)
        });
        assert_eq!(
            ready
                .wait_until(monotonic_now() + Duration::from_secs(10))
                .unwrap(),
            WaitOutcome::Acquired
        );
        let start = monotonic_now();
        lock(&mutex);
        assert!(monotonic_now() - start < Duration::from_secs(5));
        assert!(!mutex.previous_owner_died());
        mutex.unlock().unwrap();
        assert_eq!(exit_code(child), 0);
    }

    #[test]
    fn a_waiter_that_gives_up_leaves_the_lock_as_it_was() {
        let mutex = Arc::new(Mutex::new().unwrap());
        assert_eq!(mutex.lock_fast(), TryLock::Acquired);
        let other = Arc::clone(&mutex);
        let outcome = std::thread::spawn(move || {
            let waiter = other.waiter();
            waiter
                .wait_until(monotonic_now() + Duration::from_millis(30))
                .unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(outcome, None);
        assert!(mutex.is_owned());
        assert_eq!(waiters(&mutex), 0);
        mutex.unlock().unwrap();
    }

    #[test]
    fn a_lock_whose_holder_died_is_taken_over_and_says_so() {
        let mutex = Mutex::new().unwrap();
        let child = fork_and(|| i32::from(mutex.lock_fast() != TryLock::Acquired));
        assert_eq!(exit_code(child), 0);
        assert!(mutex.is_locked() && !mutex.is_owned());
        let start = monotonic_now();
        lock(&mutex);
        assert!(monotonic_now() - start < Duration::from_secs(1));
        assert!(mutex.previous_owner_died());
        mutex.unlock().unwrap();
        assert_eq!(mutex.lock_fast(), TryLock::Acquired);
        assert!(!mutex.previous_owner_died());
        mutex.unlock().unwrap();
    }

    #[test]
    fn try_lock_takes_over_from_a_dead_holder_too() {
        let mutex = Mutex::new().unwrap();
        let child = fork_and(|| i32::from(mutex.lock_fast() != TryLock::Acquired));
        assert_eq!(exit_code(child), 0);
        assert_eq!(mutex.lock_fast(), TryLock::Busy);
        assert_eq!(mutex.try_lock(), TryLock::Acquired);
        assert!(mutex.previous_owner_died());
        mutex.unlock().unwrap();
    }

    extern "C" fn ignore_signal(_: libc::c_int) {}

    #[test]
    fn a_waiter_interrupted_more_often_than_once_a_slice_still_takes_over() {
        let mutex = Arc::new(Mutex::new().unwrap());
        let child = fork_and(|| i32::from(mutex.lock_fast() != TryLock::Acquired));
        assert_eq!(exit_code(child), 0);
        // SAFETY: a zeroed sigaction with a handler that does nothing and no
        // SA_RESTART, installed for SIGUSR2, which no other test uses.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = ignore_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigaction(libc::SIGUSR2, &action, std::ptr::null_mut());
        }
        let waiting = Arc::clone(&mutex);
        let (thread_tx, thread_rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            // SAFETY: pthread_self has no preconditions.
            thread_tx.send(unsafe { libc::pthread_self() }).unwrap();
            let give_up = monotonic_now() + Duration::from_secs(2);
            // A fresh slice after every interruption.
            waiting.lock_until(&mut Blocking, Some(give_up)).unwrap()
                && waiting.previous_owner_died()
        });
        let thread = thread_rx.recv().unwrap();
        while !waiter.is_finished() {
            // SAFETY: the thread is alive (not finished, and joined only
            // below), and SIGUSR2 has a handler.
            unsafe { libc::pthread_kill(thread, libc::SIGUSR2) };
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(waiter.join().unwrap(), "the dead holder was not taken over");
    }

    #[test]
    fn a_live_holder_is_never_taken_over() {
        let mutex = Mutex::new().unwrap();
        let ready = crate::core::semaphore::Semaphore::new(0).unwrap();
        let done = crate::core::semaphore::Semaphore::new(0).unwrap();
        let child = fork_and(|| {
            assert_eq!(mutex.lock_fast(), TryLock::Acquired);
            ready.post().unwrap();
            let outcome = done.wait_until(monotonic_now() + Duration::from_secs(20));
            i32::from(!(mutex.is_owned() && outcome.is_ok()))
        });
        ready
            .wait_until(monotonic_now() + Duration::from_secs(10))
            .unwrap();
        {
            let waiter = mutex.waiter();
            for _ in 0..3 {
                assert_eq!(waiter.wait_until(monotonic_now() + SLICE).unwrap(), None);
            }
        }
        assert_eq!(mutex.try_lock(), TryLock::Busy);
        done.post().unwrap();
        assert_eq!(exit_code(child), 0);
    }

    #[test]
    fn a_waiter_killed_while_waiting_leaves_the_lock_working() {
        let mutex = Mutex::new().unwrap();
        assert_eq!(mutex.lock_fast(), TryLock::Acquired);
        let child = fork_and(|| {
            lock(&mutex);
            0
        });
        while waiters(&mutex) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        // SAFETY: killing and reaping the child we forked.
        unsafe { libc::kill(child, libc::SIGKILL) };
        assert_eq!(exit_code(child), -1);
        assert_eq!(waiters(&mutex), 1, "the dead waiter stays counted");
        assert_eq!(mutex.waiting(), 0, "waiting counts the living");
        mutex.unlock().unwrap();
        for _ in 0..1_000 {
            lock(&mutex);
            mutex.unlock().unwrap();
        }
        // At most one wake-up is ever pending, however many unlocks saw the
        // dead waiter.
        assert!(mutex.state().wake.value().unwrap_or(0) <= 1);
        let second = fork_and(|| {
            lock(&mutex);
            i32::from(mutex.unlock().is_err())
        });
        assert_eq!(exit_code(second), 0);
        assert!(!mutex.is_locked());
    }

    #[test]
    fn a_hungry_waiter_gets_the_lock_handed_over_and_no_one_barges_in() {
        let mutex = Arc::new(Mutex::new().unwrap());
        lock(&mutex);
        let other = Arc::clone(&mutex);
        let (go, wait_for_go) = std::sync::mpsc::channel::<()>();
        let waiter = std::thread::spawn(move || {
            lock(&other);
            // Holds the lock until the test has looked at it (or failed).
            let _ = wait_for_go.recv();
            other.unlock().is_ok()
        });
        let give_up = monotonic_now() + Duration::from_secs(20);
        while waiters(&mutex) == 0 {
            assert!(monotonic_now() < give_up, "the waiter never waited");
            std::thread::sleep(Duration::from_millis(1));
        }
        // Woken without the lock once FAIR_AFTER has passed, the waiter
        // becomes heir: wake it until it has.
        while mutex.state().heir.load(Ordering::Relaxed) == 0 {
            assert!(monotonic_now() < give_up, "the waiter never became heir");
            post_unless_pending(&mutex.state().wake);
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(mutex.state().fair_at.load(Ordering::Relaxed), 0);
        mutex.unlock().unwrap();
        // Handed over (only a hand-off sets `fair_at`): whether or not the
        // heir has taken it yet, the unlocker cannot take it back.
        assert_ne!(mutex.state().fair_at.load(Ordering::Relaxed), 0);
        assert_eq!(mutex.lock_fast(), TryLock::Busy);
        go.send(()).unwrap();
        assert!(waiter.join().unwrap());
        assert_eq!(mutex.state().heir.load(Ordering::Relaxed), 0);
        assert_eq!(mutex.lock_fast(), TryLock::Acquired);
        mutex.unlock().unwrap();
    }

    #[test]
    fn an_heir_that_leaves_without_the_lock_gives_the_hand_off_back() {
        let mutex = Mutex::new().unwrap();
        let waiter = mutex.waiter();
        // Another waiter, asleep on `wake`.
        mutex.state().waiters.fetch_add(1, Ordering::Relaxed);
        mutex.state().heir.store(waiter.ticket, Ordering::Relaxed);
        mutex.state().owner.store(HANDED_OFF, Ordering::Release);
        drop(waiter);
        assert_eq!(mutex.state().heir.load(Ordering::Relaxed), 0);
        assert!(!mutex.is_locked(), "the hand-off was not given back");
        assert_eq!(
            mutex.state().wake.value(),
            Some(1),
            "the other waiter was not woken"
        );
        mutex.state().waiters.fetch_sub(1, Ordering::Relaxed);
    }

    #[test]
    fn an_unlock_wakes_the_heir_and_not_the_others_while_there_is_one() {
        let mutex = Mutex::new().unwrap();
        lock(&mutex);
        let waiter = mutex.waiter();
        mutex.state().heir.store(waiter.ticket, Ordering::Relaxed);
        // Not yet time for a hand-off: the lock is freed, and the heir woken.
        mutex.state().fair_at.store(u64::MAX, Ordering::Relaxed);
        mutex.unlock().unwrap();
        assert!(!mutex.is_locked());
        assert_eq!(mutex.state().heir_wake.value(), Some(1));
        assert_eq!(mutex.state().wake.value(), Some(0));
        assert_eq!(
            waiter.wait_until(monotonic_now() + SLICE).unwrap(),
            Some(())
        );
        drop(waiter);
        assert!(mutex.is_owned());
        mutex.unlock().unwrap();
    }

    #[test]
    fn a_slow_hand_off_spaces_the_next_one_by_nine_times_its_idle_time() {
        let mutex = Mutex::new().unwrap();
        let as_ns = |at: Duration| u64::try_from(at.as_nanos()).unwrap();
        let handed_at = monotonic_now() - Duration::from_millis(2);
        let fair_at = &mutex.state().fair_at;
        fair_at.store(as_ns(handed_at + HAND_OFF_EVERY), Ordering::Relaxed);
        mutex.space_next_hand_off();
        let next = fair_at.load(Ordering::Relaxed);
        assert!(next >= as_ns(handed_at + Duration::from_millis(2 + 18)));
        assert!(next <= as_ns(monotonic_now() + HAND_OFF_SPACING_MAX));
        // Never closer than it was.
        let later = next + 1_000_000_000;
        fair_at.store(later, Ordering::Relaxed);
        mutex.space_next_hand_off();
        assert_eq!(fair_at.load(Ordering::Relaxed), later);
    }

    #[test]
    fn a_hand_off_to_a_waiter_that_left_is_taken_by_the_next_caller() {
        let mutex = Mutex::new().unwrap();
        mutex.state().owner.store(HANDED_OFF, Ordering::Release);
        assert!(mutex.is_locked() && !mutex.is_owned());
        assert_eq!(mutex.try_lock(), TryLock::Acquired);
        assert!(!mutex.previous_owner_died());
        mutex.unlock().unwrap();

        // With a wake-up pending, as the hand-off left it, a blocking lock
        // takes it too.
        mutex.state().owner.store(HANDED_OFF, Ordering::Release);
        mutex.state().wake.post().unwrap();
        lock(&mutex);
        assert!(mutex.is_owned() && !mutex.previous_owner_died());
        mutex.unlock().unwrap();
        assert!(!mutex.is_locked());
    }

    #[test]
    fn a_reused_pid_does_not_pass_for_the_dead_holder() {
        let me = current_process();
        let impostor = ProcessIdentity {
            start_time: me.start_time + 1,
            ..me
        };
        assert!(!holder_is_gone(process_key(me)));
        assert!(holder_is_gone(process_key(impostor)));
        let unknown_start = ProcessIdentity {
            start_time: 0,
            ..me
        };
        assert!(!holder_is_gone(process_key(unknown_start)));
    }

    /// A lock whose owner word names `holder`, as if that process had
    /// locked it and then died or lived on.
    fn held_by(holder: ProcessIdentity) -> Mutex {
        let mutex = Mutex::new().unwrap();
        mutex
            .state()
            .owner
            .store(process_key(holder), Ordering::Release);
        mutex
    }

    /// Whether a waiter takes the lock over at the end of one wait slice.
    fn waiter_takes_over(mutex: &Mutex) -> bool {
        let waiter = mutex.waiter();
        waiter
            .wait_until(monotonic_now() + Duration::from_millis(20))
            .unwrap()
            .is_some()
    }

    /// A live child that stands for "a new process with the dead holder's
    /// pid": it waits until `done` is posted (at most 20 s).
    fn live_child(done: &crate::core::semaphore::Semaphore) -> (libc::pid_t, ProcessIdentity) {
        let child = fork_and(|| {
            let outcome = done.wait_until(monotonic_now() + Duration::from_secs(20));
            i32::from(outcome.is_err())
        });
        let started = platform::process_start_time(child as u32).expect("child is alive");
        let identity = ProcessIdentity {
            pid: child as u32,
            start_time: started,
        };
        (child, identity)
    }

    #[test]
    fn a_live_process_that_reuses_a_dead_holders_pid_is_not_taken_for_it() {
        let done = crate::core::semaphore::Semaphore::new(0).unwrap();
        let (child, reuser) = live_child(&done);
        // The dead holder had the child's pid but started earlier.
        let dead_holder = ProcessIdentity {
            start_time: reuser.start_time - 1,
            ..reuser
        };
        assert!(holder_is_gone(process_key(dead_holder)));
        assert!(!holder_is_gone(process_key(reuser)));

        let by_try_lock = held_by(dead_holder);
        assert_eq!(by_try_lock.try_lock(), TryLock::Acquired);
        assert!(by_try_lock.previous_owner_died());
        by_try_lock.unlock().unwrap();

        let by_waiter = held_by(dead_holder);
        assert!(waiter_takes_over(&by_waiter));
        assert!(by_waiter.previous_owner_died());

        // The same pid with the reuser's own start time is a live holder.
        let live = held_by(reuser);
        assert_eq!(live.try_lock(), TryLock::Busy);
        assert!(!waiter_takes_over(&live));
        assert!(live.is_locked() && !live.is_owned());

        done.post().unwrap();
        assert_eq!(exit_code(child), 0);
        // Once the reuser itself has exited (and been reaped), it is gone.
        assert_eq!(live.try_lock(), TryLock::Acquired);
        assert!(live.previous_owner_died());
    }

    #[test]
    fn a_dead_holder_whose_pid_is_now_the_callers_is_taken_over() {
        let me = current_process();
        let dead_holder = ProcessIdentity {
            start_time: me.start_time - 1,
            ..me
        };
        let mutex = held_by(dead_holder);
        assert!(mutex.is_locked() && !mutex.is_owned());
        assert!(matches!(mutex.unlock(), Err(CoreError::Misuse(_))));
        assert_eq!(mutex.try_lock(), TryLock::Acquired);
        assert!(mutex.is_owned() && mutex.previous_owner_died());
        mutex.unlock().unwrap();

        let by_waiter = held_by(dead_holder);
        assert!(waiter_takes_over(&by_waiter));
        assert!(by_waiter.previous_owner_died());
    }

    #[test]
    fn a_holder_of_unknown_start_time_is_gone_only_when_its_pid_is() {
        let done = crate::core::semaphore::Semaphore::new(0).unwrap();
        let (child, reuser) = live_child(&done);
        let unknown_start = ProcessIdentity {
            start_time: 0,
            ..reuser
        };
        let mutex = held_by(unknown_start);
        assert_eq!(mutex.try_lock(), TryLock::Busy);
        assert!(!waiter_takes_over(&mutex));
        done.post().unwrap();
        assert_eq!(exit_code(child), 0);
        assert_eq!(mutex.try_lock(), TryLock::Acquired);
        assert!(mutex.previous_owner_died());
    }

    #[test]
    fn process_keys_are_never_zero_and_round_trip() {
        let me = current_process();
        let key = process_key(me);
        assert_ne!(key, 0);
        assert_eq!((key >> START_BITS) as u32, me.pid);
        assert_eq!(key & START_MASK, me.start_time);
    }

    #[test]
    fn release_during_refuses_a_caller_that_does_not_hold_the_lock() {
        let mutex = Mutex::new().unwrap();
        let outcome = mutex.release_during(
            &mut Blocking,
            |_| -> CoreResult<()> { panic!("waited without holding the lock") },
            || panic!("relocked without holding the lock"),
        );
        assert!(matches!(outcome, Err(CoreError::Misuse(_))));
        assert!(!mutex.is_locked());
    }

    #[test]
    fn release_during_relocks_even_when_the_wait_fails() {
        let mutex = Mutex::new().unwrap();
        lock(&mutex);
        let outcome = mutex.release_during(
            &mut Blocking,
            |_| -> CoreResult<()> { Err(CoreError::Misuse("interrupted".into())) },
            || mutex.relock(&mut Blocking),
        );
        assert!(matches!(outcome, Err(CoreError::Misuse(message)) if message == "interrupted"));
        assert!(mutex.is_owned());
        mutex.unlock().unwrap();
    }

    #[test]
    fn reentrant_depth_counts_entries_and_survives_a_condition_wait() {
        let mutex = Mutex::new().unwrap();
        assert!(!mutex.reenter().unwrap());
        assert_eq!(mutex.lock_fast(), TryLock::Acquired);
        assert!(mutex.reenter().unwrap());
        assert!(mutex.reenter().unwrap());
        let unlocked_meanwhile = mutex
            .release_during(
                &mut Blocking,
                |_| Ok(!mutex.is_locked()),
                || mutex.relock(&mut Blocking),
            )
            .unwrap();
        assert!(unlocked_meanwhile);
        mutex.exit_once().unwrap();
        mutex.exit_once().unwrap();
        assert!(mutex.is_owned());
        mutex.exit_once().unwrap();
        assert!(!mutex.is_locked());
        assert!(matches!(mutex.exit_once(), Err(CoreError::Misuse(_))));
    }

    #[test]
    fn a_named_mutex_excludes_processes_that_open_it_by_name() {
        const CHILDREN: usize = 3;
        const ROUNDS: u64 = 300;
        let name = unique_name("mtx");
        let _unlink = UnlinkOnDrop(name.clone());
        let mutex: Mutex = open_named(&name, ());
        assert!(!mutex.state().wake.is_kernel(), "futex words by name");
        assert!(Mutex::new().unwrap().state().wake.is_kernel());
        // A plain counter in memory the children share by fork: only the
        // named lock, which each child maps afresh, keeps increments whole.
        let page = platform::map_shared(4096).unwrap();
        let counter = page.cast::<u64>().as_ptr();
        let children: Vec<_> = (0..CHILDREN)
            .map(|_| {
                fork_and(|| {
                    let own: Mutex = open_named(&name, ());
                    for _ in 0..ROUNDS {
                        lock(&own);
                        // SAFETY: the page is never unmapped; the lock
                        // serializes every access.
                        unsafe {
                            let value = counter.read_volatile();
                            std::thread::yield_now();
                            counter.write_volatile(value + 1);
                        }
                        if own.unlock().is_err() {
                            return 1;
                        }
                    }
                    0
                })
            })
            .collect();
        for child in children {
            assert_eq!(exit_code(child), 0);
        }
        // SAFETY: the children are gone; the page is still mapped, and
        // unmapped once, after its last use.
        unsafe {
            assert_eq!(counter.read_volatile(), CHILDREN as u64 * ROUNDS);
            platform::unmap(page, 4096);
        }
        assert!(!mutex.is_locked());
        assert_eq!(waiters(&mutex), 0);
    }

    #[test]
    fn a_named_mutex_whose_holder_died_is_taken_over_by_another_opener() {
        let name = unique_name("mtd");
        let _unlink = UnlinkOnDrop(name.clone());
        let mutex: Mutex = open_named(&name, ());
        let child = fork_and(|| {
            let own: Mutex = open_named(&name, ());
            i32::from(own.lock_fast() != TryLock::Acquired)
        });
        assert_eq!(exit_code(child), 0);
        assert!(mutex.is_locked() && !mutex.is_owned());
        lock(&mutex);
        assert!(mutex.previous_owner_died());
        mutex.unlock().unwrap();
    }
}
