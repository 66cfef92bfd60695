//! macOS: Mach semaphores, `__ulock` futexes, and process identity from
//! `proc_pidinfo`. The mappings and the clock are in `posix.rs`.
//!
//! Mach semaphores serve anonymous objects only: a named object's
//! semaphores are futex words (`futex_semaphore.rs`) waited on with
//! `__ulock_wait`, since a port name means nothing in a process that was
//! not forked through the fork hook.
//!
//! macOS's POSIX semaphores have no timed wait; Mach semaphores do. A Mach
//! semaphore is a kernel object named by a port, not memory, so the shared
//! page holds its port name, and a forked child holds no right to it until
//! the fork hook inserts one under the same name: every semaphore is listed
//! in [`OPEN_SEMAPHORES`], and [`Mach`] gives the fork protocol
//! (`core::fork_protocol`) the Mach calls it needs (the [`MachOps`] trait).
//!
//! A Mach semaphore neither reports its value nor checks for overflow (the
//! kernel's `semaphore_signal` increments unconditionally), so the shared
//! page also keeps a capped *shadow count* next to the name. A Mach
//! semaphore cannot outlive the task that created it: when that process
//! exits, the kernel destroys it and every other process then gets
//! `KERN_TERMINATED`.
//!
//! Needs macOS 10.15 or later (`UL_COMPARE_AND_WAIT_SHARED`; `build.rs`
//! sets that deployment target).
//!
//! NOTE: this file has only been type-checked for macOS (`bin/check-macos`),
//! never run there.

use super::mach::{ChildTask, MachError, MachOps, PortName, OPEN_SEMAPHORES};
use super::posix::{mix_in_clock_noise, no_such_process};
use super::{current_pid, monotonic_now, WaitOutcome};
use mach2::clock_types::mach_timespec_t;
use mach2::kern_return::{
    kern_return_t, KERN_ABORTED, KERN_OPERATION_TIMED_OUT, KERN_SUCCESS, KERN_TERMINATED,
};
use mach2::mach_port::{
    mach_port_allocate, mach_port_deallocate, mach_port_destroy, mach_port_insert_right,
};
use mach2::message::{
    mach_msg, mach_msg_body_t, mach_msg_destroy, mach_msg_header_t, mach_msg_port_descriptor_t,
    mach_msg_trailer_t, MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_PORT_DESCRIPTOR,
    MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE,
    MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_RCV_INTERRUPT,
    MACH_RCV_INTERRUPTED, MACH_RCV_MSG, MACH_RCV_TIMED_OUT, MACH_RCV_TIMEOUT, MACH_RCV_TOO_LARGE,
    MACH_SEND_MSG, MACH_SEND_TIMEOUT,
};
use mach2::port::{mach_port_t, MACH_PORT_NULL, MACH_PORT_RIGHT_RECEIVE};
use mach2::semaphore::semaphore_create;
use mach2::sync_policy::SYNC_POLICY_FIFO;
use mach2::task::{task_get_special_port, task_special_port_t, TASK_BOOTSTRAP_PORT};
use mach2::traps::mach_task_self;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

// libc does not bind these; mach2 0.4 declares the semaphore calls with a
// pointer (`*mut semaphore_t`) where the C functions take the port name.
extern "C" {
    fn semaphore_signal(semaphore: mach_port_t) -> kern_return_t;
    fn semaphore_timedwait(semaphore: mach_port_t, wait_time: mach_timespec_t) -> kern_return_t;
    fn task_set_special_port(
        task: mach_port_t,
        which_port: task_special_port_t,
        special_port: mach_port_t,
    ) -> kern_return_t;
    fn pid_for_task(task: mach_port_t, pid: *mut libc::c_int) -> kern_return_t;
    /// The C library's copy of the bootstrap port, read at start and in
    /// the child of every fork.
    static mut bootstrap_port: mach_port_t;
}

