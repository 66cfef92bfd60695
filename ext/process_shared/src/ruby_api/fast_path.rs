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
//!
//! What is left is Ruby's: `get_int64` and `[]` run about 20 instructions
//! of their own (the checks above, the read, the Integer), out of the
//! ~380 that a loop of them costs per call on Ruby 3.1; a C method that
//! does nothing costs the rest (`bench/instructions.rb` prints one as its
//! floor). So these entry points cannot drop much below 0.9× FFI's cost
//! (`[]`, whose syntax Ruby first tries on Array and Hash, 0.94×).

use super::atomic_integer::AtomicInteger;
use super::convert::RubyScalar;
use super::guard;
use super::owner::{in_main_ractor, only_main_ractor};
use super::shared_memory::{Memory, SharedMemory};
use crate::core::atomic::{with_integer_type, AtomicInt, AtomicSlot, SharedCounter};
use crate::core::scalar::{scalar_types, with_scalar_type, Scalar, ScalarType, TypeName};
use magnus::error::ErrorType;
use magnus::{prelude::*, rb_sys::AsRawValue, Error, RClass, Ruby, TypedData};
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

/// The `T` that `rb_self`, the receiver of a method of T's class, wraps,
/// for the entry points (`None` only for a null data pointer, which the
/// checked method then reports).
///
/// No check of the object's kind: Ruby calls a method of a class only on
/// an instance of it or of a subclass (its method cache is keyed on the
/// receiver's class, and `UnboundMethod#bind`/`define_method` refuse any
/// other receiver), and every instance comes from the class's allocation
/// function, which only C code can change: a typed data object of T's data
/// type whose data pointer magnus's allocator set. The checked methods
/// still check (`This<T>`), and so do debug builds here.
///
/// # Safety
/// `rb_self` is the receiver of a method of T's class (or of a subclass),
/// called with the GVL held; the reference must not be used after any call
/// into Ruby.
#[inline(always)]
pub(super) unsafe fn receiver<'a, T: TypedData>(rb_self: VALUE) -> Option<&'a T> {
    debug_assert!(super::typed::wrapped::<T>(rb_self).is_some());
    // SAFETY: a typed data object of T's data type (see the contract), so
    // its data pointer is a `*mut T` (or null), alive while `rb_self` is.
    unsafe {
        get_default()
            .rtypeddata_get_data(rb_self)
            .cast::<T>()
            .as_ref()
    }
}

/// The open memory of `rb_self`, or `None` (not a SharedMemory, closed,
/// never initialized: the slow path raises the right error).
///
/// # Safety
/// Called with the GVL held from a method entry point; the reference must
/// not be used after any call into Ruby.
#[inline(always)]
unsafe fn open_memory<'a>(rb_self: VALUE) -> Option<&'a Memory> {
    // SAFETY: the function's contract, for `receiver` and `peek`.
    unsafe { receiver::<SharedMemory>(rb_self)?.handle.peek() }
}

/// A non-negative Fixnum, as a byte offset.
#[inline(always)]
fn fixnum_offset(offset: VALUE) -> Option<u64> {
    let api = get_default();
    if !api.fixnum_p(offset) {
        return None;
    }
    u64::try_from(api.fix2long(offset)).ok()
}

/// The value of a Fixnum.
#[inline(always)]
fn fixnum(value: VALUE) -> Option<i64> {
    let api = get_default();
    api.fixnum_p(value).then(|| api.fix2long(value))
}

