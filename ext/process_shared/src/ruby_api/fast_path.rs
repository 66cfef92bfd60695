//! Hand-written C entry points for the hottest accessors: `get_TYPE`,
//! `put_TYPE`, `SharedArray#[]` and `#[]=`, and the atomic counters'
//! `increment`/`decrement` (`AtomicInteger#value` too).
//!
//! magnus's method wrappers (panic guard, argument conversion, receiver
//! check) cost about as much as reading an integer itself, which left
//! `get_int64` 1.5x behind `FFI::Pointer#get_int64`. These entry points do
//! only the common case — an open object, a Fixnum offset or index inside
//! the region, a value that fits — with no Ruby call that can raise. Every
//! other case (errors included) is handed to the ordinary magnus method,
//! defined as a private method under [`slow_name`], so that all checks and
//! exceptions live in one place.

use super::atomic_integer::AtomicInteger;
use super::handle::Handle;
use super::shared_memory::{Memory, SharedMemory};
use crate::core::atomic::{AtomicInt, AtomicSlot, SharedCounter};
use crate::core::scalar::{Scalar, ScalarType, TYPE_NAMES};
use magnus::{rb_sys::AsRawValue, Error, RClass, Ruby, TypedData};
use rb_sys::stable_api::{get_default, StableApiDefinition};
use rb_sys::{ID, VALUE};
use std::ffi::c_int;

/// The name of the private method that does the full, checked work of the
/// public method `name`.
pub fn slow_name(name: &str) -> String {
    format!("__checked_{name}")
}

/// A scalar the fast paths convert without calling Ruby code that can raise.
pub trait FastScalar: Scalar {
    /// The Ruby value (may allocate a Bignum or a Float, never raises).
    fn to_ruby(self) -> VALUE;
    /// The value of a Fixnum or Float that fits, or `None` for the slow path.
    fn from_ruby(value: VALUE) -> Option<Self>;
}

/// Integers: a Fixnum in the type's range converts; anything else (a
/// Bignum, a Float, a value out of range) takes the slow path. `$box` makes
/// the Ruby Integer (`long2num` or `ulong2num`).
macro_rules! fast_integer {
    ($box:ident: $($t:ty),*) => {$(
        impl FastScalar for $t {
            fn to_ruby(self) -> VALUE {
                get_default().$box(self.into())
            }
            fn from_ruby(value: VALUE) -> Option<Self> {
                let api = get_default();
                if !api.fixnum_p(value) {
                    return None;
                }
                <$t>::try_from(api.fix2long(value)).ok()
            }
        }
    )*};
}
fast_integer!(long2num: i8, i16, i32, i64);
fast_integer!(ulong2num: u8, u16, u32, u64);

fn float_from_ruby(value: VALUE) -> Option<f64> {
    let api = get_default();
    if api.fixnum_p(value) {
        return Some(api.fix2long(value) as f64);
    }
    // SAFETY: `float_type_p` accepts any VALUE; `num2dbl` of a Float only
    // reads it (it raises only for non-numerics, excluded here).
    unsafe { api.float_type_p(value).then(|| api.num2dbl(value)) }
}

impl FastScalar for f64 {
    fn to_ruby(self) -> VALUE {
        get_default().dbl2num(self)
    }
    fn from_ruby(value: VALUE) -> Option<Self> {
        float_from_ruby(value)
    }
}

impl FastScalar for f32 {
    fn to_ruby(self) -> VALUE {
        get_default().dbl2num(self.into())
    }
    fn from_ruby(value: VALUE) -> Option<Self> {
        // Narrowing to the C float, as the checked path and FFI do.
        float_from_ruby(value).map(|wide| wide as f32)
    }
}

