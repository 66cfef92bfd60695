//! `ProcessShared::SharedMemory`: a fixed-size, zero-filled block of memory
//! shared across fork, with the bounds-checked typed accessors of
//! `FFI::Pointer` (`get_int`, `put_array_of_double`, `get_bytes`, …), the
//! byte moves behind `put_object`/`get_object`, and the `Mapping` that
//! `to_ptr` hands to FFI.

use super::convert::{self, RubyScalar};
use super::errors::{argument_error, index_error, type_error, OrRaise};
use super::fast_path::{self, ElementMethods};
use super::guard::method;
use super::handle::{define_handle_class, handle_class};
use super::named;
use super::typed::This;
use crate::core::index;
use crate::core::named::{HasRegion, Layout};
use crate::core::object_record::{self, RecordError};
use crate::core::region::SharedRegion;
use crate::core::scalar::{scalar_types, Kind, Scalar, ScalarType, TypeName};
use magnus::rb_sys::AsRawValue;
use magnus::{
    prelude::*, scan_args::scan_args, Error, Integer, IntoValue, RArray, RClass, RModule, RString,
    Ruby, Symbol, Value,
};
use std::mem::MaybeUninit;
use std::os::raw::c_long;
use std::sync::Arc;

/// A region together with how Ruby asked for it (`new(:int, 4)`): `count`
/// elements of type `scalar`, which always fit in the region (checked by
/// [`Memory::new`]; the fields are private so that nothing else can break
/// it), so that [`element`](Memory::element) needs one compare.
pub struct Memory {
    pub region: SharedRegion,
    pub type_name: &'static str,
    scalar: ScalarType,
    count: usize,
    /// The fast element methods of `scalar`.
    methods: ElementMethods,
}

impl Memory {
    /// `count` elements of `scalar` in `region`, or `None` if they do not
    /// fit in it.
    pub fn new(
        region: SharedRegion,
        type_name: &'static str,
        scalar: ScalarType,
        count: usize,
    ) -> Option<Memory> {
        let bytes = count.checked_mul(scalar.size())?;
        (bytes <= region.len()).then_some(Memory {
            region,
            type_name,
            scalar,
            count,
            methods: ElementMethods::of(scalar),
        })
    }

    /// The fast element methods of the element type.
    #[inline(always)]
    pub fn methods(&self) -> ElementMethods {
        self.methods
    }

    /// The element type.
    #[inline(always)]
    pub fn scalar(&self) -> ScalarType {
        self.scalar
    }

    /// The number of elements.
    #[inline(always)]
    pub fn count(&self) -> usize {
        self.count
    }

    /// The address of element `index`, a non-negative index below the
    /// count (`None` for any other, negative ones included): the one
    /// bounds check of an element, an unsigned compare. Naturally aligned,
    /// as the region starts on a page or after a named object's 128-byte
    /// header.
    ///
    /// # Safety
    /// `T` is the element type (`scalar`): the one the array's
    /// [`ElementMethods`] were made for.
    #[inline(always)]
    pub unsafe fn element_from_start<T: Scalar>(&self, index: i64) -> Option<*mut T> {
        debug_assert!(T::TYPE == self.scalar);
        if index as u64 >= self.count as u64 {
            return None;
        }
        // SAFETY: 0 <= index < count and count * size <= len (`new`, and T
        // is the element type), so the element's bytes lie inside the
        // mapping, which lives as long as `self`.
        Some(unsafe { self.region.base().add(index as usize * T::SIZE) }.cast())
    }

    /// The address of element `index` (negative counts from the end), if
    /// it is inside `-count...count`.
    ///
    /// # Safety
    /// As [`element_from_start`](Self::element_from_start).
    #[inline]
    pub unsafe fn element<T: Scalar>(&self, index: i64) -> Option<*mut T> {
        let position = index::resolve(index, self.count)?;
        // SAFETY: the contract; 0 <= position < count.
        unsafe { self.element_from_start(position as i64) }
    }
}

handle_class!(SharedMemory, "ProcessShared::SharedMemory", Memory);

/// Keeps a region mapped for as long as Ruby holds on to it, even after its
/// `SharedMemory` is closed or collected: `to_ptr` attaches one to the
/// `FFI::Pointer` it returns, so that C code handed the pointer never sees
/// the memory unmapped under it.
#[magnus::wrap(class = "ProcessShared::SharedMemory::Mapping", free_immediately, size)]
pub struct Mapping {
    memory: Arc<Memory>,
}