/// The address of element `index` of `memory` (negative from the end), if
/// it is a Fixnum inside the array.
///
/// # Safety
/// `T` is the element type (see [`Memory::element_from_start`]).
#[inline(always)]
unsafe fn element_at<T: Scalar>(memory: &Memory, index: VALUE) -> Option<*mut T> {
    // SAFETY: the contract.
    unsafe { memory.element::<T>(fixnum(index)?) }
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

// The slow paths of the entry points below take the entry point's own
// arguments, in the same registers, so that the entry point ends with a
// jump to them: no array in its frame, no register to save. They are
// `extern "C"` (a Rust panic cannot unwind out of them, so no landing pad
// follows the call and prevents the jump).

/// The slow path of `get::<T, NAME>`.
///
/// # Safety
/// As [`slow`].
#[cold]
#[inline(never)]
unsafe extern "C" fn slow_get<const NAME: usize>(rb_self: VALUE, offset: VALUE) -> VALUE {
    // SAFETY: as `slow_accessor`.
    unsafe { slow_accessor(rb_self, "get", NAME, &[offset]) }
}

/// The slow path of `put::<T, NAME>`.
///
/// # Safety
/// As [`slow`].
#[cold]
#[inline(never)]
unsafe extern "C" fn slow_put<const NAME: usize>(
    rb_self: VALUE,
    offset: VALUE,
    value: VALUE,
) -> VALUE {
    // SAFETY: as `slow_accessor`.
    unsafe { slow_accessor(rb_self, "put", NAME, &[offset, value]) }
}

/// The slow path of `element`.
///
/// # Safety
/// As [`slow`].
#[cold]
#[inline(never)]
unsafe extern "C" fn slow_element(rb_self: VALUE, index: VALUE) -> VALUE {
    // SAFETY: as `slow_named`.
    unsafe { slow_named(rb_self, "[]", &[index]) }
}

/// The slow path of `set_element`.
///
/// # Safety
/// As [`slow`].
#[cold]
#[inline(never)]
unsafe extern "C" fn slow_set_element(rb_self: VALUE, index: VALUE, value: VALUE) -> VALUE {
    // SAFETY: as `slow_named`.
    unsafe { slow_named(rb_self, "[]=", &[index, value]) }
}

/// The slow path of `counter_add` and `element_add`: the checked
/// `increment` (`NEGATE`: `decrement`) with the same arguments.
///
/// # Safety
/// As [`slow`]; `argv` points at `argc` VALUEs.
#[cold]
#[inline(never)]
unsafe extern "C" fn slow_add<const NEGATE: bool>(
    argc: c_int,
    argv: *const VALUE,
    rb_self: VALUE,
) -> VALUE {
    let name = if NEGATE { "decrement" } else { "increment" };
    // SAFETY: the caller's contract; nothing is held.
    unsafe { slow_named(rb_self, name, arguments(argc, argv)) }
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
        None => unsafe { slow_get::<NAME>(rb_self, offset) },
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
        None => unsafe { slow_put::<NAME>(rb_self, offset, value) },
    }
}

/// Element `at` as Ruby sees it.
///
/// # Safety
/// `at` is the address of an element of the open memory, of type `T`.
#[inline(always)]
unsafe fn read_element<T: RubyScalar>(at: *mut T) -> VALUE {
    // SAFETY: inside the mapping and aligned for T (the contract); other
    // processes may write it concurrently, which a volatile read of a plain
    // integer or float tolerates.
    unsafe { at.read_volatile() }.to_ruby()
}

/// The fast element methods of one element type, chosen once when the
/// array is made (see [`Memory::new`]): `[]`, `[]=`, `increment` and
/// `decrement` jump straight to the code for the array's type instead of
/// dispatching on it at every call.
#[derive(Clone, Copy)]
pub struct ElementMethods {
    get: ElementGet,
    set: ElementSet,
    increment: ElementAdd,
    decrement: ElementAdd,
}

/// `[]` for one element type: receiver, index, the receiver's open memory.
type ElementGet = unsafe extern "C" fn(VALUE, VALUE, *const Memory) -> VALUE;
/// `[]=` for one element type: receiver, index, value, open memory.
type ElementSet = unsafe extern "C" fn(VALUE, VALUE, VALUE, *const Memory) -> VALUE;
/// `increment`/`decrement` for one element type: `argc`, `argv`, receiver,
/// open memory.
type ElementAdd = unsafe extern "C" fn(c_int, *const VALUE, VALUE, *const Memory) -> VALUE;

impl ElementMethods {
    /// The methods for elements of type `scalar`.
    pub fn of(scalar: ScalarType) -> ElementMethods {
        let floats: (ElementAdd, ElementAdd) = (not_integer::<false>, not_integer::<true>);
        let (increment, decrement) = with_integer_type!(scalar, adders(), else floats);
        let (get, set) = with_scalar_type!(scalar, accessors());
        ElementMethods {
            get,
            set,
            increment,
            decrement,
        }
    }
}

/// `[]` and `[]=` for elements of type `T`.
fn accessors<T: RubyScalar>() -> (ElementGet, ElementSet) {
    (get_element::<T>, set_element::<T>)
}

