//! What Linux and macOS do the same way, through POSIX calls: shared
//! anonymous mappings, the monotonic clock, the process id, and the
//! `kill(pid, 0)` probe for a process we may not inspect.

use std::io;
use std::ptr::NonNull;
use std::time::Duration;

/// Maps `len` bytes of zero-filled memory that stays shared with every child
/// forked afterwards. No file descriptor is held and no name is created.
pub fn map_shared(len: usize) -> io::Result<NonNull<u8>> {
    // SAFETY: an anonymous mapping with a null hint touches no existing memory;
    // the result is checked for MAP_FAILED before use.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    NonNull::new(ptr.cast()).ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))
}

/// Unmaps memory returned by [`map_shared`].
///
/// # Safety
/// `ptr`/`len` must be exactly one earlier `map_shared` result, not yet
/// unmapped, and nothing may use the memory afterwards.
pub unsafe fn unmap(ptr: NonNull<u8>, len: usize) {
    // SAFETY: guaranteed by the caller; munmap of a valid mapping cannot fail
    // in a way we could act on.
    unsafe { libc::munmap(ptr.as_ptr().cast(), len) };
}

/// The size of one page, the granularity of every mapping.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    // sysconf cannot fail for the page size; should it, 16 KiB (Apple
    // silicon's page) is a multiple of every smaller page size.
    usize::try_from(size).unwrap_or(16384)
}

/// Now, on the monotonic clock that deadlines are measured on.
pub fn monotonic_now() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid out-pointer; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// This process's id, straight from the kernel (neither glibc nor macOS's
/// libc caches it, so it is right in a forked child).
pub fn current_pid() -> u32 {
    // SAFETY: getpid has no preconditions and cannot fail.
    unsafe { libc::getpid() as u32 }
}

/// Whether no process at all has the id `pid`, asked with `kill(pid, 0)`.
/// For a process we may not signal (another user) the answer is `false`,
/// and so is it for a zombie (it still holds its pid): only the kernel's
/// "no such process" counts.
pub fn no_such_process(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 sends nothing; it only asks whether `pid` exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Mixes noise from the monotonic clock into `buf`: what [`random_bytes`]
/// falls back to without an entropy source, still enough to tell processes
/// apart.
///
/// [`random_bytes`]: super::random_bytes
pub(super) fn mix_in_clock_noise(buf: &mut [u8]) {
    let noise = monotonic_now().as_nanos().to_ne_bytes();
    for (byte, noise) in buf.iter_mut().zip(noise.iter().cycle()) {
        *byte ^= noise;
    }
}