/// The BSD information of process `pid`, zombies included (`arg` 1 asks
/// `proc_pidinfo` to find them too; with 0 a zombie looks like no process at
/// all, and `kill(pid, 0)` would then call it alive). `None` if there is no
/// such process or we may not inspect it (another user's: `EPERM`).
fn bsd_info(pid: u32) -> Option<libc::proc_bsdinfo> {
    const FIND_ZOMBIES: u64 = 1;
    let pid = libc::c_int::try_from(pid).ok()?;
    // SAFETY: proc_bsdinfo is plain data, for which all zeroes is valid.
    let mut info: libc::proc_bsdinfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::proc_bsdinfo>() as libc::c_int;
    // SAFETY: `info` is writable and `size` bytes long.
    let written = unsafe {
        libc::proc_pidinfo(
            pid,
            libc::PROC_PIDTBSDINFO,
            FIND_ZOMBIES,
            std::ptr::addr_of_mut!(info).cast(),
            size,
        )
    };
    (written == size).then_some(info)
}

/// A process's start time in microseconds since the epoch.
fn start_time_of(info: &libc::proc_bsdinfo) -> u64 {
    info.pbi_start_tvsec
        .saturating_mul(1_000_000)
        .saturating_add(info.pbi_start_tvusec)
}

/// When the process `pid` started, in microseconds since the epoch, or
/// `None` if no such process is alive (zombies count as dead). Together with
/// the pid this names one process for ever: a later process reusing the pid
/// starts later.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let info = bsd_info(pid)?;
    (info.pbi_status != libc::SZOMB).then(|| start_time_of(&info))
}

/// Whether the process `pid` that started at `start_time` (compared on the
/// bits in `start_mask`; 0 means unknown) is certainly gone: it exited (a
/// zombie runs no more code), or its pid now names a process that started
/// at another time. A process we may not inspect (another user's) is never
/// called gone unless the kernel says no such pid exists, so a live lock
/// holder is never mistaken for a dead one. The same rules as on Linux.
///
/// The mutex keeps 42 bits of the start time; in microseconds they wrap
/// every 51 days, so a process reusing the pid is mistaken for the holder
/// only if it started at the very same microsecond modulo 51 days.
pub fn process_is_gone(pid: u32, start_time: u64, start_mask: u64) -> bool {
    if let Some(info) = bsd_info(pid) {
        let start_time = start_time & start_mask;
        return info.pbi_status == libc::SZOMB
            || (start_time != 0 && start_time_of(&info) & start_mask != start_time);
    }
    no_such_process(pid)
}

/// Fills `buf` with random bytes from the kernel.
pub fn random_bytes(buf: &mut [u8]) {
    // getentropy gives at most 256 bytes a call.
    for chunk in buf.chunks_mut(256) {
        // SAFETY: the pointer and length describe `chunk`.
        if unsafe { libc::getentropy(chunk.as_mut_ptr().cast(), chunk.len()) } != 0 {
            // No entropy source.
            mix_in_clock_noise(chunk);
        }
    }
}

// The futex of macOS. `__ulock_wait`/`__ulock_wake` are the kernel's
// compare-and-wait calls: private to Apple but a stable ABI, on which
// libc++'s `std::atomic::wait` and Rust's std are built. We use them rather
// than the public `os_sync_wait_on_address_with_timeout` because that
// exists only from macOS 14.4 on: linking to it would keep the extension
// from loading on every older macOS. `UL_COMPARE_AND_WAIT_SHARED` (XNU from
// about macOS 10.15 on; an older kernel answers EINVAL: an error, never a
// hang) keys a
// wait by the VM object and offset of the word rather than by the address
// in one task, so a waiter and a waker in different processes sharing
// the mapping meet, as with a Linux futex without FUTEX_PRIVATE_FLAG.
extern "C" {
    fn __ulock_wait(
        operation: u32,
        addr: *mut libc::c_void,
        value: u64,
        timeout_us: u32,
    ) -> libc::c_int;
    fn __ulock_wake(operation: u32, addr: *mut libc::c_void, wake_value: u64) -> libc::c_int;
}

