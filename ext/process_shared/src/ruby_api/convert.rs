//! Converting Ruby arguments to the core's types, with the exception the
//! README and the YARD docs name for each kind of wrong argument, and the
//! element types' values to and from Ruby ([`RubyScalar`]).

use super::errors::{argument_error, index_error, range_error, type_error};
use crate::core::scalar::{scalar_types, Scalar};
use magnus::rb_sys::FromRawValue;
use magnus::{prelude::*, Error, Float, Integer, Ruby, Value};
use rb_sys::stable_api::{get_default, StableApiDefinition};
use rb_sys::{ruby_value_type, VALUE};
use std::time::Duration;

fn integer(ruby: &Ruby, value: Value, what: &str) -> Result<Integer, Error> {
    Integer::from_value(value).ok_or_else(|| {
        type_error(
            ruby,
            format!("{what} must be an Integer, not {}", class_name(value)),
        )
    })
}

fn is_negative(integer: Integer) -> bool {
    match integer.to_i64() {
        Ok(small) => small < 0,
        Err(_) => integer
            .funcall::<_, _, bool>("negative?", ())
            .unwrap_or(false),
    }
}

pub fn class_name(value: Value) -> String {
    // SAFETY: the class name is copied out before any further Ruby call.
    unsafe { value.classname() }.into_owned()
}

/// A size, count or initial value: a non-negative Integer (`TypeError`
/// otherwise; `ArgumentError` when negative or absurdly large).
pub fn count(ruby: &Ruby, value: Value, what: &str) -> Result<u64, Error> {
    let integer = integer(ruby, value, what)?;
    if is_negative(integer) {
        return Err(argument_error(ruby, format!("{what} must not be negative")));
    }
    integer
        .to_u64()
        .map_err(|_| argument_error(ruby, format!("{what} is too large")))
}

/// A byte offset or index: an Integer (`TypeError` otherwise); negative or
/// absurdly large ones are `IndexError`, as they lie outside any region.
pub fn offset(ruby: &Ruby, value: Value) -> Result<u64, Error> {
    let integer = integer(ruby, value, "offset")?;
    if is_negative(integer) {
        return Err(index_error(ruby, format!("offset {integer} is negative")));
    }
    integer
        .to_u64()
        .map_err(|_| index_error(ruby, format!("offset {integer} is out of range")))
}

/// An index into a String (`put_bytes(offset, string, index)`): an Integer
/// (`TypeError` otherwise); negative or absurdly large ones lie outside any
/// String, an `IndexError`.
pub fn string_index(ruby: &Ruby, value: Value) -> Result<usize, Error> {
    let integer = integer(ruby, value, "index")?;
    let outside = || index_error(ruby, format!("index {integer} is outside the string"));
    if is_negative(integer) {
        return Err(outside());
    }
    integer
        .to_u64()
        .ok()
        .and_then(|index| usize::try_from(index).ok())
        .ok_or_else(outside)
}

/// A length in bytes or elements: like [`count`], but one that cannot fit
/// any region is an `IndexError` rather than an `ArgumentError`.
pub fn length(ruby: &Ruby, value: Value) -> Result<usize, Error> {
    let integer = integer(ruby, value, "length")?;
    if is_negative(integer) {
        return Err(argument_error(ruby, format!("negative length {integer}")));
    }
    integer
        .to_u64()
        .ok()
        .and_then(|length| usize::try_from(length).ok())
        .ok_or_else(|| index_error(ruby, format!("length {integer} is out of range")))
}

/// Timeouts of this many seconds (2**62, some 146 billion years) or more
/// mean "wait for ever": no clock or `Kernel#sleep` could count them
/// (`Kernel#sleep` refuses 2**63 s and more).
const FOREVER_SECONDS: f64 = 4_611_686_018_427_387_904.0;

/// A timeout in seconds (Integer or Float), the one conversion every wait
/// uses. `nil`, `Float::INFINITY` and anything from 2**62 s on mean "no
/// timeout" (`None`); NaN and negative values are `ArgumentError`.
pub fn timeout(ruby: &Ruby, value: Option<Value>) -> Result<Option<Duration>, Error> {
    let Some(value) = value.filter(|value| !value.is_nil()) else {
        return Ok(None);
    };
    let seconds =
        if Integer::from_value(value).is_some() || magnus::Float::from_value(value).is_some() {
            f64::try_convert(value)?
        } else {
            return Err(type_error(
                ruby,
                format!("timeout must be a Numeric, not {}", class_name(value)),
            ));
        };
    if seconds.is_nan() {
        return Err(argument_error(ruby, "timeout must not be NaN"));
    }
    if seconds < 0.0 {
        return Err(argument_error(
            ruby,
            format!("timeout must not be negative (got {seconds})"),
        ));
    }
    if seconds >= FOREVER_SECONDS {
        return Ok(None);
    }
    Ok(Duration::try_from_secs_f64(seconds).ok())
}

/// An element type's values as Ruby sees them (Integer or Float): the one
/// conversion of each Rust type of the scalar table, in both directions,
/// for the checked methods and for `fast_path`'s entry points alike.
pub trait RubyScalar: Scalar {
    /// The Ruby value (may allocate a Bignum or a Float; never raises
    /// anything but `NoMemoryError`).
    fn to_ruby(self) -> VALUE;

