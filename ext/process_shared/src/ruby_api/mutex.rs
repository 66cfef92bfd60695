//! `ProcessShared::Mutex`: `Thread::Mutex` across processes; the owner is
//! one fiber of one thread of one process.

use super::args::{optional_timeout, timeout_given};
use super::blocking::RubyPark;
use super::errors::{process_error, OrRaise};
use super::guard::{function, method};
use super::handle::{define_handle_class, handle_class, inspect_with, Handle};
use super::methods::around_block;
use super::named;
use super::owner::release_at_thread_end;
use super::typed::This;
use super::uninterruptible::{lock_again, sleep_released};
use crate::core::mutex::{Mutex as CoreMutex, TryLock};
use crate::core::park::deadline_after;
use magnus::{prelude::*, Error, RModule, Ruby, Value};
use std::sync::Arc;

handle_class!(
    Mutex,
    "ProcessShared::Mutex",
    CoreMutex,
    before_close = release_own_hold
);

/// What `close` does first: a lock the calling thread holds is released
/// (nothing could release it through this object later), however deeply a
/// monitor was entered.
pub fn release_own_hold(mutex: &CoreMutex) {
    if mutex.is_owned() {
        let _ = mutex.unlock();
    }
}

/// Locks again after a condition wait or `sleep`, deferring interrupts
/// until the lock is held (see `uninterruptible`).
pub fn relock(ruby: &Ruby, mutex: &Arc<CoreMutex>) -> Result<(), Error> {
    if mutex.try_acquire() {
        return Ok(());
    }
    let mutex = Arc::clone(mutex);
    lock_again(ruby, move |park| mutex.relock(park))
}

/// Raised when a fiber would wait, without a fiber scheduler, for a lock
/// that another fiber of its own thread holds: nothing could ever release
/// it (Ruby 3.2's words for `Thread::Mutex`).
pub const HELD_BY_OTHER_FIBER: &str =
    "deadlock; lock already owned by another fiber belonging to the same thread";

/// Waits for a lock that `fast` found busy (`Busy` or `HeldByOtherFiber`):
/// spins, then parks. A lock another fiber of this thread holds can only
/// be waited for under a fiber scheduler; otherwise `ProcessError`.
pub fn lock_busy(ruby: &Ruby, mutex: &CoreMutex, fast: TryLock) -> Result<(), Error> {
    let mut park = RubyPark::interruptible(ruby);
    if fast == TryLock::HeldByOtherFiber && !park.under_scheduler() {
        return Err(process_error(ruby, HELD_BY_OTHER_FIBER));
    }
    mutex.lock_contended(&mut park)
}

/// Waits until `deadline` for a lock `try_lock` found busy: `Ok(false)`
/// when it passes first, and at once when another fiber of this thread
/// holds it and no fiber scheduler could run that fiber meanwhile.
pub fn lock_busy_until(
    ruby: &Ruby,
    mutex: &CoreMutex,
    fast: TryLock,
    deadline: Option<std::time::Duration>,
) -> Result<bool, Error> {
    let mut park = RubyPark::interruptible(ruby);
    if fast == TryLock::HeldByOtherFiber && !park.under_scheduler() {
        return Ok(false);
    }
    mutex.lock_until(&mut park, deadline)
}

/// `lock`, shared by `Mutex#lock` and `#synchronize`.
fn lock_handle(ruby: &Ruby, handle: &Handle<CoreMutex>) -> Result<(), Error> {
    match handle.with(ruby, CoreMutex::lock_fast)? {
        TryLock::Acquired => Ok(()),
        TryLock::AlreadyOwned => Err(process_error(ruby, "deadlock; recursive locking")),
        fast => lock_busy(ruby, &*handle.get(ruby)?, fast),
    }
}

/// What `inspect` shows of a lock: `locked by PID, N waiting` or
/// `unlocked` (with waiters, if any).
pub fn describe_lock(mutex: &CoreMutex) -> String {
    let waiting = mutex.waiting();
    match mutex.owner_pid() {
        Some(pid) => format!("locked by {pid}, {waiting} waiting"),
        None if waiting > 0 => format!("unlocked, {waiting} waiting"),
        None => "unlocked".to_string(),
    }
}

