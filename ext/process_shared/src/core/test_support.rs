//! Helpers for the core's unit tests that fork.

use super::{fork, identity};

/// Forks a child that runs `child` and exits with its result (99 if it
/// panicked, 98 if the fork hook failed in it), never returning into the
/// test harness. Returns the pid. The fork goes through the fork hook as
/// Ruby's does, so that on macOS the child holds the semaphores.
pub fn fork_and(child: impl FnOnce() -> i32) -> libc::pid_t {
    identity::install();
    fork::before_fork().expect("before_fork");
    // SAFETY: the child runs `child` and `_exit`s without returning into
    // the test harness.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = match fork::after_fork_child(|_| {}) {
            Ok(()) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(99),
            Err(_) => 98,
        };
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(code) };
    }
    if pid > 0 {
        fork::after_fork_parent(pid as u32)
            .finish()
            .expect("after_fork_parent");
    } else {
        fork::fork_failed();
    }
    pid
}

/// Reaps a child forked by [`fork_and`]: its exit code, or -1 if a signal
/// ended it.
pub use crate::platform::test_support::exit_code;

/// A name no other test (or run) uses, within the name length limit.
pub fn unique_name(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("t{tag}{}x{n}", std::process::id())
}

/// Opens (creating if missing) the shared-memory object `name` as a `T`,
/// as `Klass.new(name: name)` does: what an unrelated process does to share
/// it. The caller unlinks the name.
pub fn open_named<T: super::named::SharedState>(name: &str, init: T::Init) -> T {
    use super::named::{self, Create, Hooks, Layout, NamedSpec, Origin};
    let spec = NamedSpec {
        origin: Origin::shm(name).expect("a valid name"),
        create: Create::OpenOrCreate,
        mode: None,
    };
    let layout = Layout {
        class: std::any::type_name::<T>()
            .rsplit("::")
            .next()
            .unwrap_or("T"),
        element: "",
        count: 1,
        size: T::state_size(&init),
    };
    let mut pause = || {
        std::thread::sleep(std::time::Duration::from_millis(1));
        Ok(())
    };
    let mut hooks = Hooks {
        pause: &mut pause,
        on_step: &mut |_| {},
    };
    named::create::<T>(Some((&spec, &layout)), init, &mut hooks)
        .expect("open the named object")
        .0
}

/// Unlinks the shared-memory name it holds when dropped, so that a test
/// that fails leaves no name behind (a forked child `_exit`s without
/// dropping it).
pub struct UnlinkOnDrop(pub String);

impl Drop for UnlinkOnDrop {
    fn drop(&mut self) {
        let _ = super::named::Origin::shm(&self.0).map(|origin| origin.unlink());
    }
}

/// The calling thread as a holder (see `holders`).
pub fn me() -> super::holders::Owner {
    super::holders::Owner::current()
}

/// A deadline ten seconds away: far enough never to be reached by a test
/// that passes, near enough that a deadlock fails fast.
pub fn soon() -> Option<std::time::Duration> {
    Some(crate::platform::monotonic_now() + std::time::Duration::from_secs(10))
}

/// Polls `done` every millisecond until it holds; fails the test with
/// `what` after ten seconds (a deadlock fails fast).
pub fn poll_until(what: &str, mut done: impl FnMut() -> bool) {
    let give_up = crate::platform::monotonic_now() + std::time::Duration::from_secs(10);
    while !done() {
        assert!(crate::platform::monotonic_now() < give_up, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Forks a child that runs `hold` (taking units or locks), then sleeps
/// until it is killed; returns its pid once `hold` has run. The caller
/// kills it and reaps it with [`exit_code`].
pub fn fork_holding(hold: impl FnOnce()) -> libc::pid_t {
    let ready = super::semaphore::Semaphore::new(0).expect("semaphore");
    let child = fork_and(|| {
        hold();
        ready.post().expect("post");
        std::thread::sleep(std::time::Duration::from_secs(30));
        1
    });
    ready
        .wait_until(crate::platform::monotonic_now() + std::time::Duration::from_secs(10))
        .expect("the child took its holds");
    child
}
