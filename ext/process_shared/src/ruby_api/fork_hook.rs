//! `ProcessShared::ForkHook`: the native side of the `fork` hook that
//! `lib/process_shared/fork_hook.rb` installs. Each function is cheap when
//! there is nothing to do (on Linux, always but in the child).

use super::blocking::without_gvl;
use super::errors::{argument_error, fork_error};
use super::guard::function;
use crate::core::fork;
use crate::core::fork_protocol::{ForkError, Timeouts};
use crate::core::park::SLICE;
use crate::platform::monotonic_now;
use magnus::{prelude::*, Error, RModule, Ruby};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn raise(ruby: &Ruby, result: std::thread::Result<Result<(), ForkError>>) -> Result<(), Error> {
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(fork_error(ruby, err.to_string())),
        Err(_panic) => Err(fork_error(
            ruby,
            "process_shared: internal error in the fork hook",
        )),
    }
}

fn before_fork(ruby: &Ruby) -> Result<(), Error> {
    // How long a thread waits for another thread's fork (macOS) before its
    // own `fork` raises: longer than a whole exchange, which is bounded.
    let turn = Timeouts::DEFAULT.turn;
    let deadline = monotonic_now() + turn;
    loop {
        match catch_unwind(fork::try_before_fork) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(panic) => return raise(ruby, Err(panic)),
        }
        if monotonic_now() >= deadline {
            return Err(fork_error(
                ruby,
                format!(
                    "another thread's fork did not finish within {} seconds",
                    turn.as_secs()
                ),
            ));
        }
        // Another thread is forking: wait without the GVL, which that
        // thread may need to finish.
        let _ = without_gvl(|| fork::wait_for_turn(SLICE));
        ruby.thread_check_ints()?;
    }
}

fn fork_failed() {
    let _ = catch_unwind(fork::fork_failed);
}

fn after_fork_parent(ruby: &Ruby, child_pid: i64) -> Result<(), Error> {
    let child_pid = u32::try_from(child_pid)
        .ok()
        .filter(|&pid| pid > 0)
        .ok_or_else(|| argument_error(ruby, format!("not a child's pid: {child_pid}")))?;
    // The quick part with the GVL, so that no other thread forks meanwhile.
    let parent_side = match catch_unwind(|| fork::after_fork_parent(child_pid)) {
        Ok(parent_side) => parent_side,
        Err(panic) => return raise(ruby, Err(panic)),
    };
    // On macOS the parent may then wait (boundedly) for the child: without
    // the GVL, so that its other threads run meanwhile. If an interrupt was
    // pending Ruby did not start it, and the child still needs serving.
    let mut parent_side = Some(parent_side);
    let mut finish = || parent_side.take().map_or(Ok(()), fork::ParentSide::finish);
    let result = match without_gvl(&mut finish) {
        Some(result) => result,
        None => catch_unwind(AssertUnwindSafe(finish)),
    };
    raise(ruby, result)
}

fn after_fork_child(ruby: &Ruby) -> Result<(), Error> {
    raise(ruby, catch_unwind(|| fork::after_fork_child(exit_child)))
}

/// A child that could not get its semaphores (macOS) ends here, as with
/// `exit!`: raising would run the caller's rescue and ensure code, written
/// for the parent, in a child whose semaphores do not work.
fn exit_child(err: &ForkError) {
    let message = format!("process_shared: {err}; the child exits\n");
    // SAFETY: write(2) on the standard error descriptor with a valid
    // buffer, then _exit, which never returns.
    unsafe {
        libc::write(2, message.as_ptr().cast(), message.len());
        libc::_exit(1);
    }
}

fn generation() -> u64 {
    fork::generation()
}

pub fn init(ruby: &Ruby, namespace: RModule) -> Result<(), Error> {
    let _ = ruby;
    let module = namespace.define_module("ForkHook")?;
    // `fork` works in any Ractor, so the hook must too: these functions
    // touch only process-wide atomics (and, on macOS, the fork protocol's
    // own synchronised state), never a Ruby object. Every other native
    // method stays main-Ractor only (Ruby raises Ractor::UnsafeError; the
    // counting methods of AtomicInteger check the Ractor themselves, see
    // `fast_path::init_atomic_integer`).
    set_ractor_safe(true);
    let defined = define_hooks(module);
    set_ractor_safe(false);
    defined
}

fn define_hooks(module: RModule) -> Result<(), Error> {
    module.define_module_function("before_fork", function!(before_fork, 0))?;
    module.define_module_function("fork_failed", function!(fork_failed, 0))?;
    module.define_module_function("after_fork_parent", function!(after_fork_parent, 1))?;
    module.define_module_function("after_fork_child", function!(after_fork_child, 0))?;
    module.define_module_function("generation", function!(generation, 0))?;
    Ok(())
}

/// Whether the methods defined from now on, while the extension loads, may
/// be called from a non-main Ractor.
fn set_ractor_safe(safe: bool) {
    // SAFETY: called from the extension's init function, while Ruby loads
    // it on this thread with the GVL: the flag belongs to that load.
    unsafe { rb_sys::rb_ext_ractor_safe(safe) };
}
