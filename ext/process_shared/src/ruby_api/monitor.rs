//! `ProcessShared::Monitor`: Ruby's `Monitor` (a reentrant lock) across
//! processes. The reentrancy depth lives in the lock's shared page and only
//! the owner touches it.

use super::blocking::deadline_after;
use super::errors::{process_error, OrRaise};
use super::guard::method;
use super::handle::Handle;
use super::mutex::{lock_blocking, optional_timeout, timeout_given};
use super::named;
use super::semaphore::around_block;
use super::typed::This;
use crate::core::mutex::{Mutex as CoreMutex, TryLock};
use crate::core::named::SharedState;
use magnus::{prelude::*, scan_args::scan_args, Error, RModule, Ruby, Value};

#[magnus::wrap(class = "ProcessShared::Monitor", free_immediately, size)]
#[derive(Default)]
pub struct Monitor {
    pub(super) handle: Handle<CoreMutex>,
}

fn enter_handle(ruby: &Ruby, handle: &Handle<CoreMutex>) -> Result<(), Error> {
    let fast = handle.with(ruby, |monitor| {
        Ok::<_, crate::core::CoreError>(if monitor.reenter()? {
            TryLock::Acquired
        } else {
            monitor.lock_fast()
        })
    })?;
    match fast.or_raise(ruby)? {
        TryLock::Acquired | TryLock::AlreadyOwned => Ok(()),
        TryLock::Busy => lock_blocking(ruby, &*handle.get(ruby)?, None).map(drop),
    }
}

impl Monitor {
    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        let (args, naming) = named::split_args(ruby, args)?;
        scan_args::<(), (), (), (), (), ()>(args)?;
        let monitor =
            named::create::<CoreMutex>(ruby, naming.as_ref(), "ProcessShared::Monitor", ())?;
        rb_self.handle.open(ruby, monitor)
    }

    fn initialize_copy(ruby: &Ruby, rb_self: This<Self>, original: &Self) -> Result<(), Error> {
        rb_self.handle.adopt(ruby, original.handle.get(ruby)?)
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
            TryLock::Busy if !timeout_given(args) => Ok(false),
            TryLock::Busy => {
                lock_blocking(ruby, &*rb_self.handle.get(ruby)?, deadline_after(timeout))
            }
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

    /// Releases this process's handle; a monitor the calling thread holds
    /// is released first, however deeply entered.
    fn close(ruby: &Ruby, rb_self: This<Self>) {
        let _ = rb_self.handle.with(ruby, |monitor| {
            if monitor.is_owned() {
                let _ = monitor.unlock();
            }
        });
        rb_self.handle.close();
    }

    fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }
}

impl named::NamedClass for Monitor {
    fn with_region<R>(
        &self,
        ruby: &Ruby,
        f: impl FnOnce(&crate::core::region::SharedRegion) -> R,
    ) -> Result<R, Error> {
        self.handle.with(ruby, |object| f(object.region()))
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("Monitor", ruby.class_object())?;
    class.define_alloc_func::<Monitor>();
    class.define_method("initialize", method!(Monitor::initialize, -1))?;
    class.define_method("initialize_copy", method!(Monitor::initialize_copy, 1))?;
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
    class.define_method("close", method!(Monitor::close, 0))?;
    class.define_method("closed?", method!(Monitor::is_closed, 0))?;
    named::include_in::<Monitor>(ruby, class)?;
    Ok(())
}
