//! `ProcessShared::CountDownLatch`: concurrent-ruby's `CountDownLatch`
//! across forked Ruby processes.

use super::blocking::{block_until, deadline_after};
use super::convert;
use super::gc;
use super::guard::method;
use super::handle::Handle;
use super::mutex::optional_timeout;
use super::typed::This;
use crate::core::latch::CountDownLatch as CoreLatch;
use magnus::{prelude::*, scan_args::scan_args, Error, RModule, Ruby, Value};

#[magnus::wrap(class = "ProcessShared::CountDownLatch", free_immediately, size)]
#[derive(Default)]
pub struct CountDownLatch {
    handle: Handle<CoreLatch>,
}

impl CountDownLatch {
    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        let args = scan_args::<(), (Option<Value>,), (), (), (), ()>(args)?;
        let count = match args.optional.0 {
            Some(count) => convert::count(ruby, count, "count")?,
            None => 1,
        };
        let latch = gc::allocate(ruby, crate::platform::page_size(), || CoreLatch::new(count))?;
        rb_self.handle.open(ruby, latch)
    }

    fn initialize_copy(ruby: &Ruby, rb_self: This<Self>, original: &Self) -> Result<(), Error> {
        rb_self.handle.adopt(ruby, original.handle.get(ruby)?)
    }

    fn count_down(ruby: &Ruby, rb_self: This<Self>) -> Result<(), Error> {
        rb_self.handle.with(ruby, CoreLatch::count_down)
    }

    fn count(ruby: &Ruby, rb_self: This<Self>) -> Result<u64, Error> {
        rb_self.handle.with(ruby, CoreLatch::count)
    }

    fn wait(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<bool, Error> {
        let deadline = deadline_after(optional_timeout(ruby, args)?);
        let latch = rb_self.handle.get(ruby)?;
        if latch.count() == 0 {
            return Ok(true);
        }
        let waiter = latch.waiter();
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
    let class = namespace.define_class("CountDownLatch", ruby.class_object())?;
    class.define_alloc_func::<CountDownLatch>();
    class.define_method("initialize", method!(CountDownLatch::initialize, -1))?;
    class.define_method(
        "initialize_copy",
        method!(CountDownLatch::initialize_copy, 1),
    )?;
    class.define_method("count_down", method!(CountDownLatch::count_down, 0))?;
    class.define_method("count", method!(CountDownLatch::count, 0))?;
    class.define_method("wait", method!(CountDownLatch::wait, -1))?;
    class.define_method("close", method!(CountDownLatch::close, 0))?;
    class.define_method("closed?", method!(CountDownLatch::is_closed, 0))?;
    Ok(())
}
