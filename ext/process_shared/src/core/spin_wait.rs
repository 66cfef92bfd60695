//! Bounded spinning before sleeping in the kernel.
//!
//! A lock is usually held for a few hundred nanoseconds, far less than a
//! sleep and a wake-up through the kernel cost. Before a waiter sleeps it
//! spins a little: a few rounds of exponentially more `pause` instructions,
//! then a few `sched_yield`s, which let a holder preempted on this core run.
//! The whole spin is bounded to a few microseconds; past that, sleeping is
//! cheaper.

/// Rounds that only pause the CPU (2, 4, … 64 pauses).
const PAUSE_ROUNDS: u32 = 6;
/// Further rounds that yield the CPU to another runnable thread.
const YIELD_ROUNDS: u32 = 0;

/// A spin that gives up after a fixed number of rounds.
#[derive(Debug, Default)]
pub struct SpinWait {
    rounds: u32,
}

impl SpinWait {
    /// Waits a little, more each round; `false` once it is time to sleep.
    pub fn spin(&mut self) -> bool {
        if self.rounds >= PAUSE_ROUNDS + YIELD_ROUNDS {
            return false;
        }
        self.rounds += 1;
        if self.rounds <= PAUSE_ROUNDS {
            for _ in 0..(1u32 << self.rounds) {
                std::hint::spin_loop();
            }
        } else {
            std::thread::yield_now();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_up_after_a_bounded_number_of_rounds() {
        let mut spin = SpinWait::default();
        let rounds = std::iter::from_fn(|| spin.spin().then_some(())).count();
        assert_eq!(rounds as u32, PAUSE_ROUNDS + YIELD_ROUNDS);
        assert!(!spin.spin());
    }
}
