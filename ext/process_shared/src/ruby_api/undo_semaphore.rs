//! `ProcessShared::UndoSemaphore`, what `Semaphore.new(value, undo: true)`
//! makes: a counting semaphore whose units come back when their holder
//! dies or its thread ends.

use super::args::{initial_value, optional_timeout, timeout_given};
use super::blocking::RubyPark;
use super::errors::{errno_error, OrRaise};
use super::guard::method;
use super::handle::{define_handle_class, handle_class, inspect_with};
use super::methods::around_block;
use super::named;
use super::owner::release_at_thread_end;
use super::typed::This;
use crate::core::holders::Owner;
use crate::core::park::deadline_after;
use crate::core::undo_semaphore::UndoSemaphore as CoreUndoSemaphore;
use magnus::{prelude::*, Error, RClass, RModule, Ruby, Value};
use std::time::Duration;

handle_class!(
    UndoSemaphore,
    "ProcessShared::UndoSemaphore",
    CoreUndoSemaphore,
    before_close = give_back_own_units
);

/// What `close` does first: the calling thread's units go back (nothing
/// could post them through this object later).
fn give_back_own_units(semaphore: &CoreUndoSemaphore) {
    semaphore.release_all(Owner::current());
}

impl UndoSemaphore {
    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        named::initialize(ruby, rb_self, args, |args| initial_value(ruby, args))?;
        release_at_thread_end(&rb_self.handle.get(ruby)?);
        Ok(())
    }

    fn acquire(
        ruby: &Ruby,
        rb_self: This<Self>,
        deadline: Option<Duration>,
    ) -> Result<bool, Error> {
        let owner = Owner::current();
        if rb_self.handle.with(ruby, |sem| sem.try_take(owner))? {
            return Ok(true);
        }
        rb_self
            .handle
            .get(ruby)?
            .acquire(&mut RubyPark::interruptible(ruby), owner, deadline)
    }

    fn wait(ruby: &Ruby, rb_self: This<Self>) -> Result<This<Self>, Error> {
        Self::acquire(ruby, rb_self, None)?;
        Ok(rb_self)
    }

    fn try_wait(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<This<Self>, Error> {
        let timeout = optional_timeout(ruby, args)?;
        if !timeout_given(args) {
            let owner = Owner::current();
            return if rb_self.handle.with(ruby, |sem| sem.try_wait(owner))? {
                Ok(rb_self)
            } else {
                Err(errno_error(ruby, libc::EAGAIN, "semaphore value is zero"))
            };
        }
        if Self::acquire(ruby, rb_self, deadline_after(timeout))? {
            Ok(rb_self)
        } else {
            Err(errno_error(
                ruby,
                libc::ETIMEDOUT,
                "semaphore wait timed out",
            ))
        }
    }

    fn post(ruby: &Ruby, rb_self: This<Self>) -> Result<This<Self>, Error> {
        let owner = Owner::current();
        rb_self
            .handle
            .with(ruby, |sem| sem.post(owner))?
            .or_raise(ruby)?;
        Ok(rb_self)
    }

    fn value(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self.handle.with(ruby, CoreUndoSemaphore::value)
    }

    fn waiting(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self.handle.with(ruby, CoreUndoSemaphore::waiting)
    }

    fn holders(ruby: &Ruby, rb_self: This<Self>) -> Result<Vec<(u32, u64)>, Error> {
        rb_self.handle.with(ruby, CoreUndoSemaphore::holders)
    }

    fn synchronize(ruby: &Ruby, rb_self: This<Self>) -> Result<Value, Error> {
        let semaphore = rb_self.handle.get(ruby)?;
        around_block(
            ruby,
            || Self::acquire(ruby, rb_self, None).map(drop),
            || semaphore.post(Owner::current()).or_raise(ruby),
        )
    }

    fn inspect(ruby: &Ruby, rb_self: This<Self>) -> String {
        inspect_with(ruby, rb_self, |sem| {
            let held: Vec<String> = sem
                .holders()
                .iter()
                .map(|(pid, units)| format!("{pid}: {units}"))
                .collect();
            let held = if held.is_empty() {
                String::new()
            } else {
                format!(", held by {{{}}}", held.join(", "))
            };
            format!("value {}{held}, {} waiting", sem.value(), sem.waiting())
        })
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let semaphore: RClass = namespace.const_get("Semaphore")?;
    let class = namespace.define_class("UndoSemaphore", semaphore)?;
    define_handle_class!(class, UndoSemaphore);
    class.define_method("initialize", method!(UndoSemaphore::initialize, -1))?;
    class.define_method("wait", method!(UndoSemaphore::wait, 0))?;
    class.define_method("try_wait", method!(UndoSemaphore::try_wait, -1))?;
    class.define_method("post", method!(UndoSemaphore::post, 0))?;
    class.define_method("value", method!(UndoSemaphore::value, 0))?;
    class.define_method("waiting", method!(UndoSemaphore::waiting, 0))?;
    class.define_method("holders", method!(UndoSemaphore::holders, 0))?;
    class.define_method("synchronize", method!(UndoSemaphore::synchronize, 0))?;
    class.define_method("inspect", method!(UndoSemaphore::inspect, 0))?;
    let _ = ruby;
    named::include_in::<UndoSemaphore>(ruby, class)?;
    Ok(())
}
