//! `ProcessShared::BinarySemaphore`: a semaphore whose value is only ever 0
//! or 1, shared across fork.

use super::args::initial_value;
use super::blocking::Interruptible;
use super::errors::OrRaise;
use super::gc;
use super::guard::method;
use super::handle::{define_handle_class, inspect_with, Handle, HandleClass};
use super::methods::{around_block, try_wait_with};
use super::typed::This;
use crate::core::binary_semaphore::BinarySemaphore as CoreBinarySemaphore;
use magnus::{prelude::*, Error, RModule, Ruby, Value};
use std::time::Duration;

#[magnus::wrap(class = "ProcessShared::BinarySemaphore", free_immediately, size)]
#[derive(Default)]
pub struct BinarySemaphore {
    handle: Handle<CoreBinarySemaphore>,
}

impl HandleClass for BinarySemaphore {
    type Resource = CoreBinarySemaphore;

    fn handle(&self) -> &Handle<CoreBinarySemaphore> {
        &self.handle
    }
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
    handle
        .get(ruby)?
        .acquire(&mut Interruptible::new(ruby), deadline)
}

impl BinarySemaphore {
    fn inspect(ruby: &Ruby, rb_self: This<Self>) -> String {
        inspect_with(ruby, rb_self, |semaphore| {
            format!(
                "value {}, {} waiting",
                semaphore.value(),
                semaphore.waiting()
            )
        })
    }

    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        let initial = initial_value(ruby, args)?;
        let semaphore = gc::allocate(ruby, crate::platform::page_size(), || {
            CoreBinarySemaphore::new(initial)
        })?;
        rb_self.handle.open(ruby, semaphore)
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
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("BinarySemaphore", ruby.class_object())?;
    define_handle_class!(class, BinarySemaphore);
    class.define_method("initialize", method!(BinarySemaphore::initialize, -1))?;
    class.define_method("wait", method!(BinarySemaphore::wait, 0))?;
    class.define_method("try_wait", method!(BinarySemaphore::try_wait, -1))?;
    class.define_method("post", method!(BinarySemaphore::post, 0))?;
    class.define_method("value", method!(BinarySemaphore::value, 0))?;
    class.define_method("synchronize", method!(BinarySemaphore::synchronize, 0))?;
    class.define_method("inspect", method!(BinarySemaphore::inspect, 0))?;
    Ok(())
}
