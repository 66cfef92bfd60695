//! `ProcessShared::Barrier`: Python's `multiprocessing.Barrier` across
//! forked Ruby processes.

use super::blocking::{block_until, deadline_after};
use super::convert;
use super::errors::broken_barrier_error;
use super::gc;
use super::guard::method;
use super::handle::Handle;
use super::mutex::optional_timeout;
use super::typed::This;
use crate::core::barrier::{Arrived, Barrier as CoreBarrier, Wait};
use magnus::{prelude::*, Error, RModule, Ruby, Value};

#[magnus::wrap(class = "ProcessShared::Barrier", free_immediately, size)]
#[derive(Default)]
pub struct Barrier {
    handle: Handle<CoreBarrier>,
}

fn outcome(ruby: &Ruby, wait: Wait) -> Result<u32, Error> {
    match wait {
        Wait::Passed(index) => Ok(index),
        Wait::Broken => Err(broken_barrier_error(ruby)),
    }
}

impl Barrier {
    fn initialize(ruby: &Ruby, rb_self: This<Self>, parties: Value) -> Result<(), Error> {
        let parties = convert::count(ruby, parties, "parties")?;
        let barrier = gc::allocate(ruby, crate::platform::page_size(), || {
            CoreBarrier::new(parties)
        })?;
        rb_self.handle.open(ruby, barrier)
    }

    fn initialize_copy(ruby: &Ruby, rb_self: This<Self>, original: &Self) -> Result<(), Error> {
        rb_self.handle.adopt(ruby, original.handle.get(ruby)?)
    }

    /// `wait(timeout = nil)`: this party's arrival index. A timeout or an
    /// interrupt breaks the barrier (as in Python), then raises.
    fn wait(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<u32, Error> {
        let deadline = deadline_after(optional_timeout(ruby, args)?);
        let barrier = rb_self.handle.get(ruby)?;
        let arrived = match barrier.arrive(std::time::Duration::ZERO) {
            Ok(Some(arrived)) => arrived,
            // Every slot taken (far more processes waiting than parties):
            // wait for one; a timeout meanwhile breaks the barrier too.
            Ok(None) => match block_until(ruby, deadline, |slice_end| barrier.arrive(slice_end))? {
                Some(arrived) => arrived,
                None => {
                    barrier.abort();
                    return Err(broken_barrier_error(ruby));
                }
            },
            Err(err) => return Err(super::errors::core_error(ruby, err)),
        };
        let arrival = match arrived {
            Arrived::Done(wait) => return outcome(ruby, wait),
            Arrived::Waiting(arrival) => arrival,
        };
        match block_until(ruby, deadline, |slice_end| arrival.wait_until(slice_end)) {
            Ok(Some(wait)) => outcome(ruby, wait),
            Ok(None) => outcome(ruby, arrival.give_up()),
            Err(interrupt) => {
                arrival.give_up();
                Err(interrupt)
            }
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

    fn close(&self) {
        self.handle.close();
    }

    fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("Barrier", ruby.class_object())?;
    class.define_alloc_func::<Barrier>();
    class.define_method("initialize", method!(Barrier::initialize, 1))?;
    class.define_method("initialize_copy", method!(Barrier::initialize_copy, 1))?;
    class.define_method("wait", method!(Barrier::wait, -1))?;
    class.define_method("parties", method!(Barrier::parties, 0))?;
    class.define_method("n_waiting", method!(Barrier::n_waiting, 0))?;
    class.define_method("broken?", method!(Barrier::is_broken, 0))?;
    class.define_method("reset", method!(Barrier::reset, 0))?;
    class.define_method("abort", method!(Barrier::abort, 0))?;
    class.define_method("close", method!(Barrier::close, 0))?;
    class.define_method("closed?", method!(Barrier::is_closed, 0))?;
    Ok(())
}