impl Mapping {
    /// The address of the first byte, as an Integer.
    fn address(&self) -> usize {
        self.memory.region.base() as usize
    }

    /// The size in bytes.
    fn size(&self) -> usize {
        self.memory.region.len()
    }
}

/// `IndexError` for records outside the region or too large to fit,
/// `TypeError` where no intact record is stored.
fn record_error(ruby: &Ruby, err: RecordError) -> Error {
    match err {
        RecordError::OutsideRegion { .. } | RecordError::DoesNotFit { .. } => {
            index_error(ruby, err.to_string())
        }
        RecordError::NoObject { .. } | RecordError::Corrupt { .. } => {
            type_error(ruby, err.to_string())
        }
    }
}

/// `n` elements of `T` as a byte length, `IndexError` on overflow.
fn byte_length<T: Scalar>(ruby: &Ruby, elements: usize) -> Result<usize, Error> {
    elements
        .checked_mul(T::SIZE)
        .ok_or_else(|| index_error(ruby, format!("{elements} elements is out of range")))
}

impl HasRegion for Memory {
    fn region(&self) -> &SharedRegion {
        &self.region
    }
}

/// Whether `value` is a `ProcessShared::SharedArray`.
fn is_array(ruby: &Ruby, value: Value) -> bool {
    ruby.define_module("ProcessShared")
        .and_then(|namespace| namespace.const_get::<_, RClass>("SharedArray"))
        .is_ok_and(|class| value.is_kind_of(class))
}

