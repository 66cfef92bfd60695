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
//! exceptions live in one place. A panic in the fast part is caught and
//! raised as the `RuntimeError` of [`guard`](super::guard), as in every
//! other method.

use super::atomic_integer::AtomicInteger;
use super::convert::RubyScalar;
use super::guard;
use super::shared_memory::{Memory, SharedMemory};
use super::typed::wrapped;
use crate::core::atomic::{with_integer_type, AtomicInt, AtomicSlot, SharedCounter};
use crate::core::index;
use crate::core::scalar::{scalar_types, with_scalar_type, TypeName};
use magnus::error::ErrorType;
use magnus::{prelude::*, rb_sys::AsRawValue, Error, RClass, Ruby};
use rb_sys::stable_api::{get_default, StableApiDefinition};
use rb_sys::{ID, VALUE};
use std::any::Any;
use std::ffi::c_int;
use std::panic::{catch_unwind, UnwindSafe};

/// The name of the private method that does the full, checked work of the
/// public method `name`.
pub fn slow_name(name: &str) -> String {
    format!("__checked_{name}")
}

/// The open memory of `rb_self`, or `None` (not a SharedMemory, closed,
/// never initialized: the slow path raises the right error).
///
/// # Safety
/// Called with the GVL held from a method entry point; the reference must
/// not be used after any call into Ruby.
#[inline]
unsafe fn open_memory<'a>(rb_self: VALUE) -> Option<&'a Memory> {
    let data = wrapped::<SharedMemory>(rb_self)?;
    // SAFETY: `wrapped` found a live SharedMemory, which the receiver keeps
    // alive for this call; see the function's contract for `peek`.
    unsafe { data.as_ref().handle.peek() }
}

/// A non-negative Fixnum, as a byte offset.
#[inline]
fn fixnum_offset(offset: VALUE) -> Option<u64> {
    let api = get_default();
    if !api.fixnum_p(offset) {
        return None;
    }
    u64::try_from(api.fix2long(offset)).ok()
}

/// The byte offset of element `index` of `memory` (negative from the end),
/// if it is a Fixnum inside the array.
#[inline]
fn element_offset(memory: &Memory, index: VALUE) -> Option<u64> {
    let api = get_default();
    if !api.fixnum_p(index) {
        return None;
    }
    index::element_offset(api.fix2long(index), memory.count, memory.scalar.size())
}

/// Runs the fast part of an entry point: its result, or `None` for the
/// slow path. A panic is raised as a Ruby exception instead of aborting
/// the process at the `extern "C"` boundary.
///
/// # Safety
/// Called with the GVL held from a method entry point whose frame owns
/// nothing that needs dropping (raising unwinds past it).
#[inline(always)]
pub(super) unsafe fn fast<R>(body: impl FnOnce() -> Option<R> + UnwindSafe) -> Option<R> {
    match catch_unwind(body) {
        Ok(result) => result,
        // SAFETY: see the function's contract.
        Err(payload) => unsafe { raise_panic(payload) },
    }
}

/// Raises the exception a panic becomes (see [`guard::panic_error`]).
///
/// # Safety
/// As [`fast`].
#[cold]
#[inline(never)]
unsafe fn raise_panic(payload: Box<dyn Any + Send>) -> ! {
    let exception = {
        // SAFETY: an entry point runs on a Ruby thread holding the GVL.
        let ruby = unsafe { Ruby::get_unchecked() };
        let error = guard::panic_error(&ruby, &*payload);
        drop(payload);
        exception_of(&ruby, error)
    };
    // SAFETY: every Rust value of this frame is dropped; `exception` is an
    // exception object, kept alive by the raise.
    unsafe { rb_sys::rb_exc_raise(exception) }
}