/// `increment` and `decrement` for elements of type `T`.
fn adders<T: AtomicInt + RubyScalar>() -> (ElementAdd, ElementAdd) {
    (add_to_element::<T, false>, add_to_element::<T, true>)
}

/// `SharedArray#[](index)`: jumps to the method of the array's type.
unsafe extern "C" fn element(rb_self: VALUE, index: VALUE) -> VALUE {
    // SAFETY: as in `get`.
    match unsafe { fast(|| open_memory(rb_self)) } {
        // SAFETY: the memory's own method, given its memory.
        Some(memory) => unsafe { (memory.methods().get)(rb_self, index, memory) },
        // SAFETY: nothing is held that needs dropping.
        None => unsafe { slow_element(rb_self, index) },
    }
}

/// `SharedArray#[]=(index, value)`: jumps to the method of the array's
/// type.
unsafe extern "C" fn set_element_entry(rb_self: VALUE, index: VALUE, value: VALUE) -> VALUE {
    // SAFETY: as in `get`.
    match unsafe { fast(|| open_memory(rb_self)) } {
        // SAFETY: the memory's own method, given its memory.
        Some(memory) => unsafe { (memory.methods().set)(rb_self, index, value, memory) },
        // SAFETY: nothing is held that needs dropping.
        None => unsafe { slow_set_element(rb_self, index, value) },
    }
}

/// `[]` of an array of `T`. A negative index takes [`get_element_from_end`]
/// (so this function stays a straight line).
///
/// # Safety
/// As an entry point; `memory` is the open memory of `rb_self`, an array
/// of `T`.
unsafe extern "C" fn get_element<T: RubyScalar>(
    rb_self: VALUE,
    index: VALUE,
    memory: *const Memory,
) -> VALUE {
    let Some(position) = fixnum(index) else {
        // SAFETY: nothing is held that needs dropping.
        return unsafe { slow_element(rb_self, index) };
    };
    // SAFETY: `memory` is alive for the call and holds `T`s (the contract).
    match unsafe { (*memory).element_from_start::<T>(position) } {
        // SAFETY: an element of type T. (`to_ruby` may allocate, which
        // runs no Ruby code that could close the memory; it cannot panic.)
        Some(at) => unsafe { read_element(at) },
        // SAFETY: the contract.
        None => unsafe { get_element_from_end::<T>(rb_self, index, memory) },
    }
}

/// `[]` of an array of `T` for a negative index (or out of range).
///
/// # Safety
/// As [`get_element`].
#[cold]
#[inline(never)]
unsafe extern "C" fn get_element_from_end<T: RubyScalar>(
    rb_self: VALUE,
    index: VALUE,
    memory: *const Memory,
) -> VALUE {
    // SAFETY: as in `get_element`.
    match unsafe { element_at::<T>(&*memory, index) } {
        // SAFETY: as in `get_element`.
        Some(at) => unsafe { read_element(at) },
        // SAFETY: nothing is held that needs dropping.
        None => unsafe { slow_element(rb_self, index) },
    }
}

/// `[]=` of an array of `T`: returns the value. A negative index takes
/// [`set_element_from_end`].
///
/// # Safety
/// As [`get_element`].
unsafe extern "C" fn set_element<T: RubyScalar>(
    rb_self: VALUE,
    index: VALUE,
    value: VALUE,
    memory: *const Memory,
) -> VALUE {
    let (Some(position), Some(new)) = (fixnum(index), T::from_fast(value)) else {
        // SAFETY: nothing is held that needs dropping.
        return unsafe { slow_set_element(rb_self, index, value) };
    };
    // SAFETY: as in `get_element`.
    match unsafe { (*memory).element_from_start::<T>(position) } {
        Some(at) => {
            // SAFETY: an element of type T, inside the mapping and aligned;
            // a volatile write tolerates concurrent readers and writers.
            unsafe { at.write_volatile(new) };
            value
        }
        // SAFETY: the contract.
        None => unsafe { set_element_from_end::<T>(rb_self, index, value, memory) },
    }
}

