//! Unwrapping a Ruby object to the Rust value it wraps, on the hot path.
//!
//! Taking `&T` or `Obj<T>` as a method argument makes magnus call
//! `rb_check_typeddata` inside `rb_protect` (a `setjmp`) on every call, which
//! costs about as much as `get_int` or an uncontended `lock` itself.
//! `rb_typeddata_is_kind_of` does the same check without ever raising, so no
//! protect is needed. Methods take their receiver as [`This<T>`].

use super::convert::class_name;
use super::errors::type_error;
use magnus::{rb_sys::AsRawValue, Error, IntoValue, Ruby, TryConvert, TypedData, Value};
use rb_sys::stable_api::StableApiDefinition;
use std::ops::Deref;
use std::ptr::NonNull;

/// The `T` inside `value`, if `value` wraps one.
fn inner<T: TypedData>(value: Value) -> Option<NonNull<T>> {
    let raw = value.as_raw();
    // DataType is `repr(transparent)` over rb_data_type_t.
    let data_type = std::ptr::from_ref(T::data_type()).cast::<rb_sys::rb_data_type_t>();
    // SAFETY: rb_typeddata_is_kind_of accepts any VALUE and never raises; it
    // checks T_DATA, the typed flag and T's data type (or a parent of it).
    if unsafe { rb_sys::rb_typeddata_is_kind_of(raw, data_type) } == 0 {
        return None;
    }
    // SAFETY: `raw` is a typed data object of T's data type, so its data
    // pointer is a `*mut T` made by magnus's allocator (never null for
    // objects made by our alloc funcs), alive while `value` is.
    let data = unsafe { rb_sys::stable_api::get_default().rtypeddata_get_data(raw) };
    NonNull::new(data.cast::<T>())
}

/// A method's receiver: derefs to the wrapped `T`, and converts back to the
/// Ruby object (so methods can return `self`).
///
/// Made only by magnus from the receiver of a method call, which Ruby keeps
/// alive until the call returns; it is not `Send`, so it cannot leave the
/// calling thread, and nothing stores it beyond the call.
pub struct This<T> {
    inner: NonNull<T>,
    value: Value,
}

impl<T> Clone for This<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for This<T> {}

impl<T> Deref for This<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `inner` points at the T wrapped by the receiver, which Ruby
        // keeps alive (and magnus never frees or moves) while the method call
        // that received it runs; only shared references are handed out.
        unsafe { self.inner.as_ref() }
    }
}

impl<T: TypedData> TryConvert for This<T> {
    fn try_convert(value: Value) -> Result<Self, Error> {
        match inner::<T>(value) {
            Some(inner) => Ok(This { inner, value }),
            None => {
                let ruby = Ruby::get_with(value);
                Err(type_error(
                    &ruby,
                    format!("expected a {}, got {}", T::class(&ruby), class_name(value)),
                ))
            }
        }
    }
}

impl<T> IntoValue for This<T> {
    fn into_value_with(self, _ruby: &Ruby) -> Value {
        self.value
    }
}
