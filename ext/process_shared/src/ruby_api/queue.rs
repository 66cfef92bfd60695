//! `ProcessShared::Queue` (and, through a Ruby subclass, `SizedQueue`): the
//! native half, which encodes objects (`queue_codec`) and moves the records
//! in and out of the shared ring. The Ruby half (`lib/process_shared/queue.rb`)
//! gives the methods `Thread::Queue`'s signatures. `close` here is the queue's own (as
//! `Thread::Queue#close`), not the handle's.

use super::blocking::{without_gvl, RubyPark};
use super::convert;
use super::errors::{argument_error, OrRaise};
use super::gc;
use super::guard::method;
use super::handle::{self, handle_class, HandleClass};
use super::queue_codec::{self, Encoded};
use super::typed::This;
use crate::core::park::deadline_after;
use crate::core::queue::{Pop, Push, Queue as CoreQueue};
use magnus::{prelude::*, Error, RModule, Ruby, Value};
use std::time::Duration;

handle_class!(Queue, "ProcessShared::Queue", CoreQueue);

fn closed_queue_error(ruby: &Ruby) -> Error {
    let class = ruby
        .class_object()
        .const_get::<_, magnus::ExceptionClass>("ClosedQueueError")
        .unwrap_or_else(|_| ruby.exception_stop_iteration());
    Error::new(class, "queue closed")
}

/// `timeout:` (`nil`: none), and whether it is zero. The deadline is
/// computed only when the call has to wait: reading the clock is a system
/// call on some virtual machines.
fn parse_timeout(ruby: &Ruby, timeout: Value) -> Result<(Option<Duration>, bool), Error> {
    let timeout = convert::timeout(ruby, Some(timeout))?;
    Ok((timeout, timeout == Some(Duration::ZERO)))
}

impl Queue {
    /// `_init(bytes, max)`: `max` is nil for a plain queue.
    fn init(ruby: &Ruby, rb_self: This<Self>, bytes: Value, max: Value) -> Result<(), Error> {
        let bytes = convert::count(ruby, bytes, "bytes")?;
        let max = if max.is_nil() {
            None
        } else {
            Some(convert::count(ruby, max, "max")?)
        };
        // The ring and its header, and the lock's own page.
        let page = crate::platform::page_size();
        let mapped = usize::try_from(bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(2 * page);
        let queue = gc::allocate(ruby, mapped, || CoreQueue::new(bytes, max))?;
        rb_self.handle().open(ruby, queue)
    }

    /// `_push(object, non_block, timeout)`: true once pushed, false when
    /// the timeout passed; `ThreadError` when full and non-blocking,
    /// `ClosedQueueError` when closed (also while waiting). The object is
    /// encoded first (see `queue_codec`), so `Marshal.dump`'s errors come
    /// before any other.
    fn push(
        ruby: &Ruby,
        rb_self: This<Self>,
        object: Value,
        non_block: Value,
        timeout: Value,
    ) -> Result<bool, Error> {
        let encoded = queue_codec::encode(ruby, object)?;
        let non_block = non_block.to_bool();
        let (timeout, zero) = parse_timeout(ruby, timeout)?;
        let queue = rb_self.handle.get(ruby)?;
        // The fast path reads the record in place.
        // SAFETY: with the GVL held and no Ruby code running, nothing can
        // change or free a Marshal String while `push_until` reads it.
        let fast = queue
            .push_until(unsafe { encoded.bytes() }, Duration::ZERO)
            .or_raise(ruby)?;
        let pushed = match fast {
            Some(Push::Full) if non_block || zero => Some(Push::Full),
            Some(done @ (Push::Pushed | Push::Closed)) => Some(done),
            _ => {
                // Waiting runs without the GVL, when other threads may
                // change a Marshal String: it waits with the bytes owned.
                let payload: Vec<u8> = match encoded {
                    Encoded::Native(bytes) => bytes,
                    // SAFETY: copied at once, with the GVL held.
                    Encoded::Marshal(_) => unsafe { encoded.bytes() }.to_vec(),
                };
                queue.push(
                    &mut RubyPark::interruptible(ruby),
                    &payload,
                    !(non_block || zero),
                    deadline_after(timeout),
                )?
            }
        };
        match pushed {
            Some(Push::Pushed) => Ok(true),
            Some(Push::Closed) => Err(closed_queue_error(ruby)),
            Some(Push::Full) if non_block => {
                Err(Error::new(ruby.exception_thread_error(), "queue full"))
            }
            Some(Push::Full) | None => Ok(false),
        }
    }

    /// `_pop(non_block, timeout)`: the first item, decoded, or nil when
    /// the timeout passed or the queue is closed and empty; `ThreadError`
    /// when empty and non-blocking.
    fn pop(
        ruby: &Ruby,
        rb_self: This<Self>,
        non_block: Value,
        timeout: Value,
    ) -> Result<Value, Error> {
        let non_block = non_block.to_bool();
        if non_block && !timeout.is_nil() {
            return Err(argument_error(
                ruby,
                "can't set a timeout if non_block is enabled",
            ));
        }
        let (timeout, zero) = parse_timeout(ruby, timeout)?;
        let queue = rb_self.handle.get(ruby)?;
        let popped = queue.pop(
            &mut RubyPark::interruptible(ruby),
            !(non_block || zero),
            deadline_after(timeout),
        )?;
        match popped {
            Some(Pop::Item(bytes)) => queue_codec::decode(ruby, &bytes),
            Some(Pop::Empty | Pop::Closed) if non_block => {
                Err(Error::new(ruby.exception_thread_error(), "queue empty"))
            }
            _ => Ok(ruby.qnil().as_value()),
        }
    }

    fn clear(ruby: &Ruby, rb_self: This<Self>) -> Result<This<Self>, Error> {
        let queue = rb_self.handle.get(ruby)?;
        queue.clear(&mut RubyPark::interruptible(ruby))?;
        Ok(rb_self)
    }

    /// Closes the shared queue for every process (as `Thread::Queue#close`);
    /// this object stays usable for `pop`.
    fn close(ruby: &Ruby, rb_self: This<Self>) -> Result<This<Self>, Error> {
        let queue = rb_self.handle.get(ruby)?;
        queue.close(&mut RubyPark::interruptible(ruby))?;
        Ok(rb_self)
    }

    fn is_closed(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreQueue::is_closed)
    }

