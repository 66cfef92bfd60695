//! Linux: POSIX semaphores (`pshared = 1`), futexes, and process identity
//! from `/proc`. The mappings and the clock are in `posix.rs`.

use super::posix::{mix_in_clock_noise, no_such_process};
use super::WaitOutcome;
use std::cell::UnsafeCell;
use std::io;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

// glibc 2.30+ has `sem_clockwait`, which takes the clock to measure the
// deadline on; the `libc` crate does not bind it yet.
extern "C" {
    fn sem_clockwait(
        sem: *mut libc::sem_t,
        clock: libc::clockid_t,
        abstime: *const libc::timespec,
    ) -> libc::c_int;
}

/// A POSIX semaphore placed inside shared memory.
///
/// glibc's `sem_trywait` and `sem_post` are a single atomic operation when
/// nobody waits, so the uncontended path makes no system call.
#[repr(transparent)]
pub struct RawSemaphore(UnsafeCell<libc::sem_t>);

// SAFETY: sem_t is designed to be used concurrently by threads and processes;
// every access goes through the sem_* functions.
unsafe impl Sync for RawSemaphore {}

impl RawSemaphore {
    /// The largest value a semaphore can count to.
    pub const MAX_VALUE: u32 = i32::MAX as u32;

    /// Initializes a process-shared semaphore in place.
    ///
    /// # Safety
    /// `slot` must point to writable, suitably aligned memory of at least
    /// `size_of::<RawSemaphore>()` bytes inside a shared mapping, and no
    /// other initialized semaphore may live there.
    pub unsafe fn init(slot: *mut RawSemaphore, value: u32) -> io::Result<()> {
        // SAFETY: guaranteed by the caller.
        let rc = unsafe { libc::sem_init(slot.cast(), 1, value) };
        check(rc)
    }

    fn as_ptr(&self) -> *mut libc::sem_t {
        self.0.get()
    }

    /// Decrements now if the value is positive. Never blocks.
    pub fn try_wait(&self) -> bool {
        // SAFETY: `self` is an initialized semaphore (guaranteed by `init`).
        unsafe { libc::sem_trywait(self.as_ptr()) == 0 }
    }

    /// Waits until the value can be decremented, until the monotonic clock
    /// reaches `deadline`, or until a signal arrives, whichever comes first.
    pub fn wait_until(&self, deadline: Duration) -> io::Result<WaitOutcome> {
        let abstime = timespec(deadline);
        // SAFETY: `self` is initialized; `abstime` is a valid timespec.
        let rc = unsafe { sem_clockwait(self.as_ptr(), libc::CLOCK_MONOTONIC, &abstime) };
        if rc == 0 {
            return Ok(WaitOutcome::Acquired);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::ETIMEDOUT) => Ok(WaitOutcome::TimedOut),
            Some(libc::EINTR) => Ok(WaitOutcome::Interrupted),
            _ => Err(err),
        }
    }

    /// Increments, waking one waiter. Fails with `EOVERFLOW` at the maximum.
    pub fn post(&self) -> io::Result<()> {
        // SAFETY: `self` is an initialized semaphore.
        check(unsafe { libc::sem_post(self.as_ptr()) })
    }

    /// The current value (a snapshot: it may change at once). Always
    /// `Some` here; macOS cannot read it.
    pub fn value(&self) -> Option<u32> {
        let mut value: libc::c_int = 0;
        // SAFETY: `self` is initialized; `value` is a valid out-pointer.
        unsafe { libc::sem_getvalue(self.as_ptr(), &mut value) };
        Some(value.max(0) as u32)
    }

    /// This process is done with the semaphore. Nothing to do here: it is
    /// memory, unmapped with its region (other processes keep using it).
    pub fn release(&self) {}
}

fn timespec(deadline: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: deadline.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: deadline.subsec_nanos() as libc::c_long,
    }
}

/// Sleeps while `*word == expected`, until [`futex_wake`] wakes it, the
/// monotonic clock reaches `deadline`, or a signal arrives.
///
/// `Acquired` means "woken, or the word no longer held `expected`" (which
/// includes rare spurious wakeups): callers re-check their condition. The
/// futex is not private (no `FUTEX_PRIVATE_FLAG`), so a word in a shared
/// mapping works across processes.
pub fn futex_wait(word: &AtomicU32, expected: u32, deadline: Duration) -> io::Result<WaitOutcome> {
    let abstime = timespec(deadline);
    // SAFETY: `word` is a live, aligned 4-byte atomic and `abstime` a valid
    // timespec; FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline
    // (no FUTEX_CLOCK_REALTIME) and ignores the fifth argument.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT_BITSET,
            expected,
            &abstime as *const libc::timespec,
            std::ptr::null::<u32>(),
            libc::FUTEX_BITSET_MATCH_ANY,
        )
    };
    if rc == 0 {
        return Ok(WaitOutcome::Acquired);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EAGAIN) => Ok(WaitOutcome::Acquired),
        Some(libc::ETIMEDOUT) => Ok(WaitOutcome::TimedOut),
        Some(libc::EINTR) => Ok(WaitOutcome::Interrupted),
        _ => Err(err),
    }
}

/// Wakes up to `count` threads sleeping in [`futex_wait`] on `word`, in
/// any process; returns how many were woken.
pub fn futex_wake(word: &AtomicU32, count: u32) -> usize {
    let count = count.min(i32::MAX as u32) as libc::c_int;
    // SAFETY: `word` is a live, aligned 4-byte atomic; FUTEX_WAKE reads no
    // other argument.
    let rc = unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, count) };
    usize::try_from(rc).unwrap_or(0)
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// When the process `pid` started, in clock ticks since boot (field 22 of
/// `/proc/<pid>/stat`), or `None` if no such process is alive. Zombies (dead
/// but not yet reaped) count as dead. Together with the pid this names one
/// process for ever: a later process reusing the pid starts later.
pub fn process_start_time(pid: u32) -> Option<u64> {
    match read_process_stat(pid)? {
        (state, _) if state == "Z" || state == "X" => None,
        (_, start_time) => Some(start_time),
    }
}

/// The state letter and start time of `/proc/<pid>/stat`, if readable.
fn read_process_stat(pid: u32) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold anything,
    // so fields are counted from the last ')'.
    let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
    let state = fields.next()?.to_string();
    // After the state (field 3), starttime is field 22: 19 fields further on.
    Some((state, fields.nth(18)?.parse().ok()?))
}

/// Whether the process `pid` that started at `start_time` (compared on the
/// bits in `start_mask`; 0 means unknown) is certainly gone: it exited (a
/// zombie runs no more code), or its pid now names a later process. A
/// process that exists but whose `/proc` entry we may not read (`hidepid`,
/// another user) is never called gone, so a live lock holder is never
/// mistaken for a dead one.
pub fn process_is_gone(pid: u32, start_time: u64, start_mask: u64) -> bool {
    if let Some((state, started)) = read_process_stat(pid) {
        let start_time = start_time & start_mask;
        return state == "Z"
            || state == "X"
            || (start_time != 0 && started & start_mask != start_time);
    }
    no_such_process(pid)
}

/// Fills `buf` with random bytes from the kernel.
pub fn random_bytes(buf: &mut [u8]) {
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: the pointer and length describe the unfilled tail of `buf`.
        let got =
            unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if got > 0 {
            filled += got as usize;
        } else if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            // No entropy source at all.
            mix_in_clock_noise(&mut buf[filled..]);
            return;
        }
    }
}
