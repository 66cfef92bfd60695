//! Who is calling: identities for lock ownership that stay unique across
//! fibers, threads, processes and `fork`, and tell a dead process from a
//! live one even after its pid is reused.
//!
//! # Owner tokens
//!
//! A lock records its holder as two words: the holder's process key (pid
//! and start time, see [`current_process`]) and an *owner token* naming the
//! holder inside that process ([`current_owner`]). A token is a non-zero
//! `u64` made of two halves:
//!
//! | bits   | meaning                                                     |
//! |--------|-------------------------------------------------------------|
//! | 63..32 | the thread part: the same for every fiber of one thread     |
//! | 31..0  | the fiber part                                              |
//!
//! Where tokens come from is pluggable ([`set_owner_source`]): the Ruby
//! binding installs a source that names the current *fiber* of the current
//! Ruby thread (owner = fiber, as `Thread::Mutex` since Ruby 3.0), and
//! caches it so that asking costs no system call and no Ruby call while the
//! same fiber keeps asking. Without a source (plain Rust, `cargo test`) the
//! token names the native thread: 64 random bits drawn once per thread and
//! process, cached in a thread-local.
//!
//! Tokens are compared only together with the process key, so a forked
//! child, whose surviving thread keeps its parent's tokens, never takes its
//! parent's holds for its own. The thread part lets a process release, when
//! one of its threads ends, every lock a fiber of that thread still holds
//! ([`thread_part`]).
//!
//! # After fork
//!
//! A `pthread_atfork` child handler marks this process's identity stale and
//! moves the generation on, touching atomics only (it runs in every child,
//! also before an `exec`, where only async-signal-safe work is allowed); the
//! pid and start time are read again lazily, on the first use in the child.

use crate::platform;
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Once, OnceLock};

/// Bumped in the child after every fork; thread-local tokens drawn under an
/// older generation are stale.
static GENERATION: AtomicU64 = AtomicU64::new(1);
/// This process's pid (0 while unknown: never read, or stale after a fork)
/// and start time (valid whenever `PID` is not 0).
static PID: AtomicU32 = AtomicU32::new(0);
static START_TIME: AtomicU64 = AtomicU64::new(0);
/// This process's holder-table key (`holders::process_key`), kept with
/// `PID` (0 while unknown) so that the undo semaphore's and read-write
/// lock's fast paths read one word instead of packing two.
static HOLDER_KEY: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static TOKEN: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// One process, for ever: its pid and when it started (0: unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessIdentity {
    pub pid: u32,
    pub start_time: u64,
}

impl ProcessIdentity {
    /// Whether this very process (not merely its pid) may still be alive:
    /// false once it certainly exited or its pid names a later process.
    pub fn is_alive(self) -> bool {
        !platform::process_is_gone(self.pid, self.start_time, u64::MAX)
    }
}

/// [`current_process`] on its first use in a process, out of line.
#[cold]
#[inline(never)]
fn first_use_in_process() -> ProcessIdentity {
    install();
    refresh_process()
}

/// Reads this process's pid and start time (slow: reads `/proc`).
fn refresh_process() -> ProcessIdentity {
    let pid = platform::current_pid();
    let start_time = platform::process_start_time(pid).unwrap_or(0);
    START_TIME.store(start_time, Ordering::Relaxed);
    let identity = ProcessIdentity { pid, start_time };
    HOLDER_KEY.store(super::holders::process_key(identity), Ordering::Relaxed);
    // Publishes the start time with the pid (see `current_process`).
    PID.store(pid, Ordering::Release);
    identity
}

extern "C" fn after_fork_handler() {
    forget_process();
}

/// Marks the identity stale in a new child. Atomics only: async-signal-safe.
fn forget_process() {
    PID.store(0, Ordering::Relaxed);
    HOLDER_KEY.store(0, Ordering::Relaxed);
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// Reads this process's identity and arranges for it to follow forks (the
/// child reads its own lazily). Safe to call more than once.
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Read now, at load, rather than on the first lock.
        refresh_process();
        // SAFETY: registers a child handler that only stores to atomics
        // (async-signal-safe); it stays valid for the life of the process
        // (the extension is never unloaded).
        unsafe { libc::pthread_atfork(None, None, Some(after_fork_handler)) };
    });
}

/// Gives the child of a fork its own identity. Idempotent per fork: it runs
/// from Ruby's fork hook after the `pthread_atfork` handler, and only acts
/// when that handler did not run (a fork by a raw system call).
pub fn after_fork_in_child() {
    let pid = PID.load(Ordering::Acquire);
    if pid != 0 && pid != platform::current_pid() {
        forget_process();
    }
}