/// Compare a 32-bit word; wait and wake across processes.
const UL_COMPARE_AND_WAIT_SHARED: u32 = 3;
/// `__ulock_wake`: wake every waiter, not just one.
const ULF_WAKE_ALL: u32 = 0x100;
/// Return `-errno` instead of setting `errno`.
const ULF_NO_ERRNO: u32 = 0x0100_0000;

/// Sleeps while `*word == expected`, until [`futex_wake`] wakes it, the
/// monotonic clock reaches `deadline`, or a signal arrives; the outcomes
/// are those of Linux's `futex_wait`.
///
/// `Acquired` means "woken, or the word no longer held `expected`" (which
/// includes rare spurious wakeups): callers re-check their condition.
/// `TimedOut` only once the monotonic clock has reached `deadline`: the
/// kernel takes a relative timeout in whole microseconds (0 meaning
/// "forever", at most about 71 minutes, and measured on a clock that stops
/// while the machine sleeps), so it is recomputed from the deadline and the
/// wait resumed until the deadline has really passed. Past the deadline a
/// changed word still counts as `Acquired`, as on Linux.
///
/// `Interrupted` when a signal arrived. Ruby's unblocking function
/// (`RUBY_UBF_IO`) interrupts a blocked thread by sending it a signal, and
/// we assume, from the XNU source, that the wait then ends with EINTR: it
/// sleeps abortably (`THREAD_ABORTSAFE`), an interrupted sleep becomes
/// EINTR, and the kernel restarts a system call only on ERESTART, whatever
/// `SA_RESTART` says. Not observed on a Mac. Were it wrong, an interrupt
/// would still be seen at the end of the caller's wait slice (≤ 100 ms).
pub fn futex_wait(word: &AtomicU32, expected: u32, deadline: Duration) -> io::Result<WaitOutcome> {
    loop {
        let remaining = deadline.saturating_sub(monotonic_now());
        let timeout_us = remaining
            .as_nanos()
            .div_ceil(1000)
            .min(u128::from(u32::MAX)) as u32;
        if timeout_us == 0 {
            return Ok(if word.load(Ordering::SeqCst) == expected {
                WaitOutcome::TimedOut
            } else {
                WaitOutcome::Acquired
            });
        }
        // SAFETY: `word` is a live, 4-byte aligned atomic in our address
        // space; the kernel only reads it (and reports a bad address as an
        // error, not undefined behaviour).
        let rc = unsafe {
            __ulock_wait(
                UL_COMPARE_AND_WAIT_SHARED | ULF_NO_ERRNO,
                word.as_ptr().cast(),
                u64::from(expected),
                timeout_us,
            )
        };
        // Success is the number of other waiters left; errors are -errno.
        match rc {
            0.. => return Ok(WaitOutcome::Acquired),
            rc if rc == -libc::ETIMEDOUT => continue,
            rc if rc == -libc::EINTR => return Ok(WaitOutcome::Interrupted),
            // The kernel reads the word without taking page faults: the
            // caller's next load of the word brings the page back.
            rc if rc == -libc::EFAULT => return Ok(WaitOutcome::Acquired),
            rc => return Err(io::Error::from_raw_os_error(-rc)),
        }
    }
}