    fn size(ruby: &Ruby, rb_self: This<Self>) -> Result<usize, Error> {
        rb_self.handle.with(ruby, CoreQueue::len)
    }

    fn is_empty(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreQueue::is_empty)
    }

    fn num_waiting(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        let queue = rb_self.handle.get(ruby)?;
        // Reads /proc for every registered waiter: without the GVL.
        match without_gvl(|| queue.num_waiting()) {
            Some(Ok(count)) => Ok(count),
            _ => Ok(queue.num_waiting()),
        }
    }

    fn bytes(ruby: &Ruby, rb_self: This<Self>) -> Result<usize, Error> {
        rb_self.handle.with(ruby, CoreQueue::capacity)
    }

    fn max(ruby: &Ruby, rb_self: This<Self>) -> Result<Option<u64>, Error> {
        rb_self.handle.with(ruby, CoreQueue::max)
    }

    fn set_max(ruby: &Ruby, rb_self: This<Self>, max: Value) -> Result<(), Error> {
        let max = convert::count(ruby, max, "max")?;
        rb_self
            .handle
            .with(ruby, |queue| queue.set_max(max))?
            .or_raise(ruby)
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("Queue", ruby.class_object())?;
    // Not `define_handle_class!`: `close` and `closed?` are the queue's.
    class.define_alloc_func::<Queue>();
    class.define_method(
        "initialize_copy",
        method!(handle::initialize_copy::<Queue>, 1),
    )?;
    class.define_private_method("_init", method!(Queue::init, 2))?;
    class.define_private_method("_push", method!(Queue::push, 3))?;
    class.define_private_method("_pop", method!(Queue::pop, 2))?;
    class.define_method("clear", method!(Queue::clear, 0))?;
    class.define_method("close", method!(Queue::close, 0))?;
    class.define_method("closed?", method!(Queue::is_closed, 0))?;
    class.define_method("size", method!(Queue::size, 0))?;
    class.define_method("empty?", method!(Queue::is_empty, 0))?;
    class.define_method("num_waiting", method!(Queue::num_waiting, 0))?;
    class.define_method("bytes", method!(Queue::bytes, 0))?;
    class.define_private_method("_max", method!(Queue::max, 0))?;
    class.define_private_method("_set_max", method!(Queue::set_max, 1))?;
    Ok(())
}
