//! The platform-neutral core: shared regions, typed access, the lock
//! algorithms. Plain Rust, no Ruby types, unit-tested with `cargo test`.

pub mod atomic;
pub mod binary_semaphore;
pub mod condvar;
pub mod error;
pub mod fork;
pub mod fork_protocol;
pub mod identity;
pub mod index;
pub mod mutex;
pub mod object_record;
pub mod park;
pub mod region;
pub mod scalar;
pub mod semaphore;
pub mod spin_wait;
#[cfg(test)]
mod test_support;
pub mod thread_end;

pub use error::{CoreError, CoreResult};