/// Wakes threads sleeping in [`futex_wait`] on `word`, in any process: one
/// if `count` is 1, every one if it is more (the kernel cannot wake exactly
/// `count`; waking more is a spurious wakeup, which callers tolerate).
/// Returns 1 if anyone was waiting and 0 if nobody was: unlike Linux, the
/// kernel does not say how many it woke.
pub fn futex_wake(word: &AtomicU32, count: u32) -> usize {
    let operation = match count {
        0 => return 0,
        1 => UL_COMPARE_AND_WAIT_SHARED | ULF_NO_ERRNO,
        _ => UL_COMPARE_AND_WAIT_SHARED | ULF_NO_ERRNO | ULF_WAKE_ALL,
    };
    // SAFETY: `word` is a live, 4-byte aligned atomic in our address space;
    // the kernel uses its address only to find the waiters.
    let rc = unsafe { __ulock_wake(operation, word.as_ptr().cast(), 0) };
    // -ENOENT: nobody was waiting on the word.
    usize::from(rc == 0)
}

fn mach_io_error(call: &str, code: kern_return_t) -> io::Error {
    let why = match code {
        KERN_TERMINATED => {
            "the semaphore no longer exists (on macOS a semaphore is destroyed \
             when the process that created it exits)"
        }
        // KERN_INVALID_ARGUMENT, KERN_INVALID_NAME, KERN_INVALID_RIGHT
        4 | 15 | 17 => {
            "this process holds no right to the semaphore (was it forked \
             other than through Ruby's fork?)"
        }
        _ => "Mach error",
    };
    io::Error::other(format!("{call} failed: {why} ({code:#x})"))
}

/// A Mach semaphore in shared memory: its port name (after the fork hook
/// the same in the parent and in every child) and its shadow count.
///
/// The shadow count is raised before every `semaphore_signal` and lowered
/// after every successful wait, so it is never below the kernel's count:
/// capping it at [`MAX_VALUE`](Self::MAX_VALUE) caps the kernel's, which
/// would otherwise wrap. It is the value `value` reports: exact when no
/// post or wait is in flight, and above the kernel's by the posts and waits
/// in flight (a process killed in between leaves it one too high for good:
/// the cap is then reached one post early, never passed).
#[repr(C)]
pub struct KernelSemaphore {
    name: AtomicU32,
    count: AtomicU32,
}

impl KernelSemaphore {
    /// The largest value a semaphore can count to (the kernel's count is a
    /// signed 32-bit integer).
    pub const MAX_VALUE: u32 = i32::MAX as u32;

