//! Owner tokens that name the current fiber (see `core::identity`).
//!
//! Ruby 3 locks are owned by a fiber, and Ruby 3.1 hands a finished
//! thread's native thread, thread-locals included, to the next
//! `Thread.new`: a token must name a Ruby fiber, never a native thread.
//!
//! Each fiber's token is kept in a hidden instance variable of the `Fiber`
//! object (an id without `@`, invisible from Ruby), its thread part in one
//! of the `Thread` object: both die with their objects. Looking them up
//! costs a hash lookup, so each native thread caches the last fiber that
//! asked and its token, under a key naming the running fiber: the address
//! of its execution context where `running_ec` can read it (three
//! instructions, x86-64 Linux), else the `Fiber` object that
//! `rb_fiber_current` returns (a call into libruby). While the same fiber
//! keeps asking, a token costs reading the key and a compare.
//!
//! The cache compares addresses, and both addresses are reused once the
//! fiber is garbage-collected: so the cached fiber is pinned (marked, and
//! never moved by `GC.compact`) through a slot of this native thread that is
//! registered as a GC root, and it cannot be freed while it is cached. Its
//! execution context lives inside the fiber (see `running_ec`), so no other
//! fiber can have the cached key while the entry stands. A native thread
//! that exits gives its slot back for the next native thread.

use super::guard::function;
use super::running_ec;
use crate::core::identity;
use crate::core::thread_end::{self, HeldByThreads};
use magnus::{prelude::*, Error, RModule, Ruby};
use rb_sys::{ID, VALUE};
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// Thread parts stay below 2^30, so that a token is a positive Fixnum.
const THREAD_PART_LIMIT: u32 = 1 << 30;

static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);
static NEXT_FIBER: AtomicU32 = AtomicU32::new(1);

struct Ids {
    fiber_token: ID,
    thread_part: ID,
}

static IDS: OnceLock<Ids> = OnceLock::new();

/// A GC root holding the fiber this native thread has cached.
struct PinSlot(*mut VALUE);

/// Slots of native threads that exited, for the next ones.
static FREE_SLOTS: Mutex<Vec<usize>> = Mutex::new(Vec::new());

impl PinSlot {
    /// A free slot, or a new one registered with the GC. GVL held.
    fn take() -> PinSlot {
        let free = FREE_SLOTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        if let Some(slot) = free {
            return PinSlot(slot as *mut VALUE);
        }
        let slot = Box::into_raw(Box::new(rb_sys::Qnil as VALUE));
        // SAFETY: with the GVL held, registers a leaked (never freed) slot
        // holding a valid VALUE; the GC marks (and pins) what it holds.
        unsafe { rb_sys::rb_gc_register_address(slot) };
        PinSlot(slot)
    }

    fn pin(&self, fiber: VALUE) {
        // SAFETY: the slot is ours alone (one per native thread) and stays
        // allocated for ever; written with the GVL held, so the GC does not
        // read it at the same time.
        unsafe { *self.0 = fiber };
    }
}

impl Drop for PinSlot {
    fn drop(&mut self) {
        // Without the GVL here (the native thread is exiting): the slot
        // keeps its fiber pinned until another native thread takes it.
        FREE_SLOTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(self.0 as usize);
    }
}

extern "C" {
    /// libruby's main Ractor while it is the only Ractor there ever was,
    /// null from the first `Ractor.new` on (`vm_core.h`, Ruby 3.0 and
    /// later; no binding of rb-sys or libc has it).
    static ruby_single_main_ractor: *const std::ffi::c_void;
    /// Whether the calling thread runs in the main Ractor (`ruby/ractor.h`'s
    /// `rb_ractor_main_p`, out of line; not in rb-sys's bindings).
    fn rb_ractor_main_p_() -> bool;
}

/// Whether the main Ractor is the only one the program ever made (then
/// every Ruby thread runs in it): one load.
#[inline(always)]
pub fn only_main_ractor() -> bool {
    // SAFETY: a pointer-sized global of libruby, only read.
    !unsafe { ruby_single_main_ractor }.is_null()
}

/// Whether the calling thread, holding its Ractor's lock, runs in the main
/// Ractor: what Ruby checks before calling a method not marked
/// Ractor-safe.
pub fn in_main_ractor() -> bool {
    // SAFETY: libruby's own test, which only reads the running thread's
    // state.
    only_main_ractor() || unsafe { rb_ractor_main_p_() }
}

