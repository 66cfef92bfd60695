//! Copying Mach semaphore rights from a parent to its child across `fork`.
//!
//! On macOS a semaphore is a Mach port, and a forked child inherits none of
//! its parent's port rights, only the task's *special* ports. So, around
//! every fork made through Ruby while semaphores are open (as the original
//! FFI gem did):
//!
//! 1. `before_fork`: the forking thread takes the process's *fork turn*
//!    ([`ForkHooks::try_begin_fork`]): one fork at a time, a second forking
//!    thread waits. Until the turn ends, a semaphore closed by another
//!    thread keeps its right (the registry defers the release).
//! 2. inside `fork`, just before the system call (a `pthread_atfork`
//!    prepare handler, [`ForkHooks::atfork_prepare`]): under the registry's
//!    lock, held across the system call, the open semaphores are listed; a
//!    *rendezvous* port is allocated and made the bootstrap special port,
//!    which the child inherits; the real one is saved;
//! 3. inside `fork`, right after, in the parent ([`ForkHooks::atfork_parent`]):
//!    the real bootstrap port is put back. Only during these microseconds
//!    can another thread's `posix_spawn` or non-Ruby `fork` see the
//!    rendezvous port as its child's bootstrap port;
//! 4. child, after: it sends its task port and a reply port to the
//!    rendezvous port (its inherited bootstrap port);
//! 5. parent: waits (at most [`Timeouts::child_message`]) on the rendezvous
//!    port; through the child's task port it inserts, under the same name, a
//!    send right for every semaphore listed, gives the child the real
//!    bootstrap port back, acknowledges through the reply port, and ends the
//!    fork turn;
//! 6. child: waits (at most [`Timeouts::ack`]) for the acknowledgement and
//!    reloads its bootstrap port.
//!
//! Every wait is bounded (a signal does not restart the bound: waits resume
//! with the time left) and every failure ends in an error on both sides: a
//! parent that gives up releases the reply right without answering, which
//! the child hears at once (a send-once notification) instead of waiting; a
//! child that could not get its semaphores must end at once
//! ([`ForkHooks::after_fork_child_or_exit`]).
//!
//! The protocol is written once, against [`MachOps`]: macOS implements it
//! with the real Mach calls (`platform::macos`), the tests with an in-memory
//! model of tasks, ports and rights with failure injection (`simulated`).

use std::fmt;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use crate::platform::mach::Names;
pub use crate::platform::mach::{ChildTask, MachError, MachOps, PortName, PortRegistry};

#[cfg(test)]
mod simulated;

/// Which side of the fork failed, and while doing what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkError {
    pub side: Side,
    pub step: &'static str,
    pub cause: MachError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Parent,
    Child,
}

impl fmt::Display for ForkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            Side::Parent => "parent",
            Side::Child => "child",
        };
        write!(
            f,
            "could not copy the Mach semaphores to the child of fork ({side}: {}: {})",
            self.step, self.cause
        )
    }
}

fn failed(side: Side, step: &'static str) -> impl FnOnce(MachError) -> ForkError {
    move |cause| ForkError { side, step, cause }
}

/// How long each side waits for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// The parent, for the child's task port.
    pub child_message: Duration,
    /// The child, for the parent's acknowledgement. Longer than
    /// `child_message`, so that a child never gives up on a parent that is
    /// still within its own limit.
    pub ack: Duration,
    /// A thread that wants to fork, for another thread's fork to finish.
    /// Longer than a whole exchange (`child_message` plus `ack`).
    pub turn: Duration,
}

impl Timeouts {
    /// Generous: the exchange takes microseconds, and these only bound how
    /// long a broken fork takes to fail.
    pub const DEFAULT: Timeouts = Timeouts {
        child_message: Duration::from_secs(10),
        ack: Duration::from_secs(20),
        turn: Duration::from_secs(60),
    };
}

/// What the parent set up just before the `fork` system call, inherited by
/// the child as memory.
/// The names are the parent's: in the child they name nothing until the
/// parent inserts the semaphores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    rendezvous: PortName,
    saved_bootstrap: PortName,
    semaphores: Vec<PortName>,
}

/// Inside `fork`: sets up the rendezvous for copying `semaphores`. `None`
/// when there is nothing to copy (the fork then costs nothing more).
pub fn prepare<M: MachOps>(
    ops: &M,
    semaphores: Vec<PortName>,
) -> Result<Option<Prepared>, ForkError> {
    if semaphores.is_empty() {
        return Ok(None);
    }
    let fail = |step| failed(Side::Parent, step);
    let rendezvous = ops
        .allocate_port()
        .map_err(fail("allocating the rendezvous port"))?;
    let saved_bootstrap = match ops.bootstrap_port() {
        Ok(port) => port,
        Err(cause) => {
            ops.destroy_port(rendezvous);
            return Err(fail("reading the bootstrap port")(cause));
        }
    };
    if let Err(cause) = ops.set_bootstrap_port(ops.task_self(), rendezvous) {
        ops.release_right(saved_bootstrap);
        ops.destroy_port(rendezvous);
        return Err(fail("installing the rendezvous port")(cause));
    }
    Ok(Some(Prepared {
        rendezvous,
        saved_bootstrap,
        semaphores,
    }))
}

/// Parent, when the fork did not happen: undoes [`prepare`].
pub fn abandon<M: MachOps>(ops: &M, prepared: Prepared) {
    let _ = ops.set_bootstrap_port(ops.task_self(), prepared.saved_bootstrap);
    ops.release_right(prepared.saved_bootstrap);
    ops.destroy_port(prepared.rendezvous);
}

/// Parent, inside `fork` right after the system call: puts its real
/// bootstrap port back. Quick; see [`ChildService`].
pub fn restore_parent<M: MachOps>(ops: &M, prepared: &Prepared) -> Result<(), ForkError> {
    ops.set_bootstrap_port(ops.task_self(), prepared.saved_bootstrap)
        .map_err(failed(Side::Parent, "restoring the bootstrap port"))
}

