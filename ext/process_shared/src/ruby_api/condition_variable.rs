//! `ProcessShared::ConditionVariable`: `Thread::ConditionVariable` across
//! processes, for a `ProcessShared::Mutex` or `ProcessShared::Monitor`.

use super::blocking::RubyPark;
use super::convert;
use super::errors::type_error;
use super::guard::method;
use super::handle::{define_handle_class, handle_class, inspect_with, open_page};
use super::monitor::Monitor;
use super::mutex::{relock, Mutex};
use super::typed::This;
use crate::core::condvar::CondVar;
use crate::core::mutex::Mutex as CoreMutex;
use crate::core::park::deadline_after;
use crate::platform::monotonic_now;
use magnus::{
    prelude::*, scan_args::scan_args, typed_data::Obj, Error, IntoValue, RModule, Ruby, Value,
};
use std::sync::Arc;

handle_class!(
    ConditionVariable,
    "ProcessShared::ConditionVariable",
    CondVar
);

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
    fn waiting(ruby: &Ruby, rb_self: This<Self>) -> Result<u32, Error> {
        rb_self.handle.with(ruby, CondVar::waiting)
    }

    fn inspect(ruby: &Ruby, rb_self: This<Self>) -> String {
        inspect_with(ruby, rb_self, |condvar| {
            format!("{} waiting", condvar.waiting())
        })
    }

    fn initialize(ruby: &Ruby, rb_self: This<Self>) -> Result<(), Error> {
        open_page(ruby, rb_self, CondVar::new)
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
        let start = monotonic_now();
        let woken = condvar.wait(
            &mutex,
            &mut RubyPark::interruptible(ruby),
            deadline_after(timeout),
            || relock(ruby, &mutex),
        )?;
        Ok(if woken {
            (monotonic_now() - start).as_secs().into_value_with(ruby)
        } else {
            ruby.qnil().as_value()
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
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("ConditionVariable", ruby.class_object())?;
    define_handle_class!(class, ConditionVariable);
    class.define_method("initialize", method!(ConditionVariable::initialize, 0))?;
    class.define_method("wait", method!(ConditionVariable::wait, -1))?;
    class.define_method("signal", method!(ConditionVariable::signal, 0))?;
    class.define_method("broadcast", method!(ConditionVariable::broadcast, 0))?;
    class.define_method("waiting", method!(ConditionVariable::waiting, 0))?;
    class.define_method("inspect", method!(ConditionVariable::inspect, 0))?;
    Ok(())
}
