//! Unwrapping a Ruby object to the Rust value it wraps, on the hot path.
//!
//! Taking `&T` or `Obj<T>` as a method argument makes magnus call
//! `rb_check_typeddata` inside `rb_protect` (a `setjmp`) on every call, which
//! costs about as much as `get_int` or an uncontended `lock` itself.
//! [`wrapped`] does the same check inline, without ever raising, so no
//! protect is needed. Methods take their receiver as [`This<T>`].

use super::convert::class_name;
use super::errors::type_error;
use magnus::{rb_sys::AsRawValue, Error, IntoValue, Ruby, TryConvert, TypedData, Value};
use rb_sys::stable_api::{get_default, StableApiDefinition};
use rb_sys::VALUE;
use std::ops::Deref;
use std::ptr::NonNull;

/// The `T` that the object `value` wraps, if it wraps one: the one receiver
/// check of the binding (magnus methods through [`This`], `fast_path`'s
/// entry points directly). `T`'s data type or one derived from it (as
/// `rb_typeddata_is_kind_of`), so subclasses pass; inline, and it never
/// raises, so no `rb_protect` is needed.
#[inline]
pub fn wrapped<T: TypedData>(value: VALUE) -> Option<NonNull<T>> {
    let api = get_default();
    if api.special_const_p(value) {
        return None;
    }
    // DataType is `repr(transparent)` over rb_data_type_t.
    let wanted = std::ptr::from_ref(T::data_type()).cast::<rb_sys::rb_data_type_t>();
    // SAFETY: `value` is a heap object (not a special constant), so its
    // type tag, and for a typed T_DATA its data type, can be read; a data
    // type's `parent` chain is static data ending in null.
    unsafe {
        if api.builtin_type(value) != rb_sys::ruby_value_type::RUBY_T_DATA
            || !api.rtypeddata_p(value)
        {
            return None;
        }
        let mut data_type = api.rtypeddata_type(value);
        while data_type != wanted {
            if data_type.is_null() {
                return None;
            }
            data_type = (*data_type).parent;
        }
        // A typed data object of T's data type: its data pointer is a
        // `*mut T` made by magnus's allocator (never null for objects made
        // by our alloc funcs), alive while `value` is.
        NonNull::new(api.rtypeddata_get_data(value).cast::<T>())
    }
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
        match wrapped::<T>(value.as_raw()) {
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