    /// Creates a Mach semaphore and stores it in `slot`.
    ///
    /// # Safety
    /// `slot` must point to writable, suitably aligned memory of at least
    /// `size_of::<KernelSemaphore>()` bytes inside a shared mapping, and no
    /// other initialized semaphore may live there.
    pub unsafe fn init(slot: *mut KernelSemaphore, value: u32) -> io::Result<()> {
        if value > Self::MAX_VALUE {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let mut name: mach_port_t = MACH_PORT_NULL;
        // SAFETY: `name` is a valid out-pointer; `value` fits a c_int.
        let kr = unsafe {
            semaphore_create(
                mach_task_self(),
                &mut name,
                SYNC_POLICY_FIFO,
                value as libc::c_int,
            )
        };
        if kr != KERN_SUCCESS {
            return Err(mach_io_error("semaphore_create", kr));
        }
        // Registered before its name is in shared memory, so that a child
        // forked in between whose memory holds the name also lists it.
        OPEN_SEMAPHORES.register(name, current_pid());
        // SAFETY: guaranteed by the caller.
        unsafe {
            slot.write(KernelSemaphore {
                name: AtomicU32::new(name),
                count: AtomicU32::new(value),
            })
        };
        Ok(())
    }

    fn name(&self) -> mach_port_t {
        self.name.load(Ordering::Relaxed)
    }

    fn timed_wait(&self, timeout: Duration) -> kern_return_t {
        let timeout = mach_timespec_t {
            tv_sec: timeout.as_secs().min(u64::from(u32::MAX)) as libc::c_uint,
            tv_nsec: timeout.subsec_nanos() as libc::c_int,
        };
        // SAFETY: a trap on a port name; a wrong name is an error, not UB.
        let kr = unsafe { semaphore_timedwait(self.name(), timeout) };
        if kr == KERN_SUCCESS {
            // The post that let us through raised the count first.
            let _ = self
                .count
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                    count.checked_sub(1)
                });
        }
        kr
    }

    /// Decrements now if the value is positive. Never blocks; makes no
    /// system call when the value is 0.
    pub fn try_wait(&self) -> bool {
        // The kernel's count is never above the shadow count.
        self.count.load(Ordering::Acquire) != 0 && self.timed_wait(Duration::ZERO) == KERN_SUCCESS
    }

    /// Waits until the value can be decremented, until the monotonic clock
    /// reaches `deadline`, or until a signal arrives, whichever comes first.
    pub fn wait_until(&self, deadline: Duration) -> io::Result<WaitOutcome> {
        match self.timed_wait(deadline.saturating_sub(monotonic_now())) {
            KERN_SUCCESS => Ok(WaitOutcome::Acquired),
            KERN_OPERATION_TIMED_OUT => Ok(WaitOutcome::TimedOut),
            KERN_ABORTED => Ok(WaitOutcome::Interrupted),
            kr => Err(mach_io_error("semaphore_timedwait", kr)),
        }
    }

    /// Increments, waking one waiter; `EOVERFLOW` (as Linux's `sem_post`)
    /// at [`MAX_VALUE`](Self::MAX_VALUE).
    pub fn post(&self) -> io::Result<()> {
        self.count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                (count < Self::MAX_VALUE).then_some(count + 1)
            })
            .map_err(|_| io::Error::from_raw_os_error(libc::EOVERFLOW))?;
        // SAFETY: a trap on a port name; a wrong name is an error, not UB.
        match unsafe { semaphore_signal(self.name()) } {
            KERN_SUCCESS => Ok(()),
            kr => {
                // Nothing was posted.
                self.count.fetch_sub(1, Ordering::AcqRel);
                Err(mach_io_error("semaphore_signal", kr))
            }
        }
    }

    /// The shadow count (see the type's documentation).
    pub fn value(&self) -> Option<u32> {
        Some(self.count.load(Ordering::Acquire))
    }

    /// This process is done with the semaphore: it drops its right (other
    /// processes keep theirs) and stops copying it into children. During a
    /// fork the right is dropped when the fork is over.
    pub fn release(&self) {
        let name = self.name();
        // A name inherited by a child that the hook did not serve names
        // nothing of ours there: `release` says to leave it alone.
        if OPEN_SEMAPHORES.release(name, current_pid()) {
            // SAFETY: deallocating a right this task holds under `name`.
            unsafe { mach_port_deallocate(mach_task_self(), name) };
        }
    }
}

/// Identifies our messages on the rendezvous and reply ports.
const TASK_PORT_MESSAGE: i32 = 0x7073_0001;
const ACK_MESSAGE: i32 = 0x7073_0002;

/// The child's message: its task port, and a send-once right in the header
/// for the answer.
#[repr(C)]
#[derive(Default)]
struct TaskPortMessage {
    header: mach_msg_header_t,
    body: mach_msg_body_t,
    task: mach_msg_port_descriptor_t,
}

/// Room to receive our largest message, its trailer, and some more (larger
/// messages are destroyed by the kernel and reported as too large).
#[repr(C)]
#[derive(Default)]
struct ReceiveBuffer {
    message: TaskPortMessage,
    trailer: mach_msg_trailer_t,
    spare: [u64; 32],
}

fn kern(call: &'static str, code: kern_return_t) -> Result<(), MachError> {
    if code == KERN_SUCCESS {
        Ok(())
    } else {
        Err(MachError::Call { call, code })
    }
}

fn millis(timeout: Duration) -> u32 {
    timeout.as_millis().min(u128::from(u32::MAX)) as u32
}

fn size_of<T>() -> u32 {
    std::mem::size_of::<T>() as u32
}