/// Parent, after [`restore_parent`]: serves the child whose pid is
/// `child_pid` and cleans up. Returns within about `timeouts.child_message`.
pub fn parent_after_fork<M: MachOps>(
    ops: &M,
    prepared: Prepared,
    restored: Result<(), ForkError>,
    child_pid: u32,
    timeouts: Timeouts,
) -> Result<(), ForkError> {
    let served = restored.and_then(|()| serve_child(ops, &prepared, child_pid, timeouts));
    ops.release_right(prepared.saved_bootstrap);
    // Destroying the rendezvous port also destroys anything still queued.
    ops.destroy_port(prepared.rendezvous);
    served
}

fn serve_child<M: MachOps>(
    ops: &M,
    prepared: &Prepared,
    child_pid: u32,
    timeouts: Timeouts,
) -> Result<(), ForkError> {
    let fail = |step| failed(Side::Parent, step);
    let deadline = Instant::now() + timeouts.child_message;
    let child = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(fail("waiting for the child's task port")(
                MachError::TimedOut,
            ));
        }
        match ops.receive_task_port(prepared.rendezvous, left) {
            Ok(Some(child)) if child.pid == child_pid => break child,
            // Someone else's task port: not ours to keep or answer.
            Ok(Some(stranger)) => {
                ops.release_right(stranger.reply);
                ops.release_right(stranger.task);
            }
            // A stray message, or a signal: wait again for the time left.
            Ok(None) | Err(MachError::Interrupted) => {}
            Err(cause) => return Err(fail("waiting for the child's task port")(cause)),
        }
    };
    let answered = give_child_its_rights(ops, prepared, child.task).and_then(|()| {
        ops.send_ack(child.reply, timeouts.child_message)
            .map_err(fail("acknowledging"))
    });
    if answered.is_err() {
        // Unanswered, the reply right tells the child at once that we gave up.
        ops.release_right(child.reply);
    }
    ops.release_right(child.task);
    answered
}

fn give_child_its_rights<M: MachOps>(
    ops: &M,
    prepared: &Prepared,
    child_task: PortName,
) -> Result<(), ForkError> {
    let fail = |step| failed(Side::Parent, step);
    for &semaphore in &prepared.semaphores {
        ops.insert_send_right(child_task, semaphore)
            .map_err(fail("inserting a semaphore into the child"))?;
    }
    ops.set_bootstrap_port(child_task, prepared.saved_bootstrap)
        .map_err(fail("restoring the child's bootstrap port"))
}

/// Child, after `fork`: hands its task port to the parent and waits for the
/// semaphores. Returns within about `timeouts.ack`.
pub fn child_after_fork<M: MachOps>(
    ops: &M,
    prepared: &Prepared,
    timeouts: Timeouts,
) -> Result<(), ForkError> {
    let fail = |step| failed(Side::Child, step);
    // The inherited bootstrap port is the parent's rendezvous port.
    let rendezvous = ops
        .bootstrap_port()
        .map_err(fail("reading the rendezvous port"))?;
    let reply = match allocate_port_avoiding(ops, &prepared.semaphores) {
        Ok(reply) => reply,
        Err(cause) => {
            ops.release_right(rendezvous);
            return Err(fail("allocating the reply port")(cause));
        }
    };
    let result = match ops.send_task_port(rendezvous, reply, timeouts.child_message) {
        Ok(()) => receive_ack_within(ops, reply, timeouts.ack)
            .map_err(fail("waiting for the parent"))
            .and_then(|()| {
                ops.reload_bootstrap_port(rendezvous)
                    .map_err(fail("reloading the bootstrap port"))
            }),
        Err(cause) => {
            ops.release_right(rendezvous);
            Err(fail("sending the task port")(cause))
        }
    };
    ops.destroy_port(reply);
    result
}

/// Waits for the acknowledgement at most `timeout` in all, however often a
/// signal interrupts the wait.
fn receive_ack_within<M: MachOps>(
    ops: &M,
    reply: PortName,
    timeout: Duration,
) -> Result<(), MachError> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(MachError::TimedOut);
        }
        match ops.receive_ack(reply, left) {
            Err(MachError::Interrupted) => {}
            other => return other,
        }
    }
}

/// A new port whose name is none of `taken` (the parent is about to insert
/// its semaphores under those names, and a name holds one port).
fn allocate_port_avoiding<M: MachOps>(ops: &M, taken: &[PortName]) -> Result<PortName, MachError> {
    let mut rejected = Vec::new();
    let result = loop {
        match ops.allocate_port() {
            Ok(port) if taken.contains(&port) => rejected.push(port),
            other => break other,
        }
        // Each rejected name stays allocated, so the next one differs; a
        // space can hold at most `taken.len()` such collisions.
        if rejected.len() > taken.len() {
            break Err(MachError::Call {
                call: "mach_port_allocate",
                code: 13, // KERN_NAME_EXISTS
            });
        }
    };
    for port in rejected {
        ops.destroy_port(port);
    }
    result
}

/// The fork protocol for one process: who is forking, and what the atfork
/// prepare handler set up for that fork, kept until `after_fork_*` or
/// `fork_failed` takes it. A child inherits the parent's copy with the rest
/// of its memory.
#[derive(Debug)]
pub struct ForkHooks<M: 'static> {
    ops: M,
    registry: &'static PortRegistry,
    timeouts: Timeouts,
    state: Mutex<State>,
    turn_ended: Condvar,
}

#[derive(Debug, Clone)]
struct State {
    /// The thread whose fork is under way, from `before_fork` until its
    /// child is served (or the fork is abandoned).
    owner: Option<ThreadId>,
    /// What `atfork_prepare` set up for the owner's fork.
    pending: Option<Result<Prepared, ForkError>>,
    /// How `atfork_parent` restored the bootstrap port.
    restored: Result<(), ForkError>,
}

