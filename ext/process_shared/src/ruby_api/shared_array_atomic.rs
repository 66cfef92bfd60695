//! The atomic operations of `SharedArray` on integer elements
//! (`increment`, `decrement`, `compare_and_set`, `get_and_set`/`swap`,
//! `update`, `max!`, `min!`), and the argument conversions they share with
//! `AtomicInteger`. The arithmetic is `core::atomic`'s.

use super::convert::RubyScalar;
use super::errors::{range_error, type_error, OrRaise};
use super::fast_path::{self, slow_name};
use super::guard::method;
use super::shared_array::{element_offset, shape};
use super::shared_memory::{Memory, SharedMemory};
use super::typed::This;
use crate::core::atomic::{with_integer_type, AtomicInt, AtomicSlot};
use crate::core::scalar::ScalarType;
use magnus::{prelude::*, scan_args::scan_args, Error, Integer, RClass, Ruby, Value};

/// An Integer argument, widened so that every value of every element type
/// fits; `None` for an Integer beyond 64 bits, which fits none of them.
/// `TypeError` for anything but an Integer (no implicit conversion).
pub fn wide_integer(ruby: &Ruby, value: Value, what: &str) -> Result<Option<i128>, Error> {
    let Some(integer) = Integer::from_value(value) else {
        return Err(type_error(
            ruby,
            format!(
                "{what} must be an Integer, not {}",
                super::convert::class_name(value)
            ),
        ));
    };
    Ok(match integer.to_i64() {
        Ok(small) => Some(small.into()),
        Err(_) => integer.to_u64().ok().map(i128::from),
    })
}

/// A value to store in an element of type `T`: `TypeError` if not an
/// Integer, `RangeError` if `T` cannot hold it.
pub fn element_value<T: AtomicInt>(ruby: &Ruby, value: Value, what: &str) -> Result<T, Error> {
    wide_integer(ruby, value, what)?
        .and_then(T::from_wide)
        .ok_or_else(|| out_of_range_error::<T>(ruby, value))
}

/// The `RangeError` for a Ruby Integer that `T` cannot hold.
pub fn out_of_range_error<T: AtomicInt>(ruby: &Ruby, value: Value) -> Error {
    let (min, max) = T::bounds();
    range_error(
        ruby,
        format!("{value} is out of range for {} ({min}..{max})", T::NAME),
    )
}

/// An amount to add: any Integer up to 64 bits (one that is larger could
/// not leave any element in range: `RangeError`).
pub fn delta(ruby: &Ruby, value: Option<Value>) -> Result<i128, Error> {
    let Some(value) = value else { return Ok(1) };
    wide_integer(ruby, value, "delta")?.ok_or_else(|| {
        range_error(
            ruby,
            format!("delta {value} is out of range (64 bits at most)"),
        )
    })
}

/// The optional delta of `increment(delta = 1)`, negated for `decrement`.
pub fn signed_delta(ruby: &Ruby, value: Option<Value>, negate: bool) -> Result<i128, Error> {
    let amount = delta(ruby, value)?;
    Ok(if negate { -amount } else { amount })
}

/// `compare_and_set`'s expected value: `None` when `T` cannot hold it (so
/// the element cannot be equal to it: the answer is false, as
/// concurrent-ruby's Ruby `AtomicFixnum` answers).
pub fn expected_value<T: AtomicInt>(ruby: &Ruby, value: Value) -> Result<Option<T>, Error> {
    Ok(wide_integer(ruby, value, "expected value")?.and_then(T::from_wide))
}

/// Atomic operations on a `:float`/`:double` array: `TypeError`.
fn not_integer(ruby: &Ruby, scalar: ScalarType) -> Error {
    let name = if scalar == ScalarType::Float32 {
        "float"
    } else {
        "double"
    };
    type_error(
        ruby,
        format!("atomic operations need an integer element type, not :{name}"),
    )
}

/// A checked element: the element type and byte offset of `index`.
fn locate(ruby: &Ruby, array: &SharedMemory, index: Value) -> Result<(ScalarType, u64), Error> {
    let (scalar, count) = shape(ruby, array)?;
    Ok((scalar, element_offset(ruby, index, scalar, count)?))
}

