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
//! The registry itself is plain Rust and tested everywhere; only the macOS
//! platform layer fills it.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// Port names and the pid each is valid in, safe to use from any thread.
#[derive(Debug, Default)]
pub struct PortRegistry {
    names: Mutex<BTreeMap<u32, u32>>,
}

impl PortRegistry {
    pub const fn new() -> Self {
        PortRegistry {
            names: Mutex::new(BTreeMap::new()),
        }
    }

    // Nothing can panic while the lock is held, but a poisoned map is still
    // a correct map: take it rather than propagate the poison.
    fn lock(&self) -> MutexGuard<'_, BTreeMap<u32, u32>> {
        self.names
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a name that process `pid` holds.
    pub fn register(&self, name: u32, pid: u32) {
        self.lock().insert(name, pid);
    }

    /// Forgets a name, returning the pid it was valid in (`None` if unknown).
    pub fn deregister(&self, name: u32) -> Option<u32> {
        self.lock().remove(&name)
    }

    /// The names valid in process `pid`, in ascending order.
    pub fn names_valid_in(&self, pid: u32) -> Vec<u32> {
        self.lock()
            .iter()
            .filter(|&(_, &valid_in)| valid_in == pid)
            .map(|(&name, _)| name)
            .collect()
    }

    /// After a fork: `names` were copied into process `pid`.
    pub fn mark_valid_in(&self, names: &[u32], pid: u32) {
        let mut registered = self.lock();
        for name in names {
            if let Some(valid_in) = registered.get_mut(name) {
                *valid_in = pid;
            }
        }
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
