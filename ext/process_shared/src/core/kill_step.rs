//! Named steps inside the lock protocols, where the crash tests stop or
//! kill a process.
//!
//! `step!("undo.post.given")` marks a point between two writes to shared
//! memory. Outside `cargo test` it expands to nothing at all. Under test,
//! a child forked by [`Child::spawn`] with a [`Plan`] dies (or stops) the
//! `nth` time it passes the named step, and the parent then checks that the
//! primitive is whole: units back, lock free or recoverable, no count left
//! behind that would cost later uncontended calls a system call.
//!
//! Every step named in the source must be in one of the lists the kill
//! tests run through (see `every_step_in_the_source_is_killed_at`), and
//! every step in a list must be reached by its scenario, or a test fails:
//! a step added without a test, or a test whose step moved away, is caught.
//! ARCHITECTURE.md ("Crash tests at named steps") says how to add one.

/// Marks a named step (see the module comment); nothing outside tests.
#[cfg(test)]
macro_rules! step {
    ($name:literal) => {
        $crate::core::kill_step::reached($name)
    };
}

/// Marks a named step (see the module comment); nothing outside tests.
#[cfg(not(test))]
macro_rules! step {
    ($name:literal) => {};
}

pub(crate) use step;

#[cfg(test)]
pub(crate) use harness::*;

#[cfg(test)]
mod harness {
    use crate::core::test_support::fork_and;
    use crate::platform::monotonic_now;
    use std::cell::Cell;
    use std::time::Duration;