const NO_FORK: State = State {
    owner: None,
    pending: None,
    restored: Ok(()),
};

fn this_thread() -> ThreadId {
    std::thread::current().id()
}

/// The locks `atfork_prepare` takes, to be held across the `fork` system
/// call (so that the child's copies are whole and unlocked) and handed to
/// `atfork_parent` or `atfork_child`.
#[must_use = "hand it to atfork_parent or atfork_child after the system call"]
pub struct AtFork<'a> {
    state: MutexGuard<'a, State>,
    names: MutexGuard<'a, Names>,
}

impl<M: MachOps> ForkHooks<M> {
    pub const fn new(ops: M, registry: &'static PortRegistry, timeouts: Timeouts) -> Self {
        ForkHooks {
            ops,
            registry,
            timeouts,
            state: Mutex::new(NO_FORK),
            turn_ended: Condvar::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Before `fork`: takes the fork turn for this thread, or `false` at
    /// once if another thread's fork is under way (wait with
    /// [`wait_for_turn`](Self::wait_for_turn), then try again). A fork of
    /// this thread's that never reported back (another library's hook
    /// raised in between) is undone first.
    pub fn try_begin_fork(&self) -> bool {
        let mut state = self.state();
        match state.owner {
            Some(owner) if owner != this_thread() => false,
            Some(_) => {
                if let Some(Ok(stale)) = state.pending.take() {
                    abandon(&self.ops, stale);
                }
                state.restored = Ok(());
                true
            }
            None => {
                state.owner = Some(this_thread());
                self.registry.begin_fork();
                true
            }
        }
    }

    /// Waits at most `timeout` for the fork turn to be free.
    pub fn wait_for_turn(&self, timeout: Duration) {
        let state = self.state();
        let _unused = self
            .turn_ended
            .wait_timeout_while(state, timeout, |state| state.owner.is_some())
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }

    /// Takes the fork turn, waiting at most `timeouts.turn` for another
    /// thread's fork to finish (a bound in case that thread never reports
    /// back).
    pub fn begin_fork(&self) -> Result<(), ForkError> {
        let deadline = Instant::now() + self.timeouts.turn;
        while !self.try_begin_fork() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ForkError {
                    side: Side::Parent,
                    step: "waiting for another thread's fork to finish",
                    cause: MachError::TimedOut,
                });
            }
            self.wait_for_turn(left);
        }
        Ok(())
    }

    /// Inside `fork`, just before the system call, in the forking thread
    /// (process `pid`): if this thread holds the fork turn, lists the open
    /// semaphores and installs the rendezvous port. Locks the protocol and
    /// the registry until [`atfork_parent`](Self::atfork_parent) or
    /// [`atfork_child`](Self::atfork_child); a fork by any other thread
    /// changes nothing.
    pub fn atfork_prepare(&self, pid: u32) -> AtFork<'_> {
        let mut state = self.state();
        let names = self.registry.lock();
        if state.owner == Some(this_thread()) {
            // A system call that failed and is tried again (Ruby retries
            // on EAGAIN) already restored the bootstrap port: start afresh.
            if let Some(Ok(stale)) = state.pending.take() {
                abandon(&self.ops, stale);
            }
            state.restored = Ok(());
            state.pending = prepare(&self.ops, names.valid_in(pid)).transpose();
        }
        AtFork { state, names }
    }

    /// Inside `fork`, right after the system call, in the parent: puts the
    /// real bootstrap port back and unlocks.
    pub fn atfork_parent(&self, held: AtFork<'_>) {
        let AtFork { mut state, names } = held;
        drop(names);
        if state.owner == Some(this_thread()) {
            if let Some(Ok(prepared)) = &state.pending {
                state.restored = restore_parent(&self.ops, prepared);
            }
        }
    }

    /// Inside `fork`, right after the system call, in the child: unlocks.
    pub fn atfork_child(&self, held: AtFork<'_>) {
        drop(held);
    }

    /// In the parent, when `fork` failed or raised: undoes the preparation
    /// and ends this thread's fork turn.
    pub fn fork_failed(&self) {
        let mut state = self.state();
        if state.owner != Some(this_thread()) {
            return;
        }
        if let Some(Ok(prepared)) = state.pending.take() {
            abandon(&self.ops, prepared);
        }
        drop(state);
        self.end_turn();
    }

    /// Ends the fork turn: releases what was closed meanwhile and lets the
    /// next forking thread in.
    fn end_turn(&self) {
        let mut state = self.state();
        *state = NO_FORK;
        for name in self.registry.end_fork() {
            self.ops.release_right(name);
        }
        drop(state);
        self.turn_ended.notify_all();
    }

    /// In the parent, after a successful `fork` created `child_pid`. The
    /// returned service waits for the child, which is best done without
    /// Ruby's GVL; the fork turn ends when it is done (or dropped).
    #[must_use = "the child waits until it is served"]
    pub fn after_fork_parent(&self, child_pid: u32) -> ChildService<'_, M> {
        let mut state = self.state();
        let owns_turn = state.owner == Some(this_thread());
        let (pending, restored) = if owns_turn {
            (
                state.pending.take(),
                std::mem::replace(&mut state.restored, Ok(())),
            )
        } else {
            (None, Ok(()))
        };
        ChildService {
            hooks: self,
            pending,
            restored,
            child_pid,
            owns_turn,
        }
    }

    /// In the child (process `pid`), after `fork`: receives the semaphores
    /// and records them as valid here; returns their names. (The only
    /// thread of a child is the one that forked, so what the parent
    /// prepared is this fork's.)
    pub fn after_fork_child(&self, pid: u32) -> Result<Vec<PortName>, ForkError> {
        let pending = {
            let mut state = self.state();
            let pending = state.pending.take();
            *state = NO_FORK;
            pending
        };
        // Releases deferred in the parent concern rights never copied here.
        let _not_ours = self.registry.end_fork();
        let semaphores = match pending {
            None => Vec::new(),
            Some(Err(err)) => return Err(err),
            Some(Ok(prepared)) => {
                child_after_fork(&self.ops, &prepared, self.timeouts)?;
                prepared.semaphores
            }
        };
        self.registry.mark_valid_in(&semaphores, pid);
        Ok(semaphores)
    }

    /// [`after_fork_child`](Self::after_fork_child), calling `exit` with the
    /// error if the semaphores could not be received. `exit` is expected to
    /// end the child (print and `_exit`): returning into the caller would
    /// run its rescue and ensure code, written for the parent, in a child
    /// whose semaphores do not work.
    pub fn after_fork_child_or_exit(
        &self,
        pid: u32,
        exit: impl FnOnce(&ForkError),
    ) -> Result<Vec<PortName>, ForkError> {
        self.after_fork_child(pid).inspect_err(exit)
    }
}

