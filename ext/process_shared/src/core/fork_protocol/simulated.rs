//! An in-memory model of the Mach operations the fork protocol uses, so that
//! `cargo test` runs the protocol on any system.
//!
//! It models what the protocol relies on: tasks with their own name spaces
//! (names start alike in every task, so a child's names collide with its
//! parent's as on macOS), ports with message queues, receive, send (counted,
//! one name per port and task) and send-once rights, the bootstrap special
//! port that a forked child inherits, and death: a dead task's receive rights
//! die, messages queued on them are destroyed, and every send-once right that
//! goes unused sends its notification. Faults can be injected per task.

use super::{ChildTask, MachError, MachOps, PortName};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

type PortId = u64;
type TaskId = u64;

const MACH_SEND_INVALID_DEST: i32 = 0x1000_0003;
const KERN_FAILURE: i32 = 5;
const KERN_NAME_EXISTS: i32 = 13;
const KERN_INVALID_NAME: i32 = 15;
const KERN_INVALID_RIGHT: i32 = 17;
const KERN_RIGHT_EXISTS: i32 = 18;
/// The id of a send-once notification (`MACH_NOTIFY_SEND_ONCE`).
pub const SEND_ONCE_NOTIFICATION: i32 = 0o107;

/// A failure to inject into one task's operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    AllocateFails,
    ReadBootstrapFails,
    SetBootstrapFails,
    SendTaskPortFails,
    /// Inserting this name into another task fails.
    InsertFails(PortName),
    /// The acknowledgement is accepted and then silently lost.
    AckLost,
    /// The task dies right after it receives a child's task port.
    DiesAfterReceiving,
    /// Signals keep arriving: every wait for a message that has waited
    /// [`INTERRUPT_EVERY`] without one ends with `MachError::Interrupted`.
    ReceivesInterrupted,
}

/// How often a task with [`Fault::ReceivesInterrupted`] is interrupted.
pub const INTERRUPT_EVERY: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payload {
    TaskPort { task: PortId, reply: PortId },
    Ack,
    Stray,
    SendOnceNotification,
}

#[derive(Debug, Default)]
struct Port {
    queue: VecDeque<Payload>,
    dead: bool,
    /// Set when this is a task's own (kernel) port.
    task: Option<TaskId>,
}

/// The rights one name holds: a receive right and/or send rights for one
/// port, or a single send-once right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    port: PortId,
    receive: bool,
    send_refs: u32,
    send_once: bool,
}

#[derive(Debug)]
struct Task {
    pid: u32,
    alive: bool,
    names: BTreeMap<PortName, Entry>,
    next_index: u32,
    self_port: PortId,
    self_name: PortName,
    bootstrap: Option<PortId>,
    /// What the C library's `bootstrap_port` variable refers to.
    libc_bootstrap: Option<PortId>,
    faults: Vec<Fault>,
}

#[derive(Debug, Default)]
struct State {
    ports: HashMap<PortId, Port>,
    tasks: HashMap<TaskId, Task>,
    next_port: PortId,
    next_task: TaskId,
    /// How many waits `Fault::ReceivesInterrupted` has ended.
    interruptions: u64,
}

/// The simulated kernel.
#[derive(Debug, Default)]
pub struct World {
    state: Mutex<State>,
    changed: Condvar,
}

/// One task's view of the kernel: the [`MachOps`] the protocol runs on.
#[derive(Debug, Clone)]
pub struct SimTask {
    world: Arc<World>,
    id: TaskId,
}

impl State {
    fn new_port(&mut self) -> PortId {
        self.next_port += 1;
        self.ports.insert(self.next_port, Port::default());
        self.next_port
    }

    fn task(&mut self, id: TaskId) -> &mut Task {
        self.tasks.get_mut(&id).expect("no such task")
    }

    fn fresh_name(&mut self, task: TaskId) -> PortName {
        let task = self.task(task);
        loop {
            task.next_index += 1;
            let name = (task.next_index << 8) | 3;
            if !task.names.contains_key(&name) {
                return name;
            }
        }
    }

    /// Gives `task` one more send right to `port`, under the name it already
    /// uses for that port if any (as Mach does).
    fn add_send(&mut self, task: TaskId, port: PortId) -> PortName {
        let existing = self
            .task(task)
            .names
            .iter()
            .find(|(_, entry)| entry.port == port && !entry.send_once)
            .map(|(&name, _)| name);
        let name = existing.unwrap_or_else(|| self.fresh_name(task));
        let entry = self.task(task).names.entry(name).or_insert(Entry {
            port,
            receive: false,
            send_refs: 0,
            send_once: false,
        });
        entry.send_refs += 1;
        name
    }

