//! `ProcessShared::Event`: concurrent-ruby's `Event` across forked Ruby
//! processes.

use super::args::optional_timeout;
use super::blocking::RubyPark;
use super::guard::method;
use super::handle::{define_handle_class, handle_class, inspect_with};
use super::named;
use super::typed::This;
use crate::core::event::Event as CoreEvent;
use crate::core::park::deadline_after;
use magnus::{prelude::*, Error, RModule, Ruby, Value};

handle_class!(Event, "ProcessShared::Event", CoreEvent);

impl Event {
    fn inspect(ruby: &Ruby, rb_self: This<Self>) -> String {
        inspect_with(ruby, rb_self, |event| {
            (if event.is_set() { "set" } else { "unset" }).to_string()
        })
    }

    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        named::initialize(ruby, rb_self, args, named::no_arguments)
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
        let timeout = optional_timeout(ruby, args)?;
        let event = rb_self.handle.get(ruby)?;
        if event.is_set() {
            return Ok(true);
        }
        event.wait(&mut RubyPark::interruptible(ruby), deadline_after(timeout))
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("Event", ruby.class_object())?;
    define_handle_class!(class, Event);
    class.define_method("inspect", method!(Event::inspect, 0))?;
    class.define_method("initialize", method!(Event::initialize, -1))?;
    class.define_method("set", method!(Event::set, 0))?;
    class.define_method("try?", method!(Event::try_set, 0))?;
    class.define_method("set?", method!(Event::is_set, 0))?;
    class.define_method("reset", method!(Event::reset, 0))?;
    class.define_method("wait", method!(Event::wait, -1))?;
    named::include_in::<Event>(ruby, class)?;
    Ok(())
}
