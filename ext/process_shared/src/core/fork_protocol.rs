//! Copying Mach semaphore rights from a parent to its child across `fork`.
//!
//! On macOS a semaphore is a Mach port, and a forked child inherits none of
//! its parent's port rights, only the task's *special* ports. So, around
//! every fork made while semaphores are open (as the original FFI gem did):
//!
//! 1. before: the parent allocates a *rendezvous* port and makes it its
//!    bootstrap special port, which the child will inherit; the real one is
//!    saved;
//! 2. parent, after: it puts its real bootstrap port back at once, then
//!    waits (at most [`Timeouts::child_message`]) on the rendezvous port;
//! 3. child, after: it sends its task port and a reply port to the
//!    rendezvous port (its inherited bootstrap port);
//! 4. parent: through the child's task port it inserts, under the same name,
//!    a send right for every semaphore open in the parent, gives the child
//!    the real bootstrap port back, and acknowledges through the reply port;
//! 5. child: waits (at most [`Timeouts::ack`]) for the acknowledgement and
//!    reloads its bootstrap port.
//!
//! Every wait is bounded and every failure ends in an error on both sides: a
//! parent that gives up releases the reply right without answering, which
//! the child hears at once (a send-once notification) instead of waiting.
//!
//! The protocol is written once, against [`MachOps`]: macOS implements it
//! with the real Mach calls (`platform::macos`), the tests with an in-memory
//! model of tasks, ports and rights with failure injection (`simulated`).

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[cfg(test)]
mod simulated;

/// A Mach port name: an index into one task's name space.
pub type PortName = u32;

/// Why a Mach operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachError {
    /// A wait for a message ran out of time.
    TimedOut,
    /// The awaited message never came: what arrived instead has this id
    /// (a send-once notification when the other side gave up).
    UnexpectedMessage(i32),
    /// A call returned this `kern_return_t` or `mach_msg_return_t`.
    Call { call: &'static str, code: i32 },
}

impl fmt::Display for MachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MachError::TimedOut => f.write_str("timed out"),
            MachError::UnexpectedMessage(id) => {
                write!(
                    f,
                    "the other process gave up (received message id {id} instead)"
                )
            }
            MachError::Call { call, code } => match known_code(*code) {
                Some(name) => write!(f, "{call} failed: {name} ({code:#x})"),
                None => write!(f, "{call} failed with {code:#x}"),
            },
        }
    }
}

/// Names for the codes this protocol can meet, for readable errors.
fn known_code(code: i32) -> Option<&'static str> {
    Some(match code {
        4 => "KERN_INVALID_ARGUMENT",
        5 => "KERN_FAILURE",
        6 => "KERN_RESOURCE_SHORTAGE",
        13 => "KERN_NAME_EXISTS",
        15 => "KERN_INVALID_NAME",
        17 => "KERN_INVALID_RIGHT",
        0x1000_0003 => "MACH_SEND_INVALID_DEST",
        0x1000_0004 => "MACH_SEND_TIMED_OUT",
        0x1000_0010 => "MACH_SEND_INVALID_RIGHT",
        0x1000_4002 => "MACH_RCV_INVALID_NAME",
        0x1000_4003 => "MACH_RCV_TIMED_OUT",
        0x1000_4008 => "MACH_RCV_PORT_DIED",
        _ => return None,
    })
}

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

/// The Mach operations the protocol needs, each on the calling task.
pub trait MachOps {
    /// The name of this task's own task port.
    fn task_self(&self) -> PortName;
    /// A new port: a receive right and one send right under one name.
    fn allocate_port(&self) -> Result<PortName, MachError>;
    /// Destroys a port allocated here (messages queued on it are destroyed).
    fn destroy_port(&self, port: PortName);
    /// Releases one send or send-once right. Releasing a send-once right
    /// that was never used tells its receiver (a send-once notification).
    fn release_right(&self, name: PortName);
    /// A send right to this task's bootstrap special port (the one a child
    /// inherits).
    fn bootstrap_port(&self) -> Result<PortName, MachError>;
    /// Makes `port` (a send right named here) the bootstrap special port of
    /// `task` (this task's or a child's task port).
    fn set_bootstrap_port(&self, task: PortName, port: PortName) -> Result<(), MachError>;
    /// Child: sends to `rendezvous` a send right to this task's task port
    /// and a send-once right to `reply`. A sent message consumes the
    /// `rendezvous` right; a failed send leaves it to the caller.
    fn send_task_port(
        &self,
        rendezvous: PortName,
        reply: PortName,
        timeout: Duration,
    ) -> Result<(), MachError>;
    /// Parent: the next message on `rendezvous`. `Ok(None)` for a message
    /// that is not a child's task port (it has been discarded).
    fn receive_task_port(
        &self,
        rendezvous: PortName,
        timeout: Duration,
    ) -> Result<Option<ChildTask>, MachError>;
    /// Parent: gives `task` a send right, under the name `name`, to the port
    /// that `name` names here.
    fn insert_send_right(&self, task: PortName, name: PortName) -> Result<(), MachError>;
    /// Parent: answers through the send-once right `reply` (consuming it).
    fn send_ack(&self, reply: PortName, timeout: Duration) -> Result<(), MachError>;
    /// Child: waits for the parent's answer on `reply`.
    fn receive_ack(&self, reply: PortName, timeout: Duration) -> Result<(), MachError>;
    /// Child: makes the C library read the (restored) bootstrap port again.
    fn reload_bootstrap_port(&self) -> Result<(), MachError>;
}

