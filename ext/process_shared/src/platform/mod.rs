//! The operating-system layer: shared mappings and the semaphores that block.
//!
//! Everything above this module is platform-neutral. Both platforms provide
//! the same small surface: `map_shared`/`unmap` for anonymous memory shared
//! across `fork`, a futex-like wait on a 32-bit word in shared memory
//! (`futex_wait`/`futex_wake`), a `KernelSemaphore` (the system's own
//! semaphore inside shared memory), a monotonic clock, random bytes, and
//! the process identity used for lock ownership (`current_pid`,
//! `process_start_time`, `process_is_gone`). macOS also provides `Mach`,
//! the Mach calls of the fork protocol, whose trait and registry of open
//! semaphores are in `mach` (plain Rust, compiled everywhere so that the
//! protocol is tested everywhere).
//!
//! On top of those, in plain Rust compiled everywhere: `RawSemaphore`
//! (`semaphore.rs`), what `Semaphore` and `Mutex` sleep on: the
//! `KernelSemaphore` in anonymous memory, or a `FutexSemaphore`
//! (`futex_semaphore.rs`: futex words) in a named object, which processes
//! that were not forked from each other share.
//!
//! This layer depends on nothing above it (`core`, `ruby_api`).
//!
//! What both do through the same POSIX calls lives in `posix.rs`; `linux.rs`
//! and `macos.rs` hold only what differs.

mod futex_semaphore;
pub mod mach;
pub mod named;
mod posix;
mod semaphore;
#[cfg(test)]
pub(crate) mod test_support;
pub use posix::{current_pid, map_shared, monotonic_now, no_such_process, page_size, unmap};
pub use semaphore::RawSemaphore;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::*;

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
pub use macos::*;

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
compile_error!("process_shared supports Linux and macOS only");

/// What a bounded wait on a semaphore (or a futex word) ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// The count was decremented: the caller now holds one unit. (For a
    /// futex word: woken, or the word had already changed.)
    Acquired,
    /// The deadline passed first; the count is untouched.
    TimedOut,
    /// A signal interrupted the wait (Ruby's unblocking function sends one);
    /// the count is untouched.
    Interrupted,
}