/// The key (see [`running_fiber_key`]) of the fiber that last asked
/// through [`current_token_with_gvl`] and its token: one cache for the
/// whole process, so reading it costs no thread-local lookup. It is read
/// and written only with the GVL held while the main Ractor is the only
/// one, hence by one thread at a time; its fiber is pinned through the GC
/// root [`GVL_PIN`] as long as it is cached.
static GVL_KEY: AtomicU64 = AtomicU64::new(0);
static GVL_TOKEN: AtomicU64 = AtomicU64::new(0);
static GVL_PIN: OnceLock<usize> = OnceLock::new();

thread_local! {
    /// The key of the fiber that last asked on this native thread, and its
    /// token.
    static LAST: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    static PIN: PinSlot = PinSlot::take();
}

/// A key naming the running fiber, never 0: its execution context's address
/// (`running_ec`), else its `Fiber` object (`rb_fiber_current`). Which of
/// the two is fixed at load, before any token is cached, so keys of both
/// kinds never meet in a cache. Equal keys name the same fiber as long as a
/// cache pins the fiber it read the key from (see the module comment).
#[inline(always)]
fn running_fiber_key() -> u64 {
    let ec = running_ec::running();
    if ec != 0 {
        return ec as u64;
    }
    // SAFETY: reads the running fiber of this native thread; its root
    // fiber object exists after the first call, made with the GVL held.
    unsafe { rb_sys::rb_fiber_current() as u64 }
}

/// Makes owner tokens name fibers, and defines
/// `ProcessShared::ThreadEnd.release_holds`, which the Ruby side calls as
/// each thread ends (see `lib/process_shared/thread_end.rb`).
pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    install();
    let module = namespace.define_module("ThreadEnd")?;
    module.define_singleton_method("release_holds", function!(release_holds, 0))?;
    let _ = ruby;
    Ok(())
}

/// Releases what the fibers of the calling thread still hold, on every
/// registered object of this process; how many holds.
fn release_holds() -> usize {
    current_thread_part().map_or(0, thread_end::release_thread)
}

/// Registers `object` so that a thread that ends releases its holds on it.
pub fn release_at_thread_end<T: HeldByThreads + 'static>(object: &Arc<T>) {
    let weak: Weak<T> = Arc::downgrade(object);
    thread_end::register(weak);
}

/// Makes owner tokens name fibers. Called once, with the GVL, at load.
fn install() {
    running_ec::install();
    IDS.get_or_init(|| Ids {
        fiber_token: intern("__process_shared_owner_token"),
        thread_part: intern("__process_shared_thread_part"),
    });
    identity::set_owner_source(current_fiber_token);
}

fn intern(name: &str) -> ID {
    // SAFETY: a valid pointer and length; interning never raises.
    unsafe { rb_sys::rb_intern2(name.as_ptr().cast(), name.len() as _) }
}

/// The current fiber's token. A cache hit reads only this native thread's
/// own data, so it is also safe in a wait with the GVL released (a fiber
/// cannot switch there); a miss (first call in another fiber) needs the
/// GVL, which every caller holds when it starts an operation.
#[inline]
fn current_fiber_token() -> u64 {
    let key = running_fiber_key();
    let (cached, token) = LAST.with(Cell::get);
    if cached == key && token != 0 {
        return token;
    }
    cache_token_of(key)
}

/// The cache miss of [`current_fiber_token`], out of line so that the hit
/// (every lock operation) keeps a small frame. GVL held; `key` is the
/// running fiber's.
#[cold]
#[inline(never)]
fn cache_token_of(key: u64) -> u64 {
    // SAFETY: as in `running_fiber_key`; the same fiber as `key` (no fiber
    // switch in between).
    let fiber = unsafe { rb_sys::rb_fiber_current() };
    let token = token_of(fiber);
    // Pinned before it is cached: `key` names it from now on.
    PIN.with(|pin| pin.pin(fiber));
    LAST.with(|last| last.set((key, token)));
    token
}