/// The open memory of `rb_self`, or `None` (not a SharedMemory, closed,
/// never initialized: the slow path raises the right error).
///
/// # Safety
/// Called with the GVL held from a method entry point; the reference must
/// not be used after any call into Ruby.
unsafe fn open_memory<'a>(rb_self: VALUE) -> Option<&'a Memory> {
    let api = get_default();
    if api.special_const_p(rb_self) {
        return None;
    }
    // SAFETY: rb_self is a heap object (not a special constant), so its type
    // tag, typed flag and data pointer can be read.
    unsafe {
        if api.builtin_type(rb_self) != rb_sys::ruby_value_type::RUBY_T_DATA
            || !api.rtypeddata_p(rb_self)
            || api.rtypeddata_type(rb_self)
                != std::ptr::from_ref(SharedMemory::data_type()).cast::<rb_sys::rb_data_type_t>()
        {
            return None;
        }
        let data = api.rtypeddata_get_data(rb_self).cast::<SharedMemory>();
        let handle: &Handle<Memory> = &data.as_ref()?.handle;
        handle.peek()
    }
}

/// A non-negative Fixnum, as a byte offset.
fn fixnum_offset(offset: VALUE) -> Option<u64> {
    let api = get_default();
    if !api.fixnum_p(offset) {
        return None;
    }
    u64::try_from(api.fix2long(offset)).ok()
}

/// The id of the checked method behind the public method `name`.
fn checked_method(name: &str) -> ID {
    let checked = slow_name(name);
    // SAFETY: a pointer and length of valid bytes; interning never raises.
    unsafe { rb_sys::rb_intern2(checked.as_ptr().cast(), checked.len() as _) }
}

/// The checked method `method` with the same arguments: its result, or
/// the exception it raises.
///
/// # Safety
/// Called with the GVL held from a method entry point, while the caller's
/// frame owns nothing that needs dropping: the call may unwind past it.
unsafe fn slow(rb_self: VALUE, method: ID, args: &[VALUE]) -> VALUE {
    // SAFETY: `args` outlives the call; see the function's contract.
    unsafe { rb_sys::rb_funcallv(rb_self, method, args.len() as c_int, args.as_ptr()) }
}

/// The public accessor name `get_TYPE` or `put_TYPE` of type name `NAME`.
fn accessor_name(prefix: &str, name: usize) -> String {
    format!("{prefix}_{}", TYPE_NAMES[name].0)
}

/// The slow path of an entry point, out of line so that the fast path
/// keeps a small frame.
///
/// # Safety
/// As [`slow`].
#[cold]
#[inline(never)]
unsafe fn slow_accessor(rb_self: VALUE, prefix: &str, name: usize, args: &[VALUE]) -> VALUE {
    let method = checked_method(&accessor_name(prefix, name));
    // SAFETY: the name's String is dropped; nothing is held.
    unsafe { slow(rb_self, method, args) }
}

/// As [`slow_accessor`], for a method named by a static string.
///
/// # Safety
/// As [`slow`].
#[cold]
#[inline(never)]
unsafe fn slow_named(rb_self: VALUE, name: &str, args: &[VALUE]) -> VALUE {
    let method = checked_method(name);
    // SAFETY: nothing is held.
    unsafe { slow(rb_self, method, args) }
}

/// `get_TYPE(offset)`.
unsafe extern "C" fn get<T: FastScalar, const NAME: usize>(rb_self: VALUE, offset: VALUE) -> VALUE {
    // SAFETY: a method entry point: the GVL is held; no Ruby call happens
    // while `memory` is used.
    if let (Some(memory), Some(at)) = (unsafe { open_memory(rb_self) }, fixnum_offset(offset)) {
        if let Ok(value) = memory.region.read::<T>(at) {
            return value.to_ruby();
        }
    }
    // SAFETY: nothing is held that needs dropping.
    unsafe { slow_accessor(rb_self, "get", NAME, &[offset]) }
}

/// `put_TYPE(offset, value)`: returns self.
unsafe extern "C" fn put<T: FastScalar, const NAME: usize>(
    rb_self: VALUE,
    offset: VALUE,
    value: VALUE,
) -> VALUE {
    // SAFETY: as in `get`.
    if let (Some(memory), Some(at), Some(converted)) = (
        unsafe { open_memory(rb_self) },
        fixnum_offset(offset),
        T::from_ruby(value),
    ) {
        if memory.region.write(at, converted).is_ok() {
            return rb_self;
        }
    }
    // SAFETY: nothing is held that needs dropping.
    unsafe { slow_accessor(rb_self, "put", NAME, &[offset, value]) }
}