    /// The value of a Fixnum or Float that fits, read without any Ruby call
    /// that can raise; `None` for everything else (the checked path then
    /// converts it, or raises).
    fn from_fast(value: VALUE) -> Option<Self>;

    /// Any Ruby value, or `TypeError` (not a number of the type's kind) or
    /// `RangeError` (an Integer the type cannot hold).
    fn from_ruby(ruby: &Ruby, value: Value) -> Result<Self, Error>;

    /// [`to_ruby`](Self::to_ruby) as a magnus `Value`.
    fn into_ruby(self, _ruby: &Ruby) -> Value {
        // SAFETY: `to_ruby` returns a live Ruby object, which the caller
        // holds (on its stack) from here on.
        unsafe { Value::from_raw(self.to_ruby()) }
    }
}

/// An integer type: `$box` makes the Ruby Integer (`long2num` or
/// `ulong2num`). A Fixnum in the type's range converts fast; a Bignum that
/// fits takes the checked path; anything else raises there.
macro_rules! integer_scalar {
    ($t:ty, $box:ident) => {
        impl RubyScalar for $t {
            #[inline]
            fn to_ruby(self) -> VALUE {
                get_default().$box(self.into())
            }

            #[inline]
            fn from_fast(value: VALUE) -> Option<Self> {
                let api = get_default();
                if !api.fixnum_p(value) {
                    return None;
                }
                <$t>::try_from(api.fix2long(value)).ok()
            }

            fn from_ruby(ruby: &Ruby, value: Value) -> Result<Self, Error> {
                let Some(integer) = Integer::from_value(value) else {
                    return Err(type_error(
                        ruby,
                        format!(
                            "expected an Integer for {}, got {}",
                            stringify!($t),
                            class_name(value)
                        ),
                    ));
                };
                let wide: Option<i128> = match integer.to_i64() {
                    Ok(small) => Some(small.into()),
                    Err(_) => integer.to_u64().ok().map(i128::from),
                };
                wide.and_then(|wide| <$t>::try_from(wide).ok())
                    .ok_or_else(|| {
                        range_error(
                            ruby,
                            format!(
                                "{integer} does not fit {} ({}..{})",
                                stringify!($t),
                                <$t>::MIN,
                                <$t>::MAX
                            ),
                        )
                    })
            }
        }
    };
}

/// The layout of a heap Float (Ruby's `struct RFloat`, which rb-sys does
/// not export): the object header, then the value.
#[repr(C)]
struct HeapFloat {
    basic: rb_sys::RBasic,
    float_value: f64,
}

/// A Fixnum or a Float as an `f64`, without any Ruby call that can raise.
#[inline]
fn fast_float(value: VALUE) -> Option<f64> {
    let api = get_default();
    if api.fixnum_p(value) {
        return Some(api.fix2long(value) as f64);
    }
    if api.flonum_p(value) {
        // SAFETY: `num2dbl` of a flonum decodes its bits (no call).
        return Some(unsafe { api.num2dbl(value) });
    }
    // A heap Float's value is read in place: `num2dbl` would keep a call
    // to `rb_num2dbl` for other objects, which makes every entry point
    // that inlines this save registers.
    // SAFETY: `builtin_type` reads the header of a heap object (not a
    // special constant); a T_FLOAT object is an RFloat.
    unsafe {
        (!api.special_const_p(value) && api.builtin_type(value) == ruby_value_type::RUBY_T_FLOAT)
            .then(|| (*(value as *const HeapFloat)).float_value)
    }
}

/// A Float or an Integer as an `f64`, `TypeError` for anything else.
fn checked_float(ruby: &Ruby, value: Value) -> Result<f64, Error> {
    if Float::from_value(value).is_some() || Integer::from_value(value).is_some() {
        f64::try_convert(value)
    } else {
        Err(type_error(
            ruby,
            format!("expected a Float, got {}", class_name(value)),
        ))
    }
}

/// A floating-point type. `f32` is narrowed from the `f64` Ruby holds, as
/// FFI does (precision may be lost).
macro_rules! float_scalar {
    ($t:ty) => {
        impl RubyScalar for $t {
            #[inline]
            fn to_ruby(self) -> VALUE {
                get_default().dbl2num(f64::from(self))
            }

            #[inline]
            #[allow(clippy::unnecessary_cast)] // a no-op for f64
            fn from_fast(value: VALUE) -> Option<Self> {
                fast_float(value).map(|wide| wide as $t)
            }

            #[allow(clippy::unnecessary_cast)]
            fn from_ruby(ruby: &Ruby, value: Value) -> Result<Self, Error> {
                checked_float(ruby, value).map(|wide| wide as $t)
            }
        }
    };
}

/// One `RubyScalar` impl per row of the scalar table, by its kind.
macro_rules! ruby_scalars {
    (; $($variant:ident($t:ty, $atomic:ident, $kind:ident) { $($names:tt)* })*) => {
        $(ruby_scalars!(@ $kind $t);)*
    };
    (@ signed $t:ty) => { integer_scalar!($t, long2num); };
    (@ unsigned $t:ty) => { integer_scalar!($t, ulong2num); };
    (@ float $t:ty) => { float_scalar!($t); };
}
scalar_types!(ruby_scalars!());
