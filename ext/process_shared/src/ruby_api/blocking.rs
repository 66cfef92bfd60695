//! Blocking without the GVL, interruptibly.
//!
//! A wait first runs without the GVL under Ruby's own unblocking function
//! (`RUBY_UBF_IO`), which interrupts the waiting thread with a signal; our
//! platform waits are always timed, so the signal ends them with `EINTR`
//! instead of being restarted. We then let Ruby run its pending interrupts
//! (`Thread#raise`, `Thread#kill`, `Interrupt`, `Timeout`) and, if none
//! raised, wait again. We use `rb_thread_call_without_gvl2`, which never
//! raises after the work has run: a wait that acquired something always
//! returns it to the caller, so no count is ever lost.

use super::errors::core_error;
use crate::core::CoreResult;
use crate::platform::monotonic_now;
use magnus::{Error, Ruby};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

/// How long one GVL-free wait lasts at most before we look at the world
/// again (pending interrupts, a lock holder's death).
pub const SLICE: Duration = Duration::from_millis(100);

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

/// Calls `attempt(slice_deadline)` without the GVL until it yields a value,
/// processing Ruby interrupts between attempts (which may raise), until the
/// monotonic `deadline`. `Ok(None)` means the deadline passed.
///
/// `attempt` must return `Ok(None)` when its slice ended or a signal
/// interrupted it, having changed nothing.
pub fn block_until<T>(
    ruby: &Ruby,
    deadline: Option<Duration>,
    mut attempt: impl FnMut(Duration) -> CoreResult<Option<T>>,
) -> Result<Option<T>, Error> {
    loop {
        let now = monotonic_now();
        let slice_end = match deadline {
            Some(deadline) if now >= deadline => return Ok(None),
            Some(deadline) => deadline.min(now + SLICE),
            None => now + SLICE,
        };
        match without_gvl(|| attempt(slice_end)) {
            Some(Ok(Ok(Some(value)))) => return Ok(Some(value)),
            Some(Ok(Ok(None))) | None => {}
            Some(Ok(Err(err))) => return Err(core_error(ruby, err)),
            Some(Err(_panic)) => {
                return Err(Error::new(
                    ruby.exception_runtime_error(),
                    "process_shared: internal error while waiting",
                ))
            }
        }
        ruby.thread_check_ints()?;
    }
}

/// A deadline `timeout` from now on the monotonic clock (`None`: never).
pub fn deadline_after(timeout: Option<Duration>) -> Option<Duration> {
    timeout.and_then(|timeout| monotonic_now().checked_add(timeout))
}
