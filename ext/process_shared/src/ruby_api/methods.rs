//! Method bodies several classes share.

use super::errors::errno_error;
use crate::core::park::deadline_after;
use magnus::{Error, Ruby, Value};
use std::time::Duration;

/// Runs the block between `enter` and `exit` (`synchronize`), calling
/// `exit` even when the block raises, throws or breaks; the block's value
/// or its error.
pub fn around_block(
    ruby: &Ruby,
    enter: impl FnOnce() -> Result<(), Error>,
    exit: impl FnOnce() -> Result<(), Error>,
) -> Result<Value, Error> {
    if !ruby.block_given() {
        return Err(Error::new(
            ruby.exception_thread_error(),
            "must be called with a block",
        ));
    }
    enter()?;
    let result = ruby.yield_values::<(), Value>(());
    let released = exit();
    let value = result?;
    released.map(|()| value)
}

/// `try_wait(timeout = nil)` of both semaphores: without a timeout, take a
/// unit now (`try_now`) or raise `Errno::EAGAIN`; with one, wait for a unit
/// until the deadline (`wait_until`) or raise `Errno::ETIMEDOUT`.
pub fn try_wait_with(
    ruby: &Ruby,
    args: &[Value],
    try_now: impl FnOnce() -> Result<bool, Error>,
    wait_until: impl FnOnce(Option<Duration>) -> Result<bool, Error>,
) -> Result<(), Error> {
    let timeout = super::args::optional_timeout(ruby, args)?;
    if !super::args::timeout_given(args) {
        return if try_now()? {
            Ok(())
        } else {
            Err(errno_error(ruby, libc::EAGAIN, "semaphore value is zero"))
        };
    }
    if wait_until(deadline_after(timeout))? {
        Ok(())
    } else {
        Err(errno_error(
            ruby,
            libc::ETIMEDOUT,
            "semaphore wait timed out",
        ))
    }
}
