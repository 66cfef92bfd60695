//! What the fork hook calls around every `fork` made through Ruby.
//!
//! Everywhere, the child gets its own identity for lock ownership (the
//! `pthread_atfork` handler does it too; only the first call per fork acts).
//! On macOS the open Mach semaphores are also copied into the child
//! ([`fork_protocol`](super::fork_protocol)), one fork at a time. Each step
//! is a few atomic operations when there is nothing to copy.

use super::fork_protocol::ForkError;
use super::identity;

/// In the parent, just before `fork`: takes this thread's turn to fork
/// (macOS). `Ok(false)` at once if another thread's fork is under way: call
/// [`wait_for_turn`] (without Ruby's GVL: that thread may need it) and try
/// again.
pub fn try_before_fork() -> bool {
    #[cfg(target_os = "macos")]
    return mach::ready().try_begin_fork();
    #[cfg(not(target_os = "macos"))]
    true
}

/// Waits at most `timeout` for another thread's fork to finish (macOS).
pub fn wait_for_turn(timeout: std::time::Duration) {
    #[cfg(target_os = "macos")]
    mach::HOOKS.wait_for_turn(timeout);
    #[cfg(not(target_os = "macos"))]
    let _ = timeout;
}

/// [`try_before_fork`], waiting (boundedly) for another thread's fork.
pub fn before_fork() -> Result<(), ForkError> {
    #[cfg(target_os = "macos")]
    mach::ready().begin_fork()?;
    Ok(())
}

/// In the parent, when `fork` failed or raised after [`before_fork`].
pub fn fork_failed() {
    #[cfg(target_os = "macos")]
    mach::HOOKS.fork_failed();
}

/// In the parent, after `fork` created the child `child_pid`: the quick
/// part. The returned [`ParentSide::finish`] may wait for the child (macOS),
/// so it is best run without the GVL.
pub fn after_fork_parent(child_pid: u32) -> ParentSide {
    ParentSide {
        child_pid,
        #[cfg(target_os = "macos")]
        service: mach::HOOKS.after_fork_parent(child_pid),
    }
}

/// The rest of the parent's work after a fork.
#[derive(Debug)]
#[must_use = "the child waits until the parent's side is finished"]
pub struct ParentSide {
    child_pid: u32,
    #[cfg(target_os = "macos")]
    service: super::fork_protocol::ChildService<'static, crate::platform::Mach>,
}

impl ParentSide {
    /// On error the child, which could not be given its semaphores, has
    /// been ended and reaped, so that a `fork` that raises leaves no child
    /// behind.
    pub fn finish(self) -> Result<(), ForkError> {
        #[cfg(target_os = "macos")]
        self.service
            .serve()
            .inspect_err(|_| end_child(self.child_pid))?;
        let _ = self.child_pid;
        Ok(())
    }
}

/// In the child, first thing after `fork`. If the child cannot get its
/// semaphores (macOS), `exit` is called with the error: it must end the
/// child (its rescue and ensure code, written for the parent, must not run).
pub fn after_fork_child(exit: impl FnOnce(&ForkError)) -> Result<(), ForkError> {
    identity::after_fork_in_child();
    #[cfg(target_os = "macos")]
    mach::HOOKS.after_fork_child_or_exit(crate::platform::current_pid(), exit)?;
    #[cfg(not(target_os = "macos"))]
    let _ = exit;
    Ok(())
}

/// Changes in the child of every fork: see [`identity::generation`].
pub fn generation() -> u64 {
    identity::generation()
}

#[cfg(target_os = "macos")]
fn end_child(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: plain system calls on our own child; `waitpid` with a null
    // status pointer is allowed.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
}

#[cfg(target_os = "macos")]
mod mach {
    use crate::core::fork_protocol::{AtFork, ForkHooks, Timeouts};
    use crate::platform::mach::OPEN_SEMAPHORES;
    use crate::platform::{current_pid, Mach};
    use std::cell::RefCell;
    use std::sync::Once;

    pub static HOOKS: ForkHooks<Mach> = ForkHooks::new(Mach, &OPEN_SEMAPHORES, Timeouts::DEFAULT);

    thread_local! {
        /// The locks `atfork_prepare` took, held across the system call.
        static HELD: RefCell<Option<AtFork<'static>>> = const { RefCell::new(None) };
    }

    extern "C" fn prepare() {
        let held = HOOKS.atfork_prepare(current_pid());
        HELD.with(|slot| *slot.borrow_mut() = Some(held));
    }

    extern "C" fn parent() {
        if let Some(held) = HELD.with(|slot| slot.borrow_mut().take()) {
            HOOKS.atfork_parent(held);
        }
    }

    extern "C" fn child() {
        if let Some(held) = HELD.with(|slot| slot.borrow_mut().take()) {
            HOOKS.atfork_child(held);
        }
    }

    /// The hooks, with the `pthread_atfork` handlers that install the
    /// rendezvous port only around the system call.
    pub fn ready() -> &'static ForkHooks<Mach> {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            // SAFETY: registers handlers that stay valid for the life of the
            // process (the extension is never unloaded); they only lock the
            // hooks' mutexes, which no thread holds across a fork otherwise.
            unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
        });
        &HOOKS
    }
}