/// The parent's wait for its child, returned by
/// [`ForkHooks::after_fork_parent`].
#[derive(Debug)]
pub struct ChildService<'a, M: MachOps + 'static> {
    hooks: &'a ForkHooks<M>,
    pending: Option<Result<Prepared, ForkError>>,
    restored: Result<(), ForkError>,
    child_pid: u32,
    owns_turn: bool,
}

impl<M: MachOps> ChildService<'_, M> {
    /// Gives the child its semaphores; waits at most about
    /// `Timeouts::child_message` for it. `Ok` at once when there was
    /// nothing to copy. Ends the fork turn.
    pub fn serve(mut self) -> Result<(), ForkError> {
        let restored = std::mem::replace(&mut self.restored, Ok(()));
        match self.pending.take() {
            Some(Ok(prepared)) => parent_after_fork(
                &self.hooks.ops,
                prepared,
                restored,
                self.child_pid,
                self.hooks.timeouts,
            ),
            Some(Err(err)) => Err(err),
            None => restored,
        }
    }
}

impl<M: MachOps> Drop for ChildService<'_, M> {
    fn drop(&mut self) {
        if let Some(Ok(prepared)) = self.pending.take() {
            // Never served: clean up (the child times out).
            self.hooks.ops.release_right(prepared.saved_bootstrap);
            self.hooks.ops.destroy_port(prepared.rendezvous);
        }
        if self.owns_turn {
            self.hooks.end_turn();
        }
    }
}

/// The child's copy of the hooks, as `fork` makes it: taken while the
/// atfork locks are held, so it is whole.
#[cfg(test)]
impl<M: MachOps> ForkHooks<M> {
    fn child_copy<N: MachOps>(&self, held: &AtFork<'_>, ops: N) -> ForkHooks<N> {
        ForkHooks {
            ops,
            registry: Box::leak(Box::new(PortRegistry::copy_of(&held.names))),
            timeouts: self.timeouts,
            state: Mutex::new(held.state.clone()),
            turn_ended: Condvar::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::simulated::{Fault, SimTask, World, SEND_ONCE_NOTIFICATION};
    use super::*;
    use std::sync::{Arc, Barrier};

    // Short enough for quick tests; the child's so much longer than the
    // parent's that "the child heard at once" (well under `ack`) holds even
    // on a loaded machine.
    const TIMEOUTS: Timeouts = Timeouts {
        child_message: Duration::from_millis(300),
        ack: Duration::from_secs(3),
        turn: Duration::from_secs(5),
    };
    /// Far above every timeout: an exchange still running then has hung.
    const HANG: Duration = Duration::from_secs(10);
    const PARENT_PID: u32 = 100;
    const CHILD_PID: u32 = 200;

    type Hooks = &'static ForkHooks<SimTask>;

    /// Runs `work` on its own thread and fails the test if it has not
    /// returned within `HANG`; returns its result and how long it took.
    fn bounded<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> std::sync::mpsc::Receiver<(T, Duration)> {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let start = Instant::now();
            let result = work();
            let _ = sender.send((result, start.elapsed()));
        });
        receiver
    }

    fn finish<T>(receiver: std::sync::mpsc::Receiver<(T, Duration)>) -> (T, Duration) {
        receiver
            .recv_timeout(HANG)
            .expect("the exchange hung instead of failing in bounded time")
    }