/// What the parent receives from its child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildTask {
    /// A send right to the child's task port.
    pub task: PortName,
    /// A send-once right to the child's reply port.
    pub reply: PortName,
    /// The pid of the task `task` names.
    pub pid: u32,
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
}

impl Timeouts {
    /// Generous: the exchange takes microseconds, and these only bound how
    /// long a broken fork takes to fail.
    pub const DEFAULT: Timeouts = Timeouts {
        child_message: Duration::from_secs(10),
        ack: Duration::from_secs(20),
    };
}

/// What the parent set up before `fork`, inherited by the child as memory.
/// The names are the parent's: in the child they name nothing until the
/// parent inserts the semaphores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    rendezvous: PortName,
    saved_bootstrap: PortName,
    semaphores: Vec<PortName>,
}

/// Before `fork`: sets up the rendezvous for copying `semaphores`. `None`
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

/// Parent, right after `fork`: puts its real bootstrap port back, so that
/// the next fork starts afresh. Quick; see [`ChildService`].
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
        match ops
            .receive_task_port(prepared.rendezvous, left)
            .map_err(fail("waiting for the child's task port"))?
        {
            Some(child) if child.pid == child_pid => break child,
            // Someone else's task port: not ours to keep or answer.
            Some(stranger) => {
                ops.release_right(stranger.reply);
                ops.release_right(stranger.task);
            }
            None => {}
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
        Ok(()) => ops
            .receive_ack(reply, timeouts.ack)
            .map_err(fail("waiting for the parent"))
            .and_then(|()| {
                ops.reload_bootstrap_port()
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

/// The fork protocol for one process: what `before_fork` prepared, kept
/// until `after_fork_*` or `fork_failed` takes it. A child inherits the
/// parent's copy with the rest of its memory.
#[derive(Debug)]
pub struct ForkHooks<M> {
    ops: M,
    timeouts: Timeouts,
    pending: Mutex<Option<Prepared>>,
}

impl<M: MachOps> ForkHooks<M> {
    pub const fn new(ops: M, timeouts: Timeouts) -> Self {
        ForkHooks {
            ops,
            timeouts,
            pending: Mutex::new(None),
        }
    }

    fn pending(&self) -> MutexGuard<'_, Option<Prepared>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Before `fork`, with the names of the semaphores open now.
    pub fn before_fork(&self, semaphores: Vec<PortName>) -> Result<(), ForkError> {
        // A preparation left over from a fork that never came back to us
        // (another library's hook raised in between) is undone first.
        self.fork_failed();
        let prepared = prepare(&self.ops, semaphores)?;
        *self.pending() = prepared;
        Ok(())
    }

    /// In the parent, when `fork` failed or raised: undoes `before_fork`.
    pub fn fork_failed(&self) {
        let stale = self.pending().take();
        if let Some(prepared) = stale {
            abandon(&self.ops, prepared);
        }
    }

    /// In the parent, after a successful `fork`: takes what `before_fork`
    /// prepared and restores the bootstrap port. Quick, and to be called
    /// while no other thread can fork (Ruby holds its GVL), so that another
    /// fork can neither take this preparation nor see a half-restored port.
    /// The returned service then waits for the child, which is best done
    /// without the GVL.
    #[must_use = "the child waits until it is served"]
    pub fn after_fork_parent(&self, child_pid: u32) -> ChildService<'_, M> {
        let prepared = self.pending().take();
        let restored = match &prepared {
            Some(prepared) => restore_parent(&self.ops, prepared),
            None => Ok(()),
        };
        ChildService {
            hooks: self,
            prepared,
            restored,
            child_pid,
        }
    }

    /// In the child, after `fork`: the names of the semaphores it received.
    pub fn after_fork_child(&self) -> Result<Vec<PortName>, ForkError> {
        let prepared = self.pending().take();
        match prepared {
            Some(prepared) => {
                child_after_fork(&self.ops, &prepared, self.timeouts).map(|()| prepared.semaphores)
            }
            None => Ok(Vec::new()),
        }
    }
}

/// The parent's wait for its child, returned by
/// [`ForkHooks::after_fork_parent`].
#[derive(Debug)]
pub struct ChildService<'a, M> {
    hooks: &'a ForkHooks<M>,
    prepared: Option<Prepared>,
    restored: Result<(), ForkError>,
    child_pid: u32,
}

impl<M: MachOps> ChildService<'_, M> {
    /// Gives the child its semaphores; waits at most about
    /// `Timeouts::child_message` for it. `Ok` at once when there was
    /// nothing to copy.
    pub fn serve(self) -> Result<(), ForkError> {
        match self.prepared {
            Some(prepared) => parent_after_fork(
                &self.hooks.ops,
                prepared,
                self.restored,
                self.child_pid,
                self.hooks.timeouts,
            ),
            None => self.restored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::simulated::{Fault, SimTask, World, SEND_ONCE_NOTIFICATION};
    use super::*;
    use std::sync::Arc;

    // Short enough for quick tests; the child's so much longer than the
    // parent's that "the child heard at once" (well under `ack`) holds even
    // on a loaded machine.
    const TIMEOUTS: Timeouts = Timeouts {
        child_message: Duration::from_millis(300),
        ack: Duration::from_secs(3),
    };
    /// Far above every timeout: an exchange still running then has hung.
    const HANG: Duration = Duration::from_secs(10);

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

    /// A parent with `count` open semaphores, its hooks, and the hooks its
    /// child inherits after `fork` (the pending preparation is copied memory).
    struct Fork {
        world: Arc<World>,
        parent: SimTask,
        child: SimTask,
        semaphores: Vec<PortName>,
        /// Every name the parent held just before `before_fork`.
        parent_names: Vec<PortName>,
        /// The parent's bootstrap port then (launchd's).
        parent_bootstrap: Option<u64>,
        parent_hooks: Arc<ForkHooks<SimTask>>,
        child_hooks: Arc<ForkHooks<SimTask>>,
    }

    const CHILD_PID: u32 = 200;

    fn fork_with(count: usize, open: impl Fn(usize) -> bool) -> Fork {
        fork_injecting(count, open, |_, _, _| {})
    }

    /// Like `fork_with`, with a chance to inject faults into the world, the
    /// parent and the child before the exchange.
    fn fork_injecting(
        count: usize,
        open: impl Fn(usize) -> bool,
        inject: impl FnOnce(&Arc<World>, &SimTask, &SimTask),
    ) -> Fork {
        let world = World::new();
        let parent = world.spawn(100);
        let created: Vec<PortName> = (0..count)
            .map(|_| world.create_semaphore(&parent))
            .collect();
        let mut semaphores = Vec::new();
        for (index, &name) in created.iter().enumerate() {
            if open(index) {
                semaphores.push(name);
            } else {
                // Closed before the fork: released and no longer registered.
                parent.release_right(name);
            }
        }
        let parent_names = world.names(&parent);
        let parent_bootstrap = world.bootstrap(&parent).0;
        let parent_hooks = ForkHooks::new(parent.clone(), TIMEOUTS);
        parent_hooks.before_fork(semaphores.clone()).unwrap();
        let child = world.fork(&parent, CHILD_PID);
        let child_hooks = ForkHooks {
            ops: child.clone(),
            timeouts: TIMEOUTS,
            pending: Mutex::new(parent_hooks.pending().clone()),
        };
        inject(&world, &parent, &child);
        Fork {
            world,
            parent,
            child,
            semaphores: created,
            parent_names,
            parent_bootstrap,
            parent_hooks: Arc::new(parent_hooks),
            child_hooks: Arc::new(child_hooks),
        }
    }

    type Outcome = (Result<(), ForkError>, Duration);

    fn run_both(fork: &Fork) -> (Outcome, Outcome) {
        let parent_hooks = fork.parent_hooks.clone();
        let child_hooks = fork.child_hooks.clone();
        let parent = bounded(move || parent_hooks.after_fork_parent(CHILD_PID).serve());
        let child = bounded(move || child_hooks.after_fork_child().map(drop));
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
    /// restored, no name leaked) and returns its bootstrap port, which is
    /// also the child's original one.
    fn parent_restored(fork: &Fork) -> Option<u64> {
        let (special, libc) = fork.world.bootstrap(&fork.parent);
        assert_eq!(
            special, fork.parent_bootstrap,
            "bootstrap port not restored"
        );
        assert_eq!(libc, fork.parent_bootstrap);
        assert_eq!(fork.world.names(&fork.parent), fork.parent_names);
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

        for (index, &name) in fork.semaphores.iter().enumerate() {
            let in_child = fork.world.send_right(&fork.child, name);
            if index == 1 {
                assert_eq!(in_child, None, "a closed semaphore was copied");
            } else {
                assert!(in_child.is_some(), "semaphore {name:#x} missing");
                assert_eq!(in_child, fork.world.send_right(&fork.parent, name));
            }
        }
        // Bootstrap ports are back to the real one on both sides, also in
        // the child's C library.
        let original = parent_restored(&fork);
        assert_eq!(fork.world.bootstrap(&fork.child), (original, original));
        // Nothing leaked: the child holds its task port and the semaphores.
        let mut expected_in_child = vec![fork.child.task_self()];
        expected_in_child.extend(
            fork.semaphores
                .iter()
                .enumerate()
                .filter(|&(index, _)| index != 1)
                .map(|(_, &name)| name),
        );
        expected_in_child.sort_unstable();
        assert_eq!(fork.world.names(&fork.child), expected_in_child);
    }

    #[test]
    fn a_grandchild_gets_the_semaphores_from_the_child() {
        let fork = fork_with(2, |_| true);
        let (parent, child) = run_both(&fork);
        parent.0.unwrap();
        child.0.unwrap();
        // The child forks in turn, with the same registry (its copy).
        let child_hooks = ForkHooks::new(fork.child.clone(), TIMEOUTS);
        child_hooks.before_fork(fork.semaphores.clone()).unwrap();
        let grandchild = fork.world.fork(&fork.child, 300);
        let grandchild_hooks = ForkHooks {
            ops: grandchild.clone(),
            timeouts: TIMEOUTS,
            pending: Mutex::new(child_hooks.pending().clone()),
        };
        let served = bounded(move || child_hooks.after_fork_parent(300).serve());
        let joined = bounded(move || grandchild_hooks.after_fork_child());
        finish(served).0.unwrap();
        assert_eq!(finish(joined).0.unwrap(), fork.semaphores);
        for &name in &fork.semaphores {
            assert!(fork.world.send_right(&grandchild, name).is_some());
            assert_eq!(
                fork.world.send_right(&grandchild, name),
                fork.world.send_right(&fork.parent, name)
            );
        }
    }

    #[test]
    fn with_no_open_semaphore_nothing_is_exchanged() {
        let fork = fork_with(2, |_| false);
        assert_eq!(*fork.parent_hooks.pending(), None);
        let (parent, child) = run_both(&fork);
        parent.0.unwrap();
        child.0.unwrap();
        assert_eq!(fork.world.names(&fork.parent), fork.parent_names);
        assert_eq!(fork.world.names(&fork.child), vec![fork.child.task_self()]);
    }

    #[test]
    fn a_child_that_cannot_send_its_task_port_fails_and_the_parent_times_out() {
        let fork = fork_injecting(
            2,
            |_| true,
            |world, _, child| world.inject(child, Fault::SendTaskPortFails),
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
        let fork = fork_injecting(1, |_| true, |world, _, child| world.kill(child));
        let parent_hooks = fork.parent_hooks.clone();
        let (result, took) = finish(bounded(move || {
            parent_hooks.after_fork_parent(CHILD_PID).serve()
        }));
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
        );
        let (parent, child) = run_both(&fork);
        assert!(parent.0.is_err());
        assert_failed(&child, Side::Child, "waiting for the parent");
        assert!(child.1 < TIMEOUTS.ack, "the child waited out its timeout");
    }

    #[test]
    fn a_parent_that_died_before_serving_fails_the_child_at_once() {
        let fork = fork_with(2, |_| true);
        fork.world.kill(&fork.parent);
        let child_hooks = fork.child_hooks.clone();
        let (result, took) = finish(bounded(move || child_hooks.after_fork_child().map(drop)));
        assert_eq!(result.unwrap_err().side, Side::Child);
        assert!(took < TIMEOUTS.ack, "the child waited out its timeout");
    }

    #[test]
    fn a_parent_that_never_serves_makes_the_child_time_out() {
        let fork = fork_with(2, |_| true);
        let child_hooks = fork.child_hooks.clone();
        let (result, took) = finish(bounded(move || child_hooks.after_fork_child().map(drop)));
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
                // While the rendezvous is the bootstrap port, a stranger forked
                // too and sends first; then something else writes to it.
                let stranger = world.fork(parent, 999);
                let hooks = ForkHooks {
                    ops: stranger,
                    timeouts: Timeouts {
                        child_message: TIMEOUTS.child_message,
                        ack: Duration::from_millis(50),
                    },
                    pending: Mutex::new(Some(Prepared {
                        rendezvous: 0,
                        saved_bootstrap: 0,
                        semaphores: vec![],
                    })),
                };
                let stranger_result = hooks.after_fork_child();
                assert!(stranger_result.is_err(), "the stranger was served");
                world.send_stray_to_bootstrap_of(parent);
            },
        );
        let (parent, child) = run_both(&fork);
        parent.0.unwrap();
        child.0.unwrap();
        for &name in &fork.semaphores {
            assert!(fork.world.send_right(&fork.child, name).is_some());
        }
    }

    #[test]
    fn failures_before_the_fork_undo_what_was_done() {
        for fault in [
            Fault::AllocateFails,
            Fault::ReadBootstrapFails,
            Fault::SetBootstrapFails,
        ] {
            let world = World::new();
            let parent = world.spawn(100);
            let semaphore = world.create_semaphore(&parent);
            let names_before = world.names(&parent);
            let bootstrap_before = world.bootstrap(&parent);
            world.inject(&parent, fault);
            let hooks = ForkHooks::new(parent.clone(), TIMEOUTS);
            let err = hooks.before_fork(vec![semaphore]).unwrap_err();
            assert_eq!(err.side, Side::Parent, "{fault:?}");
            assert_eq!(*hooks.pending(), None, "{fault:?}");
            assert_eq!(world.names(&parent), names_before, "{fault:?}");
            assert_eq!(world.bootstrap(&parent), bootstrap_before, "{fault:?}");
        }
    }

    #[test]
    fn a_second_fork_while_the_first_child_is_served_gets_its_own_exchange() {
        // Ruby runs `after_fork_parent` with its GVL and then serves the
        // child without it, so another thread may fork in between.
        let fork = fork_with(2, |_| true);
        let first = fork.parent_hooks.after_fork_parent(CHILD_PID);
        assert_eq!(
            fork.world.bootstrap(&fork.parent),
            (fork.parent_bootstrap, fork.parent_bootstrap),
            "the bootstrap port must be restored before the child is served"
        );
        fork.parent_hooks
            .before_fork(fork.semaphores.clone())
            .unwrap();
        let second_child = fork.world.fork(&fork.parent, 201);
        let second_hooks = Arc::new(ForkHooks {
            ops: second_child.clone(),
            timeouts: TIMEOUTS,
            pending: Mutex::new(fork.parent_hooks.pending().clone()),
        });
        let second = fork.parent_hooks.after_fork_parent(201);
        let child_hooks = fork.child_hooks.clone();
        let first_child = bounded(move || child_hooks.after_fork_child().map(drop));
        let second_joined = bounded(move || second_hooks.after_fork_child().map(drop));
        std::thread::scope(|scope| {
            let served = [
                scope.spawn(|| first.serve()),
                scope.spawn(|| second.serve()),
            ];
            for service in served {
                service.join().unwrap().unwrap();
            }
        });
        finish(first_child).0.unwrap();
        finish(second_joined).0.unwrap();
        for &name in &fork.semaphores {
            assert!(fork.world.send_right(&fork.child, name).is_some());
            assert!(fork.world.send_right(&second_child, name).is_some());
        }
        parent_restored(&fork);
    }

    #[test]
    fn a_fork_that_did_not_happen_is_undone() {
        let world = World::new();
        let parent = world.spawn(100);
        let semaphore = world.create_semaphore(&parent);
        let names_before = world.names(&parent);
        let bootstrap_before = world.bootstrap(&parent);
        let hooks = ForkHooks::new(parent.clone(), TIMEOUTS);

        hooks.before_fork(vec![semaphore]).unwrap();
        assert_ne!(world.bootstrap(&parent).0, bootstrap_before.0);
        hooks.fork_failed();
        assert_eq!(world.names(&parent), names_before);
        assert_eq!(world.bootstrap(&parent), bootstrap_before);

        // A preparation whose fork never reported back is undone by the next.
        hooks.before_fork(vec![semaphore]).unwrap();
        hooks.before_fork(vec![semaphore]).unwrap();
        hooks.fork_failed();
        assert_eq!(world.names(&parent), names_before);
        assert_eq!(world.bootstrap(&parent), bootstrap_before);
    }
}
