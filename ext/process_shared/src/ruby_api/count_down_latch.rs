//! `ProcessShared::CountDownLatch`: concurrent-ruby's `CountDownLatch`
//! across forked Ruby processes.

use super::args::{initial_value, optional_timeout};
use super::blocking::RubyPark;
use super::guard::method;
use super::handle::{define_handle_class, handle_class, inspect_with};
use super::named;
use super::typed::This;
use crate::core::latch::CountDownLatch as CoreLatch;
use crate::core::park::deadline_after;
use magnus::{prelude::*, Error, RModule, Ruby, Value};

handle_class!(CountDownLatch, "ProcessShared::CountDownLatch", CoreLatch);

impl CountDownLatch {
    fn inspect(ruby: &Ruby, rb_self: This<Self>) -> String {
        inspect_with(ruby, rb_self, |latch| format!("count {}", latch.count()))
    }

    /// `new(count = 1, name: nil, path: nil, create: true, mode: 0o600)`.
    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        named::initialize(ruby, rb_self, args, |args| initial_value(ruby, args))
    }

    fn count_down(ruby: &Ruby, rb_self: This<Self>) -> Result<(), Error> {
        rb_self.handle.with(ruby, CoreLatch::count_down)
    }

    fn count(ruby: &Ruby, rb_self: This<Self>) -> Result<u64, Error> {
        rb_self.handle.with(ruby, CoreLatch::count)
    }

    fn wait(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<bool, Error> {
        let timeout = optional_timeout(ruby, args)?;
        let latch = rb_self.handle.get(ruby)?;
        if latch.count() == 0 {
            return Ok(true);
        }
        latch.wait(&mut RubyPark::interruptible(ruby), deadline_after(timeout))
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("CountDownLatch", ruby.class_object())?;
    define_handle_class!(class, CountDownLatch);
    class.define_method("inspect", method!(CountDownLatch::inspect, 0))?;
    class.define_method("initialize", method!(CountDownLatch::initialize, -1))?;
    class.define_method("count_down", method!(CountDownLatch::count_down, 0))?;
    class.define_method("count", method!(CountDownLatch::count, 0))?;
    class.define_method("wait", method!(CountDownLatch::wait, -1))?;
    named::include_in::<CountDownLatch>(ruby, class)?;
    Ok(())
}
