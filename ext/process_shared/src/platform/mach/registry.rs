//! The names of the Mach semaphores this process has open.
//!
//! On macOS a semaphore is a port name, not memory, and a forked child
//! inherits none of its parent's port rights: the fork hook copies a right
//! for every name listed here into the child. Semaphores register when they
//! are created and deregister when this process drops its handle, so a
//! semaphore closed before `fork` is not copied.
//!
//! Each name is recorded with the pid of the process in which it is valid:
//! a child that was forked without the hook (by C code, say) inherits the
//! list but not the rights, and must neither copy nor release those names.
//!
//! While a fork is under way (from the fork hook's `before_fork` until the
//! child has its rights), a semaphore closed by another thread keeps its
//! right: the fork may be copying it. Its release is deferred to the end of
//! the fork ([`PortRegistry::end_fork`]), so its name cannot be reused by an
//! unrelated port in between.
//!
//! The registry itself is plain Rust and tested everywhere; only the macOS
//! platform layer fills it.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// Port names and the pid each is valid in, safe to use from any thread.
#[derive(Debug, Default)]
pub struct PortRegistry {
    state: Mutex<Names>,
}

/// The registry's contents, behind its lock.
#[derive(Debug, Default, Clone)]
pub struct Names {
    valid_in: BTreeMap<u32, u32>,
    /// A fork is under way: releases wait in `deferred`.
    forking: bool,
    deferred: Vec<u32>,
}

impl Names {
    /// The names valid in process `pid`, in ascending order.
    pub fn valid_in(&self, pid: u32) -> Vec<u32> {
        self.valid_in
            .iter()
            .filter(|&(_, &valid_in)| valid_in == pid)
            .map(|(&name, _)| name)
            .collect()
    }
}

impl PortRegistry {
    pub const fn new() -> Self {
        PortRegistry {
            state: Mutex::new(Names {
                valid_in: BTreeMap::new(),
                forking: false,
                deferred: Vec::new(),
            }),
        }
    }

    /// The registry, locked. The fork hook holds this across the `fork`
    /// system call, so that the child's copy is never half-updated.
    // Nothing can panic while the lock is held, but a poisoned map is still
    // a correct map: take it rather than propagate the poison.
    pub fn lock(&self) -> MutexGuard<'_, Names> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a name that process `pid` holds.
    pub fn register(&self, name: u32, pid: u32) {
        self.lock().valid_in.insert(name, pid);
    }

    /// Forgets a name, returning the pid it was valid in (`None` if unknown).
    pub fn deregister(&self, name: u32) -> Option<u32> {
        self.lock().valid_in.remove(&name)
    }

    /// Process `pid` is done with `name`: forgets it and says whether the
    /// caller should release its right now. `false` if the name is not
    /// valid here, or if a fork is under way (the release then happens at
    /// [`end_fork`](Self::end_fork)).
    pub fn release(&self, name: u32, pid: u32) -> bool {
        let mut names = self.lock();
        if names.valid_in.get(&name) != Some(&pid) {
            return false;
        }
        names.valid_in.remove(&name);
        if names.forking {
            names.deferred.push(name);
            return false;
        }
        true
    }

    /// The names valid in process `pid`, in ascending order.
    pub fn names_valid_in(&self, pid: u32) -> Vec<u32> {
        self.lock().valid_in(pid)
    }

    /// After a fork: `names` were copied into process `pid`.
    pub fn mark_valid_in(&self, names: &[u32], pid: u32) {
        let mut registered = self.lock();
        for name in names {
            if let Some(valid_in) = registered.valid_in.get_mut(name) {
                *valid_in = pid;
            }
        }
    }

    /// A registry holding a copy of `names` (a forked child's memory).
    #[cfg(test)]
    pub fn copy_of(names: &Names) -> Self {
        PortRegistry {
            state: Mutex::new(names.clone()),
        }
    }

    /// A fork begins: releases are deferred until [`end_fork`](Self::end_fork).
    pub fn begin_fork(&self) {
        self.lock().forking = true;
    }

    /// The fork is over: the names whose release was deferred, for the
    /// caller to release now (in a child: none of them was copied there, so
    /// the caller drops the list).
    pub fn end_fork(&self) -> Vec<u32> {
        let mut names = self.lock();
        names.forking = false;
        std::mem::take(&mut names.deferred)
    }
}

/// The Mach semaphores this process has open (always empty on Linux).
pub static OPEN_SEMAPHORES: PortRegistry = PortRegistry::new();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_and_go() {
        let registry = PortRegistry::new();
        assert!(registry.names_valid_in(10).is_empty());
        registry.register(0x1703, 10);
        registry.register(0x0a03, 10);
        registry.register(0x1703, 10);
        assert_eq!(registry.names_valid_in(10), vec![0x0a03, 0x1703]);
        assert_eq!(registry.deregister(0x1703), Some(10));
        assert_eq!(registry.deregister(0x9999), None);
        assert_eq!(registry.names_valid_in(10), vec![0x0a03]);
    }

    #[test]
    fn names_are_valid_only_where_they_were_copied() {
        let registry = PortRegistry::new();
        registry.register(0x203, 10);
        registry.register(0x303, 10);
        // A child (pid 11) received only the first one.
        registry.mark_valid_in(&[0x203, 0x999], 11);
        assert_eq!(registry.names_valid_in(11), vec![0x203]);
        assert_eq!(registry.names_valid_in(10), vec![0x303]);
        assert_eq!(registry.deregister(0x303), Some(10));
    }

    #[test]
    fn a_release_during_a_fork_waits_for_its_end() {
        let registry = PortRegistry::new();
        registry.register(0x203, 10);
        registry.register(0x303, 10);
        registry.register(0x403, 11);
        assert!(registry.release(0x203, 10));
        assert!(!registry.release(0x403, 10), "not valid in this process");
        registry.begin_fork();
        assert!(!registry.release(0x303, 10));
        assert!(registry.names_valid_in(10).is_empty());
        assert_eq!(registry.end_fork(), vec![0x303]);
        assert_eq!(registry.end_fork(), Vec::<u32>::new());
    }

    #[test]
    fn threads_register_concurrently() {
        let registry = std::sync::Arc::new(PortRegistry::new());
        let workers: Vec<_> = (0..4u32)
            .map(|worker| {
                let registry = registry.clone();
                std::thread::spawn(move || {
                    for index in 0..100 {
                        registry.register(worker * 1000 + index, 7);
                    }
                    for index in 0..50 {
                        registry.deregister(worker * 1000 + index);
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        assert_eq!(registry.names_valid_in(7).len(), 4 * 50);
    }
}
