//! `ProcessShared::ReadWriteLock`: many readers or one writer, across
//! processes, with `Concurrent::ReadWriteLock`'s names.

use super::args::{optional_timeout, timeout_given};
use super::blocking::RubyPark;
use super::errors::{argument_error, OrRaise};
use super::guard::method;
use super::handle::{define_handle_class, handle_class, inspect_with};
use super::methods::around_block;
use super::named;
use super::owner::release_at_thread_end;
use super::typed::This;
use crate::core::holders::Owner;
use crate::core::park::deadline_after;
use crate::core::rwlock::{Attempt, ReadWriteLock as CoreLock};
use crate::core::CoreError;
use magnus::{prelude::*, Error, RModule, Ruby, Value};
use std::time::Duration;

handle_class!(
    ReadWriteLock,
    "ProcessShared::ReadWriteLock",
    CoreLock,
    before_close = release_own_holds
);

/// What `close` does first: the calling thread's holds are released.
fn release_own_holds(lock: &CoreLock) {
    lock.release_all(Owner::current());
}

/// Which side of the lock.
#[derive(Clone, Copy)]
enum Side {
    Read,
    Write,
}

impl ReadWriteLock {
    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        named::initialize(ruby, rb_self, args, named::no_arguments)?;
        release_at_thread_end(&rb_self.handle.get(ruby)?);
        Ok(())
    }

    /// Takes `side`, waiting until the deadline (`None`: for ever).
    fn acquire(
        ruby: &Ruby,
        rb_self: This<Self>,
        side: Side,
        deadline: Option<Duration>,
        blocking: bool,
    ) -> Result<bool, Error> {
        let owner = Owner::current();
        let attempt = rb_self.handle.with(ruby, |lock| match side {
            Side::Read => lock.try_read(owner),
            Side::Write => lock.try_write(owner),
        })?;
        let attempt = match attempt {
            // A try without timeout is false where waiting would raise (the
            // caller holds what it waits for), as `Mutex#try_lock`.
            Err(CoreError::Misuse(_)) if !blocking => return Ok(false),
            other => other.or_raise(ruby)?,
        };
        match attempt {
            Attempt::Acquired => return Ok(true),
            Attempt::Busy if !blocking => return Ok(false),
            Attempt::Busy => {}
        }
        let lock = rb_self.handle.get(ruby)?;
        let mut park = RubyPark::interruptible(ruby);
        match side {
            Side::Read => lock.acquire_read(&mut park, owner, deadline),
            Side::Write => lock.acquire_write(&mut park, owner, deadline),
        }
    }

    fn release(ruby: &Ruby, rb_self: This<Self>, side: Side) -> Result<bool, Error> {
        let owner = Owner::current();
        rb_self
            .handle
            .with(ruby, |lock| match side {
                Side::Read => lock.release_read(owner),
                Side::Write => lock.release_write(owner),
            })?
            .or_raise(ruby)?;
        Ok(true)
    }

    fn acquire_read_lock(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        Self::acquire(ruby, rb_self, Side::Read, None, true)
    }

    fn acquire_write_lock(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        Self::acquire(ruby, rb_self, Side::Write, None, true)
    }

    fn release_read_lock(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        Self::release(ruby, rb_self, Side::Read)
    }

    fn release_write_lock(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        Self::release(ruby, rb_self, Side::Write)
    }

    fn try_lock(
        ruby: &Ruby,
        rb_self: This<Self>,
        side: Side,
        args: &[Value],
    ) -> Result<bool, Error> {
        let timeout = optional_timeout(ruby, args)?;
        let blocking = timeout_given(args);
        Self::acquire(ruby, rb_self, side, deadline_after(timeout), blocking)
    }

    fn try_read_lock(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<bool, Error> {
        Self::try_lock(ruby, rb_self, Side::Read, args)
    }

    fn try_write_lock(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<bool, Error> {
        Self::try_lock(ruby, rb_self, Side::Write, args)
    }

    fn with_lock(ruby: &Ruby, rb_self: This<Self>, side: Side) -> Result<Value, Error> {
        if !ruby.block_given() {
            return Err(argument_error(ruby, "no block given"));
        }
        around_block(
            ruby,
            || Self::acquire(ruby, rb_self, side, None, true).map(drop),
            || Self::release(ruby, rb_self, side).map(drop),
        )
    }

    fn with_read_lock(ruby: &Ruby, rb_self: This<Self>) -> Result<Value, Error> {
        Self::with_lock(ruby, rb_self, Side::Read)
    }

    fn with_write_lock(ruby: &Ruby, rb_self: This<Self>) -> Result<Value, Error> {
        Self::with_lock(ruby, rb_self, Side::Write)
    }

    fn is_write_locked(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreLock::is_write_locked)
    }

    fn has_waiters(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, |lock| lock.waiting() > 0)
    }

    fn waiting(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self.handle.with(ruby, CoreLock::waiting)
    }

    fn previous_owner_died(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        let owner = Owner::current();
        rb_self
            .handle
            .with(ruby, |lock| lock.previous_owner_died(owner))
    }

    fn inspect(ruby: &Ruby, rb_self: This<Self>) -> String {
        inspect_with(ruby, rb_self, |lock| {
            let state = match (lock.writer_pid(), lock.read_holds()) {
                (Some(pid), _) => format!("write locked by {pid}"),
                (None, 0) => "unlocked".to_string(),
                (None, reads) => format!("read locked ({reads})"),
            };
            format!("{state}, {} waiting", lock.waiting())
        })
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("ReadWriteLock", ruby.class_object())?;
    define_handle_class!(class, ReadWriteLock);
    class.define_method("initialize", method!(ReadWriteLock::initialize, -1))?;
    class.define_method(
        "acquire_read_lock",
        method!(ReadWriteLock::acquire_read_lock, 0),
    )?;
    class.define_method(
        "release_read_lock",
        method!(ReadWriteLock::release_read_lock, 0),
    )?;
    class.define_method(
        "acquire_write_lock",
        method!(ReadWriteLock::acquire_write_lock, 0),
    )?;
    class.define_method(
        "release_write_lock",
        method!(ReadWriteLock::release_write_lock, 0),
    )?;
    class.define_method("try_read_lock", method!(ReadWriteLock::try_read_lock, -1))?;
    class.define_method("try_write_lock", method!(ReadWriteLock::try_write_lock, -1))?;
    class.define_method("with_read_lock", method!(ReadWriteLock::with_read_lock, 0))?;
    class.define_method(
        "with_write_lock",
        method!(ReadWriteLock::with_write_lock, 0),
    )?;
    class.define_method("write_locked?", method!(ReadWriteLock::is_write_locked, 0))?;
    class.define_method("has_waiters?", method!(ReadWriteLock::has_waiters, 0))?;
    class.define_method("waiting", method!(ReadWriteLock::waiting, 0))?;
    class.define_method(
        "previous_owner_died?",
        method!(ReadWriteLock::previous_owner_died, 0),
    )?;
    class.define_method("inspect", method!(ReadWriteLock::inspect, 0))?;
    named::include_in::<ReadWriteLock>(ruby, class)?;
    Ok(())
}