    /// How a process ends (or pauses) at its step.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Death {
        /// `SIGKILL`.
        Kill,
        /// `SIGSEGV` raised with the default action (no core file).
        Segv,
        /// `_exit`, as Ruby's `exit!`.
        Exit,
        /// `SIGSTOP`: a live holder, frozen; it finishes after `SIGCONT`.
        Stop,
    }

    /// Every way of dying, then the live-but-stopped case.
    pub const DEATHS: [Death; 4] = [Death::Kill, Death::Segv, Death::Exit, Death::Stop];

    /// The exit code of a child that `_exit`ed at its step.
    const EXITED_AT_STEP: i32 = 77;
    /// The exit code of a child whose operation ran to its end.
    const FINISHED: i32 = 3;
    /// How long a child may take to reach its step or end.
    const CHILD_DEADLINE: Duration = Duration::from_secs(20);

    /// Where a child stops: the `nth` (from 1) pass through `step`.
    #[derive(Clone, Copy, Debug)]
    pub struct Plan {
        pub step: &'static str,
        pub nth: u32,
        pub death: Death,
    }

    thread_local! {
        static PLAN: Cell<Option<Plan>> = const { Cell::new(None) };
    }

    /// Called by `step!` under test: ends or stops the process if its plan
    /// says so.
    pub fn reached(name: &'static str) {
        let Some(mut plan) = PLAN.with(Cell::get) else {
            return;
        };
        if plan.step != name {
            return;
        }
        if plan.nth > 1 {
            plan.nth -= 1;
            PLAN.with(|cell| cell.set(Some(plan)));
            return;
        }
        PLAN.with(|cell| cell.set(None));
        // SAFETY: ends or stops this process (a forked test child) with a
        // signal or `_exit`; SIGSEGV first gets its default action back
        // (Rust's runtime catches it to report stack overflows) and no core
        // file is written.
        unsafe {
            match plan.death {
                Death::Kill => libc::raise(libc::SIGKILL),
                Death::Segv => {
                    let none = libc::rlimit {
                        rlim_cur: 0,
                        rlim_max: 0,
                    };
                    libc::setrlimit(libc::RLIMIT_CORE, &none);
                    libc::signal(libc::SIGSEGV, libc::SIG_DFL);
                    libc::raise(libc::SIGSEGV)
                }
                Death::Exit => libc::_exit(EXITED_AT_STEP),
                Death::Stop => libc::raise(libc::SIGSTOP),
            };
        }
    }

    /// Whether a child reached its step.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Reached {
        /// It died (or stopped) there, as planned.
        Yes,
        /// Its operation ended without passing the step `nth` times.
        No,
    }

    /// A forked child running an operation with a [`Plan`]. Killed and
    /// reaped when dropped, whatever happened.
    pub struct Child {
        pub pid: libc::pid_t,
        plan: Plan,
        /// The status once it ended, or stopped (`WIFSTOPPED`).
        status: Cell<Option<i32>>,
        reaped: Cell<bool>,
    }

    impl Child {
        /// Forks a child that follows `plan` through `operation`.
        pub fn spawn(plan: Plan, operation: impl FnOnce()) -> Child {
            let pid = fork_and(|| {
                PLAN.with(|cell| cell.set(Some(plan)));
                operation();
                FINISHED
            });
            assert!(pid > 0, "fork failed");
            Child {
                pid,
                plan,
                status: Cell::new(None),
                reaped: Cell::new(false),
            }
        }

        /// Whether it ended or stopped (never blocks).
        pub fn settled(&self) -> bool {
            if self.status.get().is_none() {
                let mut status = 0;
                // SAFETY: polling a child we forked.
                let got = unsafe {
                    libc::waitpid(self.pid, &mut status, libc::WNOHANG | libc::WUNTRACED)
                };
                if got == self.pid {
                    self.reaped.set(!libc::WIFSTOPPED(status));
                    self.status.set(Some(status));
                }
            }
            self.status.get().is_some()
        }

        /// Waits until it ended (or, under [`Death::Stop`], stopped) and
        /// says whether that was at its step; panics on any other end.
        pub fn outcome(&self) -> Reached {
            let give_up = monotonic_now() + CHILD_DEADLINE;
            while !self.settled() {
                assert!(monotonic_now() < give_up, "{:?}: child stuck", self.plan);
                std::thread::sleep(Duration::from_micros(200));
            }
            let status = self.status.get().unwrap_or_default();
            let planned = match self.plan.death {
                Death::Kill => libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL,
                Death::Segv => libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSEGV,
                Death::Exit => {
                    libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == EXITED_AT_STEP
                }
                Death::Stop => libc::WIFSTOPPED(status),
            };
            if planned {
                return Reached::Yes;
            }
            assert!(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == FINISHED,
                "{:?}: the child ended with status {status:#x}",
                self.plan
            );
            Reached::No
        }

        /// Whether it is stopped at its step (a live holder, frozen), as
        /// [`Child::outcome`] or [`Child::settled`] found it; no longer once
        /// let go on.
        pub fn is_stopped(&self) -> bool {
            self.status
                .get()
                .is_some_and(|status| libc::WIFSTOPPED(status))
        }

        /// Lets a stopped child go on and waits for its operation to end
        /// normally.
        pub fn resume(&self) {
            self.cont();
            self.wait_finished();
        }

        /// Lets a stopped child go on.
        pub fn cont(&self) {
            assert_eq!(self.plan.death, Death::Stop);
            self.status.set(None);
            // SAFETY: continuing a child we forked.
            unsafe { libc::kill(self.pid, libc::SIGCONT) };
        }

        /// Waits for the operation of a child let go on to end normally.
        pub fn wait_finished(&self) {
            let give_up = monotonic_now() + CHILD_DEADLINE;
            loop {
                let mut status = 0;
                // SAFETY: polling a child we forked.
                if unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) } == self.pid {
                    self.reaped.set(true);
                    assert!(
                        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == FINISHED,
                        "{:?}: the resumed child ended with status {status:#x}",
                        self.plan
                    );
                    return;
                }
                assert!(monotonic_now() < give_up, "{:?}: child stuck", self.plan);
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }

    impl Drop for Child {
        fn drop(&mut self) {
            if !self.reaped.get() {
                // SAFETY: ending and reaping a child we forked.
                unsafe {
                    libc::kill(self.pid, libc::SIGKILL);
                    libc::waitpid(self.pid, std::ptr::null_mut(), 0);
                }
            }
        }
    }

    /// Polls `done` until it holds or `child` settled, for at most the
    /// child deadline.
    pub fn until_or_settled(child: &Child, mut done: impl FnMut() -> bool) {
        let give_up = monotonic_now() + CHILD_DEADLINE;
        while !done() && !child.settled() {
            assert!(
                monotonic_now() < give_up,
                "{:?}: nothing happened",
                child.plan
            );
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// Runs `scenario` at every pass through every step of `steps`, for
    /// every kind of death: it must return whether its child reached the
    /// plan's step. Each step must be reached at least once; its later
    /// passes (a retry loop, a second transfer) are tried until one is not
    /// reached, at most `MAX_PASSES`. How many passes a run makes can
    /// depend on timing (a waiter that has to wait for the mutex again
    /// registers again), so a later pass that the first death reached is
    /// tried up to `TRIES` times for each other death, and one that none
    /// of those runs reaches is reported, not failed: every run that does
    /// reach its step still has its state checked, and the first pass
    /// through every step must be reached by every death.
    pub fn at_every_step(steps: &[&'static str], mut scenario: impl FnMut(Plan) -> Reached) {
        const MAX_PASSES: u32 = 4;
        const TRIES: u32 = 5;
        for &step in steps {
            for nth in 1..=MAX_PASSES {
                let first = scenario(Plan {
                    step,
                    nth,
                    death: DEATHS[0],
                });
                if first == Reached::No {
                    assert!(nth > 1, "step {step} is never reached");
                    break;
                }
                for death in &DEATHS[1..] {
                    let plan = Plan {
                        step,
                        nth,
                        death: *death,
                    };
                    if nth == 1 {
                        assert_eq!(scenario(plan), Reached::Yes, "{plan:?} not reached");
                    } else if !(0..TRIES).any(|_| scenario(plan) == Reached::Yes) {
                        eprintln!("{plan:?}: a later pass not reached in {TRIES} tries (timing)");
                    }
                }
            }
        }
    }

    /// As [`at_every_step`], at the first pass through each step only: for
    /// steps in loops whose number of turns depends on timing.
    pub fn at_first_pass(steps: &[&'static str], mut scenario: impl FnMut(Plan) -> Reached) {
        for &step in steps {
            for death in DEATHS {
                let plan = Plan {
                    step,
                    nth: 1,
                    death,
                };
                assert_eq!(scenario(plan), Reached::Yes, "{plan:?} not reached");
            }
        }
    }

    /// Every step name of every operation the kill tests cover.
    fn covered() -> Vec<&'static str> {
        use crate::core::{
            barrier, binary_semaphore, condvar, mutex, queue, rwlock, undo_semaphore, waiter_slots,
        };
        [
            undo_semaphore::kill_steps::STEPS,
            rwlock::kill_steps::STEPS,
            mutex::kill_steps::STEPS,
            binary_semaphore::kill_steps::STEPS,
            condvar::kill_steps::STEPS,
            waiter_slots::kill_steps::STEPS,
            barrier::kill_steps::STEPS,
            queue::kill_steps::STEPS,
        ]
        .into_iter()
        .flatten()
        .flat_map(|steps| steps.iter().copied())
        .collect()
    }

    /// The names in every `step!("...")` of the crate's source.
    fn steps_in_source() -> Vec<String> {
        let mut files = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        let mut names = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "rs") || path.ends_with("kill_step.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let marker = concat!("step", "!(\"");
            for (at, _) in text.match_indices(marker) {
                let rest = &text[at + marker.len()..];
                names.push(rest[..rest.find('"').unwrap()].to_string());
            }
        }
        names
    }

    #[test]
    fn every_step_in_the_source_is_killed_at() {
        let covered = covered();
        let in_source = steps_in_source();
        assert!(in_source.len() > 20, "the scan found {in_source:?}");
        for name in &in_source {
            assert!(
                covered.contains(&name.as_str()),
                "step {name} is in no kill test's list"
            );
        }
        for name in &covered {
            assert!(
                in_source.iter().any(|found| found == name),
                "step {name} is listed but in no step!"
            );
        }
    }

    #[test]
    fn a_child_dies_at_its_step_and_only_there() {
        fn operation() {
            step!("test.first");
            step!("test.second");
            step!("test.second");
        }
        for death in DEATHS {
            let second = Child::spawn(
                Plan {
                    step: "test.second",
                    nth: 2,
                    death,
                },
                operation,
            );
            assert_eq!(second.outcome(), Reached::Yes, "{death:?}");
            if death == Death::Stop {
                second.resume();
            }
            let third = Child::spawn(
                Plan {
                    step: "test.second",
                    nth: 3,
                    death,
                },
                operation,
            );
            assert_eq!(third.outcome(), Reached::No, "{death:?}");
        }
    }
}