/// Runs `op` on the element at `offset` of the open array (no Ruby call
/// may happen inside).
fn on_element<T: AtomicInt, R>(
    ruby: &Ruby,
    array: &SharedMemory,
    offset: u64,
    op: impl FnOnce(AtomicSlot<'_, T>) -> R,
) -> Result<R, Error> {
    array
        .handle
        .with(ruby, |memory: &Memory| {
            AtomicSlot::<T>::in_region(&memory.region, offset).map(op)
        })?
        .or_raise(ruby)
}

/// Calls `$op::<T>(ruby, array, offset, args…)` for element `$index` of
/// `$array`, `T` its integer type; `TypeError` for a float array (the
/// arguments are not evaluated then).
macro_rules! on_integer_element {
    ($ruby:expr, $array:expr, $index:expr, $op:ident($($arg:expr),* $(,)?)) => {{
        let (scalar, offset) = locate($ruby, &$array, $index)?;
        with_integer_type!(
            scalar,
            $op($ruby, &$array, offset $(, $arg)*),
            else Err(not_integer($ruby, scalar))
        )
    }};
}

fn add<T: AtomicInt + RubyScalar>(
    ruby: &Ruby,
    array: &SharedMemory,
    offset: u64,
    delta: i128,
) -> Result<Value, Error> {
    let value = on_element::<T, _>(ruby, array, offset, |slot| slot.add(delta))?.or_raise(ruby)?;
    Ok(value.into_ruby(ruby))
}

/// `increment(index, delta = 1)` and `decrement(index, delta = 1)`.
fn add_method(
    ruby: &Ruby,
    rb_self: This<SharedMemory>,
    args: &[Value],
    negate: bool,
) -> Result<Value, Error> {
    let args = scan_args::<(Value,), (Option<Value>,), (), (), (), ()>(args)?;
    // Not `on_integer_element!`: the delta is checked before the type.
    let (scalar, offset) = locate(ruby, &rb_self, args.required.0)?;
    let delta = signed_delta(ruby, args.optional.0, negate)?;
    with_integer_type!(scalar, add(ruby, &rb_self, offset, delta), else Err(not_integer(ruby, scalar)))
}

/// `increment(index, delta = 1)`: the element's new value.
fn increment(ruby: &Ruby, rb_self: This<SharedMemory>, args: &[Value]) -> Result<Value, Error> {
    add_method(ruby, rb_self, args, false)
}

/// `decrement(index, delta = 1)`: the element's new value.
fn decrement(ruby: &Ruby, rb_self: This<SharedMemory>, args: &[Value]) -> Result<Value, Error> {
    add_method(ruby, rb_self, args, true)
}

fn compare_and_set_element<T: AtomicInt + RubyScalar>(
    ruby: &Ruby,
    array: &SharedMemory,
    offset: u64,
    expected: Value,
    new: Value,
) -> Result<bool, Error> {
    let expected = expected_value::<T>(ruby, expected)?;
    let new = element_value::<T>(ruby, new, "new value")?;
    match expected {
        Some(expected) => on_element::<T, _>(ruby, array, offset, |slot| {
            slot.compare_and_set(expected, new)
        }),
        // Still checks the array is open and the element aligned.
        None => on_element::<T, _>(ruby, array, offset, |_| false),
    }
}

/// `compare_and_set(index, expected, new)`: true if the element was
/// `expected` and is now `new`.
fn compare_and_set(
    ruby: &Ruby,
    rb_self: This<SharedMemory>,
    index: Value,
    expected: Value,
    new: Value,
) -> Result<bool, Error> {
    on_integer_element!(ruby, rb_self, index, compare_and_set_element(expected, new))
}

fn swap_element<T: AtomicInt + RubyScalar>(
    ruby: &Ruby,
    array: &SharedMemory,
    offset: u64,
    new: Value,
) -> Result<Value, Error> {
    let new = element_value::<T>(ruby, new, "new value")?;
    let old = on_element::<T, _>(ruby, array, offset, |slot| slot.swap(new))?;
    Ok(old.into_ruby(ruby))
}

/// `get_and_set(index, new)`: the element's old value.
fn get_and_set(
    ruby: &Ruby,
    rb_self: This<SharedMemory>,
    index: Value,
    new: Value,
) -> Result<Value, Error> {
    on_integer_element!(ruby, rb_self, index, swap_element(new))
}

/// Which value `max!` and `min!` keep.
#[derive(Clone, Copy)]
pub enum Keep {
    Larger,
    Smaller,
}

impl Keep {
    /// Keeps the larger (or smaller) of the element and `candidate`; the
    /// element after.
    pub fn apply<T: AtomicInt>(self, slot: &AtomicSlot<'_, T>, candidate: T) -> T {
        match self {
            Keep::Larger => slot.max(candidate),
            Keep::Smaller => slot.min(candidate),
        }
    }
}

fn keep_element<T: AtomicInt + RubyScalar>(
    ruby: &Ruby,
    array: &SharedMemory,
    offset: u64,
    candidate: Value,
    keep: Keep,
) -> Result<Value, Error> {
    let candidate = element_value::<T>(ruby, candidate, "value")?;
    let kept = on_element::<T, _>(ruby, array, offset, |slot| keep.apply(&slot, candidate))?;
    Ok(kept.into_ruby(ruby))
}

/// `max!(index, value)`: the element after keeping the larger.
fn max(
    ruby: &Ruby,
    rb_self: This<SharedMemory>,
    index: Value,
    value: Value,
) -> Result<Value, Error> {
    on_integer_element!(ruby, rb_self, index, keep_element(value, Keep::Larger))
}

/// `min!(index, value)`: the element after keeping the smaller.
fn min(
    ruby: &Ruby,
    rb_self: This<SharedMemory>,
    index: Value,
    value: Value,
) -> Result<Value, Error> {
    on_integer_element!(ruby, rb_self, index, keep_element(value, Keep::Smaller))
}

/// Runs `update`'s CAS loop on `slot`, yielding the current value to the
/// block for each attempt; the value stored. The block's value must fit
/// `T` (`TypeError`/`RangeError`, nothing stored).
pub fn update_with_block<T: AtomicInt + RubyScalar>(
    ruby: &Ruby,
    slot: &AtomicSlot<'_, T>,
) -> Result<T, Error> {
    if !ruby.block_given() {
        return Err(Error::new(
            ruby.exception_local_jump_error(),
            "no block given (yield)",
        ));
    }
    slot.update(|current| {
        let new: Value = ruby.yield_value(current.into_ruby(ruby))?;
        element_value::<T>(ruby, new, "the block's value")
    })
}

fn update_element<T: AtomicInt + RubyScalar>(
    ruby: &Ruby,
    array: &SharedMemory,
    offset: u64,
) -> Result<Value, Error> {
    // The block may close the array: the Arc keeps the mapping meanwhile.
    let memory = array.handle.get(ruby)?;
    let slot = AtomicSlot::<T>::in_region(&memory.region, offset).or_raise(ruby)?;
    Ok(update_with_block(ruby, &slot)?.into_ruby(ruby))
}

/// `update(index) { |value| new }`: the value stored.
fn update(ruby: &Ruby, rb_self: This<SharedMemory>, index: Value) -> Result<Value, Error> {
    on_integer_element!(ruby, rb_self, index, update_element())
}

pub fn init(class: RClass) -> Result<(), Error> {
    // The checked increment and decrement; the public ones are fast_path's.
    class.define_private_method(&slow_name("increment"), method!(increment, -1))?;
    class.define_private_method(&slow_name("decrement"), method!(decrement, -1))?;
    fast_path::init_shared_array_atomic(class)?;
    class.define_method("compare_and_set", method!(compare_and_set, 3))?;
    class.define_method("get_and_set", method!(get_and_set, 2))?;
    class.define_method("swap", method!(get_and_set, 2))?;
    class.define_method("update", method!(update, 1))?;
    class.define_method("max!", method!(max, 2))?;
    class.define_method("min!", method!(min, 2))?;
    Ok(())
}
