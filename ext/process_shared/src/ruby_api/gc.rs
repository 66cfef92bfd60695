//! Telling Ruby's garbage collector about the shared mappings it cannot see.
//!
//! Each object's mapping lives outside Ruby's heap, so a loop that creates
//! objects and drops them without `close` would not make the GC run soon
//! enough, and the process could reach the kernel's limit on mappings
//! (`vm.max_map_count`) or run out of address space with most of them
//! garbage. We report every mapping as allocated memory, which makes the GC
//! run in proportion, and if the kernel still refuses a mapping we collect
//! garbage once and try again. Every class that maps memory is made here.

use super::errors::core_error;
use crate::core::{CoreError, CoreResult};
use magnus::{Error, Ruby};

fn is_out_of_mappings(err: &CoreError) -> bool {
    matches!(err, CoreError::Os(os) if os.raw_os_error() == Some(libc::ENOMEM))
}

/// Makes a resource that maps `bytes` of shared memory, retrying once after
/// a full GC if the kernel is out of mappings. (Classes made through
/// `named::create` go through [`allocate_with`]; this stays for a class
/// that cannot be named.)
#[allow(dead_code)]
pub fn allocate<T>(
    ruby: &Ruby,
    bytes: usize,
    make: impl FnMut() -> CoreResult<T>,
) -> Result<T, Error> {
    allocate_with(ruby, bytes, is_out_of_mappings, make).map_err(|err| core_error(ruby, err))
}

/// [`allocate`] for makers with their own error type (named objects):
/// `out_of_mappings` tells which errors a GC may cure.
pub fn allocate_with<T, E>(
    ruby: &Ruby,
    bytes: usize,
    out_of_mappings: impl Fn(&E) -> bool,
    mut make: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let made = match make() {
        Err(err) if out_of_mappings(&err) => {
            ruby.gc_start();
            make()
        }
        other => other,
    }?;
    let reported = isize::try_from(bytes).unwrap_or(isize::MAX);
    // SAFETY: called with the GVL held (we are in a Ruby method); Ruby only
    // adds the figure to its malloc counter.
    unsafe { rb_sys::rb_gc_adjust_memory_usage(reported as _) };
    // Ruby compares that counter with its limit only when it mallocs, and
    // a loop that makes our objects may malloc nothing: a one-byte malloc
    // lets it start the (minor) GC the counter calls for now.
    // SAFETY: with the GVL held, as above; the block is freed at once.
    unsafe { rb_sys::ruby_xfree(rb_sys::ruby_xmalloc(1)) };
    Ok(made)
}
