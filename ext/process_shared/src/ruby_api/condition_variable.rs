//! `ProcessShared::ConditionVariable`: `Thread::ConditionVariable` across
//! processes, for a `ProcessShared::Mutex` or `ProcessShared::Monitor`.

use super::blocking::{block_until, deadline_after};
use super::convert;
use super::errors::{type_error, OrRaise};
use super::guard::method;
use super::handle::Handle;
use super::monitor::Monitor;
use super::mutex::{relock, Mutex};
use super::named;
use super::typed::This;
use super::uninterruptible::later_error;
use crate::core::condvar::CondVar;
use crate::core::mutex::Mutex as CoreMutex;
use crate::core::named::SharedState;
use crate::platform::monotonic_now;
use magnus::{
    prelude::*, scan_args::scan_args, typed_data::Obj, Error, IntoValue, RModule, Ruby, Value,
};
use std::sync::Arc;

#[magnus::wrap(class = "ProcessShared::ConditionVariable", free_immediately, size)]
#[derive(Default)]
pub struct ConditionVariable {
    handle: Handle<CondVar>,
}

/// The shared lock behind a `ProcessShared::Mutex` or `Monitor` argument.
fn lock_of(ruby: &Ruby, value: Value) -> Result<Arc<CoreMutex>, Error> {
    if let Ok(mutex) = Obj::<Mutex>::try_convert(value) {
        return mutex.handle.get(ruby);
    }
    if let Ok(monitor) = Obj::<Monitor>::try_convert(value) {
        return monitor.handle.get(ruby);
    }
    Err(type_error(
        ruby,
        format!(
            "expected a ProcessShared::Mutex or ProcessShared::Monitor, not {}",
            convert::class_name(value)
        ),
    ))
}

impl ConditionVariable {
    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        let (args, naming) = named::split_args(ruby, args)?;
        scan_args::<(), (), (), (), (), ()>(args)?;
        let condvar = named::create::<CondVar>(
            ruby,
            naming.as_ref(),
            "ProcessShared::ConditionVariable",
            (),
        )?;
        rb_self.handle.open(ruby, condvar)
    }

    fn initialize_copy(ruby: &Ruby, rb_self: This<Self>, original: &Self) -> Result<(), Error> {
        rb_self.handle.adopt(ruby, original.handle.get(ruby)?)
    }

    /// Releases `mutex`, waits for a signal or the timeout, and takes
    /// `mutex` again before returning or raising. Returns as Ruby 3.1's
    /// `Thread::ConditionVariable#wait`: the whole seconds waited when woken,
    /// `nil` when the timeout passed.
    fn wait(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<Value, Error> {
        let args = scan_args::<(Value,), (Option<Value>,), (), (), (), ()>(args)?;
        let timeout = convert::timeout(ruby, args.optional.0)?;
        let mutex = lock_of(ruby, args.required.0)?;
        let condvar = rb_self.handle.get(ruby)?;
        let deadline = deadline_after(timeout);

        // The ticket is taken while the mutex is still held: a signal sent
        // after the release below cannot be missed.
        let ticket = condvar.ticket();
        let depth = mutex.release_for_wait().or_raise(ruby)?;
        let start = monotonic_now();
        let woken = block_until(ruby, deadline, |slice_end| ticket.wait_until(slice_end));
        drop(ticket);
        let relocked = relock(ruby, &mutex);
        mutex.resume_hold(depth);

        let woken = match (woken, relocked) {
            (Ok(woken), Ok(())) => woken,
            (Err(err), Ok(())) | (Ok(_), Err(err)) => return Err(err),
            (Err(first), Err(second)) => return Err(later_error(first, second)),
        };
        Ok(match woken {
            Some(()) => (monotonic_now() - start).as_secs().into_value_with(ruby),
            None => ruby.qnil().as_value(),
        })
    }

    fn signal(ruby: &Ruby, rb_self: This<Self>) -> Result<This<Self>, Error> {
        rb_self.handle.with(ruby, CondVar::signal)?;
        Ok(rb_self)
    }

    fn broadcast(ruby: &Ruby, rb_self: This<Self>) -> Result<This<Self>, Error> {
        rb_self.handle.with(ruby, CondVar::broadcast)?;
        Ok(rb_self)
    }

    fn close(&self) {
        self.handle.close();
    }

    fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }
}

impl named::NamedClass for ConditionVariable {
    fn with_region<R>(
        &self,
        ruby: &Ruby,
        f: impl FnOnce(&crate::core::region::SharedRegion) -> R,
    ) -> Result<R, Error> {
        self.handle.with(ruby, |object| f(object.region()))
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("ConditionVariable", ruby.class_object())?;
    class.define_alloc_func::<ConditionVariable>();
    class.define_method("initialize", method!(ConditionVariable::initialize, -1))?;
    class.define_method(
        "initialize_copy",
        method!(ConditionVariable::initialize_copy, 1),
    )?;
    class.define_method("wait", method!(ConditionVariable::wait, -1))?;
    class.define_method("signal", method!(ConditionVariable::signal, 0))?;
    class.define_method("broadcast", method!(ConditionVariable::broadcast, 0))?;
    class.define_method("close", method!(ConditionVariable::close, 0))?;
    class.define_method("closed?", method!(ConditionVariable::is_closed, 0))?;
    named::include_in::<ConditionVariable>(ruby, class)?;
    Ok(())
}
