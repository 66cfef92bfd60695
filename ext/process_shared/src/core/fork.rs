//! What the fork hook calls around every `fork` made through Ruby.
//!
//! Everywhere, the child gets its own identity for lock ownership (the
//! `pthread_atfork` handler does it too; only the first call per fork acts).
//! On macOS the open Mach semaphores are also copied into the child
//! ([`fork_protocol`](super::fork_protocol)). Each step is a few atomic
//! operations when there is nothing to copy.

use super::fork_protocol::ForkError;
use super::identity;

/// In the parent, just before `fork`.
pub fn before_fork() -> Result<(), ForkError> {
    #[cfg(target_os = "macos")]
    mach::HOOKS.before_fork(mach::open_semaphores())?;
    Ok(())
}

/// In the parent, when `fork` failed or raised after [`before_fork`].
pub fn fork_failed() {
    #[cfg(target_os = "macos")]
    mach::HOOKS.fork_failed();
}

/// In the parent, after `fork` created the child `child_pid`: the quick
/// part, to run while no other thread can fork (with Ruby's GVL). The
/// returned [`ParentSide::finish`] may wait for the child (macOS), so it is
/// best run without the GVL.
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

/// In the child, first thing after `fork`.
pub fn after_fork_child() -> Result<(), ForkError> {
    identity::after_fork_in_child();
    #[cfg(target_os = "macos")]
    mach::adopt(&mach::HOOKS.after_fork_child()?);
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
    use crate::core::fork_protocol::{ForkHooks, PortName, Timeouts};
    use crate::core::port_registry::OPEN_SEMAPHORES;
    use crate::platform::{self, Mach};

    pub static HOOKS: ForkHooks<Mach> = ForkHooks::new(Mach, Timeouts::DEFAULT);

    /// The semaphores this process holds rights to.
    pub fn open_semaphores() -> Vec<PortName> {
        OPEN_SEMAPHORES.names_valid_in(platform::current_pid())
    }

    /// In the child: `names` are now valid here.
    pub fn adopt(names: &[PortName]) {
        OPEN_SEMAPHORES.mark_valid_in(names, platform::current_pid());
    }
}
