//! Unwrapping a Ruby object to the Rust value it wraps, on the hot path.
//!
//! Taking `&T` as a method argument makes magnus call `rb_check_typeddata`
//! inside `rb_protect` (a `setjmp`) on every call, which costs about as much
//! as the operation itself for `get_int`/`lock`. `rb_typeddata_is_kind_of`
//! does the same check without ever raising, so no protect is needed.

use super::convert::class_name;
use super::errors::type_error;
use magnus::{rb_sys::AsRawValue, Error, Ruby, TypedData, Value};
use rb_sys::stable_api::StableApiDefinition;

/// The `T` inside `value`, or `TypeError`.
///
/// The reference must not outlive the method call that received `value`
/// (Ruby keeps the receiver and arguments alive for that long).
pub fn unwrap<T: TypedData>(ruby: &Ruby, value: Value) -> Result<&T, Error> {
    let raw = value.as_raw();
    // DataType is `repr(transparent)` over rb_data_type_t.
    let data_type = std::ptr::from_ref(T::data_type()).cast::<rb_sys::rb_data_type_t>();
    // SAFETY: rb_typeddata_is_kind_of accepts any VALUE and never raises; it
    // checks T_DATA, the typed flag and T's data type (or a parent of it).
    let is_t = unsafe { rb_sys::rb_typeddata_is_kind_of(raw, data_type) != 0 };
    if is_t {
        // SAFETY: `raw` is a typed data object of T's data type, so its data
        // pointer is a `*mut T` made by magnus's allocator (never null for
        // objects made by our alloc funcs), alive while `value` is.
        let data = unsafe { rb_sys::stable_api::get_default().rtypeddata_get_data(raw) };
        // SAFETY: as above; only shared references are ever handed out.
        if let Some(inner) = unsafe { data.cast::<T>().as_ref() } {
            return Ok(inner);
        }
    }
    Err(type_error(
        ruby,
        format!("expected a {}, got {}", T::class(ruby), class_name(value)),
    ))
}