/// The byte offset of element `index` of `memory` (negative from the end),
/// if it is a Fixnum inside the array.
fn element_offset(memory: &Memory, index: VALUE) -> Option<u64> {
    let api = get_default();
    if !api.fixnum_p(index) {
        return None;
    }
    let count = i64::try_from(memory.count).ok()?;
    let requested = api.fix2long(index);
    let resolved = if requested < 0 {
        requested + count
    } else {
        requested
    };
    let resolved = u64::try_from(resolved)
        .ok()
        .filter(|&at| at < count as u64)?;
    Some(resolved * memory.scalar.size() as u64)
}

/// Calls `f::<T>` for the element type of `memory`.
macro_rules! by_element_type {
    ($memory:expr, $f:ident($($arg:expr),*)) => {
        match $memory.scalar {
            ScalarType::Int8 => $f::<i8>($($arg),*),
            ScalarType::UInt8 => $f::<u8>($($arg),*),
            ScalarType::Int16 => $f::<i16>($($arg),*),
            ScalarType::UInt16 => $f::<u16>($($arg),*),
            ScalarType::Int32 => $f::<i32>($($arg),*),
            ScalarType::UInt32 => $f::<u32>($($arg),*),
            ScalarType::Int64 => $f::<i64>($($arg),*),
            ScalarType::UInt64 => $f::<u64>($($arg),*),
            ScalarType::Float32 => $f::<f32>($($arg),*),
            ScalarType::Float64 => $f::<f64>($($arg),*),
        }
    };
}

fn read_element<T: FastScalar>(memory: &Memory, at: u64) -> Option<VALUE> {
    memory.region.read::<T>(at).ok().map(T::to_ruby)
}

fn write_element<T: FastScalar>(memory: &Memory, at: u64, value: VALUE) -> Option<()> {
    memory.region.write(at, T::from_ruby(value)?).ok()
}

/// `SharedArray#[](index)`.
unsafe extern "C" fn element(rb_self: VALUE, index: VALUE) -> VALUE {
    // SAFETY: as in `get`.
    if let Some(memory) = unsafe { open_memory(rb_self) } {
        if let Some(value) = element_offset(memory, index)
            .and_then(|at| by_element_type!(memory, read_element(memory, at)))
        {
            return value;
        }
    }
    // SAFETY: nothing is held that needs dropping.
    unsafe { slow_named(rb_self, "[]", &[index]) }
}

/// `SharedArray#[]=(index, value)`: returns the value.
unsafe extern "C" fn set_element(rb_self: VALUE, index: VALUE, value: VALUE) -> VALUE {
    // SAFETY: as in `get`.
    if let Some(memory) = unsafe { open_memory(rb_self) } {
        if element_offset(memory, index)
            .and_then(|at| by_element_type!(memory, write_element(memory, at, value)))
            .is_some()
        {
            return value;
        }
    }
    // SAFETY: nothing is held that needs dropping.
    unsafe { slow_named(rb_self, "[]=", &[index, value]) }
}

type Arity1 = unsafe extern "C" fn(VALUE, VALUE) -> VALUE;
type Arity2 = unsafe extern "C" fn(VALUE, VALUE, VALUE) -> VALUE;

fn define(class: RClass, name: &str, function: *const (), arity: c_int) -> Result<(), Error> {
    let name = std::ffi::CString::new(name)
        .map_err(|_| Error::new(Ruby::get_with(class).exception_arg_error(), "method name"))?;
    // SAFETY: `function` is one of this file's entry points, whose C
    // signature takes the receiver and `arity` VALUEs; Ruby calls it that
    // way (it declares the parameter as a variadic function pointer).
    unsafe {
        let function = std::mem::transmute::<*const (), unsafe extern "C" fn() -> VALUE>(function);
        rb_sys::rb_define_method(class.as_raw(), name.as_ptr(), Some(function), arity);
    }
    Ok(())
}

/// Defines the fast `get_`/`put_` entry points of one type name. The checked
/// methods must already exist under their `slow_name`.
fn define_accessors<T: FastScalar, const NAME: usize>(class: RClass) -> Result<(), Error> {
    define(
        class,
        &accessor_name("get", NAME),
        get::<T, NAME> as Arity1 as *const (),
        1,
    )?;
    define(
        class,
        &accessor_name("put", NAME),
        put::<T, NAME> as Arity2 as *const (),
        2,
    )
}

