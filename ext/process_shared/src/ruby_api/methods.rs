//! Method bodies several classes share: `synchronize` around a block, and
//! the methods of the semaphore family (`Semaphore`, `BinarySemaphore` and
//! `SemaphoreMutex`), generic over the core semaphore they use.

use super::args::{optional_timeout, timeout_given};
use super::blocking::RubyPark;
use super::errors::{errno_error, OrRaise};
use super::handle::{Handle, HandleClass};
use super::typed::This;
use crate::core::binary_semaphore::BinarySemaphore;
use crate::core::park::{deadline_after, Park};
use crate::core::semaphore::Semaphore;
use crate::core::CoreResult;
use magnus::{Error, Ruby, Value};
use std::time::Duration;

/// A core semaphore, as the semaphore family's methods use it.
pub trait Units {
    /// Takes a unit if one is there: no system call, never blocks.
    fn try_take(&self) -> bool;
    /// Takes a unit, parking until the monotonic `deadline`.
    fn take<P: Park>(&self, park: &mut P, deadline: Option<Duration>) -> Result<bool, P::Error>;
    /// Gives a unit back.
    fn give(&self) -> CoreResult<()>;
}

/// Both core semaphores are [`Units`] through methods of the same names.
macro_rules! units {
    ($($semaphore:ty),*) => {$(
        impl Units for $semaphore {
            fn try_take(&self) -> bool {
                self.try_wait()
            }

            fn take<P: Park>(&self, park: &mut P, deadline: Option<Duration>) -> Result<bool, P::Error> {
                self.acquire(park, deadline)
            }

            fn give(&self) -> CoreResult<()> {
                self.post()
            }
        }
    )*};
}

units!(Semaphore, BinarySemaphore);

/// Takes one unit, blocking (GVL released, interruptible) until `deadline`.
/// `Ok(false)` when the deadline passed first.
pub fn acquire<U: Units>(
    ruby: &Ruby,
    handle: &Handle<U>,
    deadline: Option<Duration>,
) -> Result<bool, Error> {
    if handle.with(ruby, U::try_take)? {
        return Ok(true);
    }
    handle
        .get(ruby)?
        .take(&mut RubyPark::interruptible(ruby), deadline)
}

/// `wait` (`lock`): takes a unit, blocking; returns self.
pub fn wait<T: HandleClass>(ruby: &Ruby, rb_self: This<T>) -> Result<This<T>, Error>
where
    T::Resource: Units,
{
    acquire(ruby, rb_self.handle(), None)?;
    Ok(rb_self)
}

/// `post` (`unlock`): gives a unit back; returns self.
pub fn post<T: HandleClass>(ruby: &Ruby, rb_self: This<T>) -> Result<This<T>, Error>
where
    T::Resource: Units,
{
    rb_self.handle().with(ruby, Units::give)?.or_raise(ruby)?;
    Ok(rb_self)
}

/// `synchronize`: the block between taking a unit and giving it back.
pub fn synchronize<T: HandleClass>(ruby: &Ruby, rb_self: This<T>) -> Result<Value, Error>
where
    T::Resource: Units,
{
    let semaphore = rb_self.handle().get(ruby)?;
    around_block(
        ruby,
        || acquire(ruby, rb_self.handle(), None).map(drop),
        || semaphore.give().or_raise(ruby),
    )
}

/// `try_wait(timeout = nil)` of both semaphores: without a timeout, take a
/// unit now or raise `Errno::EAGAIN`; with one, wait for a unit until the
/// deadline or raise `Errno::ETIMEDOUT`. Returns self.
pub fn try_wait<T: HandleClass>(
    ruby: &Ruby,
    rb_self: This<T>,
    args: &[Value],
) -> Result<This<T>, Error>
where
    T::Resource: Units,
{
    let timeout = optional_timeout(ruby, args)?;
    let handle = rb_self.handle();
    if !timeout_given(args) {
        return if handle.with(ruby, Units::try_take)? {
            Ok(rb_self)
        } else {
            Err(errno_error(ruby, libc::EAGAIN, "semaphore value is zero"))
        };
    }
    if acquire(ruby, handle, deadline_after(timeout))? {
        Ok(rb_self)
    } else {
        Err(errno_error(
            ruby,
            libc::ETIMEDOUT,
            "semaphore wait timed out",
        ))
    }
}

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