    fn leak<T>(value: T) -> &'static T {
        Box::leak(Box::new(value))
    }

    /// A task with semaphores, each registered as the macOS backend does.
    struct Process {
        world: Arc<World>,
        task: SimTask,
        pid: u32,
        hooks: Hooks,
    }

    impl Process {
        fn spawn(pid: u32) -> Process {
            let world = World::new();
            let task = world.spawn(pid);
            let hooks = leak(ForkHooks::new(
                task.clone(),
                leak(PortRegistry::new()),
                TIMEOUTS,
            ));
            Process {
                world,
                task,
                pid,
                hooks,
            }
        }

        fn create_semaphore(&self) -> PortName {
            let name = self.world.create_semaphore(&self.task);
            self.hooks.registry.register(name, self.pid);
            name
        }

        /// Closes a semaphore as `RawSemaphore::release` does.
        fn close(&self, name: PortName) {
            if self.hooks.registry.release(name, self.pid) {
                self.task.release_right(name);
            }
        }

        /// `fork` as the C library makes it, once `before_fork` has taken
        /// the turn: the atfork prepare handler, the system call (a new task
        /// and a copy of the memory), `during` (another thread acting while
        /// the system call runs), the atfork parent handler.
        fn fork(&self, child_pid: u32, during: impl FnOnce(&SimTask)) -> Process {
            let held = self.hooks.atfork_prepare(self.pid);
            let child = self.world.fork(&self.task, child_pid);
            let hooks = leak(self.hooks.child_copy(&held, child.clone()));
            during(&child);
            self.hooks.atfork_parent(held);
            Process {
                world: self.world.clone(),
                task: child,
                pid: child_pid,
                hooks,
            }
        }
    }

    /// A parent with `count` semaphores (those `open` rejects closed before
    /// the fork), and its child, forked but not yet served.
    struct Fork {
        parent: Process,
        child: Process,
        semaphores: Vec<PortName>,
        /// Every name the parent held just before `before_fork`.
        parent_names: Vec<PortName>,
        /// The parent's bootstrap port then (launchd's).
        parent_bootstrap: Option<u64>,
    }

    fn fork_with(count: usize, open: impl Fn(usize) -> bool) -> Fork {
        fork_injecting(count, open, |_, _, _| {}, |_, _| {})
    }

    /// Like `fork_with`, with a chance to inject faults before the fork
    /// (`before`: the world and the parent) and while the system call runs
    /// (`during`: the world, the parent and the new child).
    fn fork_injecting(
        count: usize,
        open: impl Fn(usize) -> bool,
        during: impl FnOnce(&Arc<World>, &SimTask, &SimTask),
        before: impl FnOnce(&Arc<World>, &SimTask),
    ) -> Fork {
        let parent = Process::spawn(PARENT_PID);
        let semaphores: Vec<PortName> = (0..count).map(|_| parent.create_semaphore()).collect();
        for (index, &name) in semaphores.iter().enumerate() {
            if !open(index) {
                parent.close(name);
            }
        }
        let parent_names = parent.world.names(&parent.task);
        let parent_bootstrap = parent.world.bootstrap(&parent.task).0;
        before(&parent.world, &parent.task);
        assert!(parent.hooks.try_begin_fork());
        let child = parent.fork(CHILD_PID, |child| {
            during(&parent.world, &parent.task, child)
        });
        Fork {
            parent,
            child,
            semaphores,
            parent_names,
            parent_bootstrap,
        }
    }

    type Outcome = (Result<(), ForkError>, Duration);

    fn serve(
        hooks: Hooks,
        child_pid: u32,
    ) -> std::sync::mpsc::Receiver<(Result<(), ForkError>, Duration)> {
        // `after_fork_parent` in the forking thread, the wait elsewhere.
        let service = hooks.after_fork_parent(child_pid);
        bounded(move || service.serve())
    }

    fn join(
        hooks: Hooks,
        pid: u32,
    ) -> std::sync::mpsc::Receiver<(Result<(), ForkError>, Duration)> {
        bounded(move || hooks.after_fork_child(pid).map(drop))
    }

    fn run_both(fork: &Fork) -> (Outcome, Outcome) {
        let parent = serve(fork.parent.hooks, CHILD_PID);
        let child = join(fork.child.hooks, CHILD_PID);
        (finish(parent), finish(child))
    }

    fn assert_failed(outcome: &Outcome, side: Side, step: &str) {
        match &outcome.0 {
            Err(err) => {
                assert_eq!(err.side, side, "{err}");
                assert_eq!(err.step, step, "{err}");
            }
            Ok(()) => panic!("expected the {side:?} to fail while {step}"),
        }
    }

    /// Checks that the parent is as before the fork (its bootstrap port
    /// restored, no name leaked, the turn free) and returns its bootstrap
    /// port, which is also the child's original one.
    fn parent_restored(fork: &Fork) -> Option<u64> {
        let world = &fork.parent.world;
        let (special, libc) = world.bootstrap(&fork.parent.task);
        assert_eq!(
            special, fork.parent_bootstrap,
            "bootstrap port not restored"
        );
        assert_eq!(libc, fork.parent_bootstrap);
        assert_eq!(world.names(&fork.parent.task), fork.parent_names);
        assert!(
            fork.parent.hooks.state().owner.is_none(),
            "the turn was not ended"
        );
        special
    }

    #[test]
    fn the_child_gets_every_open_semaphore_under_the_same_name_and_no_closed_one() {
        // Names start alike in every task, so the child's own reply port and
        // rendezvous right would land on the parent's semaphore names if the
        // protocol did not keep them apart: this also tests that.
        let fork = fork_with(4, |index| index != 1);
        let (parent, child) = run_both(&fork);
        parent.0.unwrap();
        child.0.unwrap();

        let world = &fork.parent.world;
        for (index, &name) in fork.semaphores.iter().enumerate() {
            let in_child = world.send_right(&fork.child.task, name);
            if index == 1 {
                assert_eq!(in_child, None, "a closed semaphore was copied");
            } else {
                assert!(in_child.is_some(), "semaphore {name:#x} missing");
                assert_eq!(in_child, world.send_right(&fork.parent.task, name));
            }
        }
        let open: Vec<PortName> = fork
            .semaphores
            .iter()
            .enumerate()
            .filter(|&(index, _)| index != 1)
            .map(|(_, &name)| name)
            .collect();
        assert_eq!(fork.child.hooks.registry.names_valid_in(CHILD_PID), open);
        assert_eq!(fork.parent.hooks.registry.names_valid_in(PARENT_PID), open);
        // Bootstrap ports are back to the real one on both sides, also in
        // the child's C library.
        let original = parent_restored(&fork);
        assert_eq!(world.bootstrap(&fork.child.task), (original, original));
        // Nothing leaked: the child holds its task port and the semaphores.
        let mut expected_in_child = vec![fork.child.task.task_self()];
        expected_in_child.extend(open);
        expected_in_child.sort_unstable();
        assert_eq!(world.names(&fork.child.task), expected_in_child);
    }

    #[test]
    fn the_rendezvous_is_the_bootstrap_port_only_around_the_system_call() {
        let parent = Process::spawn(PARENT_PID);
        parent.create_semaphore();
        let launchd = parent.world.bootstrap(&parent.task);
        assert!(parent.hooks.try_begin_fork());
        assert_eq!(parent.world.bootstrap(&parent.task), launchd);
        let held = parent.hooks.atfork_prepare(PARENT_PID);
        assert_ne!(parent.world.bootstrap(&parent.task).0, launchd.0);
        parent.hooks.atfork_parent(held);
        assert_eq!(parent.world.bootstrap(&parent.task), launchd);
        parent.hooks.fork_failed();
    }

    #[test]
    fn a_fork_the_c_library_tries_again_is_prepared_afresh() {
        let parent = Process::spawn(PARENT_PID);
        let semaphore = parent.create_semaphore();
        let names_before = parent.world.names(&parent.task);
        assert!(parent.hooks.try_begin_fork());
        // The first system call fails (EAGAIN): prepare and parent handlers.
        let held = parent.hooks.atfork_prepare(PARENT_PID);
        parent.hooks.atfork_parent(held);
        // The second succeeds: its child must find a rendezvous port.
        let child = parent.fork(CHILD_PID, |_| {});
        let joined = join(child.hooks, CHILD_PID);
        parent.hooks.after_fork_parent(CHILD_PID).serve().unwrap();
        finish(joined).0.unwrap();
        assert!(parent.world.send_right(&child.task, semaphore).is_some());
        assert_eq!(parent.world.names(&parent.task), names_before);
    }

    #[test]
    fn a_grandchild_gets_the_semaphores_from_the_child() {
        let fork = fork_with(2, |_| true);
        let (parent, child) = run_both(&fork);
        parent.0.unwrap();
        child.0.unwrap();
        // The child forks in turn, with its copy of the registry.
        assert!(fork.child.hooks.try_begin_fork());
        let grandchild = fork.child.fork(300, |_| {});
        let served = serve(fork.child.hooks, 300);
        let joined = join(grandchild.hooks, 300);
        finish(served).0.unwrap();
        finish(joined).0.unwrap();
        let world = &fork.parent.world;
        for &name in &fork.semaphores {
            assert!(world.send_right(&grandchild.task, name).is_some());
            assert_eq!(
                world.send_right(&grandchild.task, name),
                world.send_right(&fork.parent.task, name)
            );
        }
    }

    #[test]
    fn with_no_open_semaphore_nothing_is_exchanged() {
        let fork = fork_with(2, |_| false);
        assert!(fork.parent.hooks.state().pending.is_none());
        let (parent, child) = run_both(&fork);
        parent.0.unwrap();
        child.0.unwrap();
        parent_restored(&fork);
        let world = &fork.parent.world;
        assert_eq!(
            world.names(&fork.child.task),
            vec![fork.child.task.task_self()]
        );
    }

    #[test]
    fn a_child_that_cannot_send_its_task_port_fails_and_the_parent_times_out() {
        let fork = fork_injecting(
            2,
            |_| true,
            |world, _, child| world.inject(child, Fault::SendTaskPortFails),
            |_, _| {},
        );
        let (parent, child) = run_both(&fork);
        assert_failed(&child, Side::Child, "sending the task port");
        assert_failed(&parent, Side::Parent, "waiting for the child's task port");
        assert_eq!(parent.0.unwrap_err().cause, MachError::TimedOut);
        assert!(parent.1 >= TIMEOUTS.child_message);
        parent_restored(&fork);
    }

    #[test]
    fn a_child_that_dies_at_once_leaves_the_parent_to_time_out() {
        let fork = fork_injecting(1, |_| true, |world, _, child| world.kill(child), |_, _| {});
        let (result, took) = finish(serve(fork.parent.hooks, CHILD_PID));
        assert_eq!(result.unwrap_err().cause, MachError::TimedOut);
        assert!(took >= TIMEOUTS.child_message);
        parent_restored(&fork);
    }

    #[test]
    fn a_failed_insertion_fails_both_sides_and_the_child_hears_it_at_once() {
        let fork = fork_injecting(
            3,
            |_| true,
            |world, parent, _| {
                let second = world.names(parent)[2];
                world.inject(parent, Fault::InsertFails(second))
            },
            |_, _| {},
        );
        let (parent, child) = run_both(&fork);
        assert_failed(
            &parent,
            Side::Parent,
            "inserting a semaphore into the child",
        );
        assert_failed(&child, Side::Child, "waiting for the parent");
        assert_eq!(
            child.0.unwrap_err().cause,
            MachError::UnexpectedMessage(SEND_ONCE_NOTIFICATION)
        );
        assert!(child.1 < TIMEOUTS.ack, "the child waited out its timeout");
        parent_restored(&fork);
    }

    #[test]
    fn a_lost_acknowledgement_makes_the_child_time_out() {
        let fork = fork_injecting(
            2,
            |_| true,
            |world, parent, _| world.inject(parent, Fault::AckLost),
            |_, _| {},
        );
        let (parent, child) = run_both(&fork);
        parent.0.unwrap();
        assert_failed(&child, Side::Child, "waiting for the parent");
        assert_eq!(child.0.unwrap_err().cause, MachError::TimedOut);
        assert!(child.1 >= TIMEOUTS.ack);
    }

    #[test]
    fn a_parent_that_dies_mid_exchange_fails_the_child_at_once() {
        let fork = fork_injecting(
            2,
            |_| true,
            |world, parent, _| world.inject(parent, Fault::DiesAfterReceiving),
            |_, _| {},
        );
        let (parent, child) = run_both(&fork);
        assert!(parent.0.is_err());
        assert_failed(&child, Side::Child, "waiting for the parent");
        assert!(child.1 < TIMEOUTS.ack, "the child waited out its timeout");
    }

    #[test]
    fn a_parent_that_died_before_serving_fails_the_child_at_once() {
        let fork = fork_with(2, |_| true);
        fork.parent.world.kill(&fork.parent.task);
        let (result, took) = finish(join(fork.child.hooks, CHILD_PID));
        assert_eq!(result.unwrap_err().side, Side::Child);
        assert!(took < TIMEOUTS.ack, "the child waited out its timeout");
    }

    #[test]
    fn a_parent_that_never_serves_makes_the_child_time_out() {
        let fork = fork_with(2, |_| true);
        let (result, took) = finish(join(fork.child.hooks, CHILD_PID));
        let err = result.unwrap_err();
        assert_eq!((err.side, err.cause), (Side::Child, MachError::TimedOut));
        assert!(took >= TIMEOUTS.ack);
    }

    #[test]
    fn a_child_whose_reply_port_cannot_be_allocated_fails_and_so_does_the_parent() {
        let fork = fork_injecting(
            1,
            |_| true,
            |world, _, child| world.inject(child, Fault::AllocateFails),
            |_, _| {},
        );
        let (parent, child) = run_both(&fork);
        assert_failed(&child, Side::Child, "allocating the reply port");
        assert_failed(&parent, Side::Parent, "waiting for the child's task port");
    }

    #[test]
    fn stray_messages_and_other_tasks_ports_are_skipped() {
        let fork = fork_injecting(
            2,
            |_| true,
            |world, parent, _| {
                // While the rendezvous is the bootstrap port, another thread
                // forked too (not through Ruby) and its child sends first;
                // then something else writes to the port.
                let stranger = world.fork(parent, 999);
                let hooks = ForkHooks {
                    ops: stranger,
                    registry: leak(PortRegistry::new()),
                    timeouts: Timeouts {
                        ack: Duration::from_millis(50),
                        ..TIMEOUTS
                    },
                    state: Mutex::new(State {
                        pending: Some(Ok(Prepared {
                            rendezvous: 0,
                            saved_bootstrap: 0,
                            semaphores: vec![],
                        })),
                        ..NO_FORK
                    }),
                    turn_ended: Condvar::new(),
                };
                assert!(
                    hooks.after_fork_child(999).is_err(),
                    "the stranger was served"
                );
                world.send_stray_to_bootstrap_of(parent);
            },
            |_, _| {},
        );
        let (parent, child) = run_both(&fork);
        parent.0.unwrap();
        child.0.unwrap();
        for &name in &fork.semaphores {
            assert!(fork
                .parent
                .world
                .send_right(&fork.child.task, name)
                .is_some());
        }
    }

    #[test]
    fn a_failed_preparation_fails_both_sides_and_undoes_itself() {
        for fault in [
            Fault::AllocateFails,
            Fault::ReadBootstrapFails,
            Fault::SetBootstrapFails,
        ] {
            let fork = fork_injecting(
                1,
                |_| true,
                |_, _, _| {},
                |world, parent| world.inject(parent, fault),
            );
            let exited = Mutex::new(None);
            let child = fork.child.hooks.after_fork_child_or_exit(CHILD_PID, |err| {
                *exited.lock().unwrap() = Some(err.clone())
            });
            let parent = fork.parent.hooks.after_fork_parent(CHILD_PID).serve();
            assert_eq!(parent.unwrap_err().side, Side::Parent, "{fault:?}");
            assert_eq!(child.clone().unwrap_err().side, Side::Parent, "{fault:?}");
            assert_eq!(*exited.lock().unwrap(), child.err(), "{fault:?}");
            parent_restored(&fork);
        }
    }

    #[test]
    fn a_child_that_cannot_get_its_semaphores_exits_and_one_that_can_does_not() {
        let failing = fork_injecting(
            1,
            |_| true,
            |world, _, child| world.inject(child, Fault::SendTaskPortFails),
            |_, _| {},
        );
        let exits = Arc::new(Mutex::new(Vec::new()));
        let recorded = exits.clone();
        let hooks = failing.child.hooks;
        let child = bounded(move || {
            hooks.after_fork_child_or_exit(CHILD_PID, |err| recorded.lock().unwrap().push(err.step))
        });
        let _ = finish(serve(failing.parent.hooks, CHILD_PID));
        assert!(finish(child).0.is_err());
        assert_eq!(*exits.lock().unwrap(), vec!["sending the task port"]);

        let working = fork_with(1, |_| true);
        let hooks = working.child.hooks;
        let recorded = exits.clone();
        let child = bounded(move || {
            hooks.after_fork_child_or_exit(CHILD_PID, |err| recorded.lock().unwrap().push(err.step))
        });
        finish(serve(working.parent.hooks, CHILD_PID)).0.unwrap();
        assert_eq!(finish(child).0.unwrap().len(), 1);
        assert_eq!(
            exits.lock().unwrap().len(),
            1,
            "a served child was told to exit"
        );
    }

    #[test]
    fn signals_do_not_restart_the_bounded_waits() {
        // Interrupted every few milliseconds, both sides still complete...
        let fork = fork_injecting(
            2,
            |_| true,
            |world, parent, child| {
                world.inject(parent, Fault::ReceivesInterrupted);
                world.inject(child, Fault::ReceivesInterrupted);
            },
            |_, _| {},
        );
        let (parent, child) = run_both(&fork);
        parent.0.unwrap();
        child.0.unwrap();
        parent_restored(&fork);

        // ...and a parent whose child died gives up after its bound, not
        // after a bound restarted at every signal.
        let fork = fork_injecting(
            1,
            |_| true,
            |world, parent, child| {
                world.inject(parent, Fault::ReceivesInterrupted);
                world.kill(child);
            },
            |_, _| {},
        );
        let (result, took) = finish(serve(fork.parent.hooks, CHILD_PID));
        assert_eq!(result.unwrap_err().cause, MachError::TimedOut);
        assert!(took >= TIMEOUTS.child_message);
        // Interrupted and resumed more than once, and still bounded.
        let interrupted = fork.parent.world.interruptions();
        assert!(interrupted >= 2, "only {interrupted} interruptions");

        // So does a child whose parent never answers.
        let fork = fork_injecting(
            1,
            |_| true,
            |world, _, child| world.inject(child, Fault::ReceivesInterrupted),
            |_, _| {},
        );
        let (result, took) = finish(join(fork.child.hooks, CHILD_PID));
        assert_eq!(result.unwrap_err().cause, MachError::TimedOut);
        assert!(took >= TIMEOUTS.ack);
    }

    #[test]
    fn two_threads_forking_at_once_take_turns_and_both_children_get_every_semaphore() {
        let parent = Arc::new(Process::spawn(PARENT_PID));
        let semaphores: Vec<PortName> = (0..3).map(|_| parent.create_semaphore()).collect();
        let names_before = parent.world.names(&parent.task);
        let bootstrap_before = parent.world.bootstrap(&parent.task);
        let start = Arc::new(Barrier::new(2));
        let forker = |child_pid: u32| {
            let parent = parent.clone();
            let start = start.clone();
            bounded(move || {
                start.wait();
                parent.hooks.begin_fork().unwrap();
                // Another thread cannot take the turn while this one holds it.
                let contender = parent.hooks;
                assert!(!std::thread::spawn(move || contender.try_begin_fork())
                    .join()
                    .unwrap());
                let child = parent.fork(child_pid, |_| {});
                let joined = join(child.hooks, child_pid);
                // Give the other thread time to try, and wait, meanwhile.
                std::thread::sleep(Duration::from_millis(20));
                let served = parent.hooks.after_fork_parent(child_pid).serve();
                (served, finish(joined).0, child.task)
            })
        };
        let first = forker(201);
        let second = forker(202);
        for outcome in [finish(first).0, finish(second).0] {
            let (served, joined, child) = outcome;
            served.unwrap();
            joined.unwrap();
            for &name in &semaphores {
                assert!(parent.world.send_right(&child, name).is_some());
            }
        }
        assert_eq!(parent.world.names(&parent.task), names_before);
        assert_eq!(parent.world.bootstrap(&parent.task), bootstrap_before);
        assert!(parent.hooks.state().owner.is_none());
    }

    #[test]
    fn a_semaphore_closed_during_a_fork_keeps_its_right_until_the_fork_ends() {
        let parent = Process::spawn(PARENT_PID);
        let semaphores = [parent.create_semaphore(), parent.create_semaphore()];
        assert!(parent.hooks.try_begin_fork());
        let child = parent.fork(CHILD_PID, |_| {});
        // Another thread closes the first one while the child waits.
        parent.close(semaphores[0]);
        assert!(parent
            .world
            .send_right(&parent.task, semaphores[0])
            .is_some());
        let joined = join(child.hooks, CHILD_PID);
        parent.hooks.after_fork_parent(CHILD_PID).serve().unwrap();
        finish(joined).0.unwrap();
        for name in semaphores {
            assert!(parent.world.send_right(&child.task, name).is_some());
        }
        // The turn is over: the closed semaphore's right is released.
        assert_eq!(parent.world.send_right(&parent.task, semaphores[0]), None);
        assert!(parent
            .world
            .send_right(&parent.task, semaphores[1])
            .is_some());
    }

    #[test]
    fn a_semaphore_created_after_before_fork_is_copied_too() {
        let parent = Process::spawn(PARENT_PID);
        assert!(parent.hooks.try_begin_fork());
        // Created by another thread between `before_fork` and the system
        // call: the child's memory holds it.
        let late = parent.create_semaphore();
        let child = parent.fork(CHILD_PID, |_| {});
        let joined = join(child.hooks, CHILD_PID);
        parent.hooks.after_fork_parent(CHILD_PID).serve().unwrap();
        assert_eq!(finish(joined).0.unwrap(), ());
        assert!(parent.world.send_right(&child.task, late).is_some());
    }

    #[test]
    fn a_fork_that_did_not_happen_is_undone() {
        let parent = Process::spawn(PARENT_PID);
        parent.create_semaphore();
        let names_before = parent.world.names(&parent.task);
        let bootstrap_before = parent.world.bootstrap(&parent.task);

        assert!(parent.hooks.try_begin_fork());
        let held = parent.hooks.atfork_prepare(PARENT_PID);
        parent.hooks.atfork_parent(held);
        parent.hooks.fork_failed();
        assert_eq!(parent.world.names(&parent.task), names_before);
        assert_eq!(parent.world.bootstrap(&parent.task), bootstrap_before);
        assert!(parent.hooks.state().owner.is_none());

        // A preparation whose fork never reported back is undone by the
        // same thread's next fork.
        assert!(parent.hooks.try_begin_fork());
        let held = parent.hooks.atfork_prepare(PARENT_PID);
        parent.hooks.atfork_parent(held);
        assert!(parent.hooks.try_begin_fork());
        assert_eq!(parent.world.names(&parent.task), names_before);
        parent.hooks.fork_failed();
        assert_eq!(parent.world.names(&parent.task), names_before);
        assert_eq!(parent.world.bootstrap(&parent.task), bootstrap_before);
    }

    #[test]
    fn a_thread_waits_for_the_turn_at_most_its_bound() {
        let world = World::new();
        let hooks: Hooks = leak(ForkHooks::new(
            world.spawn(PARENT_PID),
            leak(PortRegistry::new()),
            Timeouts {
                turn: Duration::from_millis(50),
                ..TIMEOUTS
            },
        ));
        // This thread's fork never reports back: another thread gives up.
        assert!(hooks.try_begin_fork());
        let (result, took) = finish(bounded(move || hooks.begin_fork()));
        assert_eq!(result.unwrap_err().cause, MachError::TimedOut);
        assert!(took >= Duration::from_millis(50));
        hooks.fork_failed();
        assert!(hooks.try_begin_fork());
        hooks.fork_failed();
    }
}
