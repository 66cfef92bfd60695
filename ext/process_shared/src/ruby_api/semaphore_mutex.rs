//! `ProcessShared::SemaphoreMutex`, what `Semaphore#to_mtx` returns: a
//! mutex-like view of a semaphore with no owner checks (`lock` waits,
//! `unlock` posts), for code already known to be correct.

use super::args::{optional_timeout, timeout_given};
use super::errors::OrRaise;
use super::guard::method;
use super::handle::{define_handle_class, handle_class, inspect_with, Handle};
use super::methods::{self, acquire};
use super::semaphore::Semaphore;
use super::typed::This;
use super::uninterruptible::{lock_again, sleep_released};
use crate::core::park::{deadline_after, wait_then_reacquire};
use crate::core::semaphore::Semaphore as CoreSemaphore;
use magnus::{prelude::*, typed_data::Obj, Error, RClass, RModule, Ruby, Value};

handle_class!(
    SemaphoreMutex,
    "ProcessShared::SemaphoreMutex",
    CoreSemaphore
);

/// Takes a unit again after `sleep`, deferring interrupts until it is held.
fn relock(ruby: &Ruby, handle: &Handle<CoreSemaphore>) -> Result<(), Error> {
    let semaphore = handle.get(ruby)?;
    if semaphore.try_wait() {
        return Ok(());
    }
    lock_again(ruby, move |park| semaphore.acquire(park, None).map(drop))
}

impl SemaphoreMutex {
    fn inspect(ruby: &Ruby, rb_self: This<Self>) -> String {
        inspect_with(ruby, rb_self, |semaphore| {
            match semaphore.value() {
                Ok(0) => "locked",
                Ok(_) => "unlocked",
                Err(_) => "state unknown",
            }
            .to_string()
        })
    }

    fn initialize(ruby: &Ruby, rb_self: This<Self>, semaphore: &Semaphore) -> Result<(), Error> {
        rb_self.handle.adopt(ruby, semaphore.handle.get(ruby)?)
    }

    fn try_lock(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<bool, Error> {
        let timeout = optional_timeout(ruby, args)?;
        if rb_self.handle.with(ruby, CoreSemaphore::try_wait)? {
            return Ok(true);
        }
        if !timeout_given(args) {
            return Ok(false);
        }
        acquire(ruby, &rb_self.handle, deadline_after(timeout))
    }

    fn is_locked(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        Ok(rb_self
            .handle
            .with(ruby, CoreSemaphore::value)?
            .or_raise(ruby)?
            == 0)
    }

    fn sleep(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<Value, Error> {
        let timeout = optional_timeout(ruby, args)?;
        rb_self
            .handle
            .with(ruby, CoreSemaphore::post)?
            .or_raise(ruby)?;
        sleep_released(ruby, timeout, |park, sleep| {
            wait_then_reacquire(park, |_| sleep(), || relock(ruby, &rb_self.handle))
        })
    }
}

/// `Semaphore#to_mtx`: a new `SemaphoreMutex` over the same semaphore.
fn to_mtx(ruby: &Ruby, semaphore: &Semaphore) -> Result<Obj<SemaphoreMutex>, Error> {
    let view = SemaphoreMutex::default();
    view.handle.adopt(ruby, semaphore.handle.get(ruby)?)?;
    Ok(ruby.obj_wrap(view))
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("SemaphoreMutex", ruby.class_object())?;
    define_handle_class!(class, SemaphoreMutex);
    class.define_method("initialize", method!(SemaphoreMutex::initialize, 1))?;
    class.define_method("lock", method!(methods::wait::<SemaphoreMutex>, 0))?;
    class.define_method("try_lock", method!(SemaphoreMutex::try_lock, -1))?;
    class.define_method("unlock", method!(methods::post::<SemaphoreMutex>, 0))?;
    class.define_method("locked?", method!(SemaphoreMutex::is_locked, 0))?;
    class.define_method(
        "synchronize",
        method!(methods::synchronize::<SemaphoreMutex>, 0),
    )?;
    class.define_method("sleep", method!(SemaphoreMutex::sleep, -1))?;
    class.define_method("inspect", method!(SemaphoreMutex::inspect, 0))?;

    let semaphore: RClass = namespace.const_get("Semaphore")?;
    semaphore.define_method("to_mtx", method!(to_mtx, 0))?;
    Ok(())
}