/// `[]=` of an array of `T` for a negative index (or out of range).
///
/// # Safety
/// As [`get_element`].
#[cold]
#[inline(never)]
unsafe extern "C" fn set_element_from_end<T: RubyScalar>(
    rb_self: VALUE,
    index: VALUE,
    value: VALUE,
    memory: *const Memory,
) -> VALUE {
    // SAFETY: as in `get_element`.
    let at = unsafe { element_at::<T>(&*memory, index) };
    match (at, T::from_fast(value)) {
        (Some(at), Some(new)) => {
            // SAFETY: as in `set_element`.
            unsafe { at.write_volatile(new) };
            value
        }
        // SAFETY: nothing is held that needs dropping.
        _ => unsafe { slow_set_element(rb_self, index, value) },
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
    define2(class, "[]=", set_element_entry)
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

/// The optional delta of `increment(delta = 1)` (`argc` arguments, the
/// delta at `argv[at]`; `NEGATE`: `decrement`'s): 1 when absent, a
/// Fixnum's value, or `None` (a Bignum, anything else, too many
/// arguments). A Fixnum's negation cannot overflow (|delta| <= 2^62).
///
/// # Safety
/// `argv` points at `argc` VALUEs (as Ruby passes them).
#[inline(always)]
unsafe fn fixnum_delta<const NEGATE: bool>(
    argc: c_int,
    argv: *const VALUE,
    at: c_int,
) -> Option<i64> {
    let delta = if argc == at {
        1
    } else if argc == at + 1 {
        // SAFETY: argv holds argc > at values (the contract).
        fixnum(unsafe { *argv.add(at as usize) })?
    } else {
        return None;
    };
    Some(if NEGATE { -delta } else { delta })
}

/// The open counter of `rb_self`, or `None` (the slow path raises).
///
/// # Safety
/// As [`open_memory`].
#[inline(always)]
unsafe fn open_counter<'a>(rb_self: VALUE) -> Option<&'a SharedCounter> {
    // SAFETY: as in `open_memory`.
    unsafe { receiver::<AtomicInteger>(rb_self)?.handle.peek() }
}

/// `AtomicInteger#increment(delta = 1)` (`NEGATE`: `#decrement`): one
/// compare-and-swap (see `AtomicSlot::try_add` for why not `lock xadd`).
///
/// Defined as Ractor-safe (see [`init_atomic_integer`]), so it makes
/// Ruby's check of the caller's Ractor itself: one load, and once the
/// program has made a Ractor, the full check out of line.
unsafe extern "C" fn counter_add<const NEGATE: bool>(
    argc: c_int,
    argv: *const VALUE,
    rb_self: VALUE,
) -> VALUE {
    if !only_main_ractor() {
        // SAFETY: the same arguments.
        return unsafe { counter_add_after_ractors::<NEGATE>(argc, argv, rb_self) };
    }
    // SAFETY: the main Ractor; Ruby passes `argc` values at `argv`.
    unsafe { add_to_counter::<NEGATE>(argc, argv, rb_self) }
}

/// [`counter_add`] in a program that has made a Ractor: in the main
/// Ractor as ever; in another, the checked method, which Ruby refuses
/// there with `Ractor::UnsafeError`.
///
/// # Safety
/// As [`counter_add`].
#[cold]
#[inline(never)]
unsafe extern "C" fn counter_add_after_ractors<const NEGATE: bool>(
    argc: c_int,
    argv: *const VALUE,
    rb_self: VALUE,
) -> VALUE {
    if in_main_ractor() {
        // SAFETY: the main Ractor; the caller's arguments.
        unsafe { add_to_counter::<NEGATE>(argc, argv, rb_self) }
    } else {
        // SAFETY: nothing is held that needs dropping.
        unsafe { slow_add::<NEGATE>(argc, argv, rb_self) }
    }
}

/// The body of [`counter_add`], in the main Ractor.
///
/// # Safety
/// As in `get`, in the main Ractor; `argv` points at `argc` VALUEs.
#[inline(always)]
unsafe fn add_to_counter<const NEGATE: bool>(
    argc: c_int,
    argv: *const VALUE,
    rb_self: VALUE,
) -> VALUE {
    // SAFETY: the contract.
    let added = unsafe {
        fast(|| {
            let delta = fixnum_delta::<NEGATE>(argc, argv, 0)?;
            open_counter(rb_self)?.slot().try_add(delta)
        })
    };
    match added {
        Some(value) => value.to_ruby(),
        // SAFETY: nothing is held that needs dropping.
        None => unsafe { slow_add::<NEGATE>(argc, argv, rb_self) },
    }
}

/// `AtomicInteger#value` (Ractor-safe, and checking, as [`counter_add`]).
unsafe extern "C" fn counter_value(rb_self: VALUE) -> VALUE {
    // SAFETY: as in `get`.
    let read = unsafe {
        fast(|| {
            if !only_main_ractor() && !in_main_ractor() {
                return None;
            }
            Some(open_counter(rb_self)?.slot().load())
        })
    };
    match read {
        Some(value) => value.to_ruby(),
        // SAFETY: nothing is held that needs dropping.
        None => unsafe { slow_named(rb_self, "value", &[]) },
    }
}

/// `SharedArray#increment(index, delta = 1)` (`NEGATE`: `#decrement`):
/// jumps to the method of the array's type.
unsafe extern "C" fn element_add<const NEGATE: bool>(
    argc: c_int,
    argv: *const VALUE,
    rb_self: VALUE,
) -> VALUE {
    // SAFETY: as in `get`.
    match unsafe { fast(|| open_memory(rb_self)) } {
        Some(memory) => {
            let methods = memory.methods();
            let add = if NEGATE {
                methods.decrement
            } else {
                methods.increment
            };
            // SAFETY: the memory's own method, given Ruby's arguments and
            // its memory.
            unsafe { add(argc, argv, rb_self, memory) }
        }
        // SAFETY: nothing is held that needs dropping.
        None => unsafe { slow_add::<NEGATE>(argc, argv, rb_self) },
    }
}

/// `increment` (`NEGATE`: `decrement`) of an array of `T`.
///
/// # Safety
/// As [`get_element`]; Ruby passes `argc` values at `argv`.
unsafe extern "C" fn add_to_element<T: AtomicInt + RubyScalar, const NEGATE: bool>(
    argc: c_int,
    argv: *const VALUE,
    rb_self: VALUE,
    memory: *const Memory,
) -> VALUE {
    // SAFETY: as in `get_element`; argv holds argc >= 1 values where read.
    let added = unsafe {
        fast(|| {
            if argc < 1 {
                return None;
            }
            let delta = fixnum_delta::<NEGATE>(argc, argv, 1)?;
            // `memory` holds `T`s (the contract).
            let at = element_at::<T>(&*memory, *argv)?;
            // `element_at` returns the address of an element inside the
            // mapping (which outlives this call), naturally aligned.
            AtomicSlot::<T>::at(at).try_add(delta)
        })
    };
    match added {
        Some(value) => value.to_ruby(),
        // SAFETY: nothing is held that needs dropping.
        None => unsafe { slow_add::<NEGATE>(argc, argv, rb_self) },
    }
}

/// `increment`/`decrement` of a `:float`/`:double` array: the checked
/// method raises.
///
/// # Safety
/// As [`add_to_element`].
unsafe extern "C" fn not_integer<const NEGATE: bool>(
    argc: c_int,
    argv: *const VALUE,
    rb_self: VALUE,
    _: *const Memory,
) -> VALUE {
    // SAFETY: the contract.
    unsafe { slow_add::<NEGATE>(argc, argv, rb_self) }
}

/// Installs the fast `increment`/`up`, `decrement`/`down` and `value` over
/// `AtomicInteger`'s checked ones.
///
/// They are defined as Ractor-safe, so that Ruby calls them without its
/// own check of the caller's Ractor, which costs more than theirs
/// ([`in_main_ractor`]: one load while the program never made a Ractor):
/// they run only in the main Ractor, like every other method of the class,
/// and hand any other caller to the checked method, which Ruby refuses
/// with `Ractor::UnsafeError` as before.
pub fn init_atomic_integer(class: RClass) -> Result<(), Error> {
    // SAFETY: called while the extension loads, on its thread with the
    // GVL: the flag applies to the methods defined until it is reset.
    unsafe { rb_sys::rb_ext_ractor_safe(true) };
    let defined = define_atomic_integer(class);
    // SAFETY: as above.
    unsafe { rb_sys::rb_ext_ractor_safe(false) };
    defined
}

/// The definitions of [`init_atomic_integer`].
fn define_atomic_integer(class: RClass) -> Result<(), Error> {
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
