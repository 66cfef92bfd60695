//! Linux: POSIX semaphores (`pshared = 1`), futexes, and process identity
//! from `/proc`. The mappings and the clock are in `posix.rs`.

use super::posix::{mix_in_clock_noise, no_such_process};
use super::WaitOutcome;
use std::cell::UnsafeCell;
use std::io;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
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

/// A POSIX semaphore placed inside shared memory (anonymous objects'; a
/// named object's are futex words, whose layout is ours, not the C
/// library's).
///
/// glibc's `sem_trywait` and `sem_post` are a single atomic operation when
/// nobody waits, so the uncontended path makes no system call.
#[repr(transparent)]
pub struct KernelSemaphore(UnsafeCell<libc::sem_t>);

// SAFETY: sem_t is designed to be used concurrently by threads and processes;
// every access goes through the sem_* functions.
unsafe impl Sync for KernelSemaphore {}

impl KernelSemaphore {
    /// The largest value a semaphore can count to.
    pub const MAX_VALUE: u32 = i32::MAX as u32;

    /// Initializes a process-shared semaphore in place.
    ///
    /// # Safety
    /// `slot` must point to writable, suitably aligned memory of at least
    /// `size_of::<KernelSemaphore>()` bytes inside a shared mapping, and no
    /// other initialized semaphore may live there.
    pub unsafe fn init(slot: *mut KernelSemaphore, value: u32) -> io::Result<()> {
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
/// `/proc/<pid>/stat`), or `None` if no such process is alive or its start
/// time cannot be trusted (see [`start_times_are_trusted`]). A zombie counts
/// as dead unless other threads of it still run (a main thread that exited
/// leaves the process in state `Z`). Together with the pid this names one
/// process for ever: a later process reusing the pid starts later.
pub fn process_start_time(pid: u32) -> Option<u64> {
    if !start_times_are_trusted() {
        return None;
    }
    let stat = read_process_stat(pid)?;
    (!stat.has_exited(pid)).then_some(stat.start_time)
}

/// What we read of `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ProcessStat {
    /// The state letter (field 3).
    state: u8,
    /// How many threads the process has (field 20).
    threads: u64,
    /// Clock ticks since boot when it started (field 22).
    start_time: u64,
}

impl ProcessStat {
    /// Runs no more code: dead (`X`), or a zombie (`Z`) none of whose
    /// threads runs. A process whose main thread exited shows `Z` while its
    /// other threads run on, and those can still hold and release locks;
    /// `num_threads` does not tell (the kernel counts only live threads, and
    /// counts the dead leader of a finished process as one), so the
    /// process's task list does.
    fn has_exited(self, pid: u32) -> bool {
        match self.state {
            b'X' => true,
            b'Z' => self.threads <= 1 && !other_threads_run(pid),
            _ => false,
        }
    }
}

/// Whether `/proc/<pid>/task` lists a thread other than the main one.
fn other_threads_run(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    let main = pid.to_string();
    tasks
        .filter_map(Result::ok)
        .any(|task| task.file_name().to_str() != Some(main.as_str()))
}

/// Parses the text of `/proc/<pid>/stat`.
fn parse_stat(stat: &str) -> Option<ProcessStat> {
    // The command name (field 2) is in parentheses and may hold anything,
    // so fields are counted from the last ')'.
    let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    // After the state (field 3), num_threads is field 20 (16 further on)
    // and starttime field 22 (2 further on).
    let threads = fields.nth(16)?.parse().ok()?;
    let start_time = fields.nth(1)?.parse().ok()?;
    Some(ProcessStat {
        state,
        threads,
        start_time,
    })
}

fn read_process_stat(pid: u32) -> Option<ProcessStat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Whether `/proc` start times mean the same thing to every process that
/// compares them. Not so when:
/// - the mounted `/proc` belongs to another PID namespace than ours
///   (`unshare --pid --fork` without a new `/proc`): `/proc/<getpid()>` is
///   then some other process, or none;
/// - we are in a time namespace with a boot-time offset: the kernel shifts
///   the start times it shows us by that offset, so a process outside would
///   see other numbers for the same process.
///
/// Then start times are unknown (0 in a lock word) and liveness is judged by
/// the pid alone (`kill(pid, 0)`). Checked once per process: the answer is
/// cached with the pid it was computed in, so a forked child (perhaps in a
/// new namespace) checks again. Called only on slow paths.
pub fn start_times_are_trusted() -> bool {
    // (pid + 1) << 1 | trusted; 0 while never checked.
    static CHECKED: AtomicU64 = AtomicU64::new(0);
    let pid = super::current_pid();
    let cached = CHECKED.load(Ordering::Relaxed);
    if cached != 0 && cached >> 1 == u64::from(pid) + 1 {
        return cached & 1 == 1;
    }
    let trusted = proc_is_in_our_pid_namespace(pid) && boot_time_offset_is_zero();
    CHECKED.store(
        ((u64::from(pid) + 1) << 1) | u64::from(trusted),
        Ordering::Relaxed,
    );
    trusted
}

fn proc_is_in_our_pid_namespace(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return false;
    };
    stat.split_whitespace().next().and_then(|s| s.parse().ok()) == Some(pid)
}

