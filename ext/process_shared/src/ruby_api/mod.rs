//! The Ruby binding: one file per Ruby class, plus the shared plumbing
//! (errors, argument conversion, handles, blocking without the GVL).

mod args;
mod atomic_integer;
mod barrier;
mod binary_semaphore;
mod blocking;
mod condition_variable;
mod convert;
mod count_down_latch;
mod errors;
mod event;
mod fast_lock;
mod fast_path;
mod fiber_wait;
mod fork_hook;
mod gc;
mod guard;
mod handle;
mod methods;
mod monitor;
mod mutex;
mod named;
mod owner;
mod queue;
mod queue_codec;
mod read_write_lock;
mod running_ec;
mod semaphore;
mod semaphore_mutex;
mod shared_array;
mod shared_array_atomic;
mod shared_memory;
mod typed;
mod undo_semaphore;
mod uninterruptible;

use magnus::{Error, Ruby};

/// Defines `ProcessShared` and every native class under it.
pub fn init(ruby: &Ruby) -> Result<(), Error> {
    crate::core::identity::install();
    // `PROCESS_SHARED_WRITE_PREFETCH=0` leaves it off: a benchmarking knob
    // (`bench/counter.rb`, with and without).
    if std::env::var_os("PROCESS_SHARED_WRITE_PREFETCH").is_none_or(|value| value != "0") {
        crate::core::atomic::detect_write_prefetch();
    }
    let namespace = ruby.define_module("ProcessShared")?;
    errors::init(ruby, namespace)?;
    guard::init(ruby, namespace)?;
    fork_hook::init(ruby, namespace)?;
    named::init(ruby, namespace)?;
    owner::init(ruby, namespace)?;
    semaphore::init(ruby, namespace)?;
    shared_memory::init(ruby, namespace)?;
    shared_array::init(ruby, namespace)?;
    mutex::init(ruby, namespace)?;
    monitor::init(ruby, namespace)?;
    condition_variable::init(ruby, namespace)?;
    binary_semaphore::init(ruby, namespace)?;
    semaphore_mutex::init(ruby, namespace)?;
    queue::init(ruby, namespace)?;
    barrier::init(ruby, namespace)?;
    count_down_latch::init(ruby, namespace)?;
    event::init(ruby, namespace)?;
    undo_semaphore::init(ruby, namespace)?;
    read_write_lock::init(ruby, namespace)?;
    atomic_integer::init(ruby, namespace)?;
    fast_lock::init(namespace)?;
    Ok(())
}
