//! The gem's exception classes, defined once, and the mapping from core
//! errors to the Ruby exceptions the YARD documentation names.

use crate::core::CoreError;
use magnus::{exception::ExceptionClass, prelude::*, value::Lazy, Error, RModule, Ruby};

static PROCESS_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| named_error(ruby, "ProcessError"));
static CLOSED_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| named_error(ruby, "ClosedError"));
static FORK_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| named_error(ruby, "ForkError"));
static BROKEN_BARRIER_ERROR: Lazy<ExceptionClass> =
    Lazy::new(|ruby| named_error(ruby, "BrokenBarrierError"));

fn named_error(ruby: &Ruby, name: &str) -> ExceptionClass {
    ruby.define_module("ProcessShared")
        .and_then(|namespace| namespace.const_get(name))
        .unwrap_or_else(|_| ruby.exception_standard_error())
}

/// Defines `ProcessShared::ProcessError < ThreadError`,
/// `ProcessShared::ClosedError < IOError`,
/// `ProcessShared::ForkError < StandardError` and
/// `ProcessShared::BrokenBarrierError < ProcessError`.
pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    namespace.define_error("ProcessError", ruby.exception_thread_error())?;
    namespace.define_error("ClosedError", ruby.exception_io_error())?;
    namespace.define_error("ForkError", ruby.exception_standard_error())?;
    namespace.define_error("BrokenBarrierError", ruby.get_inner(&PROCESS_ERROR))?;
    Lazy::force(&PROCESS_ERROR, ruby);
    Lazy::force(&CLOSED_ERROR, ruby);
    Lazy::force(&FORK_ERROR, ruby);
    Lazy::force(&BROKEN_BARRIER_ERROR, ruby);
    Ok(())
}

/// `ProcessShared::ForkError`: the shared objects could not follow a fork
/// into the child (macOS only).
pub fn fork_error(ruby: &Ruby, message: impl Into<String>) -> Error {
    Error::new(ruby.get_inner(&FORK_ERROR), message.into())
}

/// `ProcessShared::BrokenBarrierError`: waiting on a broken `Barrier`.
pub fn broken_barrier_error(ruby: &Ruby) -> Error {
    Error::new(
        ruby.get_inner(&BROKEN_BARRIER_ERROR),
        "the barrier is broken (aborted, timed out, or a waiting party died)",
    )
}

pub fn not_implemented_error(ruby: &Ruby, message: impl Into<String>) -> Error {
    Error::new(ruby.exception_not_imp_error(), message.into())
}

/// `ProcessShared::ClosedError`: use after `close` (or before `initialize`).
pub fn closed_error(ruby: &Ruby, message: impl Into<String>) -> Error {
    Error::new(ruby.get_inner(&CLOSED_ERROR), message.into())
}

/// `ProcessShared::ProcessError`: lock misuse (the `ThreadError` of core
/// Ruby's locks).
pub fn process_error(ruby: &Ruby, message: impl Into<String>) -> Error {
    Error::new(ruby.get_inner(&PROCESS_ERROR), message.into())
}

pub fn argument_error(ruby: &Ruby, message: impl Into<String>) -> Error {
    Error::new(ruby.exception_arg_error(), message.into())
}

pub fn type_error(ruby: &Ruby, message: impl Into<String>) -> Error {
    Error::new(ruby.exception_type_error(), message.into())
}

pub fn index_error(ruby: &Ruby, message: impl Into<String>) -> Error {
    Error::new(ruby.exception_index_error(), message.into())
}

pub fn range_error(ruby: &Ruby, message: impl Into<String>) -> Error {
    Error::new(ruby.exception_range_error(), message.into())
}

/// The `Errno::*` exception for an OS error number (`SystemCallError.new`
/// picks the subclass).
pub fn errno_error(ruby: &Ruby, errno: i32, message: &str) -> Error {
    let system_call_error = ruby.exception_system_call_error();
    match system_call_error.new_instance((message, errno)) {
        Ok(exception) => Error::from(exception),
        Err(err) => err,
    }
}

/// Maps a core error to the exception the documentation promises for it.
pub fn core_error(ruby: &Ruby, err: CoreError) -> Error {
    match err {
        CoreError::OutOfBounds { .. } => index_error(ruby, err.to_string()),
        CoreError::InvalidArgument(message) => argument_error(ruby, message),
        CoreError::OutOfRange(message) => range_error(ruby, message),
        CoreError::Unsupported(message) => not_implemented_error(ruby, message),
        CoreError::Misuse(message) => process_error(ruby, message),
        CoreError::Os(os) => match os.raw_os_error() {
            Some(errno) => errno_error(ruby, errno, "process_shared"),
            None => Error::new(ruby.exception_runtime_error(), os.to_string()),
        },
    }
}

/// Lets `?` map core errors wherever a `&Ruby` is at hand.
pub trait OrRaise<T> {
    fn or_raise(self, ruby: &Ruby) -> Result<T, Error>;
}

impl<T> OrRaise<T> for Result<T, CoreError> {
    fn or_raise(self, ruby: &Ruby) -> Result<T, Error> {
        self.map_err(|err| core_error(ruby, err))
    }
}
