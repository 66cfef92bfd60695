//! Keeping Rust panics out of Ruby's way: the one adapter over magnus's
//! method trampolines.
//!
//! magnus catches a panic in a method and raises it as Ruby's `fatal`,
//! which no `rescue` can catch and which ends the interpreter. The gem
//! promises that a panic becomes an ordinary exception instead. Our
//! [`method!`] and [`function!`] are magnus's, with the method body run
//! inside [`catch_panic`], which turns a panic into a `RuntimeError`; magnus
//! then sees an error, never a panic. (A panic is a bug in this gem: the
//! default hook still prints it to stderr.)
//!
//! magnus offers no public hook for this, so this file, and only this file,
//! uses items magnus marks `#[doc(hidden)]`: the traits `Method0`..`Method3`,
//! `MethodCAry`, `Function0`/`Function1` and their `Ruby*` variants, with
//! their methods `call_convert_value` and `call_handle_error`. The crate
//! pins magnus to an exact version (`Cargo.toml`) so that an upgrade is a
//! deliberate change; `spec/panic_spec.rb` calls one method of every shape
//! defined here and fails loudly if any panic stops arriving as a
//! `RuntimeError`.

use magnus::{prelude::*, Error, RModule, Ruby, Value};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The `RuntimeError` a panic becomes.
pub fn panic_error(ruby: &Ruby, payload: &(dyn Any + Send)) -> Error {
    let message = payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic");
    Error::new(
        ruby.exception_runtime_error(),
        format!("process_shared: internal error (a bug, please report it): {message}"),
    )
}

/// Runs `body`, turning a panic into [`panic_error`].
pub fn catch_panic<T>(ruby: &Ruby, body: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(panic_error(ruby, &*payload)))
}

/// `magnus::Value`, once per argument name (for the function pointer types).
macro_rules! value_type {
    ($arg:ident) => {
        magnus::Value
    };
}

/// A method taking self and fixed arguments: the body runs in
/// `catch_panic`; the conversions and the raising stay magnus's.
macro_rules! guarded_method {
    ($name:expr, $method:ident, $ruby_method:ident $(, $arg:ident)*) => {{
        unsafe extern "C" fn anon(rb_self: magnus::Value $(, $arg: magnus::Value)*) -> magnus::Value {
            use magnus::method::$ruby_method as _;
            let guarded = |ruby: &magnus::Ruby, rb_self: magnus::Value $(, $arg: magnus::Value)*| {
                $crate::ruby_api::guard::catch_panic(ruby, || {
                    #[allow(unused_imports)]
                    use magnus::method::{$method, $ruby_method};
                    $name.call_convert_value(ruby, rb_self $(, $arg)*)
                })
            };
            // SAFETY: called by Ruby, with the GVL, as magnus's own
            // `method!` trampolines are.
            unsafe { guarded.call_handle_error(&magnus::Ruby::get_unchecked(), rb_self $(, $arg)*) }
        }
        anon as unsafe extern "C" fn(magnus::Value $(, $crate::ruby_api::guard::value_type!($arg))*) -> magnus::Value
    }};
}

/// `magnus::method!`, with panics raised as `RuntimeError` (see the module
/// documentation). Arities -1 and 0 to 3.
macro_rules! method {
    ($name:expr, -1) => {{
        unsafe extern "C" fn anon(
            argc: std::ffi::c_int,
            argv: *const magnus::Value,
            rb_self: magnus::Value,
        ) -> magnus::Value {
            use magnus::method::RubyMethodCAry as _;
            let guarded = |ruby: &magnus::Ruby, rb_self: magnus::Value, args: &[magnus::Value]| {
                $crate::ruby_api::guard::catch_panic(ruby, || {
                    #[allow(unused_imports)]
                    use magnus::method::{MethodCAry, RubyMethodCAry};
                    let argc =
                        std::ffi::c_int::try_from(args.len()).unwrap_or(std::ffi::c_int::MAX);
                    // SAFETY: `args` is the argument array Ruby passed,
                    // `argc` values long.
                    unsafe { $name.call_convert_value(ruby, argc, args.as_ptr(), rb_self) }
                })
            };
            // SAFETY: called by Ruby, with the GVL, with `argc` values at
            // `argv`, as magnus's own `method!` trampolines are.
            unsafe {
                guarded.call_handle_error(&magnus::Ruby::get_unchecked(), argc, argv, rb_self)
            }
        }
        anon as unsafe extern "C" fn(
            std::ffi::c_int,
            *const magnus::Value,
            magnus::Value,
        ) -> magnus::Value
    }};
    ($name:expr, 0) => {
        $crate::ruby_api::guard::guarded_method!($name, Method0, RubyMethod0)
    };
    ($name:expr, 1) => {
        $crate::ruby_api::guard::guarded_method!($name, Method1, RubyMethod1, a)
    };
    ($name:expr, 2) => {
        $crate::ruby_api::guard::guarded_method!($name, Method2, RubyMethod2, a, b)
    };
    ($name:expr, 3) => {
        $crate::ruby_api::guard::guarded_method!($name, Method3, RubyMethod3, a, b, c)
    };
}

