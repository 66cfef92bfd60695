//! Hand-written C entry points for the uncontended lock operations:
//! `lock`/`unlock` and `synchronize` of `Mutex`, `enter`/`exit` and
//! `synchronize` of `Monitor` (and their aliases), `wait`/`post` and
//! `synchronize` of `Semaphore`, `BinarySemaphore` and `UndoSemaphore`
//! (`Semaphore.new(n, undo: true)`), `lock`/`unlock` and `synchronize` of
//! `SemaphoreMutex` (`Semaphore#to_mtx`), and both sides of
//! `ReadWriteLock` (`acquire_read_lock`/`release_read_lock`/`with_read_lock`
//! and their write twins).
//!
//! As in [`fast_path`](super::fast_path), magnus's wrappers cost about as
//! much as the lock itself. Each entry point does only the common case — an
//! open object, a lock taken or given back at once — and hands everything
//! else (a busy lock, an error, a closed object, no block) to the checked
//! method it replaced, which [`init`] keeps as a private method under
//! [`slow_name`]; `synchronize` takes a busy lock with the checked enter
//! method (`lock`, `wait`, `enter`) before it yields. So waiting, interrupts, fibers and every exception stay in
//! the checked methods; the entry points never block and never raise by
//! themselves (but for a Rust panic, raised as in every other method).

use super::binary_semaphore::BinarySemaphore;
use super::fast_path::{fast, slow_name, slow_named};
use super::handle::HandleClass;
use super::monitor::Monitor;
use super::mutex::Mutex;
use super::owner::current_token_with_gvl;
use super::read_write_lock::ReadWriteLock;
use super::semaphore::Semaphore;
use super::semaphore_mutex::SemaphoreMutex;
use super::typed::wrapped;
use super::undo_semaphore::UndoSemaphore;
use crate::core::binary_semaphore::BinarySemaphore as CoreBinarySemaphore;
use crate::core::holders::Owner;
use crate::core::mutex::{Mutex as CoreMutex, TryLock};
use crate::core::rwlock::{Attempt, ReadWriteLock as CoreReadWriteLock};
use crate::core::semaphore::Semaphore as CoreSemaphore;
use crate::core::undo_semaphore::UndoSemaphore as CoreUndoSemaphore;
use magnus::{prelude::*, rb_sys::AsRawValue, Error, RClass, RModule, Ruby};
use rb_sys::VALUE;
use std::ffi::c_int;

/// What the enter and exit methods of a lock return.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// The receiver (`Mutex#lock`, `Semaphore#wait`).
    Receiver,
    /// `nil` (`Monitor#enter`).
    Nil,
    /// `true` (`ReadWriteLock#acquire_read_lock`).
    True,
}

/// A lock with fast entry points, or one side of it (a read-write lock
/// has two): its class, its method names and what the fast part of each
/// does.
pub trait LockClass {
    /// The Ruby class whose objects hold the lock.
    type Class: HandleClass;
    /// The methods that take the lock (`lock` or `wait`, then aliases).
    const ENTER: &'static [&'static str];
    /// The methods that give it back (`unlock` or `post`, then aliases).
    const EXIT: &'static [&'static str];
    /// The methods that run a block holding it (`synchronize`, aliases).
    const SYNCHRONIZE: &'static [&'static str] = &["synchronize"];
    /// What the enter and exit methods return.
    const RETURNS: Returns = Returns::Receiver;
    /// Who calls, as the lock needs to know it: nothing for a semaphore,
    /// the owner token for a `Mutex`, the holder for a holder table.
    type Caller: Copy + std::panic::UnwindSafe;
    /// The caller, asked once per call (`synchronize` asks once for both
    /// [`LockClass::enter_by`] and [`LockClass::exit_by`], since its block
    /// ends in the fiber it began in).
    fn caller() -> Self::Caller;
    /// Takes the lock (a unit) for `caller` if that needs no wait and no
    /// error.
    fn enter_by(lock: &Resource<Self>, caller: Self::Caller) -> bool;
    /// Gives it back; `false`, with nothing changed, when the checked
    /// method must do it (and raise).
    fn exit_by(lock: &Resource<Self>, caller: Self::Caller) -> bool;
}

