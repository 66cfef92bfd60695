//! Hand-written C entry points for the uncontended lock operations:
//! `lock`/`unlock` and `synchronize` of `Mutex`, `enter`/`exit` and
//! `synchronize` of `Monitor` (and their aliases), `wait`/`post` and
//! `synchronize` of `Semaphore` and `BinarySemaphore`, `lock`/`unlock` and
//! `synchronize` of `SemaphoreMutex` (`Semaphore#to_mtx`).
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
use super::semaphore::Semaphore;
use super::semaphore_mutex::SemaphoreMutex;
use super::typed::wrapped;
use crate::core::binary_semaphore::BinarySemaphore as CoreBinarySemaphore;
use crate::core::mutex::{Mutex as CoreMutex, TryLock};
use crate::core::semaphore::Semaphore as CoreSemaphore;
use magnus::{prelude::*, rb_sys::AsRawValue, Error, RClass, RModule, Ruby};
use rb_sys::VALUE;
use std::ffi::c_int;

/// A class with fast entry points: its method names and what the fast part
/// of each does.
pub trait LockClass: HandleClass {
    /// The methods that take the lock (`lock` or `wait`, then aliases).
    const ENTER: &'static [&'static str];
    /// The methods that give it back (`unlock` or `post`, then aliases).
    const EXIT: &'static [&'static str];
    /// The methods that run a block holding it (`synchronize`, aliases).
    const SYNCHRONIZE: &'static [&'static str] = &["synchronize"];
    /// Whether the enter and exit methods return self (else nil).
    const RETURNS_SELF: bool = true;
    /// Takes the lock (a unit) if that needs no wait and no error.
    fn enter_now(lock: &Self::Resource) -> bool;
    /// Gives it back; `false`, with nothing changed, when the checked
    /// method must do it (and raise).
    fn exit_now(lock: &Self::Resource) -> bool;
}

impl LockClass for Mutex {
    const ENTER: &'static [&'static str] = &["lock"];
    const EXIT: &'static [&'static str] = &["unlock"];

    #[inline]
    fn enter_now(mutex: &CoreMutex) -> bool {
        mutex.lock_fast() == TryLock::Acquired
    }

    #[inline]
    fn exit_now(mutex: &CoreMutex) -> bool {
        mutex.unlock().is_ok()
    }
}

impl LockClass for Monitor {
    const ENTER: &'static [&'static str] = &["enter", "mon_enter", "lock"];
    const EXIT: &'static [&'static str] = &["exit", "mon_exit", "unlock"];
    const SYNCHRONIZE: &'static [&'static str] = &["synchronize", "mon_synchronize"];
    const RETURNS_SELF: bool = false;

    #[inline]
    fn enter_now(monitor: &CoreMutex) -> bool {
        matches!(monitor.enter_fast(), Ok(TryLock::Acquired))
    }

    #[inline]
    fn exit_now(monitor: &CoreMutex) -> bool {
        monitor.exit_once().is_ok()
    }
}

/// The semaphore family: `wait`/`post` (`lock`/`unlock` for the view).
macro_rules! semaphore_class {
    ($class:ty, $core:ty, $enter:literal, $exit:literal) => {
        impl LockClass for $class {
            const ENTER: &'static [&'static str] = &[$enter];
            const EXIT: &'static [&'static str] = &[$exit];

            #[inline]
            fn enter_now(semaphore: &$core) -> bool {
                semaphore.try_wait()
            }

            #[inline]
            fn exit_now(semaphore: &$core) -> bool {
                semaphore.post().is_ok()
            }
        }
    };
}

semaphore_class!(Semaphore, CoreSemaphore, "wait", "post");
semaphore_class!(SemaphoreMutex, CoreSemaphore, "lock", "unlock");
semaphore_class!(BinarySemaphore, CoreBinarySemaphore, "wait", "post");

/// The open lock of `rb_self`, or `None` (another class, closed, never
/// initialized: the checked method raises the right error).
///
/// # Safety
/// Called with the GVL held from a method entry point; the reference must
/// not be used after any call into Ruby.
#[inline]
unsafe fn open_lock<'a, W: LockClass + 'a>(rb_self: VALUE) -> Option<&'a W::Resource> {
    let data = wrapped::<W>(rb_self)?;
    // SAFETY: `wrapped` found a live W, which the receiver keeps alive for
    // this call; see the function's contract for `peek`.
    unsafe { data.as_ref().handle().peek() }
}

/// Runs `step` on the open lock of `rb_self`: whether it succeeded.
///
/// # Safety
/// As [`open_lock`]; `step` calls no Ruby code.
#[inline(always)]
unsafe fn step<W: LockClass>(rb_self: VALUE, step: fn(&W::Resource) -> bool) -> bool {
    // SAFETY: see the function's contract; `fast` raises a panic.
    unsafe { fast(|| open_lock::<W>(rb_self).map(step).filter(|&done| done)).is_some() }
}

/// What the enter and exit methods of `W` return.
#[inline]
fn returned<W: LockClass>(rb_self: VALUE) -> VALUE {
    if W::RETURNS_SELF {
        rb_self
    } else {
        rb_sys::Qnil as VALUE
    }
}

/// `lock` / `wait`: returns self.
unsafe extern "C" fn enter<W: LockClass>(rb_self: VALUE) -> VALUE {
    // SAFETY: a method entry point: the GVL is held, nothing needs
    // dropping; no Ruby code runs while the lock is used.
    if unsafe { step::<W>(rb_self, W::enter_now) } {
        returned::<W>(rb_self)
    } else {
        // SAFETY: nothing is held that needs dropping.
        unsafe { slow_named(rb_self, W::ENTER[0], &[]) }
    }
}

/// `unlock` / `post`: returns self.
unsafe extern "C" fn exit<W: LockClass>(rb_self: VALUE) -> VALUE {
    // SAFETY: as in `enter`.
    if unsafe { step::<W>(rb_self, W::exit_now) } {
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
    // SAFETY: as in `enter`.
    if !unsafe { step::<W>(rb_self, W::enter_now) } {
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
    let exited = unsafe { step::<W>(rb_self, W::exit_now) };
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

/// Installs the entry points of `W`'s class, whose checked methods exist.
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
    install::<SemaphoreMutex>(namespace.const_get("SemaphoreMutex")?)
}