impl Mutex {
    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        named::initialize(ruby, rb_self, args, named::no_arguments)?;
        release_at_thread_end(&rb_self.handle.get(ruby)?);
        Ok(())
    }

    fn lock(ruby: &Ruby, rb_self: This<Self>) -> Result<This<Self>, Error> {
        lock_handle(ruby, &rb_self.handle)?;
        Ok(rb_self)
    }

    fn try_lock(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<bool, Error> {
        let timeout = optional_timeout(ruby, args)?;
        match rb_self.handle.with(ruby, CoreMutex::try_lock)? {
            TryLock::Acquired => Ok(true),
            TryLock::AlreadyOwned => Ok(false),
            _ if !timeout_given(args) => Ok(false),
            fast => lock_busy_until(
                ruby,
                &*rb_self.handle.get(ruby)?,
                fast,
                deadline_after(timeout),
            ),
        }
    }

    fn unlock(ruby: &Ruby, rb_self: This<Self>) -> Result<This<Self>, Error> {
        rb_self
            .handle
            .with(ruby, CoreMutex::unlock)?
            .or_raise(ruby)?;
        Ok(rb_self)
    }

    fn is_locked(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreMutex::is_locked)
    }

    fn is_owned(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreMutex::is_owned)
    }

    fn previous_owner_died(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreMutex::previous_owner_died)
    }

    fn owner_pid(ruby: &Ruby, rb_self: This<Self>) -> Result<Option<u32>, Error> {
        rb_self.handle.with(ruby, CoreMutex::owner_pid)
    }

    fn waiting(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self.handle.with(ruby, CoreMutex::waiting)
    }

    fn inspect(ruby: &Ruby, rb_self: This<Self>) -> String {
        inspect_with(ruby, rb_self, describe_lock)
    }

    fn synchronize(ruby: &Ruby, rb_self: This<Self>) -> Result<Value, Error> {
        let mutex = rb_self.handle.get(ruby)?;
        around_block(
            ruby,
            || lock_handle(ruby, &rb_self.handle),
            || mutex.unlock().or_raise(ruby),
        )
    }

    fn sleep(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<Value, Error> {
        let timeout = optional_timeout(ruby, args)?;
        let mutex = rb_self.handle.get(ruby)?;
        sleep_released(ruby, timeout, |park, sleep| {
            mutex.release_during(park, |_| sleep(), || relock(ruby, &mutex))
        })
    }
}

/// `ProcessShared::Mutex.hand_off = enabled`, private: the benchmarking
/// knob of eventual fairness (`Mutex`, `Monitor`) for this process and the
/// children it forks afterwards. `PROCESS_SHARED_HAND_OFF=0` in the
/// environment when the gem loads switches it off too.
fn set_hand_off(enabled: bool) -> bool {
    crate::core::mutex::set_hand_off(enabled);
    enabled
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    if std::env::var_os("PROCESS_SHARED_HAND_OFF").is_some_and(|value| value == "0") {
        crate::core::mutex::set_hand_off(false);
    }
    let class = namespace.define_class("Mutex", ruby.class_object())?;
    class.define_singleton_method("hand_off=", function!(set_hand_off, 1))?;
    let _: Value = class.funcall("private_class_method", ("hand_off=",))?;
    define_handle_class!(class, Mutex);
    class.define_method("initialize", method!(Mutex::initialize, -1))?;
    class.define_method("lock", method!(Mutex::lock, 0))?;
    class.define_method("try_lock", method!(Mutex::try_lock, -1))?;
    class.define_method("unlock", method!(Mutex::unlock, 0))?;
    class.define_method("locked?", method!(Mutex::is_locked, 0))?;
    class.define_method("owned?", method!(Mutex::is_owned, 0))?;
    class.define_method(
        "previous_owner_died?",
        method!(Mutex::previous_owner_died, 0),
    )?;
    class.define_method("synchronize", method!(Mutex::synchronize, 0))?;
    class.define_method("sleep", method!(Mutex::sleep, -1))?;
    named::include_in::<Mutex>(ruby, class)?;
    class.define_method("owner_pid", method!(Mutex::owner_pid, 0))?;
    class.define_method("waiting", method!(Mutex::waiting, 0))?;
    class.define_method("inspect", method!(Mutex::inspect, 0))?;
    Ok(())
}