/// This process's key in holder tables (`holders::process_key` of
/// [`current_process`]): one load when known.
#[inline]
pub fn current_holder_key() -> u64 {
    let key = HOLDER_KEY.load(Ordering::Relaxed);
    if key != 0 {
        return key;
    }
    holder_key_on_first_use()
}

/// [`current_holder_key`] while the identity is unknown, out of line.
#[cold]
#[inline(never)]
fn holder_key_on_first_use() -> u64 {
    super::holders::process_key(current_process())
}

/// A number that changes in the child of every fork (and nowhere else):
/// thread tokens drawn under an older generation are never reused.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// This process's identity. Two loads when known; read from the system
/// once per process (after `fork`, on first use in the child).
#[inline]
pub fn current_process() -> ProcessIdentity {
    let pid = PID.load(Ordering::Acquire);
    if pid == 0 {
        return first_use_in_process();
    }
    ProcessIdentity {
        pid,
        start_time: START_TIME.load(Ordering::Relaxed),
    }
}

/// The calling native thread's token: non-zero, unique among all threads of
/// all processes with overwhelming probability (64 random bits). The owner
/// token where no [`set_owner_source`] is installed.
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
            if token >> 32 != 0 {
                break token;
            }
        };
        cell.set((generation, token));
        token
    })
}

static OWNER_SOURCE: OnceLock<fn() -> u64> = OnceLock::new();

/// Installs where owner tokens come from, once per process (later calls
/// are ignored). The source must return a non-zero token laid out as the
/// module comment says, the same one every time the same owner asks, and
/// be callable wherever locks are taken (the Ruby binding's is, also while
/// the GVL is released in a wait, because a fiber cannot change while it
/// waits).
pub fn set_owner_source(source: fn() -> u64) {
    let _ = OWNER_SOURCE.set(source);
}

/// The token of whoever is calling: the current fiber when the Ruby binding
/// installed its source, else the native thread ([`current_thread_token`]).
/// Never zero.
pub fn current_owner() -> u64 {
    match OWNER_SOURCE.get() {
        Some(source) => source(),
        None => current_thread_token(),
    }
}

/// The thread part of an owner token: equal for every fiber of one thread.
pub fn thread_part(token: u64) -> u32 {
    (token >> 32) as u32
}

/// An owner token from a thread part (non-zero) and a fiber part.
pub fn owner_token(thread: u32, fiber: u32) -> u64 {
    (u64::from(thread) << 32) | u64::from(fiber)
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

    #[test]
    fn the_atfork_handler_reads_nothing_and_the_child_reads_its_identity_lazily() {
        install();
        let parent = current_process();
        let shared = crate::core::region::SharedRegion::new(16).unwrap();
        // SAFETY: the child writes to shared memory and _exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // Nothing was read in the handler: the pid is still unknown.
            let _ = shared.write::<u32>(0, PID.load(Ordering::Relaxed));
            // The cached holder key was forgotten too: asked first, it is
            // the child's.
            let key = current_holder_key();
            let me = current_process();
            let _ = shared.write::<u32>(4, me.pid);
            let read_now = platform::process_start_time(me.pid);
            let own_key = key == crate::core::holders::process_key(me);
            let fresh = read_now == Some(me.start_time) && own_key;
            let _ = shared.write::<u64>(8, u64::from(fresh));
            // SAFETY: ends the child without running the test harness.
            unsafe { libc::_exit(0) };
        }
        let mut status = 0;
        // SAFETY: reaping the child we forked.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(shared.read::<u32>(0).unwrap(), 0);
        assert_eq!(shared.read::<u32>(4).unwrap(), pid as u32);
        assert_eq!(
            shared.read::<u64>(8).unwrap(),
            1,
            "a stale start time or key"
        );
        assert_eq!(current_process(), parent);
        assert_eq!(
            current_holder_key(),
            crate::core::holders::process_key(parent)
        );
    }

    #[test]
    fn owner_tokens_come_from_the_installed_source_and_split_in_two() {
        assert_eq!(thread_part(owner_token(7, 9)), 7);
        assert_eq!(owner_token(7, 9) & 0xffff_ffff, 9);
        assert_ne!(thread_part(current_thread_token()), 0);
        let shared = crate::core::region::SharedRegion::new(16).unwrap();
        // The source is process-wide: install it in a child only.
        let child = crate::core::test_support::fork_and(|| {
            let before = current_owner();
            set_owner_source(|| owner_token(3, 4));
            let _ = shared.write::<u64>(0, before);
            let _ = shared.write::<u64>(8, current_owner());
            0
        });
        assert_eq!(crate::core::test_support::exit_code(child), 0);
        assert_ne!(shared.read::<u64>(0).unwrap(), 0);
        assert_eq!(shared.read::<u64>(8).unwrap(), owner_token(3, 4));
        assert_eq!(current_owner(), current_thread_token());
    }
}
