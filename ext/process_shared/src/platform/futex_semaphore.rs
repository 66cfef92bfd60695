//! A counting semaphore made of two 32-bit words in shared memory and the
//! platform's futex (`futex_wait`/`futex_wake`: Linux's futex, macOS's
//! `__ulock_wait` with `UL_COMPARE_AND_WAIT_SHARED`): what a named
//! `Semaphore` or `Mutex` sleeps on, on both systems (see `semaphore.rs`).
//! The same code everywhere, so the suite that runs on Linux runs what
//! macOS's named objects use.
//!
//! Being nothing but memory, it works in every process that maps it,
//! whether forked from its creator or not: no kernel object, port or
//! descriptor to hand over, nothing that dies with the process that made
//! it, and a layout that is ours (versioned with the named-object header)
//! rather than the C library's.
//!
//! # Protocol
//!
//! `count` is the value. Taking a unit is a compare-and-swap that
//! decrements a positive `count`; posting is one that increments it, then a
//! `futex_wake` of one sleeper, made only if `sleepers` says someone may be
//! asleep. A waiter counts itself in `sleepers`, checks `count` again, and
//! only then sleeps while `count` is 0. Both sides write, then read the
//! other's word, all sequentially consistent (the poster: `count`, then
//! `sleepers`; the waiter: `sleepers`, then `count`), so either the waiter
//! sees the unit or the poster sees the waiter; and the kernel sleeps only
//! while `count` still reads 0: no lost wake-up. Uncontended `try_wait` and
//! `post` are one compare-and-swap each, no system call.
//!
//! A waiter woken by a post but leaving without a unit (its deadline
//! passed, or a signal arrived at the same moment) passes the wake-up on
//! when units remain and others sleep, so a unit never sits idle next to a
//! sleeper. A waiter killed while counted leaves `sleepers` one too high:
//! later posts then make a `futex_wake` that wakes nobody, a cost and not
//! an error (glibc's `sem_t` has the same property).