/// What the objects of a lock's class hold.
type Resource<W> = <<W as LockClass>::Class as HandleClass>::Resource;

impl LockClass for Mutex {
    type Class = Self;
    const ENTER: &'static [&'static str] = &["lock"];
    const EXIT: &'static [&'static str] = &["unlock"];
    type Caller = u64;

    #[inline(always)]
    fn caller() -> u64 {
        current_token_with_gvl()
    }

    #[inline(always)]
    fn enter_by(mutex: &CoreMutex, caller: u64) -> bool {
        mutex.lock_fast_as(caller) == TryLock::Acquired
    }

    #[inline(always)]
    fn exit_by(mutex: &CoreMutex, caller: u64) -> bool {
        mutex.unlock_as(caller)
    }
}

impl LockClass for Monitor {
    type Class = Self;
    const ENTER: &'static [&'static str] = &["enter", "mon_enter", "lock"];
    const EXIT: &'static [&'static str] = &["exit", "mon_exit", "unlock"];
    const SYNCHRONIZE: &'static [&'static str] = &["synchronize", "mon_synchronize"];
    const RETURNS: Returns = Returns::Nil;
    type Caller = u64;

    #[inline(always)]
    fn caller() -> u64 {
        current_token_with_gvl()
    }

    #[inline(always)]
    fn enter_by(monitor: &CoreMutex, caller: u64) -> bool {
        matches!(monitor.enter_fast_as(caller), Ok(TryLock::Acquired))
    }

    #[inline(always)]
    fn exit_by(monitor: &CoreMutex, caller: u64) -> bool {
        monitor.exit_once_as(caller)
    }
}

/// The semaphore family: `wait`/`post` (`lock`/`unlock` for the view),
/// whoever calls.
macro_rules! semaphore_class {
    ($class:ty, $core:ty, $enter:literal, $exit:literal) => {
        impl LockClass for $class {
            type Class = Self;
            const ENTER: &'static [&'static str] = &[$enter];
            const EXIT: &'static [&'static str] = &[$exit];
            type Caller = ();

            #[inline(always)]
            fn caller() {}

            #[inline]
            fn enter_by(semaphore: &$core, _: ()) -> bool {
                semaphore.try_wait()
            }

            #[inline]
            fn exit_by(semaphore: &$core, _: ()) -> bool {
                semaphore.post().is_ok()
            }
        }
    };
}

semaphore_class!(Semaphore, CoreSemaphore, "wait", "post");
semaphore_class!(SemaphoreMutex, CoreSemaphore, "lock", "unlock");
semaphore_class!(BinarySemaphore, CoreBinarySemaphore, "wait", "post");

/// Who calls, for the holder tables, with the GVL held.
#[inline(always)]
fn holder() -> Owner {
    Owner::with_token(current_token_with_gvl())
}

impl LockClass for UndoSemaphore {
    type Class = Self;
    const ENTER: &'static [&'static str] = &["wait"];
    const EXIT: &'static [&'static str] = &["post"];
    type Caller = Owner;

    #[inline(always)]
    fn caller() -> Owner {
        holder()
    }

    #[inline(always)]
    fn enter_by(semaphore: &CoreUndoSemaphore, caller: Owner) -> bool {
        semaphore.try_take(caller)
    }

    #[inline(always)]
    fn exit_by(semaphore: &CoreUndoSemaphore, caller: Owner) -> bool {
        semaphore.try_post(caller)
    }
}

/// The read side of a `ReadWriteLock`.
pub struct ReadSide;

/// The write side of a `ReadWriteLock`.
pub struct WriteSide;

impl LockClass for ReadSide {
    type Class = ReadWriteLock;
    const ENTER: &'static [&'static str] = &["acquire_read_lock"];
    const EXIT: &'static [&'static str] = &["release_read_lock"];
    const SYNCHRONIZE: &'static [&'static str] = &["with_read_lock"];
    const RETURNS: Returns = Returns::True;
    type Caller = Owner;

    #[inline(always)]
    fn caller() -> Owner {
        holder()
    }

    #[inline]
    fn enter_by(lock: &CoreReadWriteLock, caller: Owner) -> bool {
        matches!(lock.try_read(caller), Ok(Attempt::Acquired))
    }

    #[inline]
    fn exit_by(lock: &CoreReadWriteLock, caller: Owner) -> bool {
        lock.release_read(caller).is_ok()
    }
}

