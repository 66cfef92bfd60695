//! `ProcessShared::Event`: concurrent-ruby's `Event` across forked Ruby
//! processes.

use super::blocking::{block_until, deadline_after};
use super::gc;
use super::guard::method;
use super::handle::Handle;
use super::mutex::optional_timeout;
use super::typed::This;
use crate::core::event::Event as CoreEvent;
use magnus::{prelude::*, Error, RModule, Ruby, Value};

#[magnus::wrap(class = "ProcessShared::Event", free_immediately, size)]
#[derive(Default)]
pub struct Event {
    handle: Handle<CoreEvent>,
}

impl Event {
    fn initialize(ruby: &Ruby, rb_self: This<Self>) -> Result<(), Error> {
        let event = gc::allocate(ruby, crate::platform::page_size(), CoreEvent::new)?;
        rb_self.handle.open(ruby, event)
    }

    fn initialize_copy(ruby: &Ruby, rb_self: This<Self>, original: &Self) -> Result<(), Error> {
        rb_self.handle.adopt(ruby, original.handle.get(ruby)?)
    }

    /// `set`: always true (concurrent-ruby's contract).
    fn set(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreEvent::set)?;
        Ok(true)
    }

    /// `try?`: sets the event; false if it was already set.
    fn try_set(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreEvent::set)
    }

    fn is_set(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreEvent::is_set)
    }

    /// `reset`: always true (concurrent-ruby's contract).
    fn reset(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreEvent::reset)?;
        Ok(true)
    }

    fn wait(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<bool, Error> {
        let deadline = deadline_after(optional_timeout(ruby, args)?);
        let event = rb_self.handle.get(ruby)?;
        if event.is_set() {
            return Ok(true);
        }
        let waiter = event.waiter();
        Ok(block_until(ruby, deadline, |slice_end| waiter.wait_until(slice_end))?.is_some())
    }

    fn close(&self) {
        self.handle.close();
    }

    fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("Event", ruby.class_object())?;
    class.define_alloc_func::<Event>();
    class.define_method("initialize", method!(Event::initialize, 0))?;
    class.define_method("initialize_copy", method!(Event::initialize_copy, 1))?;
    class.define_method("set", method!(Event::set, 0))?;
    class.define_method("try?", method!(Event::try_set, 0))?;
    class.define_method("set?", method!(Event::is_set, 0))?;
    class.define_method("reset", method!(Event::reset, 0))?;
    class.define_method("wait", method!(Event::wait, -1))?;
    class.define_method("close", method!(Event::close, 0))?;
    class.define_method("closed?", method!(Event::is_closed, 0))?;
    Ok(())
}
