//! `ProcessShared::Semaphore`: a counting semaphore shared across fork.

use super::args::initial_value;
use super::blocking::Interruptible;
use super::errors::OrRaise;
use super::gc;
use super::guard::method;
use super::handle::{define_handle_class, inspect_with, Handle, HandleClass};
use super::methods::{around_block, try_wait_with};
use super::typed::This;
use crate::core::semaphore::Semaphore as CoreSemaphore;
use magnus::{prelude::*, Error, RModule, Ruby, Value};
use std::time::Duration;

#[magnus::wrap(class = "ProcessShared::Semaphore", free_immediately, size)]
#[derive(Default)]
pub struct Semaphore {
    pub(super) handle: Handle<CoreSemaphore>,
}

impl HandleClass for Semaphore {
    type Resource = CoreSemaphore;

    fn handle(&self) -> &Handle<CoreSemaphore> {
        &self.handle
    }
}

/// Takes one unit, blocking (GVL released, interruptible) until `deadline`.
/// `Ok(false)` when the deadline passed first.
pub fn acquire(
    ruby: &Ruby,
    handle: &Handle<CoreSemaphore>,
    deadline: Option<Duration>,
) -> Result<bool, Error> {
    if handle.with(ruby, CoreSemaphore::try_wait)? {
        return Ok(true);
    }
    handle
        .get(ruby)?
        .acquire(&mut Interruptible::new(ruby), deadline)
}

impl Semaphore {
    fn waiting(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self.handle.with(ruby, CoreSemaphore::waiting)
    }

    fn inspect(ruby: &Ruby, rb_self: This<Self>) -> String {
        inspect_with(ruby, rb_self, |semaphore| {
            let value = semaphore
                .value()
                .map_or_else(|_| "unknown".to_string(), |value| value.to_string());
            format!("value {value}, {} waiting", semaphore.waiting())
        })
    }

    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        let initial = initial_value(ruby, args)?;
        let semaphore = gc::allocate(ruby, crate::platform::page_size(), || {
            CoreSemaphore::new(initial)
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
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("Semaphore", ruby.class_object())?;
    define_handle_class!(class, Semaphore);
    class.define_method("initialize", method!(Semaphore::initialize, -1))?;
    class.define_method("wait", method!(Semaphore::wait, 0))?;
    class.define_method("try_wait", method!(Semaphore::try_wait, -1))?;
    class.define_method("post", method!(Semaphore::post, 0))?;
    class.define_method("value", method!(Semaphore::value, 0))?;
    class.define_method("synchronize", method!(Semaphore::synchronize, 0))?;
    class.define_method("waiting", method!(Semaphore::waiting, 0))?;
    class.define_method("inspect", method!(Semaphore::inspect, 0))?;
    Ok(())
}