impl SharedMemory {
    fn initialize(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<(), Error> {
        let (args, naming) = named::split_args(ruby, args)?;
        let args = scan_args::<(), (Option<Value>, Option<Value>), (), (), (), ()>(args)?;
        let (type_or_count, count) = args.optional;
        let (type_name, scalar, count) = match type_or_count {
            Some(value) if Symbol::from_value(value).is_some() => {
                let name = Symbol::from_value(value)
                    .map(|symbol| symbol.name().map(|name| name.into_owned()))
                    .transpose()?
                    .unwrap_or_default();
                let known = TypeName::from_name(&name)
                    .ok_or_else(|| argument_error(ruby, format!("unknown type :{name}")))?;
                let (type_name, scalar) = (known.name(), known.scalar());
                let count = match count {
                    Some(count) => convert::count(ruby, count, "count")?,
                    None => 1,
                };
                (type_name, scalar, count)
            }
            Some(value) if Integer::from_value(value).is_some() => {
                if count.is_some() {
                    return Err(argument_error(
                        ruby,
                        "a byte size takes no count; use new(:type, count)",
                    ));
                }
                (
                    TypeName::uchar.name(),
                    TypeName::uchar.scalar(),
                    convert::count(ruby, value, "size")?,
                )
            }
            Some(value) => {
                return Err(type_error(
                    ruby,
                    format!(
                        "expected an element type (a Symbol such as :int) or a size in bytes \
                         (an Integer), got {}",
                        convert::class_name(value)
                    ),
                ))
            }
            None => (TypeName::uchar.name(), TypeName::uchar.scalar(), 1),
        };
        if count == 0 {
            return Err(argument_error(ruby, "size must be positive"));
        }
        let count = usize::try_from(count)
            .map_err(|_| argument_error(ruby, format!("count {count} is too large")))?;
        let size = count
            .checked_mul(scalar.size())
            .ok_or_else(|| argument_error(ruby, format!("count {count} is too large")))?;
        // An array is recorded as such: opening it as plain memory (or the
        // other way round) is opening another class.
        let class = if is_array(ruby, rb_self.into_value_with(ruby)) {
            "ProcessShared::SharedArray"
        } else {
            "ProcessShared::SharedMemory"
        };
        let layout = Layout {
            class,
            element: scalar.rust_name(),
            count: count as u64,
            size,
        };
        let region = named::open_region(ruby, naming.as_ref(), &layout)?;
        let memory = Memory::new(region, type_name, scalar, count).ok_or_else(|| {
            argument_error(ruby, format!("count {count} does not fit the region"))
        })?;
        rb_self.handle.open(ruby, memory)
    }

    fn size(ruby: &Ruby, rb_self: This<Self>) -> Result<usize, Error> {
        rb_self.handle.with(ruby, |memory| memory.region.len())
    }

    fn type_symbol(ruby: &Ruby, rb_self: This<Self>) -> Result<Symbol, Error> {
        let name = rb_self.handle.with(ruby, |memory| memory.type_name)?;
        Ok(ruby.to_symbol(name))
    }

    fn type_size(ruby: &Ruby, rb_self: This<Self>) -> Result<usize, Error> {
        rb_self.handle.with(ruby, |memory| memory.scalar.size())
    }

    fn count(ruby: &Ruby, rb_self: This<Self>) -> Result<usize, Error> {
        rb_self.handle.with(ruby, |memory| memory.count)
    }

    // Typed scalars.

    /// The `T` at byte `offset`, as Ruby sees it (`IndexError` outside).
    pub fn read_scalar<T: RubyScalar>(&self, ruby: &Ruby, offset: u64) -> Result<Value, Error> {
        let value = self
            .handle
            .with(ruby, |memory| memory.region.read::<T>(offset))?
            .or_raise(ruby)?;
        Ok(value.into_ruby(ruby))
    }

    /// Writes `value` as a `T` at byte `offset`, or raises and writes
    /// nothing.
    pub fn write_scalar<T: RubyScalar>(
        &self,
        ruby: &Ruby,
        offset: u64,
        value: Value,
    ) -> Result<(), Error> {
        let value = T::from_ruby(ruby, value)?;
        self.handle
            .with(ruby, |memory| memory.region.write(offset, value))?
            .or_raise(ruby)
    }

    fn get<T: RubyScalar>(ruby: &Ruby, rb_self: This<Self>, offset: Value) -> Result<Value, Error> {
        rb_self.read_scalar::<T>(ruby, convert::offset(ruby, offset)?)
    }

    fn put<T: RubyScalar>(
        ruby: &Ruby,
        rb_self: This<Self>,
        offset: Value,
        value: Value,
    ) -> Result<This<Self>, Error> {
        rb_self.write_scalar::<T>(ruby, convert::offset(ruby, offset)?, value)?;
        Ok(rb_self)
    }

    fn read<T: RubyScalar>(ruby: &Ruby, rb_self: This<Self>) -> Result<Value, Error> {
        Self::get::<T>(ruby, rb_self, 0.into_value_with(ruby))
    }

    fn write<T: RubyScalar>(
        ruby: &Ruby,
        rb_self: This<Self>,
        value: Value,
    ) -> Result<This<Self>, Error> {
        Self::put::<T>(ruby, rb_self, 0.into_value_with(ruby), value)
    }

    fn get_array<T: RubyScalar>(
        ruby: &Ruby,
        rb_self: This<Self>,
        offset: Value,
        length: Value,
    ) -> Result<RArray, Error> {
        let offset = convert::offset(ruby, offset)?;
        let length = convert::length(ruby, length)?;
        let bytes = byte_length::<T>(ruby, length)?;
        let values: Vec<T> = rb_self
            .handle
            .with(ruby, |memory| {
                memory.region.span(offset, bytes).map(|start| {
                    (0..length)
                        .map(|index| {
                            // SAFETY: `span` checked `length * SIZE` bytes at
                            // `start`; each element lies inside them.
                            unsafe { start.add(index * T::SIZE).cast::<T>().read_unaligned() }
                        })
                        .collect()
                })
            })?
            .or_raise(ruby)?;
        let array = ruby.ary_new_capa(values.len());
        for value in values {
            array.push(value.into_ruby(ruby))?;
        }
        Ok(array)
    }

    fn put_array<T: RubyScalar>(
        ruby: &Ruby,
        rb_self: This<Self>,
        offset: Value,
        values: Value,
    ) -> Result<This<Self>, Error> {
        let offset = convert::offset(ruby, offset)?;
        let array = RArray::from_value(values).ok_or_else(|| {
            type_error(
                ruby,
                format!("expected an Array, got {}", convert::class_name(values)),
            )
        })?;
        // Convert everything first, so a bad element writes nothing.
        let converted = array
            .into_iter()
            .map(|value| T::from_ruby(ruby, value))
            .collect::<Result<Vec<T>, Error>>()?;
        let bytes = byte_length::<T>(ruby, converted.len())?;
        rb_self
            .handle
            .with(ruby, |memory| {
                memory.region.span(offset, bytes).map(|start| {
                    for (index, value) in converted.iter().enumerate() {
                        // SAFETY: `span` checked `len * SIZE` bytes at `start`.
                        unsafe {
                            start
                                .add(index * T::SIZE)
                                .cast::<T>()
                                .write_unaligned(*value)
                        };
                    }
                })
            })?
            .or_raise(ruby)?;
        Ok(rb_self)
    }

    fn read_array<T: RubyScalar>(
        ruby: &Ruby,
        rb_self: This<Self>,
        length: Value,
    ) -> Result<RArray, Error> {
        Self::get_array::<T>(ruby, rb_self, 0.into_value_with(ruby), length)
    }

    fn write_array<T: RubyScalar>(
        ruby: &Ruby,
        rb_self: This<Self>,
        values: Value,
    ) -> Result<This<Self>, Error> {
        Self::put_array::<T>(ruby, rb_self, 0.into_value_with(ruby), values)
    }

    // Bytes and strings.

    fn get_bytes(
        ruby: &Ruby,
        rb_self: This<Self>,
        offset: Value,
        length: Value,
    ) -> Result<RString, Error> {
        let offset = convert::offset(ruby, offset)?;
        let length = convert::length(ruby, length)?;
        let bytes = rb_self
            .handle
            .with(ruby, |memory| memory.region.read_bytes(offset, length))?
            .or_raise(ruby)?;
        Ok(ruby.str_from_slice(&bytes))
    }

    fn read_bytes(ruby: &Ruby, rb_self: This<Self>, length: Value) -> Result<RString, Error> {
        Self::get_bytes(ruby, rb_self, 0.into_value_with(ruby), length)
    }

    /// `put_bytes(offset, string, index = 0, length = nil)`: writes
    /// `string[index, length]` at `offset`, as `FFI::Pointer#put_bytes`.
    fn put_bytes(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<This<Self>, Error> {
        let args =
            scan_args::<(Value, RString), (Option<Value>, Option<Value>), (), (), (), ()>(args)?;
        let (offset, string) = args.required;
        let (index, length) = args.optional;
        let offset = convert::offset(ruby, offset)?;
        Self::write_string_slice(ruby, rb_self, offset, string, index, length, false)?;
        Ok(rb_self)
    }

    /// `write_bytes(string, index = 0, length = nil)`: `put_bytes` at 0.
    fn write_bytes(ruby: &Ruby, rb_self: This<Self>, args: &[Value]) -> Result<This<Self>, Error> {
        let args = scan_args::<(RString,), (Option<Value>, Option<Value>), (), (), (), ()>(args)?;
        let (string,) = args.required;
        let (index, length) = args.optional;
        Self::write_string_slice(ruby, rb_self, 0, string, index, length, false)?;
        Ok(rb_self)
    }

    /// `get_string(offset)`: the bytes up to the first NUL (or the end).
    fn get_string(ruby: &Ruby, rb_self: This<Self>, offset: Value) -> Result<RString, Error> {
        let offset = convert::offset(ruby, offset)?;
        let bytes = rb_self
            .handle
            .with(ruby, |memory| memory.region.read_c_string(offset))?
            .or_raise(ruby)?;
        Ok(ruby.str_from_slice(&bytes))
    }

    /// `put_string(offset, string)`: the string's bytes and a NUL.
    fn put_string(
        ruby: &Ruby,
        rb_self: This<Self>,
        offset: Value,
        string: RString,
    ) -> Result<This<Self>, Error> {
        let offset = convert::offset(ruby, offset)?;
        Self::write_string_slice(ruby, rb_self, offset, string, None, None, true)?;
        Ok(rb_self)
    }

    fn write_string_slice(
        ruby: &Ruby,
        rb_self: This<Self>,
        offset: u64,
        string: RString,
        index: Option<Value>,
        length: Option<Value>,
        nul_terminated: bool,
    ) -> Result<(), Error> {
        let index = match index {
            Some(index) => convert::string_index(ruby, index)?,
            None => 0,
        };
        let length = match length.filter(|length| !length.is_nil()) {
            Some(length) => Some(convert::length(ruby, length)?),
            None => None,
        };
        rb_self
            .handle
            .with(ruby, |memory| {
                // SAFETY: the slice is used only inside this closure, during
                // which no Ruby code runs that could change or free `string`.
                let bytes = unsafe { string.as_slice() };
                let available = bytes.len().checked_sub(index)?;
                let length = length.unwrap_or(available);
                if length > available {
                    return None;
                }
                let slice = &bytes[index..index + length];
                Some(if nul_terminated {
                    memory.region.write_c_string(offset, slice)
                } else {
                    memory.region.write_bytes(offset, slice)
                })
            })?
            .ok_or_else(|| index_error(ruby, "index or length out of the string's range"))?
            .or_raise(ruby)
    }
}

impl SharedMemory {
    // Objects (the Ruby shim calls Marshal) and FFI.

    /// `put_marshaled(offset, string)`: stores `string` as an object record
    /// at `offset`, or raises `IndexError` and writes nothing.
    fn put_marshaled(
        ruby: &Ruby,
        rb_self: This<Self>,
        offset: Value,
        payload: RString,
    ) -> Result<This<Self>, Error> {
        let offset = convert::offset(ruby, offset)?;
        rb_self
            .handle
            .with(ruby, |memory| {
                // SAFETY: the slice is used only inside this closure, during
                // which no Ruby code runs that could change or free `payload`.
                let bytes = unsafe { payload.as_slice() };
                object_record::write(&memory.region, offset, bytes)
            })?
            .map_err(|err| record_error(ruby, err))?;
        Ok(rb_self)
    }

    /// `get_marshaled(offset)`: the checked payload of the record at
    /// `offset` in a new binary String, copied once from the region.
    fn get_marshaled(ruby: &Ruby, rb_self: This<Self>, offset: Value) -> Result<RString, Error> {
        let offset = convert::offset(ruby, offset)?;
        // An Arc rather than `with`: allocating the String is a Ruby call.
        let memory = rb_self.handle.get(ruby)?;
        let header =
            object_record::locate(&memory.region, offset).map_err(|err| record_error(ruby, err))?;
        let length = header.length;
        let string = ruby.str_buf_new(length);
        let c_length = c_long::try_from(length)
            .ok()
            .filter(|_| string.capacity() >= length)
            .ok_or_else(|| index_error(ruby, format!("object of {length} bytes is too large")))?;
        // SAFETY: the new String has room for `length` bytes and is not yet
        // visible to Ruby code; no Ruby code runs while the slice lives.
        let buffer = unsafe {
            std::slice::from_raw_parts_mut(
                rb_sys::RSTRING_PTR(string.as_raw())
                    .cast_mut()
                    .cast::<MaybeUninit<u8>>(),
                length,
            )
        };
        object_record::read_payload(&memory.region, offset, &header, buffer)
            .map_err(|err| record_error(ruby, err))?;
        // SAFETY: `read_payload` initialized the first `length` bytes, which
        // are within the capacity checked above.
        unsafe { rb_sys::rb_str_set_len(string.as_raw(), c_length) };
        Ok(string)
    }

    /// `mapping`: a `Mapping` of this region for `to_ptr`.
    fn mapping(ruby: &Ruby, rb_self: This<Self>) -> Result<Mapping, Error> {
        Ok(Mapping {
            memory: rb_self.handle.get(ruby)?,
        })
    }
}

/// Defines the eight accessors of every name of the scalar table
/// (`get_int`, `put_int`, `read_int`, `write_int` and their `array_of_`
/// forms), with the Rust type of its row.
macro_rules! define_typed {
    ($class:expr ; $($variant:ident($t:ty, $atomic:ident, $kind:ident) {
        $($(#[$cfg:meta])* $name:ident: $doc:literal,)*
    })*) => {$($(
        $(#[$cfg])*
        {
            let (class, name): (RClass, &str) = ($class, stringify!($name));
            // The checked get_/put_; the public ones are fast_path's.
            class.define_private_method(
                &fast_path::slow_name(&format!("get_{name}")),
                method!(SharedMemory::get::<$t>, 1),
            )?;
            class.define_private_method(
                &fast_path::slow_name(&format!("put_{name}")),
                method!(SharedMemory::put::<$t>, 2),
            )?;
            class.define_method(format!("read_{name}"), method!(SharedMemory::read::<$t>, 0))?;
            class.define_method(
                format!("write_{name}"),
                method!(SharedMemory::write::<$t>, 1),
            )?;
            class.define_method(
                format!("get_array_of_{name}"),
                method!(SharedMemory::get_array::<$t>, 2),
            )?;
            class.define_method(
                format!("put_array_of_{name}"),
                method!(SharedMemory::put_array::<$t>, 2),
            )?;
            class.define_method(
                format!("read_array_of_{name}"),
                method!(SharedMemory::read_array::<$t>, 1),
            )?;
            class.define_method(
                format!("write_array_of_{name}"),
                method!(SharedMemory::write_array::<$t>, 1),
            )?;
        }
    )*)*};
}

/// The scalar table for the Ruby tooling (docs and signatures generated
/// from it: `rakelib/typed_accessors.rb`), as the private constant
/// `SharedMemory::TYPES`: one frozen `[name, size, kind, min, max,
/// description]` per type name, in the table's order (`kind` is `:signed`,
/// `:unsigned` or `:float`; `min` and `max` are nil for floats).
fn type_table(ruby: &Ruby) -> Result<RArray, Error> {
    // Every bound fits an i64 or a u64.
    let bound = |bound: i128| match i64::try_from(bound) {
        Ok(small) => small.into_value_with(ruby),
        Err(_) => (bound as u64).into_value_with(ruby),
    };
    let table = ruby.ary_new_capa(TypeName::ALL.len());
    for &name in TypeName::ALL {
        let scalar = name.scalar();
        let kind = match scalar.kind() {
            Kind::Signed => "signed",
            Kind::Unsigned => "unsigned",
            Kind::Float => "float",
        };
        let (min, max) = match scalar.integer_range() {
            Some((min, max)) => (bound(min), bound(max)),
            None => (ruby.qnil().as_value(), ruby.qnil().as_value()),
        };
        let row = ruby.ary_new_from_values(&[
            ruby.to_symbol(name.name()).as_value(),
            scalar.size().into_value_with(ruby),
            ruby.to_symbol(kind).as_value(),
            min,
            max,
            ruby.str_new(name.description()).as_value(),
        ]);
        row.freeze();
        table.push(row)?;
    }
    table.freeze();
    Ok(table)
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let class = namespace.define_class("SharedMemory", ruby.class_object())?;
    define_handle_class!(class, SharedMemory);
    named::include_in::<SharedMemory>(ruby, class)?;
    class.define_method("initialize", method!(SharedMemory::initialize, -1))?;
    class.define_method("size", method!(SharedMemory::size, 0))?;
    class.define_method("type", method!(SharedMemory::type_symbol, 0))?;
    class.define_method("type_size", method!(SharedMemory::type_size, 0))?;
    class.define_method("count", method!(SharedMemory::count, 0))?;
    scalar_types!(define_typed!(class));
    class.const_set("TYPES", type_table(ruby)?)?;
    let _: Value = class.funcall("private_constant", (ruby.to_symbol("TYPES"),))?;
    fast_path::init_shared_memory(class)?;
    class.define_method("get_bytes", method!(SharedMemory::get_bytes, 2))?;
    class.define_method("put_bytes", method!(SharedMemory::put_bytes, -1))?;
    class.define_method("read_bytes", method!(SharedMemory::read_bytes, 1))?;
    class.define_method("write_bytes", method!(SharedMemory::write_bytes, -1))?;
    class.define_method("get_string", method!(SharedMemory::get_string, 1))?;
    class.define_method("put_string", method!(SharedMemory::put_string, 2))?;
    class.define_private_method("put_marshaled", method!(SharedMemory::put_marshaled, 2))?;
    class.define_private_method("get_marshaled", method!(SharedMemory::get_marshaled, 1))?;
    class.define_private_method("mapping", method!(SharedMemory::mapping, 0))?;

    let mapping = class.define_class("Mapping", ruby.class_object())?;
    mapping.undef_default_alloc_func();
    mapping.define_method("address", method!(Mapping::address, 0))?;
    mapping.define_method("size", method!(Mapping::size, 0))?;
    Ok(())
}