/// Installs the fast entry points over `SharedMemory`'s accessors; the
/// const parameter is the type name's index in `TYPE_NAMES`.
pub fn init_shared_memory(class: RClass) -> Result<(), Error> {
    define_accessors::<i8, 0>(class)?;
    define_accessors::<i8, 1>(class)?;
    define_accessors::<u8, 2>(class)?;
    define_accessors::<u8, 3>(class)?;
    define_accessors::<i16, 4>(class)?;
    define_accessors::<i16, 5>(class)?;
    define_accessors::<u16, 6>(class)?;
    define_accessors::<u16, 7>(class)?;
    define_accessors::<i32, 8>(class)?;
    define_accessors::<i32, 9>(class)?;
    define_accessors::<u32, 10>(class)?;
    define_accessors::<u32, 11>(class)?;
    if std::mem::size_of::<std::ffi::c_long>() == 8 {
        define_accessors::<i64, 12>(class)?;
        define_accessors::<u64, 13>(class)?;
    } else {
        define_accessors::<i32, 12>(class)?;
        define_accessors::<u32, 13>(class)?;
    }
    define_accessors::<i64, 14>(class)?;
    define_accessors::<i64, 15>(class)?;
    define_accessors::<u64, 16>(class)?;
    define_accessors::<u64, 17>(class)?;
    define_accessors::<f32, 18>(class)?;
    define_accessors::<f64, 19>(class)
}

/// Installs the fast `[]`/`[]=` over `SharedArray`'s checked ones.
pub fn init_shared_array(class: RClass) -> Result<(), Error> {
    define(class, "[]", element as Arity1 as *const (), 1)?;
    define(class, "[]=", set_element as Arity2 as *const (), 2)
}

// Atomic counters: `AtomicInteger#increment`/`#decrement`/`#value` and
// `SharedArray#increment`/`#decrement`, for Fixnum arguments and results
// in range. Overflow and every error take the checked path.

/// The arguments of a variadic entry point.
///
/// # Safety
/// `argv` points at `argc` VALUEs (as Ruby passes them).
unsafe fn arguments<'a>(argc: c_int, argv: *const VALUE) -> &'a [VALUE] {
    match usize::try_from(argc) {
        // SAFETY: the caller's contract.
        Ok(len) if len > 0 && !argv.is_null() => unsafe { std::slice::from_raw_parts(argv, len) },
        _ => &[],
    }
}

/// The optional delta at `args[at]`: 1 when absent, a Fixnum's value, or
/// `None` (a Bignum, anything else, too many arguments).
fn fixnum_delta(args: &[VALUE], at: usize, negate: bool) -> Option<i128> {
    let delta = match args.len() {
        len if len == at => 1,
        len if len == at + 1 => {
            let api = get_default();
            if !api.fixnum_p(args[at]) {
                return None;
            }
            api.fix2long(args[at])
        }
        _ => return None,
    };
    let delta = i128::from(delta);
    Some(if negate { -delta } else { delta })
}

/// The open counter of `rb_self`, or `None` (the slow path raises).
///
/// # Safety
/// As [`open_memory`].
unsafe fn open_counter<'a>(rb_self: VALUE) -> Option<&'a SharedCounter> {
    let api = get_default();
    if api.special_const_p(rb_self) {
        return None;
    }
    // SAFETY: as in `open_memory`.
    unsafe {
        if api.builtin_type(rb_self) != rb_sys::ruby_value_type::RUBY_T_DATA
            || !api.rtypeddata_p(rb_self)
            || api.rtypeddata_type(rb_self)
                != std::ptr::from_ref(AtomicInteger::data_type()).cast::<rb_sys::rb_data_type_t>()
        {
            return None;
        }
        let data = api.rtypeddata_get_data(rb_self).cast::<AtomicInteger>();
        data.as_ref()?.handle.peek()
    }
}

