//! Helpers for the platform layer's fork-based tests. The core's tests use
//! `core::test_support`, whose `fork_and` also runs the fork hook; these
//! plain ones do not, as the platform layer knows nothing above it.

/// Forks a child that runs `child` and `_exit`s with its result (99 if it
/// panicked), never returning into the test harness. Returns the pid.
pub fn fork_and(child: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child runs `child` and `_exit`s without returning into
    // the test harness.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(99);
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// Reaps a forked child: its exit code, or -1 if a signal ended it.
pub fn exit_code(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: reaping a child we forked.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    }
}
