//! `ProcessShared::BinarySemaphore`: a semaphore whose value is only ever 0
//! or 1, shared across fork.

use super::blocking::block_until;
use super::errors::OrRaise;
use super::guard::method;
use super::handle::Handle;
use super::named;
use super::semaphore::{around_block, initial_value, try_wait_with};
use super::typed::This;
use crate::core::binary_semaphore::BinarySemaphore as CoreBinarySemaphore;
use crate::core::named::SharedState;
use magnus::{prelude::*, Error, RModule, Ruby, Value};
use std::time::Duration;

#[magnus::wrap(class = "ProcessShared::BinarySemaphore", free_immediately, size)]
#[derive(Default)]
pub struct BinarySemaphore {
    handle: Handle<CoreBinarySemaphore>,
}

/// Takes the 1, blocking (GVL released, interruptible) until `deadline`.
/// `Ok(false)` when the deadline passed first.
fn acquire(
    ruby: &Ruby,
    handle: &Handle<CoreBinarySemaphore>,
    deadline: Option<Duration>,
) -> Result<bool, Error> {
    if handle.with(ruby, CoreBinarySemaphore::try_wait)? {
        return Ok(true);
    }
    let semaphore = handle.get(ruby)?;
    let waiter = semaphore.waiter();
    Ok(block_until(ruby, deadline, |slice_end| waiter.wait_until(slice_end))?.is_some())
}

impl BinarySemaphore {
    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        let (args, naming) = named::split_args(ruby, args)?;
        let initial = initial_value(ruby, args)?;
        let semaphore = named::create::<CoreBinarySemaphore>(
            ruby,
            naming.as_ref(),
            "ProcessShared::BinarySemaphore",
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
            || rb_self.handle.with(ruby, CoreBinarySemaphore::try_wait),
            |deadline| acquire(ruby, &rb_self.handle, deadline),
        )?;
        Ok(rb_self)
    }

    fn post(ruby: &Ruby, rb_self: This<Self>) -> Result<This<Self>, Error> {
        rb_self
            .handle
            .with(ruby, CoreBinarySemaphore::post)?
            .or_raise(ruby)?;
        Ok(rb_self)
    }

    fn value(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self.handle.with(ruby, CoreBinarySemaphore::value)
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

impl named::NamedClass for BinarySemaphore {
    fn with_region<R>(
        &self,
        ruby: &Ruby,
        f: impl FnOnce(&crate::core::region::SharedRegion) -> R,
    ) -> Result<R, Error> {
        self.handle.with(ruby, |object| f(object.region()))
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("BinarySemaphore", ruby.class_object())?;
    class.define_alloc_func::<BinarySemaphore>();
    class.define_method("initialize", method!(BinarySemaphore::initialize, -1))?;
    class.define_method(
        "initialize_copy",
        method!(BinarySemaphore::initialize_copy, 1),
    )?;
    class.define_method("wait", method!(BinarySemaphore::wait, 0))?;
    class.define_method("try_wait", method!(BinarySemaphore::try_wait, -1))?;
    class.define_method("post", method!(BinarySemaphore::post, 0))?;
    class.define_method("value", method!(BinarySemaphore::value, 0))?;
    class.define_method("synchronize", method!(BinarySemaphore::synchronize, 0))?;
    class.define_method("close", method!(BinarySemaphore::close, 0))?;
    class.define_method("closed?", method!(BinarySemaphore::is_closed, 0))?;
    named::include_in::<BinarySemaphore>(ruby, class)?;
    Ok(())
}