impl LockClass for WriteSide {
    type Class = ReadWriteLock;
    const ENTER: &'static [&'static str] = &["acquire_write_lock"];
    const EXIT: &'static [&'static str] = &["release_write_lock"];
    const SYNCHRONIZE: &'static [&'static str] = &["with_write_lock"];
    const RETURNS: Returns = Returns::True;
    type Caller = Owner;

    #[inline(always)]
    fn caller() -> Owner {
        holder()
    }

    #[inline]
    fn enter_by(lock: &CoreReadWriteLock, caller: Owner) -> bool {
        matches!(lock.try_write(caller), Ok(Attempt::Acquired))
    }

    #[inline]
    fn exit_by(lock: &CoreReadWriteLock, caller: Owner) -> bool {
        lock.release_write(caller).is_ok()
    }
}

/// The open lock of `rb_self`, or `None` (another class, closed, never
/// initialized: the checked method raises the right error).
///
/// # Safety
/// Called with the GVL held from a method entry point; the reference must
/// not be used after any call into Ruby.
#[inline]
unsafe fn open_lock<'a, W: LockClass>(rb_self: VALUE) -> Option<&'a Resource<W>>
where
    W::Class: 'a,
{
    let data = wrapped::<W::Class>(rb_self)?;
    // SAFETY: `wrapped` found a live W::Class, which the receiver keeps alive for
    // this call; see the function's contract for `peek`.
    unsafe { data.as_ref().handle().peek() }
}

/// Runs `step` on the open lock of `rb_self`: whether it succeeded.
///
/// # Safety
/// As [`open_lock`]; `step` calls no Ruby code.
#[inline(always)]
unsafe fn step<W: LockClass>(
    rb_self: VALUE,
    step: impl FnOnce(&Resource<W>) -> bool + std::panic::UnwindSafe,
) -> bool {
    // SAFETY: see the function's contract; `fast` raises a panic.
    unsafe { fast(|| open_lock::<W>(rb_self).map(step).filter(|&done| done)).is_some() }
}

/// What the enter and exit methods of `W` return.
#[inline]
fn returned<W: LockClass>(rb_self: VALUE) -> VALUE {
    match W::RETURNS {
        Returns::Receiver => rb_self,
        Returns::Nil => rb_sys::Qnil as VALUE,
        Returns::True => rb_sys::Qtrue as VALUE,
    }
}

/// `lock` / `wait`: returns self.
unsafe extern "C" fn enter<W: LockClass>(rb_self: VALUE) -> VALUE {
    // SAFETY: a method entry point: the GVL is held, nothing needs
    // dropping; no Ruby code runs while the lock is used.
    if unsafe { step::<W>(rb_self, |lock| W::enter_by(lock, W::caller())) } {
        returned::<W>(rb_self)
    } else {
        // SAFETY: nothing is held that needs dropping.
        unsafe { slow_named(rb_self, W::ENTER[0], &[]) }
    }
}

/// `unlock` / `post`: returns self.
unsafe extern "C" fn exit<W: LockClass>(rb_self: VALUE) -> VALUE {
    // SAFETY: as in `enter`.
    if unsafe { step::<W>(rb_self, |lock| W::exit_by(lock, W::caller())) } {
        returned::<W>(rb_self)
    } else {
        // SAFETY: nothing is held that needs dropping.
        unsafe { slow_named(rb_self, W::EXIT[0], &[]) }
    }
}

/// Yields to the block of the method that called `rb_protect` with no
/// arguments (so that a lambda with none accepts it).
unsafe extern "C" fn yield_nothing(_: VALUE) -> VALUE {
    // SAFETY: called by `rb_protect` from `synchronize`, whose caller passed
    // a block (checked there); no arguments.
    unsafe { rb_sys::rb_yield_values2(0, std::ptr::null()) }
}