    fn add_send_once(&mut self, task: TaskId, port: PortId) -> PortName {
        let name = self.fresh_name(task);
        self.task(task).names.insert(
            name,
            Entry {
                port,
                receive: false,
                send_refs: 0,
                send_once: true,
            },
        );
        name
    }

    fn enqueue(&mut self, port: PortId, payload: Payload) -> bool {
        match self.ports.get_mut(&port) {
            Some(target) if !target.dead => {
                target.queue.push_back(payload);
                true
            }
            _ => false,
        }
    }

    /// A send-once right went unused: its port hears about it.
    fn notify_send_once(&mut self, port: PortId) {
        self.enqueue(port, Payload::SendOnceNotification);
    }

    fn kill_port(&mut self, port: PortId) {
        let Some(target) = self.ports.get_mut(&port) else {
            return;
        };
        target.dead = true;
        let destroyed: Vec<Payload> = target.queue.drain(..).collect();
        for payload in destroyed {
            if let Payload::TaskPort { reply, .. } = payload {
                self.notify_send_once(reply);
            }
        }
    }

    fn kill_task(&mut self, id: TaskId) {
        let task = self.task(id);
        task.alive = false;
        let self_port = task.self_port;
        let entries: Vec<Entry> = std::mem::take(&mut task.names).into_values().collect();
        for entry in entries {
            if entry.receive {
                self.kill_port(entry.port);
            }
            if entry.send_once {
                self.notify_send_once(entry.port);
            }
        }
        self.kill_port(self_port);
    }
}

impl World {
    pub fn new() -> Arc<World> {
        Arc::new(World::default())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn new_task(state: &mut State, pid: u32, bootstrap: Option<PortId>) -> TaskId {
        state.next_task += 1;
        let id = state.next_task;
        let self_port = state.new_port();
        state.ports.get_mut(&self_port).unwrap().task = Some(id);
        state.tasks.insert(
            id,
            Task {
                pid,
                alive: true,
                names: BTreeMap::new(),
                next_index: 0,
                self_port,
                self_name: 0,
                bootstrap,
                libc_bootstrap: bootstrap,
                faults: Vec::new(),
            },
        );
        let self_name = state.add_send(id, self_port);
        state.task(id).self_name = self_name;
        id
    }

    /// A task whose bootstrap port is a fresh port of the system's (launchd).
    pub fn spawn(self: &Arc<Self>, pid: u32) -> SimTask {
        let mut state = self.lock();
        let launchd = state.new_port();
        let id = World::new_task(&mut state, pid, Some(launchd));
        SimTask {
            world: self.clone(),
            id,
        }
    }

    /// `fork`: a new task whose name space holds only its own task port; it
    /// inherits its parent's bootstrap special port.
    pub fn fork(self: &Arc<Self>, parent: &SimTask, pid: u32) -> SimTask {
        let mut state = self.lock();
        let bootstrap = state.task(parent.id).bootstrap;
        let id = World::new_task(&mut state, pid, bootstrap);
        SimTask {
            world: self.clone(),
            id,
        }
    }

    /// A semaphore (a kernel port) created by `task`: the name of its send right.
    pub fn create_semaphore(&self, task: &SimTask) -> PortName {
        let mut state = self.lock();
        let port = state.new_port();
        state.add_send(task.id, port)
    }

    pub fn kill(&self, task: &SimTask) {
        self.lock().kill_task(task.id);
        self.changed.notify_all();
    }

    pub fn inject(&self, task: &SimTask, fault: Fault) {
        self.lock().task(task.id).faults.push(fault);
    }

    /// The port `name` names in `task`, if it holds a live send right there.
    pub fn send_right(&self, task: &SimTask, name: PortName) -> Option<u64> {
        let mut state = self.lock();
        let entry = *state.task(task.id).names.get(&name)?;
        (entry.send_refs > 0 && !state.ports[&entry.port].dead).then_some(entry.port)
    }

    /// How many waits injected signals have interrupted so far.
    pub fn interruptions(&self) -> u64 {
        self.lock().interruptions
    }

    /// Every name `task` holds.
    pub fn names(&self, task: &SimTask) -> Vec<PortName> {
        self.lock().task(task.id).names.keys().copied().collect()
    }

    /// (bootstrap special port, the C library's idea of it).
    pub fn bootstrap(&self, task: &SimTask) -> (Option<u64>, Option<u64>) {
        let mut state = self.lock();
        let task = state.task(task.id);
        (task.bootstrap, task.libc_bootstrap)
    }

    /// Queues a message that is not a task port on `task`'s current
    /// bootstrap port (as a confused third party might).
    pub fn send_stray_to_bootstrap_of(&self, task: &SimTask) {
        let mut state = self.lock();
        let port = state.task(task.id).bootstrap.expect("no bootstrap port");
        state.enqueue(port, Payload::Stray);
        self.changed.notify_all();
    }
}

impl SimTask {
    fn with<R>(
        &self,
        call: &'static str,
        f: impl FnOnce(&mut State) -> Result<R, i32>,
    ) -> Result<R, MachError> {
        let mut state = self.world.lock();
        if !state.task(self.id).alive {
            return Err(MachError::Call {
                call,
                code: KERN_FAILURE,
            });
        }
        let result = f(&mut state).map_err(|code| MachError::Call { call, code });
        drop(state);
        self.world.changed.notify_all();
        result
    }