/// `AtomicInteger#increment(delta = 1)` (`NEGATE`: `#decrement`).
unsafe extern "C" fn counter_add<const NEGATE: bool>(
    argc: c_int,
    argv: *const VALUE,
    rb_self: VALUE,
) -> VALUE {
    // SAFETY: Ruby passes `argc` values at `argv`.
    let args = unsafe { arguments(argc, argv) };
    // SAFETY: as in `get`.
    if let (Some(counter), Some(delta)) = (
        unsafe { open_counter(rb_self) },
        fixnum_delta(args, 0, NEGATE),
    ) {
        if let Some(value) = counter.slot().try_add(delta) {
            return value.to_ruby();
        }
    }
    let name = if NEGATE { "decrement" } else { "increment" };
    // SAFETY: nothing is held that needs dropping.
    unsafe { slow_named(rb_self, name, args) }
}

/// `AtomicInteger#value`.
unsafe extern "C" fn counter_value(rb_self: VALUE) -> VALUE {
    // SAFETY: as in `get`.
    if let Some(counter) = unsafe { open_counter(rb_self) } {
        return counter.slot().load().to_ruby();
    }
    // SAFETY: nothing is held that needs dropping.
    unsafe { slow_named(rb_self, "value", &[]) }
}

fn add_to_element<T: AtomicInt + FastScalar>(
    memory: &Memory,
    at: u64,
    delta: i128,
) -> Option<VALUE> {
    let slot = AtomicSlot::<T>::in_region(&memory.region, at).ok()?;
    slot.try_add(delta).map(T::to_ruby)
}

/// `SharedArray#increment(index, delta = 1)` (`NEGATE`: `#decrement`).
unsafe extern "C" fn element_add<const NEGATE: bool>(
    argc: c_int,
    argv: *const VALUE,
    rb_self: VALUE,
) -> VALUE {
    // SAFETY: Ruby passes `argc` values at `argv`.
    let args = unsafe { arguments(argc, argv) };
    // SAFETY: as in `get`.
    if let (Some(memory), Some(&index), Some(delta)) = (
        unsafe { open_memory(rb_self) },
        args.first(),
        fixnum_delta(args, 1, NEGATE),
    ) {
        let added = element_offset(memory, index).and_then(|at| match memory.scalar {
            ScalarType::Int8 => add_to_element::<i8>(memory, at, delta),
            ScalarType::UInt8 => add_to_element::<u8>(memory, at, delta),
            ScalarType::Int16 => add_to_element::<i16>(memory, at, delta),
            ScalarType::UInt16 => add_to_element::<u16>(memory, at, delta),
            ScalarType::Int32 => add_to_element::<i32>(memory, at, delta),
            ScalarType::UInt32 => add_to_element::<u32>(memory, at, delta),
            ScalarType::Int64 => add_to_element::<i64>(memory, at, delta),
            ScalarType::UInt64 => add_to_element::<u64>(memory, at, delta),
            ScalarType::Float32 | ScalarType::Float64 => None,
        });
        if let Some(value) = added {
            return value;
        }
    }
    let name = if NEGATE { "decrement" } else { "increment" };
    // SAFETY: nothing is held that needs dropping.
    unsafe { slow_named(rb_self, name, args) }
}

type Variadic = unsafe extern "C" fn(c_int, *const VALUE, VALUE) -> VALUE;
type Arity0 = unsafe extern "C" fn(VALUE) -> VALUE;

/// Installs the fast `increment`/`up`, `decrement`/`down` and `value` over
/// `AtomicInteger`'s checked ones.
pub fn init_atomic_integer(class: RClass) -> Result<(), Error> {
    let increment = counter_add::<false> as Variadic as *const ();
    let decrement = counter_add::<true> as Variadic as *const ();
    define(class, "increment", increment, -1)?;
    define(class, "up", increment, -1)?;
    define(class, "decrement", decrement, -1)?;
    define(class, "down", decrement, -1)?;
    define(class, "value", counter_value as Arity0 as *const (), 0)
}

/// Installs the fast `increment`/`decrement` over `SharedArray`'s checked
/// ones.
pub fn init_shared_array_atomic(class: RClass) -> Result<(), Error> {
    define(
        class,
        "increment",
        element_add::<false> as Variadic as *const (),
        -1,
    )?;
    define(
        class,
        "decrement",
        element_add::<true> as Variadic as *const (),
        -1,
    )
}
