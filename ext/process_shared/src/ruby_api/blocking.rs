//! Blocking without the GVL, interruptibly: the binding's [`Park`]ers.
//!
//! A slice of a wait runs without the GVL under Ruby's own unblocking
//! function (`RUBY_UBF_IO`), which interrupts the waiting thread with a
//! signal; our platform waits are always timed, so the signal ends them with
//! `EINTR` instead of being restarted. We then let Ruby run its pending
//! interrupts (`Thread#raise`, `Thread#kill`, `Interrupt`, `Timeout`) and,
//! if none raised, the core's protocol parks again. We use
//! `rb_thread_call_without_gvl2`, which never raises after the work has
//! run: a slice that acquired something always returns it to the caller, so
//! no count is ever lost. See ARCHITECTURE.md, "The wait protocol".

use super::errors::core_error;
use super::fiber_wait::Poller;
use crate::core::park::Park;
use crate::core::{CoreError, CoreResult};
use magnus::{error::ErrorType, Error, Ruby};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

struct Call<F, R> {
    work: Option<F>,
    result: Option<std::thread::Result<R>>,
}

unsafe extern "C" fn trampoline<F: FnOnce() -> R, R>(data: *mut c_void) -> *mut c_void {
    // SAFETY: `data` is the `Call<F, R>` that `without_gvl` passed, alive and
    // exclusively ours for the duration of this call.
    let call = unsafe { &mut *data.cast::<Call<F, R>>() };
    if let Some(work) = call.work.take() {
        call.result = Some(catch_unwind(AssertUnwindSafe(work)));
    }
    std::ptr::null_mut()
}

/// Runs `work` with the GVL released. `None` when Ruby had an interrupt
/// pending and did not start it; `Some(Err(_))` when it panicked.
pub fn without_gvl<F: FnOnce() -> R, R>(work: F) -> Option<std::thread::Result<R>> {
    let mut call = Call {
        work: Some(work),
        result: None,
    };
    // SAFETY: RUBY_UBF_IO is the C macro `((rb_unblock_function_t *)-1)`, a
    // sentinel Ruby compares against and never calls; -1 is non-null.
    let ubf_io = unsafe { std::mem::transmute::<isize, unsafe extern "C" fn(*mut c_void)>(-1) };
    // SAFETY: `trampoline::<F, R>` matches the `Call<F, R>` we pass, which
    // outlives the call; it catches panics, so none unwinds into Ruby.
    unsafe {
        rb_sys::rb_thread_call_without_gvl2(
            Some(trampoline::<F, R>),
            std::ptr::addr_of_mut!(call).cast(),
            Some(ubf_io),
            std::ptr::null_mut(),
        );
    }
    call.result
}

/// Runs one slice, `attempt(slice_end)`, without the GVL. `Ok(None)` also
/// when Ruby had an interrupt pending and did not start it.
fn slice_without_gvl<T>(
    ruby: &Ruby,
    slice_end: Duration,
    attempt: impl FnOnce(Duration) -> CoreResult<Option<T>>,
) -> Result<Option<T>, Error> {
    match without_gvl(|| attempt(slice_end)) {
        Some(Ok(Ok(value))) => Ok(value),
        None => Ok(None),
        Some(Ok(Err(err))) => Err(core_error(ruby, err)),
        Some(Err(_panic)) => Err(Error::new(
            ruby.exception_runtime_error(),
            "process_shared: internal error while waiting",
        )),
    }
}

/// The error to raise when a wait ended with `first` and locking again
/// raised `second`: a thread being killed stays killed; otherwise the later
/// interrupt wins, as when an exception interrupts an `ensure` clause.
fn later_error(first: Error, second: Error) -> Error {
    if matches!(first.error_type(), ErrorType::Jump(_)) {
        first
    } else {
        second
    }
}

/// The binding's parker: each slice without the GVL, then Ruby's pending
/// interrupts.
///
/// [`RubyPark::interruptible`] lets an interrupt that raises end the wait.
/// [`RubyPark::deferring`] never gives up because of a Ruby exception: one
/// raised between slices (under `uninterruptible::with_interrupts_deferred`
/// only a signal trap's handler can raise) is kept for
/// [`RubyPark::finish`], and only a core error stops the wait; it is for
/// taking a lock again, which must succeed.
///
/// A non-blocking fiber under a `Fiber.scheduler` polls instead (see
/// `fiber_wait`), so that the other fibers of its thread keep running.
pub struct RubyPark<'r> {
    ruby: &'r Ruby,
    defers: bool,
    deferred: Option<Error>,
    poller: Option<Poller>,
}

impl<'r> RubyPark<'r> {
    /// Interrupts end the wait.
    pub fn interruptible(ruby: &'r Ruby) -> Self {
        RubyPark {
            ruby,
            defers: false,
            deferred: None,
            poller: Poller::for_current_fiber(ruby),
        }
    }

    /// Whether waits poll through a fiber scheduler (another fiber of this
    /// thread can then run, and release what this one waits for).
    pub fn under_scheduler(&self) -> bool {
        self.poller.is_some()
    }

    /// Interrupts are kept for [`RubyPark::finish`].
    pub fn deferring(ruby: &'r Ruby) -> Self {
        RubyPark {
            defers: true,
            ..Self::interruptible(ruby)
        }
    }

    /// The first exception deferred, if any, to raise now.
    pub fn finish(self) -> Result<(), Error> {
        self.deferred.map_or(Ok(()), Err)
    }
}

impl Park for RubyPark<'_> {
    type Error = Error;

    fn park<T>(
        &mut self,
        slice_end: Duration,
        attempt: impl FnOnce(Duration) -> CoreResult<Option<T>>,
    ) -> Result<Option<T>, Error> {
        match &mut self.poller {
            Some(poller) => {
                if let Some(value) = poller.poll(self.ruby, attempt)? {
                    return Ok(Some(value));
                }
                // An exception raised into the fiber while it pauses (a
                // stopped task) ends the wait, or is deferred, as an
                // interrupt is.
                match poller.pause(slice_end) {
                    Err(err) if self.defers => {
                        self.deferred.get_or_insert(err);
                    }
                    outcome => outcome?,
                }
            }
            None => {
                if let Some(value) = slice_without_gvl(self.ruby, slice_end, attempt)? {
                    return Ok(Some(value));
                }
            }
        }
        match self.ruby.thread_check_ints() {
            Err(err) if self.defers => {
                self.deferred.get_or_insert(err);
            }
            outcome => outcome?,
        }
        Ok(None)
    }

    fn error(&self, error: CoreError) -> Error {
        core_error(self.ruby, error)
    }

    fn later_error(&self, first: Error, second: Error) -> Error {
        later_error(first, second)
    }
}