    fn has_fault(state: &mut State, id: TaskId, fault: Fault) -> bool {
        state.task(id).faults.contains(&fault)
    }

    fn entry(state: &mut State, id: TaskId, name: PortName) -> Result<Entry, i32> {
        state
            .task(id)
            .names
            .get(&name)
            .copied()
            .ok_or(KERN_INVALID_NAME)
    }

    /// Waits on the receive right `name` for a message, at most `timeout`.
    fn receive(&self, name: PortName, timeout: Duration) -> Result<Payload, MachError> {
        let deadline = Instant::now() + timeout;
        let interrupt_at = Instant::now() + INTERRUPT_EVERY;
        let mut state = self.world.lock();
        loop {
            let entry = match Self::entry(&mut state, self.id, name) {
                Ok(entry) if entry.receive && state.task(self.id).alive => entry,
                _ => {
                    return Err(MachError::Call {
                        call: "mach_msg",
                        code: 0x1000_4002, // MACH_RCV_INVALID_NAME
                    });
                }
            };
            if let Some(payload) = state.ports.get_mut(&entry.port).unwrap().queue.pop_front() {
                return Ok(payload);
            }
            let mut left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(MachError::TimedOut);
            }
            if Self::has_fault(&mut state, self.id, Fault::ReceivesInterrupted) {
                if interrupt_at <= Instant::now() {
                    state.interruptions += 1;
                    return Err(MachError::Interrupted);
                }
                left = left.min(interrupt_at.saturating_duration_since(Instant::now()));
            }
            state = self
                .world
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl MachOps for SimTask {
    fn task_self(&self) -> PortName {
        self.world.lock().task(self.id).self_name
    }

    fn allocate_port(&self) -> Result<PortName, MachError> {
        let id = self.id;
        self.with("mach_port_allocate", |state| {
            if Self::has_fault(state, id, Fault::AllocateFails) {
                return Err(6); // KERN_RESOURCE_SHORTAGE
            }
            let port = state.new_port();
            let name = state.add_send(id, port);
            state.task(id).names.get_mut(&name).unwrap().receive = true;
            Ok(name)
        })
    }

    fn destroy_port(&self, port: PortName) {
        let id = self.id;
        let _ = self.with("mach_port_destroy", |state| {
            let entry = state
                .task(id)
                .names
                .remove(&port)
                .ok_or(KERN_INVALID_NAME)?;
            if entry.receive {
                state.kill_port(entry.port);
            }
            if entry.send_once {
                state.notify_send_once(entry.port);
            }
            Ok(())
        });
    }

    fn release_right(&self, name: PortName) {
        let id = self.id;
        let _ = self.with("mach_port_deallocate", |state| {
            let entry = Self::entry(state, id, name)?;
            if entry.send_once {
                state.task(id).names.remove(&name);
                state.notify_send_once(entry.port);
            } else if entry.send_refs > 0 {
                let held = state.task(id).names.get_mut(&name).unwrap();
                held.send_refs -= 1;
                if held.send_refs == 0 && !held.receive {
                    state.task(id).names.remove(&name);
                }
            } else {
                return Err(KERN_INVALID_RIGHT);
            }
            Ok(())
        });
    }

    fn bootstrap_port(&self) -> Result<PortName, MachError> {
        let id = self.id;
        self.with("task_get_special_port", |state| {
            if Self::has_fault(state, id, Fault::ReadBootstrapFails) {
                return Err(KERN_FAILURE);
            }
            let port = state.task(id).bootstrap.ok_or(KERN_FAILURE)?;
            Ok(state.add_send(id, port))
        })
    }

    fn set_bootstrap_port(&self, task: PortName, port: PortName) -> Result<(), MachError> {
        let id = self.id;
        self.with("task_set_special_port", |state| {
            if Self::has_fault(state, id, Fault::SetBootstrapFails) {
                return Err(KERN_FAILURE);
            }
            let task_port = Self::entry(state, id, task)?.port;
            let target = state.ports[&task_port].task;
            let target = match target {
                Some(target) if !state.ports[&task_port].dead => target,
                _ => return Err(MACH_SEND_INVALID_DEST),
            };
            let special = Self::entry(state, id, port)?;
            if special.send_refs == 0 {
                return Err(KERN_INVALID_RIGHT);
            }
            state.task(target).bootstrap = Some(special.port);
            Ok(())
        })
    }

    fn send_task_port(
        &self,
        rendezvous: PortName,
        reply: PortName,
        _timeout: Duration,
    ) -> Result<(), MachError> {
        let id = self.id;
        self.with("mach_msg", |state| {
            if Self::has_fault(state, id, Fault::SendTaskPortFails) {
                return Err(MACH_SEND_INVALID_DEST);
            }
            let destination = Self::entry(state, id, rendezvous)?;
            let reply = Self::entry(state, id, reply)?;
            if destination.send_refs == 0 || !reply.receive {
                return Err(KERN_INVALID_RIGHT);
            }
            let task = state.task(id).self_port;
            if !state.enqueue(
                destination.port,
                Payload::TaskPort {
                    task,
                    reply: reply.port,
                },
            ) {
                return Err(MACH_SEND_INVALID_DEST);
            }
            // MOVE_SEND: the sent message took the rendezvous right.
            let held = state.task(id).names.get_mut(&rendezvous).unwrap();
            held.send_refs -= 1;
            if held.send_refs == 0 && !held.receive {
                state.task(id).names.remove(&rendezvous);
            }
            Ok(())
        })
    }

    fn receive_task_port(
        &self,
        rendezvous: PortName,
        timeout: Duration,
    ) -> Result<Option<ChildTask>, MachError> {
        let Payload::TaskPort { task, reply } = self.receive(rendezvous, timeout)? else {
            return Ok(None);
        };
        let id = self.id;
        let (child, dies) = self.with("mach_msg", |state| {
            let pid = state.ports[&task]
                .task
                .map(|owner| state.tasks[&owner].pid)
                .unwrap_or(0);
            let child = ChildTask {
                task: state.add_send(id, task),
                reply: state.add_send_once(id, reply),
                pid,
            };
            Ok((child, Self::has_fault(state, id, Fault::DiesAfterReceiving)))
        })?;
        if dies {
            self.world.kill(self);
        }
        Ok(Some(child))
    }

    fn insert_send_right(&self, task: PortName, name: PortName) -> Result<(), MachError> {
        let id = self.id;
        self.with("mach_port_insert_right", |state| {
            if Self::has_fault(state, id, Fault::InsertFails(name)) {
                return Err(6); // KERN_RESOURCE_SHORTAGE
            }
            let right = Self::entry(state, id, name)?;
            let task_port = Self::entry(state, id, task)?.port;
            let target = match state.ports[&task_port].task {
                Some(target) if !state.ports[&task_port].dead => target,
                _ => return Err(MACH_SEND_INVALID_DEST),
            };
            if right.send_refs == 0 {
                return Err(KERN_INVALID_RIGHT);
            }
            let names = &mut state.task(target).names;
            if let Some(existing) = names.get_mut(&name) {
                if existing.port != right.port || existing.send_once {
                    return Err(KERN_NAME_EXISTS);
                }
                existing.send_refs += 1;
                return Ok(());
            }
            if names.values().any(|entry| entry.port == right.port) {
                return Err(KERN_RIGHT_EXISTS);
            }
            names.insert(
                name,
                Entry {
                    port: right.port,
                    receive: false,
                    send_refs: 1,
                    send_once: false,
                },
            );
            Ok(())
        })
    }

    fn send_ack(&self, reply: PortName, _timeout: Duration) -> Result<(), MachError> {
        let id = self.id;
        self.with("mach_msg", |state| {
            let entry = Self::entry(state, id, reply)?;
            if !entry.send_once {
                return Err(KERN_INVALID_RIGHT);
            }
            state.task(id).names.remove(&reply);
            if Self::has_fault(state, id, Fault::AckLost) {
                return Ok(());
            }
            if state.enqueue(entry.port, Payload::Ack) {
                Ok(())
            } else {
                Err(MACH_SEND_INVALID_DEST)
            }
        })
    }

    fn receive_ack(&self, reply: PortName, timeout: Duration) -> Result<(), MachError> {
        match self.receive(reply, timeout)? {
            Payload::Ack => Ok(()),
            Payload::SendOnceNotification => {
                Err(MachError::UnexpectedMessage(SEND_ONCE_NOTIFICATION))
            }
            _ => Err(MachError::UnexpectedMessage(0)),
        }
    }

    fn reload_bootstrap_port(&self, _stale: PortName) -> Result<(), MachError> {
        let id = self.id;
        self.with("task_get_special_port", |state| {
            let task = state.task(id);
            task.libc_bootstrap = task.bootstrap;
            Ok(())
        })
    }
}