/// The current fiber's token, for a caller holding the GVL (a method's
/// fast entry point): as [`current_fiber_token`], but while the same fiber
/// keeps asking it costs reading the key, a compare and no thread-local
/// lookup. Falls back to the per-thread cache once other Ractors exist
/// (they run in parallel, each with a lock of its own).
#[inline]
pub fn current_token_with_gvl() -> u64 {
    // SAFETY: a pointer-sized global of libruby, only read.
    if unsafe { ruby_single_main_ractor }.is_null() {
        return current_fiber_token();
    }
    let key = running_fiber_key();
    // A key is never 0, so an empty cache never matches; and the token
    // is stored with its key, with the GVL held.
    if GVL_KEY.load(Ordering::Relaxed) == key {
        return GVL_TOKEN.load(Ordering::Relaxed);
    }
    cache_with_gvl(key)
}

/// The cache miss of [`current_token_with_gvl`]. GVL held, main Ractor;
/// `key` is the running fiber's.
#[cold]
#[inline(never)]
fn cache_with_gvl(key: u64) -> u64 {
    // SAFETY: as in `cache_token_of`.
    let fiber = unsafe { rb_sys::rb_fiber_current() };
    let token = current_fiber_token();
    // Pinned before it is cached, and cached before anything can collect.
    let slot = *GVL_PIN.get_or_init(|| {
        // Kept for ever: never handed back to FREE_SLOTS.
        let slot = std::mem::ManuallyDrop::new(PinSlot::take());
        slot.0 as usize
    });
    // SAFETY: a registered slot that stays allocated for ever, written
    // with the GVL held (see `PinSlot::pin`), and only here.
    unsafe { *(slot as *mut VALUE) = fiber };
    GVL_TOKEN.store(token, Ordering::Relaxed);
    GVL_KEY.store(key, Ordering::Relaxed);
    token
}

/// Reads (or gives) `fiber` its token. GVL held.
fn token_of(fiber: VALUE) -> u64 {
    let ids = IDS.get().expect("owner tokens installed");
    if let Some(token) = hidden_u64(fiber, ids.fiber_token) {
        return token;
    }
    // SAFETY: the current thread's object, GVL held.
    let thread = unsafe { rb_sys::rb_thread_current() };
    let thread_part = hidden_u64(thread, ids.thread_part)
        .and_then(|part| u32::try_from(part).ok())
        .unwrap_or_else(|| {
            let part = next_serial(&NEXT_THREAD, THREAD_PART_LIMIT);
            set_hidden_u64(thread, ids.thread_part, u64::from(part));
            part
        });
    let token = identity::owner_token(thread_part, next_serial(&NEXT_FIBER, u32::MAX));
    set_hidden_u64(fiber, ids.fiber_token, token);
    token
}

/// The thread part of the calling thread's tokens, if any fiber of it ever
/// asked for one. GVL held.
pub fn current_thread_part() -> Option<u32> {
    let ids = IDS.get()?;
    // SAFETY: the current thread's object, GVL held.
    let thread = unsafe { rb_sys::rb_thread_current() };
    hidden_u64(thread, ids.thread_part).and_then(|part| u32::try_from(part).ok())
}

/// The next serial in 1..limit, wrapping around.
fn next_serial(counter: &AtomicU32, limit: u32) -> u32 {
    loop {
        let serial = counter.fetch_add(1, Ordering::Relaxed) % limit;
        if serial != 0 {
            return serial;
        }
    }
}

/// A hidden instance variable holding a non-negative Fixnum, if set.
fn hidden_u64(object: VALUE, id: ID) -> Option<u64> {
    // SAFETY: GVL held; reading an instance variable never raises, and
    // `rb_ivar_get` of an unset one returns nil.
    let value = unsafe { rb_sys::rb_ivar_get(object, id) };
    let api = rb_sys::stable_api::get_default();
    use rb_sys::stable_api::StableApiDefinition;
    if !api.fixnum_p(value) {
        return None;
    }
    u64::try_from(api.fix2long(value)).ok()
}

/// Sets a hidden instance variable to a Fixnum, unless the object is
/// frozen (then the value is simply not remembered).
fn set_hidden_u64(object: VALUE, id: ID, value: u64) {
    use rb_sys::stable_api::StableApiDefinition;
    let api = rb_sys::stable_api::get_default();
    // SAFETY: GVL held; `object` is a live heap object (a Fiber or Thread).
    if unsafe { api.frozen_p(object) } {
        return;
    }
    let value = api.long2num(value as i64);
    // SAFETY: GVL held; the object is not frozen, so setting an instance
    // variable cannot raise.
    unsafe { rb_sys::rb_ivar_set(object, id, value) };
}