/// Receives one message on `port` into `buffer`, waiting at most `timeout`;
/// a signal ends the wait early with `MachError::Interrupted`.
fn receive(port: PortName, buffer: &mut ReceiveBuffer, timeout: Duration) -> Result<(), MachError> {
    // SAFETY: `buffer` is writable for the size we pass.
    let code = unsafe {
        mach_msg(
            &mut buffer.message.header,
            // Without MACH_RCV_INTERRUPT, libsyscall restarts an interrupted
            // receive with the whole timeout again.
            MACH_RCV_MSG | MACH_RCV_TIMEOUT | MACH_RCV_INTERRUPT,
            0,
            size_of::<ReceiveBuffer>(),
            port,
            millis(timeout),
            MACH_PORT_NULL,
        )
    };
    match code {
        KERN_SUCCESS => Ok(()),
        MACH_RCV_TIMED_OUT => Err(MachError::TimedOut),
        MACH_RCV_INTERRUPTED => Err(MachError::Interrupted),
        code => Err(MachError::Call {
            call: "mach_msg",
            code,
        }),
    }
}

/// The Mach calls of the fork protocol, on the calling task.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mach;

impl MachOps for Mach {
    fn task_self(&self) -> PortName {
        // SAFETY: reads the task's own port name, set up at start.
        unsafe { mach_task_self() }
    }

    fn allocate_port(&self) -> Result<PortName, MachError> {
        let mut name = MACH_PORT_NULL;
        // SAFETY: `name` is a valid out-pointer.
        let kr =
            unsafe { mach_port_allocate(self.task_self(), MACH_PORT_RIGHT_RECEIVE, &mut name) };
        kern("mach_port_allocate", kr)?;
        // SAFETY: adds a send right to the receive right we just got.
        let kr = unsafe {
            mach_port_insert_right(self.task_self(), name, name, MACH_MSG_TYPE_MAKE_SEND)
        };
        kern("mach_port_insert_right", kr).inspect_err(|_| self.destroy_port(name))?;
        Ok(name)
    }

    fn destroy_port(&self, port: PortName) {
        // SAFETY: destroys rights this task holds under `port`.
        unsafe { mach_port_destroy(self.task_self(), port) };
    }

    fn release_right(&self, name: PortName) {
        // SAFETY: releases one right this task holds under `name`.
        unsafe { mach_port_deallocate(self.task_self(), name) };
    }

    fn bootstrap_port(&self) -> Result<PortName, MachError> {
        let mut port = MACH_PORT_NULL;
        // SAFETY: `port` is a valid out-pointer.
        let kr = unsafe { task_get_special_port(self.task_self(), TASK_BOOTSTRAP_PORT, &mut port) };
        kern("task_get_special_port", kr).map(|()| port)
    }

    fn set_bootstrap_port(&self, task: PortName, port: PortName) -> Result<(), MachError> {
        // SAFETY: plain Mach call on names this task holds.
        let kr = unsafe { task_set_special_port(task, TASK_BOOTSTRAP_PORT, port) };
        kern("task_set_special_port", kr)
    }

