//! Who is calling: identities for lock ownership that stay unique across
//! threads, processes and `fork`, and tell a dead process from a live one
//! even after its pid is reused.
//!
//! A thread's token is a random 64-bit number drawn once per thread and
//! process, cached in a thread-local: asking for it costs no system call.
//! After `fork` the child draws new tokens (the surviving thread must not
//! believe it owns what its parent's thread holds); `after_fork_in_child`
//! makes that happen, and is installed as a `pthread_atfork` handler so it
//! runs for every fork, whoever calls it.

use crate::platform;
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Once;

/// Bumped in the child after every fork; thread-local tokens drawn under an
/// older generation are stale.
static GENERATION: AtomicU64 = AtomicU64::new(1);
/// This process's pid and start time, refreshed after fork.
static PID: AtomicU32 = AtomicU32::new(0);
static START_TIME: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static TOKEN: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// One process, for ever: its pid and when it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessIdentity {
    pub pid: u32,
    pub start_time: u64,
}

impl ProcessIdentity {
    /// Whether this very process (not merely its pid) is still alive.
    pub fn is_alive(self) -> bool {
        platform::process_start_time(self.pid) == Some(self.start_time)
    }
}

fn refresh_process() {
    let pid = platform::current_pid();
    PID.store(pid, Ordering::Relaxed);
    START_TIME.store(
        platform::process_start_time(pid).unwrap_or(0),
        Ordering::Relaxed,
    );
}

extern "C" fn after_fork_handler() {
    after_fork_in_child();
}

/// Reads this process's identity and arranges for it to follow forks. Safe
/// to call more than once.
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        refresh_process();
        // SAFETY: registering a child handler that only touches atomics and
        // reads /proc; it stays valid for the life of the process (the
        // extension is never unloaded).
        unsafe { libc::pthread_atfork(None, None, Some(after_fork_handler)) };
    });
}

/// Gives the child of a fork its own identity. Idempotent per fork: it runs
/// both as a `pthread_atfork` handler and from Ruby's fork hook, and only the
/// first call in a new process does anything (a `getpid` tells).
pub fn after_fork_in_child() {
    if PID.load(Ordering::Relaxed) == platform::current_pid() {
        return;
    }
    refresh_process();
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// A number that changes in the child of every fork (and nowhere else):
/// thread tokens drawn under an older generation are never reused.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// This process's identity (as of the last fork).
pub fn current_process() -> ProcessIdentity {
    if PID.load(Ordering::Relaxed) == 0 {
        install();
    }
    ProcessIdentity {
        pid: PID.load(Ordering::Relaxed),
        start_time: START_TIME.load(Ordering::Relaxed),
    }
}

/// The calling thread's token: non-zero, unique among all threads of all
/// processes with overwhelming probability (64 random bits).
pub fn current_thread_token() -> u64 {
    let generation = GENERATION.load(Ordering::Relaxed);
    TOKEN.with(|cell| {
        let (drawn_in, token) = cell.get();
        if drawn_in == generation && token != 0 {
            return token;
        }
        let mut bytes = [0u8; 8];
        let token = loop {
            platform::random_bytes(&mut bytes);
            let token = u64::from_ne_bytes(bytes);
            if token != 0 {
                break token;
            }
        };
        cell.set((generation, token));
        token
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_keeps_its_token_and_others_differ() {
        let mine = current_thread_token();
        assert_eq!(mine, current_thread_token());
        let theirs = std::thread::spawn(current_thread_token).join().unwrap();
        assert_ne!(mine, theirs);
        assert_ne!(mine, 0);
    }

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_not() {
        let me = current_process();
        assert_eq!(me.pid, std::process::id());
        assert!(me.is_alive());
        let impostor = ProcessIdentity {
            start_time: me.start_time + 1,
            ..me
        };
        assert!(!impostor.is_alive());
    }

    #[test]
    fn a_reaped_child_is_dead() {
        // SAFETY: the child _exits at once.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: ends the child without running the test harness.
            unsafe { libc::_exit(0) };
        }
        let child = ProcessIdentity {
            pid: pid as u32,
            start_time: platform::process_start_time(pid as u32).unwrap_or(0),
        };
        let mut status = 0;
        // SAFETY: reaping the child we forked.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(!child.is_alive());
    }

    #[test]
    fn a_forked_child_gets_a_new_token_and_pid() {
        install();
        let parent_token = current_thread_token();
        let parent = current_process();
        let shared = crate::core::region::SharedRegion::new(16).unwrap();
        // SAFETY: the child writes to shared memory and _exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let _ = shared.write::<u64>(0, current_thread_token());
            let _ = shared.write::<u32>(8, current_process().pid);
            // SAFETY: ends the child without running the test harness.
            unsafe { libc::_exit(0) };
        }
        let mut status = 0;
        // SAFETY: reaping the child we forked.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_ne!(shared.read::<u64>(0).unwrap(), parent_token);
        assert_eq!(shared.read::<u32>(8).unwrap(), pid as u32);
        assert_ne!(parent.pid, pid as u32);
    }

    #[test]
    fn the_fork_hook_and_the_atfork_handler_together_renew_the_identity_once() {
        install();
        let parent_generation = generation();
        let shared = crate::core::region::SharedRegion::new(24).unwrap();
        // SAFETY: the child writes to shared memory and _exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // The atfork handler already ran; the hook's call must change nothing.
            let generation_after_atfork = generation();
            let token = current_thread_token();
            after_fork_in_child();
            let _ = shared.write::<u64>(0, generation_after_atfork);
            let _ = shared.write::<u64>(8, generation());
            let _ = shared.write::<u64>(16, u64::from(token == current_thread_token()));
            // SAFETY: ends the child without running the test harness.
            unsafe { libc::_exit(0) };
        }
        let mut status = 0;
        // SAFETY: reaping the child we forked.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        let child_generation = shared.read::<u64>(0).unwrap();
        assert_ne!(child_generation, parent_generation);
        assert_eq!(shared.read::<u64>(8).unwrap(), child_generation);
        assert_eq!(shared.read::<u64>(16).unwrap(), 1);
        // In the parent, the hook's call is a no-op.
        after_fork_in_child();
        assert_eq!(generation(), parent_generation);
    }
}
