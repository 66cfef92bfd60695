//! `ProcessShared::Monitor`: Ruby's `Monitor` (a reentrant lock) across
//! processes. The reentrancy depth lives in the lock's shared page and only
//! the owner touches it.

use super::args::{optional_timeout, timeout_given};
use super::errors::{process_error, OrRaise};
use super::guard::method;
use super::handle::{define_handle_class, handle_class, inspect_with, open_page, Handle};
use super::methods::around_block;
use super::mutex::{describe_lock, lock_busy, lock_busy_until, release_own_hold};
use super::owner::release_at_thread_end;
use super::typed::This;
use crate::core::mutex::{Mutex as CoreMutex, TryLock};
use crate::core::park::deadline_after;
use magnus::{prelude::*, Error, RModule, Ruby, Value};

handle_class!(
    Monitor,
    "ProcessShared::Monitor",
    CoreMutex,
    before_close = release_own_hold
);

fn enter_handle(ruby: &Ruby, handle: &Handle<CoreMutex>) -> Result<(), Error> {
    match handle.with(ruby, CoreMutex::enter_fast)?.or_raise(ruby)? {
        TryLock::Acquired | TryLock::AlreadyOwned => Ok(()),
        fast => lock_busy(ruby, &*handle.get(ruby)?, fast),
    }
}

impl Monitor {
    fn initialize(ruby: &Ruby, rb_self: This<Self>) -> Result<(), Error> {
        open_page(ruby, rb_self, CoreMutex::new)?;
        release_at_thread_end(&rb_self.handle.get(ruby)?);
        Ok(())
    }

    fn owner_pid(ruby: &Ruby, rb_self: This<Self>) -> Result<Option<u32>, Error> {
        rb_self.handle.with(ruby, CoreMutex::owner_pid)
    }

    fn waiting(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self.handle.with(ruby, CoreMutex::waiting)
    }

    fn inspect(ruby: &Ruby, rb_self: This<Self>) -> String {
        inspect_with(ruby, rb_self, describe_lock)
    }

    fn enter(ruby: &Ruby, rb_self: This<Self>) -> Result<(), Error> {
        enter_handle(ruby, &rb_self.handle)
    }

    fn exit(ruby: &Ruby, rb_self: This<Self>) -> Result<(), Error> {
        rb_self
            .handle
            .with(ruby, CoreMutex::exit_once)?
            .or_raise(ruby)
    }

    fn try_enter(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<bool, Error> {
        let timeout = optional_timeout(ruby, args)?;
        let fast = rb_self.handle.with(ruby, |monitor| {
            Ok::<_, crate::core::CoreError>(if monitor.reenter()? {
                TryLock::Acquired
            } else {
                monitor.try_lock()
            })
        })?;
        match fast.or_raise(ruby)? {
            TryLock::Acquired | TryLock::AlreadyOwned => Ok(true),
            _ if !timeout_given(args) => Ok(false),
            fast => lock_busy_until(
                ruby,
                &*rb_self.handle.get(ruby)?,
                fast,
                deadline_after(timeout),
            ),
        }
    }

    fn synchronize(ruby: &Ruby, rb_self: This<Self>) -> Result<Value, Error> {
        let monitor = rb_self.handle.get(ruby)?;
        around_block(
            ruby,
            || enter_handle(ruby, &rb_self.handle),
            || monitor.exit_once().or_raise(ruby),
        )
    }

    fn is_locked(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreMutex::is_locked)
    }

    fn is_owned(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreMutex::is_owned)
    }

    fn check_owner(ruby: &Ruby, rb_self: This<Self>) -> Result<(), Error> {
        if rb_self.handle.with(ruby, CoreMutex::is_owned)? {
            Ok(())
        } else {
            Err(process_error(
                ruby,
                "current thread of this process does not own the monitor",
            ))
        }
    }

    fn previous_owner_died(ruby: &Ruby, rb_self: This<Self>) -> Result<bool, Error> {
        rb_self.handle.with(ruby, CoreMutex::previous_owner_died)
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("Monitor", ruby.class_object())?;
    define_handle_class!(class, Monitor);
    class.define_method("initialize", method!(Monitor::initialize, 0))?;
    for name in ["enter", "mon_enter", "lock"] {
        class.define_method(name, method!(Monitor::enter, 0))?;
    }
    for name in ["exit", "mon_exit", "unlock"] {
        class.define_method(name, method!(Monitor::exit, 0))?;
    }
    for name in ["try_enter", "mon_try_enter", "try_mon_enter", "try_lock"] {
        class.define_method(name, method!(Monitor::try_enter, -1))?;
    }
    for name in ["synchronize", "mon_synchronize"] {
        class.define_method(name, method!(Monitor::synchronize, 0))?;
    }
    class.define_method("mon_locked?", method!(Monitor::is_locked, 0))?;
    class.define_method("mon_owned?", method!(Monitor::is_owned, 0))?;
    class.define_method("mon_check_owner", method!(Monitor::check_owner, 0))?;
    class.define_method(
        "previous_owner_died?",
        method!(Monitor::previous_owner_died, 0),
    )?;
    class.define_method("owner_pid", method!(Monitor::owner_pid, 0))?;
    class.define_method("waiting", method!(Monitor::waiting, 0))?;
    class.define_method("inspect", method!(Monitor::inspect, 0))?;
    Ok(())
}
