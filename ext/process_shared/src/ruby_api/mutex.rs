//! `ProcessShared::Mutex`: `Thread::Mutex` across processes; the owner is
//! one thread of one process.

use super::blocking::{block_until, deadline_after};
use super::convert;
use super::errors::{process_error, OrRaise};
use super::guard::method;
use super::handle::Handle;
use super::named;
use super::semaphore::around_block;
use super::typed::This;
use super::uninterruptible::{block_until_done, sleep_then_relock, with_interrupts_deferred};
use crate::core::mutex::{Mutex as CoreMutex, TryLock};
use crate::core::named::SharedState;
use magnus::{prelude::*, scan_args::scan_args, Error, RModule, Ruby, Value};
use std::sync::Arc;
use std::time::Duration;

#[magnus::wrap(class = "ProcessShared::Mutex", free_immediately, size)]
#[derive(Default)]
pub struct Mutex {
    pub(super) handle: Handle<CoreMutex>,
}

/// Waits for a busy lock (GVL released, interruptible) until `deadline`;
/// `Ok(false)` when the deadline passed first. An interrupted wait leaves
/// the lock as it was.
pub fn lock_blocking(
    ruby: &Ruby,
    mutex: &CoreMutex,
    deadline: Option<Duration>,
) -> Result<bool, Error> {
    let waiter = mutex.waiter();
    Ok(block_until(ruby, deadline, |slice_end| waiter.wait_until(slice_end))?.is_some())
}

/// Locks again after a condition wait or `sleep`, deferring interrupts
/// until the lock is held (see `uninterruptible`).
pub fn relock(ruby: &Ruby, mutex: &Arc<CoreMutex>) -> Result<(), Error> {
    if mutex.try_acquire() {
        return Ok(());
    }
    let mutex = Arc::clone(mutex);
    with_interrupts_deferred(ruby, move |ruby| {
        let waiter = mutex.waiter();
        block_until_done(ruby, |slice_end| waiter.wait_until(slice_end))
    })
}

/// `lock`, shared by `Mutex#lock` and `#synchronize`.
fn lock_handle(ruby: &Ruby, handle: &Handle<CoreMutex>) -> Result<(), Error> {
    match handle.with(ruby, CoreMutex::lock_fast)? {
        TryLock::Acquired => Ok(()),
        TryLock::AlreadyOwned => Err(process_error(ruby, "deadlock; recursive locking")),
        TryLock::Busy => {
            let mutex = handle.get(ruby)?;
            if mutex.spin_acquire() {
                return Ok(());
            }
            lock_blocking(ruby, &mutex, None).map(drop)
        }
    }
}

/// An optional timeout argument (`nil` and `Float::INFINITY`: none).
pub fn optional_timeout(ruby: &Ruby, args: &[Value]) -> Result<Option<Duration>, Error> {
    let args = scan_args::<(), (Option<Value>,), (), (), (), ()>(args)?;
    convert::timeout(ruby, args.optional.0)
}

/// Whether a timeout argument was given at all (`try_lock(nil)` is
/// non-blocking, `try_lock(Float::INFINITY)` waits for ever).
pub fn timeout_given(args: &[Value]) -> bool {
    args.first().is_some_and(|value| !value.is_nil())
}

impl Mutex {
    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        let (args, naming) = named::split_args(ruby, args)?;
        scan_args::<(), (), (), (), (), ()>(args)?;
        let mutex = named::create::<CoreMutex>(ruby, naming.as_ref(), "ProcessShared::Mutex", ())?;
        rb_self.handle.open(ruby, mutex)
    }

    fn initialize_copy(ruby: &Ruby, rb_self: This<Self>, original: &Self) -> Result<(), Error> {
        rb_self.handle.adopt(ruby, original.handle.get(ruby)?)
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
            TryLock::Busy if !timeout_given(args) => Ok(false),
            TryLock::Busy => {
                lock_blocking(ruby, &*rb_self.handle.get(ruby)?, deadline_after(timeout))
            }
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
        let depth = mutex.release_for_wait().or_raise(ruby)?;
        sleep_then_relock(ruby, timeout, || {
            let relocked = relock(ruby, &mutex);
            mutex.resume_hold(depth);
            relocked
        })
    }

    /// Releases this process's handle; a lock the calling thread holds is
    /// unlocked first (nothing could unlock it through this object later).
    fn close(ruby: &Ruby, rb_self: This<Self>) {
        let _ = rb_self.handle.with(ruby, |mutex| {
            if mutex.is_owned() {
                let _ = mutex.unlock();
            }
        });
        rb_self.handle.close();
    }

    fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }
}

impl named::NamedClass for Mutex {
    fn with_region<R>(
        &self,
        ruby: &Ruby,
        f: impl FnOnce(&crate::core::region::SharedRegion) -> R,
    ) -> Result<R, Error> {
        self.handle.with(ruby, |object| f(object.region()))
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("Mutex", ruby.class_object())?;
    class.define_alloc_func::<Mutex>();
    class.define_method("initialize", method!(Mutex::initialize, -1))?;
    class.define_method("initialize_copy", method!(Mutex::initialize_copy, 1))?;
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
    class.define_method("close", method!(Mutex::close, 0))?;
    class.define_method("closed?", method!(Mutex::is_closed, 0))?;
    named::include_in::<Mutex>(ruby, class)?;
    Ok(())
}
