//! `RawSemaphore`, the semaphore `Semaphore` and `Mutex` sleep on: the
//! system's own ([`KernelSemaphore`]: a POSIX `sem_t` on Linux, a Mach
//! semaphore on macOS) in anonymous memory, or [`FutexSemaphore`] (futex
//! words) in a named object, chosen once by `init` or `init_named` and
//! recorded in the shared memory next to them.
//!
//! Named objects cannot use a Mach semaphore: its port name means nothing in
//! a process that was not forked through the fork hook, and no right to it
//! can reach one. So on both systems named objects use the futex words,
//! which is also what lets the Linux suite run macOS's named path.

use super::futex_semaphore::FutexSemaphore;
use super::{KernelSemaphore, WaitOutcome};
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// `kind` of a semaphore whose kernel semaphore is in use. Anything else
/// (zero-filled memory included) means the futex words, so a damaged named
/// object never makes us touch a kernel semaphore that was not made here.
const KERNEL: u32 = 0x4b52_4e4c;

/// A semaphore inside shared memory: the system's, or futex words.
#[repr(C)]
pub struct RawSemaphore {
    /// [`KERNEL`], or the futex words; written once, by `init`.
    kind: AtomicU32,
    futex: FutexSemaphore,
    kernel: KernelSemaphore,
}

impl RawSemaphore {
    /// The largest value a semaphore can count to (the same for both).
    pub const MAX_VALUE: u32 = {
        assert!(KernelSemaphore::MAX_VALUE == FutexSemaphore::MAX_VALUE);
        FutexSemaphore::MAX_VALUE
    };

    /// Initializes a semaphore for anonymous memory (shared with the
    /// children forked afterwards): the system's.
    ///
    /// # Safety
    /// `slot` must point to writable, suitably aligned memory of at least
    /// `size_of::<RawSemaphore>()` bytes inside a shared mapping, and no
    /// other initialized semaphore may live there.
    pub unsafe fn init(slot: *mut RawSemaphore, value: u32) -> io::Result<()> {
        // SAFETY: the fields of a valid slot (guaranteed by the caller).
        unsafe {
            KernelSemaphore::init(std::ptr::addr_of_mut!((*slot).kernel), value)?;
            std::ptr::addr_of_mut!((*slot).kind).write(AtomicU32::new(KERNEL));
        }
        Ok(())
    }

    /// Initializes a semaphore for a named object (shared with any process
    /// that maps it): futex words.
    ///
    /// # Safety
    /// As for [`init`](Self::init).
    pub unsafe fn init_named(slot: *mut RawSemaphore, value: u32) -> io::Result<()> {
        // SAFETY: the fields of a valid slot (guaranteed by the caller).
        unsafe {
            FutexSemaphore::init(std::ptr::addr_of_mut!((*slot).futex), value)?;
            std::ptr::addr_of_mut!((*slot).kind).write(AtomicU32::new(0));
        }
        Ok(())
    }

    /// Whether this is the system's semaphore (made by `init`) rather
    /// than futex words.
    pub(crate) fn is_kernel(&self) -> bool {
        self.kind.load(Ordering::Relaxed) == KERNEL
    }

    /// Decrements now if the value is positive. Never blocks; no system
    /// call when the value is 0 or nobody waits.
    pub fn try_wait(&self) -> bool {
        if self.is_kernel() {
            self.kernel.try_wait()
        } else {
            self.futex.try_wait()
        }
    }

    /// Waits until the value can be decremented (`Acquired`), until the
    /// monotonic clock reaches `deadline` (`TimedOut`), or until a signal
    /// arrives (`Interrupted`), whichever comes first; the last two take
    /// nothing.
    pub fn wait_until(&self, deadline: Duration) -> io::Result<WaitOutcome> {
        if self.is_kernel() {
            self.kernel.wait_until(deadline)
        } else {
            self.futex.wait_until(deadline)
        }
    }

    /// Increments, waking one waiter; `EOVERFLOW` at
    /// [`MAX_VALUE`](Self::MAX_VALUE), changing nothing.
    pub fn post(&self) -> io::Result<()> {
        if self.is_kernel() {
            self.kernel.post()
        } else {
            self.futex.post()
        }
    }

    /// The current value (a snapshot: it may change at once); `None` where
    /// the system cannot tell.
    pub fn value(&self) -> Option<u32> {
        if self.is_kernel() {
            self.kernel.value()
        } else {
            Some(self.futex.value())
        }
    }

    /// This process is done with the semaphore (a Mach semaphore's right is
    /// dropped; nothing else to do).
    pub fn release(&self) {
        if self.is_kernel() {
            self.kernel.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{map_shared, monotonic_now};

    fn slot() -> *mut RawSemaphore {
        // A fresh, zero-filled shared page, never unmapped.
        map_shared(4096).unwrap().cast::<RawSemaphore>().as_ptr()
    }

    #[test]
    fn anonymous_semaphores_are_the_systems_and_named_ones_futex_words() {
        let (anonymous, named, zeroed) = (slot(), slot(), slot());
        // SAFETY: fresh pages, each holding one semaphore, never unmapped.
        let (anonymous, named, zeroed) = unsafe {
            RawSemaphore::init(anonymous, 2).unwrap();
            RawSemaphore::init_named(named, 2).unwrap();
            (&*anonymous, &*named, &*zeroed)
        };
        assert!(anonymous.is_kernel());
        assert!(!named.is_kernel());
        // Zero-filled memory is a futex semaphore of value 0.
        assert!(!zeroed.is_kernel());
        assert_eq!(zeroed.value(), Some(0));
        assert!(!zeroed.try_wait());
        for sem in [anonymous, named] {
            assert_eq!(sem.value(), Some(2));
            assert!(sem.try_wait());
            let soon = monotonic_now() + Duration::from_secs(10);
            assert_eq!(sem.wait_until(soon).unwrap(), WaitOutcome::Acquired);
            assert!(!sem.try_wait());
            sem.post().unwrap();
            assert_eq!(sem.value(), Some(1));
            sem.release();
        }
    }
}
