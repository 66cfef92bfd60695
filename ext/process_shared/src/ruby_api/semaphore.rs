//! `ProcessShared::Semaphore`: a counting semaphore shared across fork.

use super::blocking::{block_until, deadline_after};
use super::convert;
use super::errors::{errno_error, OrRaise};
use super::guard::method;
use super::handle::Handle;
use super::named;
use super::typed::This;
use crate::core::named::SharedState;
use crate::core::semaphore::Semaphore as CoreSemaphore;
use crate::platform::WaitOutcome;
use magnus::{prelude::*, scan_args::scan_args, Error, RModule, Ruby, Value};
use std::time::Duration;

#[magnus::wrap(class = "ProcessShared::Semaphore", free_immediately, size)]
#[derive(Default)]
pub struct Semaphore {
    pub(super) handle: Handle<CoreSemaphore>,
}

/// Takes one unit, blocking (GVL released, interruptible) until `deadline`.
/// `Ok(false)` when the deadline passed first.
pub fn acquire(
    ruby: &Ruby,
    handle: &Handle<CoreSemaphore>,
    deadline: Option<std::time::Duration>,
) -> Result<bool, Error> {
    if handle.with(ruby, CoreSemaphore::try_wait)? {
        return Ok(true);
    }
    let semaphore = handle.get(ruby)?;
    let acquired = block_until(ruby, deadline, |slice_end| {
        Ok(match semaphore.wait_until(slice_end)? {
            WaitOutcome::Acquired => Some(()),
            WaitOutcome::TimedOut | WaitOutcome::Interrupted => None,
        })
    })?;
    Ok(acquired.is_some())
}

/// Runs the block between `enter` and `exit`, calling `exit` even when the
/// block raises, throws or breaks; the block's value or its error.
pub fn around_block(
    ruby: &Ruby,
    enter: impl FnOnce() -> Result<(), Error>,
    exit: impl FnOnce() -> Result<(), Error>,
) -> Result<Value, Error> {
    if !ruby.block_given() {
        return Err(Error::new(
            ruby.exception_thread_error(),
            "must be called with a block",
        ));
    }
    enter()?;
    let result = ruby.yield_values::<(), Value>(());
    let released = exit();
    let value = result?;
    released.map(|()| value)
}

/// The optional initial value of `new(value = 1)`.
pub fn initial_value(ruby: &Ruby, args: &[Value]) -> Result<u64, Error> {
    let args = scan_args::<(), (Option<Value>,), (), (), (), ()>(args)?;
    match args.optional.0 {
        Some(value) => convert::count(ruby, value, "initial value"),
        None => Ok(1),
    }
}

/// `try_wait(timeout = nil)` of both semaphores: without a timeout, take a
/// unit now (`try_now`) or raise `Errno::EAGAIN`; with one, wait for a unit
/// until the deadline (`wait_until`) or raise `Errno::ETIMEDOUT`.
pub fn try_wait_with(
    ruby: &Ruby,
    args: &[Value],
    try_now: impl FnOnce() -> Result<bool, Error>,
    wait_until: impl FnOnce(Option<Duration>) -> Result<bool, Error>,
) -> Result<(), Error> {
    let args = scan_args::<(), (Option<Value>,), (), (), (), ()>(args)?;
    match args.optional.0.filter(|value| !value.is_nil()) {
        None if try_now()? => Ok(()),
        None => Err(errno_error(ruby, libc::EAGAIN, "semaphore value is zero")),
        Some(value) => {
            let timeout = convert::timeout(ruby, Some(value))?;
            if wait_until(deadline_after(timeout))? {
                Ok(())
            } else {
                Err(errno_error(
                    ruby,
                    libc::ETIMEDOUT,
                    "semaphore wait timed out",
                ))
            }
        }
    }
}

impl Semaphore {
    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        let (args, naming) = named::split_args(ruby, args)?;
        let initial = initial_value(ruby, args)?;
        let semaphore = named::create::<CoreSemaphore>(
            ruby,
            naming.as_ref(),
            "ProcessShared::Semaphore",
            initial,
        )?;
        rb_self.handle.open(ruby, semaphore)
    }

    fn initialize_copy(ruby: &Ruby, rb_self: This<Self>, original: &Self) -> Result<(), Error> {
        rb_self.handle.adopt(ruby, original.handle.get(ruby)?)
    }

    fn wait(ruby: &Ruby, rb_self: This<Self>) -> Result<This<Self>, Error> {
        acquire(ruby, &rb_self.handle, None)?;
        Ok(rb_self)
    }

    fn try_wait(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<This<Self>, Error> {
        try_wait_with(
            ruby,
            args,
            || rb_self.handle.with(ruby, CoreSemaphore::try_wait),
            |deadline| acquire(ruby, &rb_self.handle, deadline),
        )?;
        Ok(rb_self)
    }

    fn post(ruby: &Ruby, rb_self: This<Self>) -> Result<This<Self>, Error> {
        rb_self
            .handle
            .with(ruby, CoreSemaphore::post)?
            .or_raise(ruby)?;
        Ok(rb_self)
    }

    fn value(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self
            .handle
            .with(ruby, CoreSemaphore::value)?
            .or_raise(ruby)
    }

    fn synchronize(ruby: &Ruby, rb_self: This<Self>) -> Result<Value, Error> {
        let semaphore = rb_self.handle.get(ruby)?;
        around_block(
            ruby,
            || acquire(ruby, &rb_self.handle, None).map(drop),
            || semaphore.post().or_raise(ruby),
        )
    }

    fn close(&self) {
        self.handle.close();
    }

    fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }
}

impl named::NamedClass for Semaphore {
    fn with_region<R>(
        &self,
        ruby: &Ruby,
        f: impl FnOnce(&crate::core::region::SharedRegion) -> R,
    ) -> Result<R, Error> {
        self.handle.with(ruby, |object| f(object.region()))
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("Semaphore", ruby.class_object())?;
    class.define_alloc_func::<Semaphore>();
    class.define_method("initialize", method!(Semaphore::initialize, -1))?;
    class.define_method("initialize_copy", method!(Semaphore::initialize_copy, 1))?;
    class.define_method("wait", method!(Semaphore::wait, 0))?;
    class.define_method("try_wait", method!(Semaphore::try_wait, -1))?;
    class.define_method("post", method!(Semaphore::post, 0))?;
    class.define_method("value", method!(Semaphore::value, 0))?;
    class.define_method("synchronize", method!(Semaphore::synchronize, 0))?;
    class.define_method("close", method!(Semaphore::close, 0))?;
    class.define_method("closed?", method!(Semaphore::is_closed, 0))?;
    named::include_in::<Semaphore>(ruby, class)?;
    Ok(())
}
