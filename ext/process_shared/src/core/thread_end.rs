//! Releasing the holds of a thread that ended.
//!
//! A Ruby thread may end (return, raise, be killed) while one of its fibers
//! still holds a lock; `Thread::Mutex` is then released, and so are ours:
//! the binding calls [`release_thread`] from the ending thread with the
//! thread part of its owner tokens (see `identity`), and every object of
//! this process that can be held registers here when it is opened.
//!
//! Registration happens when an object is opened in a process (never on a
//! lock or unlock), and [`release_thread`] scans the live objects: ending a
//! thread costs a pass over them, taking a lock costs nothing more.

use std::sync::{Mutex, MutexGuard, Weak};

/// Something a thread of this process can hold.
pub trait HeldByThreads: Send + Sync {
    /// Releases what any fiber of this process's thread `thread` (an owner
    /// token's thread part) holds on `self`; how many holds were released.
    fn release_thread(&self, thread: u32) -> usize;
}

struct Registry {
    objects: Vec<Weak<dyn HeldByThreads>>,
    /// Dead entries are swept when the list reaches this length.
    sweep_at: usize,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    objects: Vec::new(),
    sweep_at: 64,
});

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while holding it leaves a list that is still valid.
    REGISTRY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Remembers `object` (weakly) until it is dropped.
pub fn register(object: Weak<dyn HeldByThreads>) {
    let mut registry = registry();
    if registry.objects.len() >= registry.sweep_at {
        registry.objects.retain(|object| object.strong_count() > 0);
        registry.sweep_at = (registry.objects.len() * 2).max(64);
    }
    registry.objects.push(object);
}

/// Releases every hold the thread `thread` of this process has on any
/// registered object; how many were released.
pub fn release_thread(thread: u32) -> usize {
    // Collected first, released after: releasing never re-enters the
    // registry, but keeping the critical section short is cheap insurance.
    let live: Vec<_> = registry()
        .objects
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    live.iter()
        .map(|object| object.release_thread(thread))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    /// Held by one thread part, or 0.
    struct Fake(AtomicU32);

    impl HeldByThreads for Fake {
        fn release_thread(&self, thread: u32) -> usize {
            usize::from(
                self.0
                    .compare_exchange(thread, 0, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok(),
            )
        }
    }

    #[test]
    fn releases_only_the_ending_threads_holds_on_live_objects() {
        // Thread parts far from any other test's.
        let (ending, other) = (0xdead_0001, 0xdead_0002);
        let held: Vec<Arc<Fake>> = [ending, other, ending]
            .into_iter()
            .map(|thread| Arc::new(Fake(AtomicU32::new(thread))))
            .collect();
        for object in &held {
            let object: Arc<dyn HeldByThreads> = object.clone();
            register(Arc::downgrade(&object));
        }
        let dropped: Arc<dyn HeldByThreads> = Arc::new(Fake(AtomicU32::new(ending)));
        register(Arc::downgrade(&dropped));
        drop(dropped);
        assert_eq!(release_thread(ending), 2);
        let left: Vec<u32> = held.iter().map(|f| f.0.load(Ordering::SeqCst)).collect();
        assert_eq!(left, [0, other, 0]);
        assert_eq!(release_thread(ending), 0);
    }

    #[test]
    fn dropped_objects_are_swept_from_the_list() {
        for _ in 0..1_000 {
            let object: Arc<dyn HeldByThreads> = Arc::new(Fake(AtomicU32::new(0)));
            register(Arc::downgrade(&object));
        }
        assert!(registry().objects.len() < 1_000);
    }
}
