//! `ProcessShared::SharedArray < SharedMemory`: element access by index,
//! with the element type the memory was created with (`new(:int, 10)`).
//! The Ruby shim adds `Enumerable` and the enumerator forms.

use super::convert::RubyScalar;
use super::errors::{index_error, type_error, OrRaise};
use super::fast_path;
use super::guard::method;
use super::shared_memory::SharedMemory;
use super::typed::This;
use crate::core::index;
use crate::core::scalar::{with_scalar_type, ScalarType};
use magnus::{prelude::*, Error, Integer, RArray, RClass, RModule, Ruby, Value};

/// The element type and the number of elements.
pub(super) fn shape(ruby: &Ruby, array: &SharedMemory) -> Result<(ScalarType, usize), Error> {
    array
        .handle
        .with(ruby, |memory| (memory.scalar(), memory.count()))
}

/// The byte offset of element `index` (negative counts from the end), or
/// `IndexError` outside `-count...count`.
pub(super) fn element_offset(
    ruby: &Ruby,
    index: Value,
    scalar: ScalarType,
    count: usize,
) -> Result<u64, Error> {
    let Some(integer) = Integer::from_value(index) else {
        return Err(type_error(
            ruby,
            format!(
                "no implicit conversion of {} into Integer",
                super::convert::class_name(index)
            ),
        ));
    };
    integer
        .to_i64()
        .ok()
        .and_then(|requested| index::element_offset(requested, count, scalar.size()))
        .ok_or_else(|| {
            index_error(
                ruby,
                format!("index {integer} outside of array bounds: -{count}...{count}"),
            )
        })
}

fn fetch<T: RubyScalar>(ruby: &Ruby, array: &SharedMemory, offset: u64) -> Result<Value, Error> {
    array.read_scalar::<T>(ruby, offset)
}

fn store<T: RubyScalar>(
    ruby: &Ruby,
    array: &SharedMemory,
    offset: u64,
    value: Value,
) -> Result<(), Error> {
    array.write_scalar::<T>(ruby, offset, value)
}

fn all_elements<T: RubyScalar>(ruby: &Ruby, array: &SharedMemory) -> Result<RArray, Error> {
    let values: Vec<T> = array
        .handle
        .with(ruby, |memory| {
            (0..memory.count())
                .map(|index| memory.region.read::<T>((index * T::SIZE) as u64))
                .collect::<Result<Vec<T>, _>>()
        })?
        .or_raise(ruby)?;
    let elements = ruby.ary_new_capa(values.len());
    for value in values {
        elements.push(value.into_ruby(ruby))?;
    }
    Ok(elements)
}

/// `array[index]`.
fn get(ruby: &Ruby, rb_self: This<SharedMemory>, index: Value) -> Result<Value, Error> {
    let (scalar, count) = shape(ruby, &rb_self)?;
    let offset = element_offset(ruby, index, scalar, count)?;
    with_scalar_type!(scalar, fetch(ruby, &rb_self, offset))
}

/// `array[index] = value`: `RangeError`/`TypeError` for values the element
/// type cannot hold, as the `put_` accessors.
fn set(
    ruby: &Ruby,
    rb_self: This<SharedMemory>,
    index: Value,
    value: Value,
) -> Result<Value, Error> {
    let (scalar, count) = shape(ruby, &rb_self)?;
    let offset = element_offset(ruby, index, scalar, count)?;
    with_scalar_type!(scalar, store(ruby, &rb_self, offset, value))?;
    Ok(value)
}

/// `each_element { |value| }`: yields every element, read when its turn
/// comes (so the block sees other processes' writes); returns self. The
/// shim's `each` makes the Enumerator when there is no block.
fn each_element(ruby: &Ruby, rb_self: This<SharedMemory>) -> Result<This<SharedMemory>, Error> {
    let (scalar, count) = shape(ruby, &rb_self)?;
    let size = scalar.size() as u64;
    for index in 0..count as u64 {
        // The block may close the array; `fetch` then raises ClosedError.
        let value = with_scalar_type!(scalar, fetch(ruby, &rb_self, index * size))?;
        let _: Value = ruby.yield_value(value)?;
    }
    Ok(rb_self)
}

/// `to_a`: the elements as a new Array.
fn to_a(ruby: &Ruby, rb_self: This<SharedMemory>) -> Result<RArray, Error> {
    let (scalar, _) = shape(ruby, &rb_self)?;
    with_scalar_type!(scalar, all_elements(ruby, &rb_self))
}

/// `size`/`length`: the number of elements (not bytes, unlike
/// `SharedMemory#size`).
fn length(ruby: &Ruby, rb_self: This<SharedMemory>) -> Result<usize, Error> {
    Ok(shape(ruby, &rb_self)?.1)
}

pub fn init(_ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let shared_memory: RClass = namespace.const_get("SharedMemory")?;
    let class = namespace.define_class("SharedArray", shared_memory)?;
    // The checked [] and []=; the public ones are fast_path's.
    class.define_private_method(&fast_path::slow_name("[]"), method!(get, 1))?;
    class.define_private_method(&fast_path::slow_name("[]="), method!(set, 2))?;
    fast_path::init_shared_array(class)?;
    super::shared_array_atomic::init(class)?;
    class.define_private_method("each_element", method!(each_element, 0))?;
    class.define_method("to_a", method!(to_a, 0))?;
    class.define_method("size", method!(length, 0))?;
    class.define_method("length", method!(length, 0))?;
    Ok(())
}