/// `synchronize`: the block between taking the lock and giving it back,
/// which happens even when the block raises, throws or breaks. The
/// block's value.
unsafe extern "C" fn synchronize<W: LockClass>(rb_self: VALUE) -> VALUE {
    // SAFETY: `rb_block_given_p` only reads the frame.
    if unsafe { rb_sys::rb_block_given_p() } == 0 {
        // The checked method raises ThreadError (no block is passed on).
        // SAFETY: nothing is held that needs dropping.
        return unsafe { slow_named(rb_self, W::SYNCHRONIZE[0], &[]) };
    }
    let caller = W::caller();
    // SAFETY: as in `enter`.
    if !unsafe { step::<W>(rb_self, move |lock| W::enter_by(lock, caller)) } {
        // Busy (or closed...): the checked enter waits, or raises before
        // the block runs.
        // SAFETY: nothing is held that needs dropping.
        unsafe { slow_named(rb_self, W::ENTER[0], &[]) };
    }
    let mut state: c_int = 0;
    // SAFETY: the block was given; `rb_protect` catches every non-local
    // exit of the block (raise, throw, break) into `state`.
    let value =
        unsafe { rb_sys::rb_protect(Some(yield_nothing), rb_sys::Qnil as VALUE, &mut state) };
    // The block may have closed the object or released the lock itself:
    // look the lock up again.
    // SAFETY: as in `enter`.
    let exited = unsafe { step::<W>(rb_self, move |lock| W::exit_by(lock, caller)) };
    if state != 0 {
        // The block's exception wins over any trouble giving the lock back,
        // as in the checked `synchronize`.
        // SAFETY: resumes the non-local exit `rb_protect` caught; nothing
        // is held that needs dropping.
        unsafe { rb_sys::rb_jump_tag(state) }
    }
    if !exited {
        // Raises the checked method's error (or succeeds where it can).
        // SAFETY: nothing is held that needs dropping.
        unsafe { slow_named(rb_self, W::EXIT[0], &[]) };
    }
    value
}

/// A method entry point taking only the receiver.
type EntryPoint0 = unsafe extern "C" fn(VALUE) -> VALUE;

/// Keeps the method `names[0]` of `class` as the private checked method,
/// and defines `function` as the public method of every name.
fn replace(class: RClass, names: &[&str], function: EntryPoint0) -> Result<(), Error> {
    let checked = slow_name(names[0]);
    let _: magnus::Value = class.funcall("alias_method", (checked.as_str(), names[0]))?;
    let _: magnus::Value = class.funcall("private", (checked.as_str(),))?;
    // SAFETY: only the type is erased: Ruby calls the function back with
    // the receiver alone (arity 0), the signature it has.
    let erased =
        unsafe { std::mem::transmute::<EntryPoint0, unsafe extern "C" fn() -> VALUE>(function) };
    for name in names {
        let name = std::ffi::CString::new(*name)
            .map_err(|_| Error::new(Ruby::get_with(class).exception_arg_error(), "method name"))?;
        // SAFETY: a valid class and NUL-terminated name; arity 0.
        unsafe { rb_sys::rb_define_method(class.as_raw(), name.as_ptr(), Some(erased), 0) };
    }
    Ok(())
}

/// Installs the entry points of `W` in `class`, whose checked methods
/// exist.
fn install<W: LockClass>(class: RClass) -> Result<(), Error> {
    replace(class, W::ENTER, enter::<W>)?;
    replace(class, W::EXIT, exit::<W>)?;
    replace(class, W::SYNCHRONIZE, synchronize::<W>)
}

/// Installs every fast lock entry point over the checked methods; runs
/// after the classes are defined.
pub fn init(namespace: RModule) -> Result<(), Error> {
    install::<Mutex>(namespace.const_get("Mutex")?)?;
    install::<Monitor>(namespace.const_get("Monitor")?)?;
    install::<Semaphore>(namespace.const_get("Semaphore")?)?;
    install::<BinarySemaphore>(namespace.const_get("BinarySemaphore")?)?;
    install::<SemaphoreMutex>(namespace.const_get("SemaphoreMutex")?)?;
    install::<UndoSemaphore>(namespace.const_get("UndoSemaphore")?)?;
    let read_write_lock: RClass = namespace.const_get("ReadWriteLock")?;
    install::<ReadSide>(read_write_lock)?;
    install::<WriteSide>(read_write_lock)
}
