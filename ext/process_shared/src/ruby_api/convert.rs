//! Converting Ruby arguments to the core's types, with the exceptions
//! API.md names for each kind of wrong argument.

use super::errors::{argument_error, index_error, type_error};
use magnus::{prelude::*, Error, Integer, Ruby, Value};
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
