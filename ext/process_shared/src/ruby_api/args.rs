//! Optional arguments several classes take in the same form.

use super::convert;
use magnus::{prelude::*, scan_args::scan_args, Error, Ruby, Value};
use std::time::Duration;

/// The one optional argument of `args`, if given.
fn optional(args: &[Value]) -> Result<Option<Value>, Error> {
    Ok(scan_args::<(), (Option<Value>,), (), (), (), ()>(args)?
        .optional
        .0)
}

/// The optional initial value of `new(value = 1)`.
pub fn initial_value(ruby: &Ruby, args: &[Value]) -> Result<u64, Error> {
    match optional(args)? {
        Some(value) => convert::count(ruby, value, "initial value"),
        None => Ok(1),
    }
}

/// An optional timeout argument, as [`convert::timeout`] reads it.
pub fn optional_timeout(ruby: &Ruby, args: &[Value]) -> Result<Option<Duration>, Error> {
    convert::timeout(ruby, optional(args)?)
}

/// Whether a timeout argument was given at all (`try_lock(nil)` is
/// non-blocking, `try_lock(Float::INFINITY)` waits for ever).
pub fn timeout_given(args: &[Value]) -> bool {
    args.first().is_some_and(|value| !value.is_nil())
}