use super::{futex_wait, futex_wake, monotonic_now, WaitOutcome};
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A counting semaphore in shared memory (all zeroes: value 0, nobody
/// asleep).
#[repr(C)]
pub struct FutexSemaphore {
    /// The value; also the futex word that sleepers wait on.
    count: AtomicU32,
    /// Threads asleep, or about to sleep, on `count` (dead ones included).
    sleepers: AtomicU32,
}

impl FutexSemaphore {
    /// The largest value a semaphore can count to (as a POSIX semaphore's
    /// `SEM_VALUE_MAX`).
    pub const MAX_VALUE: u32 = i32::MAX as u32;

    /// Initializes a semaphore in place with `value`.
    ///
    /// # Safety
    /// `slot` must point to writable, 4-byte aligned memory of at least
    /// `size_of::<FutexSemaphore>()` bytes that nothing else uses yet.
    pub unsafe fn init(slot: *mut FutexSemaphore, value: u32) -> io::Result<()> {
        if value > Self::MAX_VALUE {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        // SAFETY: guaranteed by the caller.
        unsafe {
            slot.write(FutexSemaphore {
                count: AtomicU32::new(value),
                sleepers: AtomicU32::new(0),
            })
        };
        Ok(())
    }

    /// Decrements now if the value is positive. Never blocks, no system
    /// call.
    pub fn try_wait(&self) -> bool {
        self.count
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |count| {
                count.checked_sub(1)
            })
            .is_ok()
    }

    /// Waits until the value can be decremented (`Acquired`: it was), until
    /// the monotonic clock reaches `deadline` (`TimedOut`), or until a
    /// signal arrives (`Interrupted`), whichever comes first; the last two
    /// take nothing.
    pub fn wait_until(&self, deadline: Duration) -> io::Result<WaitOutcome> {
        loop {
            if self.try_wait() {
                return Ok(WaitOutcome::Acquired);
            }
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            // After counting ourselves (see the module comment): a post
            // from now on wakes us or leaves a unit that this load sees.
            let slept = if self.count.load(Ordering::SeqCst) == 0 {
                futex_wait(&self.count, 0, deadline)
            } else {
                Ok(WaitOutcome::Acquired)
            };
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
            match slept? {
                // Woken, or a unit was there: take it, or sleep again if
                // another thread was faster (unless the deadline passed).
                WaitOutcome::Acquired => {
                    if self.try_wait() {
                        return Ok(WaitOutcome::Acquired);
                    }
                    if monotonic_now() >= deadline {
                        self.pass_on_wake_up();
                        return Ok(WaitOutcome::TimedOut);
                    }
                }
                outcome => {
                    self.pass_on_wake_up();
                    return Ok(outcome);
                }
            }
        }
    }

    /// A waiter leaving without a unit may have consumed a post's wake-up:
    /// hands it to another sleeper if a unit is there for it.
    fn pass_on_wake_up(&self) {
        if self.count.load(Ordering::SeqCst) != 0 && self.sleepers.load(Ordering::SeqCst) != 0 {
            futex_wake(&self.count, 1);
        }
    }

    /// Increments, waking one sleeper; `EOVERFLOW` (as `sem_post`) at
    /// [`MAX_VALUE`](Self::MAX_VALUE), changing nothing.
    pub fn post(&self) -> io::Result<()> {
        self.count
            .fetch_update(Ordering::SeqCst, Ordering::Relaxed, |count| {
                (count < Self::MAX_VALUE).then_some(count + 1)
            })
            .map_err(|_| io::Error::from_raw_os_error(libc::EOVERFLOW))?;
        if self.sleepers.load(Ordering::SeqCst) != 0 {
            futex_wake(&self.count, 1);
        }
        Ok(())
    }

    /// The current value (a snapshot: it may change at once).
    pub fn value(&self) -> u32 {
        self.count.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    //! Run with the Linux futex on Linux: the algorithm is the one macOS
    //! runs over `__ulock_wait`.
    use super::*;
    use crate::platform::map_shared;
    use crate::platform::test_support::{exit_code, fork_and};

    /// A semaphore with `value` in a fresh shared page (leaked: tests are
    /// short, and forked children may still use it).
    fn semaphore(value: u32) -> &'static FutexSemaphore {
        let slot = map_shared(4096).unwrap().cast::<FutexSemaphore>().as_ptr();
        // SAFETY: a fresh, page-aligned, zero-filled shared page that is
        // never unmapped.
        unsafe {
            FutexSemaphore::init(slot, value).unwrap();
            &*slot
        }
    }

    fn soon() -> Duration {
        monotonic_now() + Duration::from_secs(10)
    }

    /// Waits (at most 10 s) until `sleepers` reads `n`.
    fn until_sleepers(sem: &FutexSemaphore, n: u32) {
        let give_up = soon();
        while sem.sleepers.load(Ordering::SeqCst) != n {
            assert!(monotonic_now() < give_up, "never {n} sleepers");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[cfg(target_os = "linux")]
    /// Waits until thread `tid` of this process sleeps in the kernel
    /// (state `S` in its `stat`), as a futex waiter does.
    fn until_asleep_in_kernel(tid: libc::pid_t) {
        let give_up = soon();
        loop {
            let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
            let state = stat.rsplit(')').next().unwrap().trim_start().chars().next();
            if state == Some('S') {
                return;
            }
            assert!(monotonic_now() < give_up, "thread {tid} never slept");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn counts_down_and_up_to_the_maximum() {
        let sem = semaphore(2);
        assert!(sem.try_wait() && sem.try_wait());
        assert!(!sem.try_wait());
        sem.post().unwrap();
        assert_eq!(sem.value(), 1);
        let full = semaphore(FutexSemaphore::MAX_VALUE);
        let err = full.post().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EOVERFLOW));
        assert_eq!(full.value(), FutexSemaphore::MAX_VALUE);
        let slot = map_shared(4096).unwrap().cast::<FutexSemaphore>().as_ptr();
        // SAFETY: a fresh shared page.
        let refused = unsafe { FutexSemaphore::init(slot, FutexSemaphore::MAX_VALUE + 1) };
        assert!(refused.is_err());
    }

    #[test]
    fn a_timed_wait_ends_at_the_deadline_taking_nothing() {
        let sem = semaphore(0);
        let deadline = monotonic_now() + Duration::from_millis(30);
        assert_eq!(sem.wait_until(deadline).unwrap(), WaitOutcome::TimedOut);
        assert!(monotonic_now() >= deadline);
        assert_eq!(sem.value(), 0);
        assert_eq!(sem.sleepers.load(Ordering::SeqCst), 0);
        // A deadline already past: no sleep at all.
        assert_eq!(
            sem.wait_until(Duration::ZERO).unwrap(),
            WaitOutcome::TimedOut
        );
        sem.post().unwrap();
        assert_eq!(
            sem.wait_until(Duration::ZERO).unwrap(),
            WaitOutcome::Acquired
        );
    }

    #[test]
    fn a_post_wakes_a_sleeper_in_another_process() {
        let sem = semaphore(0);
        let child = fork_and(|| match sem.wait_until(soon()) {
            Ok(WaitOutcome::Acquired) => 0,
            _ => 1,
        });
        until_sleepers(sem, 1);
        sem.post().unwrap();
        assert_eq!(exit_code(child), 0);
        assert_eq!(sem.value(), 0);
        assert_eq!(sem.sleepers.load(Ordering::SeqCst), 0);
    }

    /// Runs `each` on two threads at once; whether both returned true.
    fn on_two_threads(each: impl Fn() -> bool + Send + Copy + 'static) -> bool {
        let threads: Vec<_> = (0..2).map(|_| std::thread::spawn(each)).collect();
        threads
            .into_iter()
            .all(|thread| thread.join().unwrap_or(false))
    }

    #[test]
    fn units_posted_by_threads_of_one_process_all_reach_the_sleepers_of_another() {
        const ROUNDS: u32 = 5_000;
        let sem = semaphore(0);
        let child = fork_and(|| {
            let took_all = on_two_threads(move || {
                (0..ROUNDS).all(|_| sem.wait_until(soon()).ok() == Some(WaitOutcome::Acquired))
            });
            i32::from(!took_all)
        });
        let posted = on_two_threads(move || {
            (0..ROUNDS).all(|round| {
                if round % 64 == 0 {
                    // Let the waiters fall asleep now and then.
                    std::thread::sleep(Duration::from_micros(200));
                }
                sem.post().is_ok()
            })
        });
        assert!(posted);
        assert_eq!(exit_code(child), 0);
        assert_eq!(sem.value(), 0);
        assert_eq!(sem.sleepers.load(Ordering::SeqCst), 0);
    }

    extern "C" fn ignore_signal(_: libc::c_int) {}

    #[test]
    fn a_signal_ends_the_wait_taking_nothing() {
        // SAFETY: a zeroed sigaction with a handler that does nothing and no
        // SA_RESTART, installed for SIGUSR1, which no other test uses.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = ignore_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut());
        }
        let sem = semaphore(0);
        let (thread_tx, thread_rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            // SAFETY: pthread_self has no preconditions.
            thread_tx.send(unsafe { libc::pthread_self() }).unwrap();
            sem.wait_until(soon()).unwrap()
        });
        let thread = thread_rx.recv().unwrap();
        until_sleepers(sem, 1);
        while !waiter.is_finished() {
            // SAFETY: the thread is alive (not finished, and joined only
            // below), and SIGUSR1 has a handler.
            unsafe { libc::pthread_kill(thread, libc::SIGUSR1) };
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(waiter.join().unwrap(), WaitOutcome::Interrupted);
        assert_eq!(sem.value(), 0);
        assert_eq!(sem.sleepers.load(Ordering::SeqCst), 0);
    }

    #[test]
    #[cfg(target_os = "linux")] // reads /proc to see the sleepers asleep
    fn a_wake_up_consumed_by_a_leaver_is_passed_on() {
        let sem = semaphore(0);
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let sleepers: Vec<_> = (0..2)
            .map(|_| {
                let tid_tx = tid_tx.clone();
                std::thread::spawn(move || {
                    // SAFETY: gettid has no preconditions.
                    tid_tx.send(unsafe { libc::gettid() }).unwrap();
                    sem.wait_until(soon()).unwrap()
                })
            })
            .collect();
        until_sleepers(sem, 2);
        // Counted as sleepers is not yet asleep: a thread between the count
        // and futex_wait would see the unit below and rightly take it.
        for tid in tid_rx.iter().take(2) {
            until_asleep_in_kernel(tid);
        }
        // A unit whose post's wake-up went to a waiter that then left (its
        // signal arrived at the same moment): nobody else was woken.
        sem.count.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(sem.value(), 1, "no sleeper woke without a wake-up");
        sem.pass_on_wake_up();
        until_sleepers(sem, 1);
        assert_eq!(sem.value(), 0);
        sem.post().unwrap();
        for sleeper in sleepers {
            assert_eq!(sleeper.join().unwrap(), WaitOutcome::Acquired);
        }
    }

    #[test]
    fn a_sleeper_killed_in_its_sleep_leaves_the_semaphore_working() {
        let sem = semaphore(0);
        let child = fork_and(|| {
            let _ = sem.wait_until(soon());
            0
        });
        until_sleepers(sem, 1);
        // SAFETY: killing the child we forked.
        unsafe { libc::kill(child, libc::SIGKILL) };
        assert_eq!(exit_code(child), -1);
        // Still counted: posts make a futex_wake that wakes nobody.
        assert_eq!(sem.sleepers.load(Ordering::SeqCst), 1);
        sem.post().unwrap();
        assert_eq!(sem.wait_until(soon()).unwrap(), WaitOutcome::Acquired);
        let other = std::thread::spawn(move || sem.wait_until(soon()).unwrap());
        until_sleepers(sem, 2);
        sem.post().unwrap();
        assert_eq!(other.join().unwrap(), WaitOutcome::Acquired);
    }
}
