//! `ProcessShared::Barrier`: Python's `multiprocessing.Barrier` across
//! forked Ruby processes.

use super::args::optional_timeout;
use super::blocking::RubyPark;
use super::convert;
use super::errors::broken_barrier_error;
use super::guard::method;
use super::handle::{define_handle_class, handle_class, inspect_with};
use super::named;
use super::typed::This;
use crate::core::barrier::{Barrier as CoreBarrier, Wait};
use crate::core::park::deadline_after;
use magnus::{prelude::*, scan_args::scan_args, Error, RModule, Ruby, Value};

handle_class!(Barrier, "ProcessShared::Barrier", CoreBarrier);

impl Barrier {
    fn inspect(ruby: &Ruby, rb_self: This<Self>) -> String {
        inspect_with(ruby, rb_self, |barrier| {
            if barrier.is_broken() {
                "broken".to_string()
            } else {
                format!("{}/{} waiting", barrier.n_waiting(), barrier.parties())
            }
        })
    }

    /// `new(parties, name: nil, path: nil, create: true, mode: 0o600)`.
    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        named::initialize(ruby, rb_self, args, |args| {
            let args = scan_args::<(Value,), (), (), (), (), ()>(args)?;
            convert::count(ruby, args.required.0, "parties")
        })
    }

    /// `wait(timeout = nil)`: this party's arrival index. A timeout or an
    /// interrupt breaks the barrier (as in Python), then raises.
    fn wait(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<u32, Error> {
        let timeout = optional_timeout(ruby, args)?;
        let barrier = rb_self.handle.get(ruby)?;
        let deadline = deadline_after(timeout);
        match barrier.wait(&mut RubyPark::interruptible(ruby), deadline)? {
            Wait::Passed(index) => Ok(index),
            Wait::Broken => Err(broken_barrier_error(ruby)),
        }
    }

    fn parties(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self.handle.with(ruby, CoreBarrier::parties)
    }

    fn n_waiting(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self.handle.with(ruby, CoreBarrier::n_waiting)
    }

    fn is_broken(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreBarrier::is_broken)
    }

    fn reset(ruby: &Ruby, rb_self: This<Self>) -> Result<This<Self>, Error> {
        rb_self.handle.with(ruby, CoreBarrier::reset)?;
        Ok(rb_self)
    }

    fn abort(ruby: &Ruby, rb_self: This<Self>) -> Result<This<Self>, Error> {
        rb_self.handle.with(ruby, CoreBarrier::abort)?;
        Ok(rb_self)
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("Barrier", ruby.class_object())?;
    define_handle_class!(class, Barrier);
    class.define_method("inspect", method!(Barrier::inspect, 0))?;
    class.define_method("initialize", method!(Barrier::initialize, -1))?;
    class.define_method("wait", method!(Barrier::wait, -1))?;
    class.define_method("parties", method!(Barrier::parties, 0))?;
    class.define_method("n_waiting", method!(Barrier::n_waiting, 0))?;
    class.define_method("broken?", method!(Barrier::is_broken, 0))?;
    class.define_method("reset", method!(Barrier::reset, 0))?;
    class.define_method("abort", method!(Barrier::abort, 0))?;
    named::include_in::<Barrier>(ruby, class)?;
    Ok(())
}
