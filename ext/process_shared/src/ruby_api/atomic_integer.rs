//! `ProcessShared::AtomicInteger`: a signed 64-bit integer in shared memory
//! with `Concurrent::AtomicFixnum`'s interface, plus `max!`/`min!`. Every
//! operation is `core::atomic`'s: lock-free, no system call.

use super::errors::OrRaise;
use super::fast_path::{self, slow_name};
use super::guard::method;
use super::handle::{define_handle_class, handle_class};
use super::named;
use super::shared_array_atomic::{
    element_value, expected_value, signed_delta, update_with_block, Keep,
};
use super::typed::This;
use crate::core::atomic::SharedCounter;
use magnus::{prelude::*, scan_args::scan_args, Error, RModule, Ruby, Value};

handle_class!(AtomicInteger, "ProcessShared::AtomicInteger", SharedCounter);

impl AtomicInteger {
    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        named::initialize(ruby, rb_self, args, |args| {
            let args = scan_args::<(), (Option<Value>,), (), (), (), ()>(args)?;
            match args.optional.0 {
                Some(value) => element_value::<i64>(ruby, value, "initial value"),
                None => Ok(0),
            }
        })
    }

    fn value(ruby: &Ruby, rb_self: This<Self>) -> Result<i64, Error> {
        rb_self.handle.with(ruby, |counter| counter.slot().load())
    }

    fn set_value(ruby: &Ruby, rb_self: This<Self>, value: Value) -> Result<Value, Error> {
        let new = element_value::<i64>(ruby, value, "value")?;
        rb_self
            .handle
            .with(ruby, |counter| counter.slot().store(new))?;
        Ok(value)
    }

    fn add(ruby: &Ruby, rb_self: This<Self>, args: &[Value], negate: bool) -> Result<i64, Error> {
        let args = scan_args::<(), (Option<Value>,), (), (), (), ()>(args)?;
        let delta = signed_delta(ruby, args.optional.0, negate)?;
        rb_self
            .handle
            .with(ruby, |counter| counter.slot().add(delta))?
            .or_raise(ruby)
    }

    fn increment(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<i64, Error> {
        Self::add(ruby, rb_self, args, false)
    }

    fn decrement(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<i64, Error> {
        Self::add(ruby, rb_self, args, true)
    }

    fn compare_and_set(
        ruby: &Ruby,
        rb_self: This<Self>,
        expected: Value,
        new: Value,
    ) -> Result<bool, Error> {
        let expected = expected_value::<i64>(ruby, expected)?;
        let new = element_value::<i64>(ruby, new, "new value")?;
        rb_self.handle.with(ruby, |counter| {
            expected.is_some_and(|expected| counter.slot().compare_and_set(expected, new))
        })
    }

    fn get_and_set(ruby: &Ruby, rb_self: This<Self>, new: Value) -> Result<i64, Error> {
        let new = element_value::<i64>(ruby, new, "new value")?;
        rb_self
            .handle
            .with(ruby, |counter| counter.slot().swap(new))
    }

    fn update(ruby: &Ruby, rb_self: This<Self>) -> Result<i64, Error> {
        // The block may close this handle: the Arc keeps the mapping.
        let counter = rb_self.handle.get(ruby)?;
        update_with_block(ruby, &counter.slot())
    }

    /// `max!(value)` and `min!(value)`: the value after keeping the larger
    /// (smaller).
    fn keep(ruby: &Ruby, rb_self: This<Self>, value: Value, keep: Keep) -> Result<i64, Error> {
        let candidate = element_value::<i64>(ruby, value, "value")?;
        rb_self
            .handle
            .with(ruby, |counter| keep.apply(&counter.slot(), candidate))
    }

    fn max(ruby: &Ruby, rb_self: This<Self>, value: Value) -> Result<i64, Error> {
        Self::keep(ruby, rb_self, value, Keep::Larger)
    }

    fn min(ruby: &Ruby, rb_self: This<Self>, value: Value) -> Result<i64, Error> {
        Self::keep(ruby, rb_self, value, Keep::Smaller)
    }
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("AtomicInteger", ruby.class_object())?;
    define_handle_class!(class, AtomicInteger);
    named::include_in::<AtomicInteger>(ruby, class)?;
    class.define_method("initialize", method!(AtomicInteger::initialize, -1))?;
    // The checked value, increment and decrement; the public ones (and
    // `up`, `down`) are fast_path's.
    class.define_private_method(&slow_name("value"), method!(AtomicInteger::value, 0))?;
    class.define_private_method(
        &slow_name("increment"),
        method!(AtomicInteger::increment, -1),
    )?;
    class.define_private_method(
        &slow_name("decrement"),
        method!(AtomicInteger::decrement, -1),
    )?;
    fast_path::init_atomic_integer(class)?;
    class.define_method("value=", method!(AtomicInteger::set_value, 1))?;
    class.define_method(
        "compare_and_set",
        method!(AtomicInteger::compare_and_set, 2),
    )?;
    class.define_method("get_and_set", method!(AtomicInteger::get_and_set, 1))?;
    class.define_method("swap", method!(AtomicInteger::get_and_set, 1))?;
    class.define_method("update", method!(AtomicInteger::update, 0))?;
    class.define_method("max!", method!(AtomicInteger::max, 1))?;
    class.define_method("min!", method!(AtomicInteger::min, 1))?;
    Ok(())
}