    fn send_task_port(
        &self,
        rendezvous: PortName,
        reply: PortName,
        timeout: Duration,
    ) -> Result<(), MachError> {
        let mut message = TaskPortMessage::default();
        message.header.msgh_bits =
            MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE)
                | MACH_MSGH_BITS_COMPLEX;
        message.header.msgh_size = size_of::<TaskPortMessage>();
        message.header.msgh_remote_port = rendezvous;
        message.header.msgh_local_port = reply;
        message.header.msgh_id = TASK_PORT_MESSAGE;
        message.body.msgh_descriptor_count = 1;
        message.task = mach_msg_port_descriptor_t::new(self.task_self(), MACH_MSG_TYPE_COPY_SEND);
        // SAFETY: `message` is a complete, correctly sized message.
        let code = unsafe {
            mach_msg(
                &mut message.header,
                MACH_SEND_MSG | MACH_SEND_TIMEOUT,
                size_of::<TaskPortMessage>(),
                0,
                MACH_PORT_NULL,
                millis(timeout),
                MACH_PORT_NULL,
            )
        };
        kern("mach_msg", code)
    }

    fn receive_task_port(
        &self,
        rendezvous: PortName,
        timeout: Duration,
    ) -> Result<Option<ChildTask>, MachError> {
        let mut buffer = ReceiveBuffer::default();
        match receive(rendezvous, &mut buffer, timeout) {
            Ok(()) => {}
            // The kernel already destroyed a message too large to be ours.
            Err(MachError::Call {
                code: MACH_RCV_TOO_LARGE,
                ..
            }) => return Ok(None),
            Err(err) => return Err(err),
        }
        let message = &buffer.message;
        let ours = message.header.msgh_id == TASK_PORT_MESSAGE
            && message.header.msgh_bits & MACH_MSGH_BITS_COMPLEX != 0
            && message.body.msgh_descriptor_count == 1
            && u32::from(message.task.type_) == MACH_MSG_PORT_DESCRIPTOR
            && message.header.msgh_remote_port != MACH_PORT_NULL;
        let mut pid: libc::c_int = 0;
        // SAFETY: `pid` is a valid out-pointer; a wrong name is an error.
        if !ours || unsafe { pid_for_task(message.task.name, &mut pid) } != KERN_SUCCESS {
            // SAFETY: destroys the rights the received message carries.
            unsafe { mach_msg_destroy(&mut buffer.message.header) };
            return Ok(None);
        }
        Ok(Some(ChildTask {
            task: message.task.name,
            reply: message.header.msgh_remote_port,
            pid: pid as u32,
        }))
    }

    fn insert_send_right(&self, task: PortName, name: PortName) -> Result<(), MachError> {
        // SAFETY: plain Mach call: copies our send right `name` into `task`.
        let kr = unsafe { mach_port_insert_right(task, name, name, MACH_MSG_TYPE_COPY_SEND) };
        kern("mach_port_insert_right", kr)
    }

    fn send_ack(&self, reply: PortName, timeout: Duration) -> Result<(), MachError> {
        let mut header = mach_msg_header_t {
            msgh_bits: MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0),
            msgh_size: size_of::<mach_msg_header_t>(),
            msgh_remote_port: reply,
            msgh_local_port: MACH_PORT_NULL,
            msgh_voucher_port: MACH_PORT_NULL,
            msgh_id: ACK_MESSAGE,
        };
        // SAFETY: `header` is a complete message with no body.
        let code = unsafe {
            mach_msg(
                &mut header,
                MACH_SEND_MSG | MACH_SEND_TIMEOUT,
                size_of::<mach_msg_header_t>(),
                0,
                MACH_PORT_NULL,
                millis(timeout),
                MACH_PORT_NULL,
            )
        };
        kern("mach_msg", code)
    }

    fn receive_ack(&self, reply: PortName, timeout: Duration) -> Result<(), MachError> {
        let mut buffer = ReceiveBuffer::default();
        receive(reply, &mut buffer, timeout)?;
        let id = buffer.message.header.msgh_id;
        if id == ACK_MESSAGE {
            return Ok(());
        }
        // SAFETY: destroys whatever rights the unexpected message carries.
        unsafe { mach_msg_destroy(&mut buffer.message.header) };
        Err(MachError::UnexpectedMessage(id))
    }

    fn reload_bootstrap_port(&self, stale: PortName) -> Result<(), MachError> {
        let port = self.bootstrap_port()?;
        // SAFETY: the process has a single thread right after fork, so
        // nothing else reads or writes the C library's variable meanwhile.
        let held = unsafe { std::ptr::addr_of_mut!(bootstrap_port).replace(port) };
        // The C library read the rendezvous port at fork (under the name
        // this child read too): release that right, and only that one.
        if held == stale {
            self.release_right(held);
        }
        Ok(())
    }
}