/// `magnus::function!`, with panics raised as `RuntimeError`. Arities 0
/// and 1.
macro_rules! function {
    ($name:expr, 0) => {
        $crate::ruby_api::guard::guarded_function!($name, Function0, RubyFunction0)
    };
    ($name:expr, 1) => {
        $crate::ruby_api::guard::guarded_function!($name, Function1, RubyFunction1, a)
    };
}

/// A module function taking fixed arguments (self ignored), as
/// `guarded_method!`.
macro_rules! guarded_function {
    ($name:expr, $function:ident, $ruby_function:ident $(, $arg:ident)*) => {{
        unsafe extern "C" fn anon(rb_self: magnus::Value $(, $arg: magnus::Value)*) -> magnus::Value {
            use magnus::method::$ruby_function as _;
            let _ = rb_self;
            let guarded = |ruby: &magnus::Ruby $(, $arg: magnus::Value)*| {
                $crate::ruby_api::guard::catch_panic(ruby, || {
                    #[allow(unused_imports)]
                    use magnus::method::{$function, $ruby_function};
                    $name.call_convert_value(ruby $(, $arg)*)
                })
            };
            // SAFETY: called by Ruby, with the GVL, as magnus's own
            // `function!` trampolines are.
            unsafe { guarded.call_handle_error(&magnus::Ruby::get_unchecked() $(, $arg)*) }
        }
        anon as unsafe extern "C" fn(magnus::Value $(, $crate::ruby_api::guard::value_type!($arg))*) -> magnus::Value
    }};
}

pub(crate) use {function, guarded_function, guarded_method, method, value_type};

/// Panics, on purpose: `ProcessShared.__panic_for_tests(message)`.
fn panic_for_tests(message: String) -> Result<(), Error> {
    panic!("{message}")
}

/// The same through `method!` with arity -1, 0 and 2 (`function!` with
/// arity 1 is above), so the spec covers every trampoline shape.
fn panic_any_arity(_rb_self: Value, args: &[Value]) -> Result<(), Error> {
    panic!("any arity ({} arguments)", args.len())
}

fn panic_no_arguments(_ruby: &Ruby, _rb_self: Value) -> Result<(), Error> {
    panic!("no arguments")
}

fn panic_two_arguments(_rb_self: Value, first: String, second: String) -> Result<(), Error> {
    panic!("{first} {second}")
}

/// With `PROCESS_SHARED_PANIC_TESTS=1` in the environment when the gem is
/// loaded, defines `ProcessShared.__panic_for_tests(message)` and
/// `__panic_for_tests_any(*args)`, `__panic_for_tests_0`,
/// `__panic_for_tests_2(a, b)`, which panic, so that a spec can check how a
/// panic reaches Ruby. Never defined otherwise.
pub fn init(_ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    if std::env::var_os("PROCESS_SHARED_PANIC_TESTS").is_some_and(|value| value == "1") {
        namespace.define_singleton_method("__panic_for_tests", function!(panic_for_tests, 1))?;
        namespace.define_singleton_method("__panic_for_tests_any", method!(panic_any_arity, -1))?;
        namespace.define_singleton_method("__panic_for_tests_0", method!(panic_no_arguments, 0))?;
        namespace
            .define_singleton_method("__panic_for_tests_2", method!(panic_two_arguments, 2))?;
    }
    Ok(())
}
