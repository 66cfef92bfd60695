//! The platform-neutral core: shared regions, typed access, the lock
//! algorithms. Plain Rust, no Ruby types, unit-tested with `cargo test`.

pub mod atomic;
pub mod barrier;
pub mod binary_semaphore;
pub mod condvar;
pub mod error;
pub mod event;
pub mod fork;
pub mod fork_protocol;
pub mod holders;
pub mod identity;
pub mod index;
pub(crate) mod kill_step;
pub mod latch;
pub mod mutex;
pub mod named;
pub mod object_record;
pub mod park;
pub mod queue;
pub mod region;
pub mod rwlock;
pub mod scalar;
pub mod semaphore;
pub mod spin_wait;
#[cfg(test)]
mod test_support;
pub mod thread_end;
pub mod undo_semaphore;
pub mod waiter_slots;

pub use error::{CoreError, CoreResult};
