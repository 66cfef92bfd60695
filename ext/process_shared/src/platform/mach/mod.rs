//! What the Mach fork protocol needs from the kernel, as plain Rust: the
//! [`MachOps`] trait (implemented by `macos::Mach` with the real calls, and
//! by the core's tests with a simulated kernel) and the registry of the
//! semaphore rights this process holds. Compiled everywhere so that the
//! protocol (`core::fork_protocol`) is tested on any system; only macOS
//! fills the registry.

use std::fmt;
use std::time::Duration;

mod registry;
pub use registry::{Names, PortRegistry, OPEN_SEMAPHORES};

/// A Mach port name: an index into one task's name space.
pub type PortName = u32;

/// Why a Mach operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachError {
    /// A wait for a message ran out of time.
    TimedOut,
    /// A signal interrupted a wait for a message (`MACH_RCV_INTERRUPTED`);
    /// nothing was received. Callers wait again for the time that is left.
    Interrupted,
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
            MachError::Interrupted => f.write_str("interrupted"),
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

/// Names for the codes the protocol can meet, for readable errors.
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

/// The Mach operations the fork protocol needs, each on the calling task.
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
    /// that is not a child's task port (it has been discarded). May end
    /// early with [`MachError::Interrupted`].
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
    /// Child: waits for the parent's answer on `reply`. May end early with
    /// [`MachError::Interrupted`].
    fn receive_ack(&self, reply: PortName, timeout: Duration) -> Result<(), MachError>;
    /// Child: makes the C library read the (restored) bootstrap port again,
    /// releasing the right it held under `stale` (the rendezvous name this
    /// child read) if that is what it held, and nothing else.
    fn reload_bootstrap_port(&self, stale: PortName) -> Result<(), MachError>;
}
