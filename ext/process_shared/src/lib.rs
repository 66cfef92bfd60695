//! process_shared: cross-process concurrency primitives for forked Ruby
//! processes.
//!
//! Three layers, kept apart:
//! - [`platform`]: the operating system (mappings, semaphores, clocks);
//! - [`core`]: the algorithms, plain Rust with no Ruby types;
//! - `ruby_api`: one file per Ruby class, converting arguments, releasing
//!   the GVL and mapping errors to Ruby exceptions.

pub mod core;
pub mod platform;

// The binding layer needs a running Ruby; unit tests exercise the core alone.
#[cfg(not(test))]
mod ruby_api;

#[cfg(not(test))]
#[magnus::init]
fn init(ruby: &magnus::Ruby) -> Result<(), magnus::Error> {
    ruby_api::init(ruby)
}