fn boot_time_offset_is_zero() -> bool {
    // Kernels without time namespaces have no such file: no offset.
    match std::fs::read_to_string("/proc/self/timens_offsets") {
        Ok(offsets) => boot_time_offset_in(&offsets) == Some((0, 0)),
        Err(err) => err.kind() == io::ErrorKind::NotFound,
    }
}

/// The `boottime` line of `/proc/self/timens_offsets`: (seconds, nanoseconds).
fn boot_time_offset_in(offsets: &str) -> Option<(i64, i64)> {
    offsets.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let clock = fields.next()?;
        // The clock is named (`boottime`) or numbered (CLOCK_BOOTTIME = 7).
        if clock != "boottime" && clock != "7" {
            return None;
        }
        Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
    })
}

/// Whether the process `pid` that started at `start_time` (compared on the
/// bits in `start_mask`; 0 means unknown) is certainly gone: it exited (a
/// zombie whose threads have all ended runs no more code), or its pid now
/// names a later process. A process that exists but whose `/proc` entry we
/// may not read (`hidepid`, another user) is never called gone, so a live
/// lock holder is never mistaken for a dead one. Where `/proc` cannot be
/// trusted (see [`start_times_are_trusted`]), only the pid's disappearance
/// counts.
pub fn process_is_gone(pid: u32, start_time: u64, start_mask: u64) -> bool {
    if !start_times_are_trusted() {
        return no_such_process(pid);
    }
    if let Some(stat) = read_process_stat(pid) {
        let start_time = start_time & start_mask;
        return stat.has_exited(pid)
            || (start_time != 0 && stat.start_time & start_mask != start_time);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::test_support::{exit_code, fork_and};
    use crate::platform::{map_shared, monotonic_now};

    fn stat_line(state: &str, threads: u64, start: u64) -> String {
        // Fields 4..19 are zeros; field 20 is num_threads, 21 itrealvalue,
        // 22 starttime, then more fields.
        let middle = vec!["0"; 16].join(" ");
        format!("42 (a (weird) name) {state} {middle} {threads} 0 {start} 123 456")
    }

    #[test]
    fn parses_state_threads_and_start_time_whatever_the_command_name() {
        let stat = parse_stat(&stat_line("S", 3, 777)).unwrap();
        assert_eq!(
            stat,
            ProcessStat {
                state: b'S',
                threads: 3,
                start_time: 777
            }
        );
        assert_eq!(parse_stat("42 (truncated) S 1 2"), None);
        let mine = read_process_stat(std::process::id()).unwrap();
        assert!(mine.threads >= 1 && mine.start_time > 0);
    }

    #[test]
    fn a_zombie_is_gone_only_when_no_thread_of_it_runs_by_its_fields() {
        // A pid no process has: no task list, so no thread of it runs.
        let no_such_pid = u32::MAX - 1;
        let stat = |state: &str, threads| parse_stat(&stat_line(state, threads, 1)).unwrap();
        assert!(stat("Z", 1).has_exited(no_such_pid));
        assert!(stat("Z", 0).has_exited(no_such_pid));
        assert!(stat("X", 1).has_exited(no_such_pid));
        assert!(!stat("Z", 2).has_exited(no_such_pid));
        assert!(!stat("S", 1).has_exited(no_such_pid));
    }

    #[test]
    fn reads_the_boot_time_offset_by_name_or_number() {
        let named = "monotonic           0         0\nboottime         1000         5\n";
        assert_eq!(boot_time_offset_in(named), Some((1000, 5)));
        assert_eq!(boot_time_offset_in("7 -3 0\n"), Some((-3, 0)));
        assert_eq!(boot_time_offset_in("monotonic 1 0\n"), None);
    }

    #[test]
    fn a_process_whose_main_thread_exited_is_alive_while_another_thread_runs() {
        // One page of shared memory: the child's "thread still running"
        // flag and the parent's "you may stop" flag.
        let page = map_shared(4096).unwrap().cast::<AtomicU32>().as_ptr();
        // SAFETY: the mapping is page-aligned, zero-filled, and outlives
        // both processes' use of these two atomics.
        let (running, stop) = unsafe { (&*page, &*page.add(1)) };
        let child = fork_and(|| {
            std::thread::spawn(|| {
                running.store(1, Ordering::SeqCst);
                let give_up = monotonic_now() + Duration::from_secs(20);
                while stop.load(Ordering::SeqCst) == 0 && monotonic_now() < give_up {
                    std::thread::sleep(Duration::from_millis(1));
                }
                // SAFETY: ends the whole process from its last thread.
                unsafe { libc::_exit(0) };
            });
            // SAFETY: the raw exit system call ends the calling (main)
            // thread alone, without unwinding; the other thread lives on.
            unsafe { libc::syscall(libc::SYS_exit, 0) };
            unreachable!("the main thread exited")
        });
        let pid = child as u32;
        let give_up = monotonic_now() + Duration::from_secs(10);
        while running.load(Ordering::SeqCst) == 0
            || read_process_stat(pid).is_some_and(|stat| stat.state != b'Z')
        {
            assert!(monotonic_now() < give_up, "the main thread never exited");
            std::thread::sleep(Duration::from_millis(1));
        }
        let started = read_process_stat(pid).unwrap().start_time;
        assert_eq!(process_start_time(pid), Some(started));
        assert!(!process_is_gone(pid, started, u64::MAX));
        assert!(!process_is_gone(pid, 0, u64::MAX));
        stop.store(1, Ordering::SeqCst);
        // Reaping waits for the last thread to end.
        assert_eq!(exit_code(child), 0);
        assert!(process_is_gone(pid, started, u64::MAX));
    }

    #[test]
    fn an_exited_unreaped_child_is_gone() {
        let child = fork_and(|| 0);
        let pid = child as u32;
        let started = read_process_stat(pid).map_or(0, |stat| stat.start_time);
        let give_up = monotonic_now() + Duration::from_secs(10);
        while read_process_stat(pid).is_some_and(|stat| stat.state != b'Z') {
            assert!(monotonic_now() < give_up);
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(process_start_time(pid), None);
        assert!(process_is_gone(pid, started, u64::MAX));
        assert_eq!(exit_code(child), 0);
    }

    /// Runs `test` in a grandchild forked after the child called
    /// `unshare(flags)` (and `prepare`), so that the grandchild is in the
    /// new namespaces; the test's exit code is returned. `None` when this
    /// machine does not let us create the namespaces.
    fn in_new_namespace(
        flags: libc::c_int,
        prepare: impl FnOnce() -> bool,
        test: impl FnOnce() -> i32,
    ) -> Option<i32> {
        let child = fork_and(|| {
            // SAFETY: plain system call in a single-threaded child.
            if unsafe { libc::unshare(flags) } != 0 || !prepare() {
                return 77;
            }
            exit_code(fork_and(test))
        });
        match exit_code(child) {
            77 => None,
            code => Some(code),
        }
    }

    #[test]
    fn in_a_pid_namespace_without_its_own_proc_liveness_is_judged_by_the_pid() {
        let outcome = in_new_namespace(
            libc::CLONE_NEWPID,
            || true,
            || {
                // We are pid 1 of the new namespace; /proc/1 is the host's init.
                let trusted = start_times_are_trusted();
                let me = super::super::current_pid();
                let own_start = process_start_time(me);
                // A child of ours (pid 2 here) that exits and is reaped is
                // gone, whatever /proc/2 names outside.
                let sibling = fork_and(|| 0);
                let sibling_pid = sibling as u32;
                let live_before = process_is_gone(sibling_pid, 12345, u64::MAX);
                exit_code(sibling);
                let gone_after = process_is_gone(sibling_pid, 12345, u64::MAX);
                let as_expected = me == 1
                    && !trusted
                    && own_start.is_none()
                    && !process_is_gone(me, 12345, u64::MAX)
                    && !live_before
                    && gone_after;
                i32::from(!as_expected)
            },
        );
        match outcome {
            Some(code) => assert_eq!(code, 0),
            None => eprintln!("skipped: cannot create a PID namespace here"),
        }
    }

    #[test]
    fn in_a_time_namespace_a_live_process_is_not_taken_for_a_reused_pid() {
        let parent = super::super::current_pid();
        let parent_start = process_start_time(parent).expect("we are alive");
        let outcome = in_new_namespace(
            libc::CLONE_NEWTIME,
            || std::fs::write("/proc/self/timens_offsets", "boottime 1000 0").is_ok(),
            || {
                let shifted = read_process_stat(parent).map(|stat| stat.start_time);
                let as_expected = shifted != Some(parent_start)
                    && !start_times_are_trusted()
                    && !process_is_gone(parent, parent_start, u64::MAX);
                i32::from(!as_expected)
            },
        );
        match outcome {
            Some(code) => assert_eq!(code, 0),
            None => eprintln!("skipped: cannot create a time namespace here"),
        }
        assert!(start_times_are_trusted());
    }
}