/// The exception object of `error`.
fn exception_of(ruby: &Ruby, error: Error) -> VALUE {
    let made = match error.error_type() {
        ErrorType::Error(class, message) => class
            .new_instance((message.as_ref(),))
            .map(|exception| exception.as_raw()),
        ErrorType::Exception(exception) => Ok(exception.as_raw()),
        ErrorType::Jump(_) => Err(error),
    };
    made.unwrap_or_else(|failed| match failed.value() {
        Some(exception) => exception.as_raw(),
        None => ruby.exception_runtime_error().as_raw(),
    })
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

/// The public accessor name `get_TYPE` or `put_TYPE` of the type name at
/// position `name` of `TypeName::ALL`.
fn accessor_name(prefix: &str, name: usize) -> String {
    format!("{prefix}_{}", TypeName::ALL[name].name())
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
pub(super) unsafe fn slow_named(rb_self: VALUE, name: &str, args: &[VALUE]) -> VALUE {
    let method = checked_method(name);
    // SAFETY: nothing is held.
    unsafe { slow(rb_self, method, args) }
}

/// `get_TYPE(offset)`; `NAME` is the type name's position in
/// `TypeName::ALL`.
unsafe extern "C" fn get<T: RubyScalar, const NAME: usize>(rb_self: VALUE, offset: VALUE) -> VALUE {
    // SAFETY: a method entry point: the GVL is held, nothing needs dropping;
    // no Ruby call happens while `memory` is used.
    let read = unsafe {
        fast(|| {
            let (memory, at) = (open_memory(rb_self)?, fixnum_offset(offset)?);
            memory.region.read::<T>(at).ok()
        })
    };
    match read {
        Some(value) => value.to_ruby(),
        // SAFETY: nothing is held that needs dropping.
        None => unsafe { slow_accessor(rb_self, "get", NAME, &[offset]) },
    }
}

/// `put_TYPE(offset, value)`: returns self.
unsafe extern "C" fn put<T: RubyScalar, const NAME: usize>(
    rb_self: VALUE,
    offset: VALUE,
    value: VALUE,
) -> VALUE {
    // SAFETY: as in `get`.
    let written = unsafe {
        fast(|| {
            let (memory, at) = (open_memory(rb_self)?, fixnum_offset(offset)?);
            memory.region.write(at, T::from_fast(value)?).ok()
        })
    };
    match written {
        Some(()) => rb_self,
        // SAFETY: nothing is held that needs dropping.
        None => unsafe { slow_accessor(rb_self, "put", NAME, &[offset, value]) },
    }
}

fn read_element<T: RubyScalar>(memory: &Memory, at: u64) -> Option<VALUE> {
    memory.region.read::<T>(at).ok().map(T::to_ruby)
}

fn write_element<T: RubyScalar>(memory: &Memory, at: u64, value: VALUE) -> Option<()> {
    memory.region.write(at, T::from_fast(value)?).ok()
}

/// `SharedArray#[](index)`.
unsafe extern "C" fn element(rb_self: VALUE, index: VALUE) -> VALUE {
    // SAFETY: as in `get`. (`to_ruby` may allocate, which runs no Ruby
    // code that could close the memory.)
    let read = unsafe {
        fast(|| {
            let memory = open_memory(rb_self)?;
            let at = element_offset(memory, index)?;
            with_scalar_type!(memory.scalar, read_element(memory, at))
        })
    };
    match read {
        Some(value) => value,
        // SAFETY: nothing is held that needs dropping.
        None => unsafe { slow_named(rb_self, "[]", &[index]) },
    }
}

/// `SharedArray#[]=(index, value)`: returns the value.
unsafe extern "C" fn set_element(rb_self: VALUE, index: VALUE, value: VALUE) -> VALUE {
    // SAFETY: as in `get`.
    let written = unsafe {
        fast(|| {
            let memory = open_memory(rb_self)?;
            let at = element_offset(memory, index)?;
            with_scalar_type!(memory.scalar, write_element(memory, at, value))
        })
    };
    match written {
        Some(()) => value,
        // SAFETY: nothing is held that needs dropping.
        None => unsafe { slow_named(rb_self, "[]=", &[index, value]) },
    }
}

/// An entry point taking the receiver and one argument.
type EntryPoint1 = unsafe extern "C" fn(VALUE, VALUE) -> VALUE;
/// An entry point taking the receiver and two arguments.
type EntryPoint2 = unsafe extern "C" fn(VALUE, VALUE, VALUE) -> VALUE;

/// `rb_define_method` with the arity the entry point's type gives.
trait EntryPoint: Copy {
    const ARITY: c_int;
    /// The entry point as the C API's untyped function pointer.
    fn erased(self) -> unsafe extern "C" fn() -> VALUE;
}

impl EntryPoint for EntryPoint1 {
    const ARITY: c_int = 1;
    fn erased(self) -> unsafe extern "C" fn() -> VALUE {
        // SAFETY: only the type is erased: Ruby calls it back with the
        // receiver and ARITY arguments, the signature it has.
        unsafe { std::mem::transmute::<EntryPoint1, unsafe extern "C" fn() -> VALUE>(self) }
    }
}

impl EntryPoint for EntryPoint2 {
    const ARITY: c_int = 2;
    fn erased(self) -> unsafe extern "C" fn() -> VALUE {
        // SAFETY: as for EntryPoint1.
        unsafe { std::mem::transmute::<EntryPoint2, unsafe extern "C" fn() -> VALUE>(self) }
    }
}

/// An entry point taking the receiver alone.
type EntryPoint0 = unsafe extern "C" fn(VALUE) -> VALUE;
/// An entry point taking any number of arguments (`argc`, `argv`, receiver).
type EntryPointN = unsafe extern "C" fn(c_int, *const VALUE, VALUE) -> VALUE;

impl EntryPoint for EntryPoint0 {
    const ARITY: c_int = 0;
    fn erased(self) -> unsafe extern "C" fn() -> VALUE {
        // SAFETY: as for EntryPoint1.
        unsafe { std::mem::transmute::<EntryPoint0, unsafe extern "C" fn() -> VALUE>(self) }
    }
}

impl EntryPoint for EntryPointN {
    const ARITY: c_int = -1;
    fn erased(self) -> unsafe extern "C" fn() -> VALUE {
        // SAFETY: as for EntryPoint1; arity -1 is Ruby's (argc, argv, self).
        unsafe { std::mem::transmute::<EntryPointN, unsafe extern "C" fn() -> VALUE>(self) }
    }
}

fn define<F: EntryPoint>(class: RClass, name: &str, function: F) -> Result<(), Error> {
    let name = std::ffi::CString::new(name)
        .map_err(|_| Error::new(Ruby::get_with(class).exception_arg_error(), "method name"))?;
    // SAFETY: a valid class and NUL-terminated name; the function takes
    // the receiver and ARITY VALUEs (see `EntryPoint`).
    unsafe {
        rb_sys::rb_define_method(
            class.as_raw(),
            name.as_ptr(),
            Some(function.erased()),
            F::ARITY,
        )
    };
    Ok(())
}

/// Defines a public method taking one argument.
fn define1(class: RClass, name: &str, function: EntryPoint1) -> Result<(), Error> {
    define(class, name, function)
}

/// Defines a public method taking two arguments.
fn define2(class: RClass, name: &str, function: EntryPoint2) -> Result<(), Error> {
    define(class, name, function)
}

/// Defines the fast `get_`/`put_` entry points of the type name at
/// position `NAME` of `TypeName::ALL`. The checked methods must already
/// exist under their `slow_name`.
fn define_accessors<T: RubyScalar, const NAME: usize>(class: RClass) -> Result<(), Error> {
    define1(class, &accessor_name("get", NAME), get::<T, NAME>)?;
    define2(class, &accessor_name("put", NAME), put::<T, NAME>)
}

/// Calls `define_accessors` for every name of the scalar table.
macro_rules! define_every_accessor {
    ($class:expr ; $($variant:ident($t:ty, $atomic:ident, $kind:ident) {
        $($(#[$cfg:meta])* $name:ident: $doc:literal,)*
    })*) => {
        $($(
            $(#[$cfg])*
            define_accessors::<$t, { TypeName::$name as usize }>($class)?;
        )*)*
    };
}

/// Installs the fast entry points over `SharedMemory`'s accessors.
pub fn init_shared_memory(class: RClass) -> Result<(), Error> {
    scalar_types!(define_every_accessor!(class));
    Ok(())
}

/// Installs the fast `[]`/`[]=` over `SharedArray`'s checked ones.
pub fn init_shared_array(class: RClass) -> Result<(), Error> {
    define1(class, "[]", element)?;
    define2(class, "[]=", set_element)
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
#[inline]
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
#[inline]
unsafe fn open_counter<'a>(rb_self: VALUE) -> Option<&'a SharedCounter> {
    let data = wrapped::<AtomicInteger>(rb_self)?;
    // SAFETY: as in `open_memory`.
    unsafe { data.as_ref().handle.peek() }
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
    let added = unsafe {
        fast(|| {
            let (counter, delta) = (open_counter(rb_self)?, fixnum_delta(args, 0, NEGATE)?);
            counter.slot().try_add(delta)
        })
    };
    match added {
        Some(value) => value.to_ruby(),
        // SAFETY: nothing is held that needs dropping.
        None => unsafe {
            slow_named(
                rb_self,
                if NEGATE { "decrement" } else { "increment" },
                args,
            )
        },
    }
}

/// `AtomicInteger#value`.
unsafe extern "C" fn counter_value(rb_self: VALUE) -> VALUE {
    // SAFETY: as in `get`.
    let read = unsafe { fast(|| Some(open_counter(rb_self)?.slot().load())) };
    match read {
        Some(value) => value.to_ruby(),
        // SAFETY: nothing is held that needs dropping.
        None => unsafe { slow_named(rb_self, "value", &[]) },
    }
}

/// Adds to the element at `at`.
fn add_to_element<T: AtomicInt + RubyScalar>(
    memory: &Memory,
    at: u64,
    delta: i128,
) -> Option<VALUE> {
    let slot = AtomicSlot::<T>::in_region(&memory.region, at).ok()?;
    slot.try_add(delta).map(RubyScalar::to_ruby)
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
    let added = unsafe {
        fast(|| {
            let memory = open_memory(rb_self)?;
            let at = element_offset(memory, *args.first()?)?;
            let delta = fixnum_delta(args, 1, NEGATE)?;
            with_integer_type!(memory.scalar, add_to_element(memory, at, delta), else None)
        })
    };
    match added {
        Some(value) => value,
        // SAFETY: nothing is held that needs dropping.
        None => unsafe {
            slow_named(
                rb_self,
                if NEGATE { "decrement" } else { "increment" },
                args,
            )
        },
    }
}

/// Installs the fast `increment`/`up`, `decrement`/`down` and `value` over
/// `AtomicInteger`'s checked ones.
pub fn init_atomic_integer(class: RClass) -> Result<(), Error> {
    let increment: EntryPointN = counter_add::<false>;
    let decrement: EntryPointN = counter_add::<true>;
    define(class, "increment", increment)?;
    define(class, "up", increment)?;
    define(class, "decrement", decrement)?;
    define(class, "down", decrement)?;
    define(class, "value", counter_value as EntryPoint0)
}

/// Installs the fast `increment`/`decrement` over `SharedArray`'s checked
/// ones.
pub fn init_shared_array_atomic(class: RClass) -> Result<(), Error> {
    define(class, "increment", element_add::<false> as EntryPointN)?;
    define(class, "decrement", element_add::<true> as EntryPointN)
}
