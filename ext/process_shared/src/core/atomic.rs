//! Lock-free, sequentially consistent integer operations on shared memory:
//! the arithmetic behind `AtomicInteger` and the per-element atomics of
//! `SharedArray`.
//!
//! Every operation is one atomic instruction (`load`, `store`, `swap`) or a
//! compare-and-swap loop (`add`, `compare_and_set`, `update`, `max`,
//! `min`); none makes a system call or takes a lock, so a process killed at
//! any instruction leaves either the old or the new value, never a torn or
//! locked one. Arithmetic is checked: a result outside the element type's
//! range is refused with `OutOfRange` and the value is left as it was (a
//! `fetch_add` followed by an undo would let other processes see the wrapped
//! value in between, so `add` is a CAS loop instead). Before the read that
//! starts an add, the cache line is requested for writing (see
//! [`prefetch_for_write`]), so that a counter other processes are changing
//! costs one cache-line transfer per add, as a `fetch_add` does, not two.
//!
//! All widths share one generic implementation through [`AtomicInt`],
//! implemented for each integer row of the scalar table
//! (`core::scalar::scalar_types!`) with the row's `std::sync::atomic` cell;
//! [`with_integer_type!`] dispatches on a `ScalarType` to the integer rows.

use super::error::{CoreError, CoreResult};
use super::named::{self, SharedState};
use super::region::SharedRegion;
use super::scalar::{scalar_types, Kind, Scalar};
use std::fmt::Display;
use std::marker::PhantomData;
use std::sync::atomic::Ordering::SeqCst;
#[cfg(target_arch = "x86_64")]
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// `self + delta` for a 64-bit delta, in the cheapest arithmetic of the
/// type (a 64-bit add and its overflow flag; for narrower types a 64-bit
/// add that cannot overflow, then a range check), if the sum fits.
pub trait OffsetBy: Sized {
    fn offset_by(self, delta: i64) -> Option<Self>;
}

/// `OffsetBy` for the types narrower than 64 bits: the sum of one of their
/// values and an `i64` delta always fits in an `i64` but at the extremes,
/// where `checked_add` says so.
macro_rules! offset_through_i64 {
    ($($t:ident)*) => {$(
        impl OffsetBy for $t {
            #[inline]
            fn offset_by(self, delta: i64) -> Option<Self> {
                i64::from(self).checked_add(delta).and_then(|sum| $t::try_from(sum).ok())
            }
        }
    )*};
}
offset_through_i64!(i8 u8 i16 u16 i32 u32);

impl OffsetBy for i64 {
    #[inline]
    fn offset_by(self, delta: i64) -> Option<Self> {
        self.checked_add(delta)
    }
}

impl OffsetBy for u64 {
    #[inline]
    fn offset_by(self, delta: i64) -> Option<Self> {
        self.checked_add_signed(delta)
    }
}

/// An integer type with a native atomic cell of the same size and
/// alignment. Deltas and bounds checks go through `i128`, which holds every
/// value and every sum of two values of every width (or, for a delta that
/// fits an `i64`, through [`OffsetBy`]).
pub trait AtomicInt: Scalar + Ord + Display + Into<i128> + TryFrom<i128> + OffsetBy {
    /// The `std::sync::atomic` type of this width and signedness.
    type Cell: Sync;
    /// The name of the type, for error messages (`"uint8"`).
    const NAME: &'static str;

    /// The cell at `at`.
    ///
    /// # Safety
    /// `at` is aligned for `Self`, and valid for reads and writes (by any
    /// process) for `'a`.
    unsafe fn cell<'a>(at: *mut Self) -> &'a Self::Cell;
    fn load(cell: &Self::Cell) -> Self;
    fn store(cell: &Self::Cell, value: Self);
    fn swap(cell: &Self::Cell, value: Self) -> Self;
    fn compare_exchange(cell: &Self::Cell, current: Self, new: Self) -> Result<Self, Self>;
    fn compare_exchange_weak(cell: &Self::Cell, current: Self, new: Self) -> Result<Self, Self>;

    /// `self + delta`, if it fits the type.
    fn checked_offset(self, delta: i128) -> Option<Self> {
        let wide: i128 = self.into();
        // |wide| < 2^64 and delta is checked, so only a huge delta overflows.
        Self::try_from(wide.checked_add(delta)?).ok()
    }

    /// A wide value, if it fits the type.
    fn from_wide(value: i128) -> Option<Self> {
        Self::try_from(value).ok()
    }

    /// The smallest and largest value, for error messages.
    fn bounds() -> (i128, i128);
}

/// The name of an integer type by its kind and size, for messages.
const fn integer_name(kind: Kind, size: usize) -> &'static str {
    match (kind, size) {
        (Kind::Signed, 1) => "int8",
        (Kind::Signed, 2) => "int16",
        (Kind::Signed, 4) => "int32",
        (Kind::Signed, _) => "int64",
        (Kind::Unsigned, 1) => "uint8",
        (Kind::Unsigned, 2) => "uint16",
        (Kind::Unsigned, 4) => "uint32",
        (Kind::Unsigned, _) => "uint64",
        (Kind::Float, _) => "float",
    }
}

/// `impl AtomicInt` for every integer row of the scalar table (float rows
/// have no atomic arithmetic).
macro_rules! define_atomic_ints {
    (; $($variant:ident($t:ty, $atomic:ident, $kind:ident) { $($names:tt)* })*) => {
        $(atomic_int!($kind, $t);)*
    };
}

/// One row of [`define_atomic_ints!`].
macro_rules! atomic_int {
    (float, $t:ty) => {};
    ($integer:ident, $t:ty) => {
        impl AtomicInt for $t {
            type Cell = <$t as Scalar>::Atomic;
            const NAME: &'static str = integer_name(<$t as Scalar>::KIND, <$t as Scalar>::SIZE);

            unsafe fn cell<'a>(at: *mut Self) -> &'a Self::Cell {
                // SAFETY: the caller guarantees alignment and validity; the
                // cell has the size and alignment of the integer, and other
                // processes touch the memory only with atomic operations or
                // plain accesses of the same width (never a Rust reference).
                unsafe { <<$t as Scalar>::Atomic>::from_ptr(at) }
            }
            fn load(cell: &Self::Cell) -> Self {
                cell.load(SeqCst)
            }
            fn store(cell: &Self::Cell, value: Self) {
                cell.store(value, SeqCst)
            }
            fn swap(cell: &Self::Cell, value: Self) -> Self {
                cell.swap(value, SeqCst)
            }
            fn compare_exchange(cell: &Self::Cell, current: Self, new: Self) -> Result<Self, Self> {
                cell.compare_exchange(current, new, SeqCst, SeqCst)
            }
            fn compare_exchange_weak(
                cell: &Self::Cell,
                current: Self,
                new: Self,
            ) -> Result<Self, Self> {
                cell.compare_exchange_weak(current, new, SeqCst, SeqCst)
            }
            fn bounds() -> (i128, i128) {
                (<$t>::MIN.into(), <$t>::MAX.into())
            }
        }
    };
}

scalar_types!(define_atomic_ints!());

/// `with_integer_type!(scalar, f(args), else otherwise)` calls `f::<T>(args)`
/// with `T` the Rust type of the `ScalarType` value `scalar` if it is an
/// integer type (so `T: AtomicInt`), and is `otherwise` for float types.
macro_rules! with_integer_type {
    ($scalar:expr, $f:ident($($arg:expr),* $(,)?), else $otherwise:expr) => {
        $crate::core::scalar::scalar_types!($crate::core::atomic::integer_type_dispatch!(
            ($scalar) ($f) (($($arg),*)) ($otherwise)
        ))
    };
}
pub(crate) use with_integer_type;

/// The callback of [`with_integer_type!`]: one match arm per row.
macro_rules! integer_type_dispatch {
    (($scalar:expr) ($f:ident) ($args:tt) ($otherwise:expr) ;
     $($variant:ident($t:ty, $atomic:ident, $kind:ident) { $($names:tt)* })*) => {
        match $scalar {
            $($crate::core::scalar::ScalarType::$variant =>
                $crate::core::atomic::integer_arm!($kind, $f::<$t> $args, $otherwise),)*
        }
    };
}
pub(crate) use integer_type_dispatch;

/// One arm of [`integer_type_dispatch!`]: the call for integer rows, the
/// alternative for float rows (whose call is never compiled).
macro_rules! integer_arm {
    (float, $call:expr, $otherwise:expr) => {
        $otherwise
    };
    ($integer:ident, $call:expr, $otherwise:expr) => {
        $call
    };
}
pub(crate) use integer_arm;

/// Whether [`prefetch_for_write`] issues `prefetchw`: set once, when the
/// extension loads, by [`detect_write_prefetch`] (until then, and on CPUs
/// without the instruction, it does nothing).
#[cfg(target_arch = "x86_64")]
static WRITE_PREFETCH: AtomicBool = AtomicBool::new(false);

/// Enables [`prefetch_for_write`] if the CPU has `prefetchw` (x86-64:
/// CPUID `PRFCHW`, Linux's `3dnowprefetch` flag; every AMD64 CPU and Intel
/// since Broadwell). Asked once: `cpuid` is slow (a VM exit under a
/// hypervisor), and a CPU that lacks the instruction may fault on it.
pub fn detect_write_prefetch() {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::__cpuid;
        const EXTENDED_FEATURES: u32 = 0x8000_0001;
        const PRFCHW: u32 = 1 << 8;
        let has_prefetchw = __cpuid(0x8000_0000).eax >= EXTENDED_FEATURES
            && __cpuid(EXTENDED_FEATURES).ecx & PRFCHW != 0;
        WRITE_PREFETCH.store(has_prefetchw, Relaxed);
    }
}

/// Asks for the cache line at `at` in the state that allows a write.
///
/// An add reads the value, then compare-and-swaps it. When another core
/// wrote the counter last, the read brings the line in shared and the
/// compare-and-swap then needs a second transfer to own it (another
/// process's write may also slip in between, so the CAS fails and
/// retries). `prefetchw` starts the transfer for writing before the read,
/// which then waits for it: one transfer per add, as for `lock xadd` (the
/// Linux kernel prefetches its spinlocks this way for the same reason).
/// The hint changes nothing else: no value, no ordering, no fault; a line
/// that is already owned costs nothing more.
#[inline(always)]
fn prefetch_for_write(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    if WRITE_PREFETCH.load(Relaxed) {
        // SAFETY: `prefetchw` (only where the CPU has it, see
        // `detect_write_prefetch`) is a cache hint: it reads and writes no
        // register, flag or memory, and cannot fault on any address.
        unsafe {
            std::arch::asm!(
                "prefetchw [{at}]",
                at = in(reg) at,
                options(nostack, preserves_flags, readonly)
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// The `OutOfRange` error for a wide value that does not fit `T`.
pub fn out_of_range<T: AtomicInt>(value: i128) -> CoreError {
    let (min, max) = T::bounds();
    CoreError::OutOfRange(format!(
        "{value} is out of range for {} ({min}..{max})",
        T::NAME
    ))
}

/// One integer in shared memory, accessed only atomically.
pub struct AtomicSlot<'a, T: AtomicInt> {
    cell: &'a T::Cell,
    _type: PhantomData<T>,
}

impl<'a, T: AtomicInt> AtomicSlot<'a, T> {
    /// The integer at byte `offset` of `region`: `OutOfBounds` past the end,
    /// `InvalidArgument` if it is not naturally aligned. (A region is page
    /// aligned, so element `i` of an array, at `i * size`, always is.)
    pub fn in_region(region: &'a SharedRegion, offset: u64) -> CoreResult<Self> {
        let at = region.span(offset, T::SIZE)?;
        if (at as usize) % std::mem::align_of::<T>() != 0 {
            return Err(CoreError::InvalidArgument(format!(
                "offset {offset} is not aligned to {} bytes",
                std::mem::align_of::<T>()
            )));
        }
        // SAFETY: `span` checked that the bytes lie inside the region, which
        // stays mapped for 'a; alignment checked just above.
        Ok(unsafe { Self::at(at.cast()) })
    }

    /// The integer at `at`.
    ///
    /// # Safety
    /// As [`AtomicInt::cell`].
    pub unsafe fn at(at: *mut T) -> Self {
        AtomicSlot {
            // SAFETY: the caller's contract.
            cell: unsafe { T::cell(at) },
            _type: PhantomData,
        }
    }

    /// The current value.
    pub fn load(&self) -> T {
        T::load(self.cell)
    }

    /// The current value, for an add that compare-and-swaps it next: the
    /// cache line is requested for writing first.
    #[inline(always)]
    fn load_for_update(&self) -> T {
        prefetch_for_write(std::ptr::from_ref(self.cell).cast());
        self.load()
    }

    /// Sets the value.
    pub fn store(&self, value: T) {
        T::store(self.cell, value)
    }

    /// Sets the value; the value before.
    pub fn swap(&self, value: T) -> T {
        T::swap(self.cell, value)
    }

    /// Adds `delta` (negative to subtract); the value after, or
    /// `OutOfRange` with the value unchanged.
    pub fn add(&self, delta: i128) -> CoreResult<T> {
        let mut current = self.load_for_update();
        loop {
            let new = current
                .checked_offset(delta)
                .ok_or_else(|| out_of_range::<T>(current.into().saturating_add(delta)))?;
            match T::compare_exchange_weak(self.cell, current, new) {
                Ok(_) => return Ok(new),
                Err(actual) => current = actual,
            }
        }
    }

    /// As [`add`](Self::add) for a 64-bit delta, but `None` when out of
    /// range (nothing changed), with no error to build: for the C fast
    /// paths.
    ///
    /// A compare-and-swap, not one `lock xadd`, even when the value read
    /// beforehand is far from the limits: no rule that decides on an xadd
    /// from an earlier read can be sound while every value stays
    /// reachable. Between the read and the xadd the process may stall for
    /// any time (preempted, stopped), and meanwhile others may
    /// `store`/`swap`/`compare_and_set` the limit itself, or count up to
    /// it; the xadd then wraps in shared memory, for everyone to see, and
    /// undoing it afterwards does not hide it. Bounding how many adds can
    /// be in flight (one per task) bounds how far they reach, not when they
    /// land, so the values within that reach of the limits would have to
    /// be refused to every other writer, forever; and knowing instead
    /// whether an xadd is in flight would cost each add a second shared
    /// write. Both are one locked instruction; the CAS adds a prefetch, a
    /// plain load and a compare (see [`prefetch_for_write`] for why the
    /// prefetch, which makes a failed CAS rare even when processes add to
    /// one counter all the time).
    #[inline]
    pub fn try_add(&self, delta: i64) -> Option<T> {
        let mut current = self.load_for_update();
        loop {
            let new = current.offset_by(delta)?;
            match T::compare_exchange_weak(self.cell, current, new) {
                Ok(_) => return Some(new),
                Err(actual) => current = actual,
            }
        }
    }

    /// Sets the value to `new` if it is `expected`; whether it did.
    pub fn compare_and_set(&self, expected: T, new: T) -> bool {
        T::compare_exchange(self.cell, expected, new).is_ok()
    }

    /// Replaces the value with `f(value)`, calling `f` again with the fresh
    /// value whenever another writer got in between; the value stored. An
    /// error from `f` leaves the value unchanged and is returned.
    pub fn update<E>(&self, mut f: impl FnMut(T) -> Result<T, E>) -> Result<T, E> {
        let mut current = self.load();
        loop {
            let new = f(current)?;
            // Strong CAS: a spurious failure would run `f` once more for
            // nothing (and `f` may be expensive: a Ruby block).
            match T::compare_exchange(self.cell, current, new) {
                Ok(_) => return Ok(new),
                Err(actual) => current = actual,
            }
        }
    }

    /// Keeps the larger of the value and `candidate`; the value after.
    pub fn max(&self, candidate: T) -> T {
        self.keep(candidate, |current| current >= candidate)
    }

    /// Keeps the smaller of the value and `candidate`; the value after.
    pub fn min(&self, candidate: T) -> T {
        self.keep(candidate, |current| current <= candidate)
    }

    /// Stores `candidate` unless `keeps_current` holds of the value. A value
    /// that is kept is not written at all, so a peak that rarely moves costs
    /// a load, not a contended write.
    fn keep(&self, candidate: T, keeps_current: impl Fn(T) -> bool) -> T {
        let mut current = self.load();
        loop {
            if keeps_current(current) {
                return current;
            }
            match T::compare_exchange_weak(self.cell, current, candidate) {
                Ok(_) => return candidate,
                Err(actual) => current = actual,
            }
        }
    }
}

/// A signed 64-bit integer alone in its own shared region: the memory of
/// an `AtomicInteger`.
#[derive(Debug)]
pub struct SharedCounter {
    region: SharedRegion,
}

impl SharedCounter {
    /// A new counter holding `initial`.
    pub fn new(initial: i64) -> CoreResult<Self> {
        named::anonymous(initial)
    }

    /// The counter's integer.
    pub fn slot(&self) -> AtomicSlot<'_, i64> {
        // SAFETY: the region holds at least 8 bytes, starts on a page or
        // after a named object's 128-byte header (so is aligned for i64)
        // and stays mapped while `self` lives.
        unsafe { AtomicSlot::at(self.region.base().cast()) }
    }
}

impl SharedState for SharedCounter {
    type Init = i64;

    fn state_size(_: &i64) -> usize {
        std::mem::size_of::<i64>()
    }

    fn init_state(region: &SharedRegion, initial: i64) -> CoreResult<()> {
        AtomicSlot::<i64>::in_region(region, 0)?.store(initial);
        Ok(())
    }

    fn from_region(region: SharedRegion) -> Self {
        SharedCounter { region }
    }

    fn region(&self) -> &SharedRegion {
        &self.region
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{exit_code, fork_and};
    use super::*;

    fn region_of<T: AtomicInt>(count: usize) -> SharedRegion {
        SharedRegion::new(count * T::SIZE).unwrap()
    }

    fn slot<T: AtomicInt>(region: &SharedRegion, index: usize) -> AtomicSlot<'_, T> {
        AtomicSlot::in_region(region, (index * T::SIZE) as u64).unwrap()
    }

    /// The arithmetic of every width at its edges.
    fn edges<T: AtomicInt + std::fmt::Debug>() {
        let region = region_of::<T>(1);
        let at = slot::<T>(&region, 0);
        let (min, max) = T::bounds();
        let min_t = T::from_wide(min).unwrap();
        let max_t = T::from_wide(max).unwrap();

        at.store(max_t);
        assert!(matches!(at.add(1), Err(CoreError::OutOfRange(_))));
        assert_eq!(at.load(), max_t, "{}: unchanged after overflow", T::NAME);
        assert_eq!(at.add(-1).unwrap().into(), max - 1);
        assert_eq!(at.add(1).unwrap(), max_t);
        assert_eq!(at.try_add(1), None);
        assert_eq!(at.load(), max_t);

        at.store(min_t);
        assert!(matches!(at.add(-1), Err(CoreError::OutOfRange(_))));
        assert_eq!(at.load(), min_t, "{}: unchanged after underflow", T::NAME);
        assert_eq!(at.add(max - min).unwrap(), max_t, "the whole range at once");
        assert!(at.add(i128::MAX).is_err());
        assert!(at.add(i128::MIN).is_err());
        assert_eq!(at.load(), max_t);

        assert_eq!(at.swap(min_t), max_t);
        assert!(!at.compare_and_set(max_t, min_t));
        assert!(at.compare_and_set(min_t, max_t));
        assert_eq!(at.load(), max_t);

        assert_eq!(at.min(min_t), min_t);
        assert_eq!(at.min(max_t), min_t, "min keeps the smaller");
        assert_eq!(at.max(max_t), max_t);
        assert_eq!(at.max(min_t), max_t, "max keeps the larger");
    }

    #[test]
    fn every_width_checks_its_range_and_leaves_the_value_on_overflow() {
        detect_write_prefetch();
        edges::<i8>();
        edges::<u8>();
        edges::<i16>();
        edges::<u16>();
        edges::<i32>();
        edges::<u32>();
        edges::<i64>();
        edges::<u64>();
    }

    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[test]
    fn write_prefetch_is_used_where_the_kernel_reports_the_cpu_has_it() {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
        let flags = cpuinfo
            .lines()
            .find(|line| line.starts_with("flags"))
            .unwrap();
        detect_write_prefetch();
        assert_eq!(
            WRITE_PREFETCH.load(Relaxed),
            flags.split_whitespace().any(|flag| flag == "3dnowprefetch")
        );
    }

    fn name_of<T: AtomicInt>() -> Option<&'static str> {
        Some(T::NAME)
    }

    #[test]
    fn the_table_gives_every_integer_type_its_atomics_and_floats_none() {
        use crate::core::scalar::ScalarType;
        let names: Vec<_> = ScalarType::ALL
            .iter()
            .map(|&scalar| crate::core::atomic::with_integer_type!(scalar, name_of(), else None))
            .collect();
        assert_eq!(
            names,
            [
                Some("int8"),
                Some("uint8"),
                Some("int16"),
                Some("uint16"),
                Some("int32"),
                Some("uint32"),
                Some("int64"),
                Some("uint64"),
                None,
                None
            ]
        );
    }

    #[test]
    fn increments_reach_the_int64_limits_exactly_and_never_pass_them() {
        detect_write_prefetch();
        let region = region_of::<i64>(1);
        let at = slot::<i64>(&region, 0);
        for (limit, step) in [(i64::MAX, 1), (i64::MIN, -1)] {
            at.store(limit - 3 * step);
            assert_eq!(at.try_add(step), Some(limit - 2 * step));
            assert_eq!(at.try_add(step), Some(limit - step));
            assert_eq!(at.try_add(step), Some(limit), "the limit itself");
            assert_eq!(at.try_add(step), None, "one past the limit");
            assert_eq!(at.load(), limit, "unchanged, never wrapped");
            assert_eq!(at.try_add(i64::MAX * step), None);
            assert_eq!(
                at.try_add(1 << 32),
                if step > 0 {
                    None
                } else {
                    Some(limit + (1 << 32))
                }
            );
            at.store(limit - (1 << 32) * step);
            assert_eq!(
                at.try_add((1 << 32) * step),
                Some(limit),
                "a large step to the limit"
            );
            assert_eq!(at.try_add(step), None);
            assert_eq!(at.load(), limit);
        }
    }

    #[test]
    fn errors_name_the_type_and_its_range() {
        let region = region_of::<u8>(1);
        let at = slot::<u8>(&region, 0);
        at.store(255);
        let message = at.add(1).unwrap_err().to_string();
        assert_eq!(message, "256 is out of range for uint8 (0..255)");
    }

    #[test]
    fn neighbouring_elements_are_independent() {
        let region = region_of::<u8>(3);
        slot::<u8>(&region, 1).store(255);
        assert!(slot::<u8>(&region, 1).add(1).is_err());
        assert_eq!(slot::<u8>(&region, 0).add(7).unwrap(), 7);
        assert_eq!(region.read_bytes(0, 3).unwrap(), vec![7, 255, 0]);
    }

    #[test]
    fn update_retries_with_the_fresh_value_and_errors_change_nothing() {
        let region = region_of::<i64>(1);
        let at = slot::<i64>(&region, 0);
        let mut seen = Vec::new();
        let result: Result<i64, ()> = at.update(|value| {
            seen.push(value);
            if seen.len() == 1 {
                // Another writer gets in between the read and the CAS.
                at.store(10);
            }
            Ok(value + 1)
        });
        assert_eq!(result, Ok(11));
        assert_eq!(seen, vec![0, 10]);
        assert_eq!(at.update(|_| Err::<i64, _>("no")), Err("no"));
        assert_eq!(at.load(), 11);
    }

    #[test]
    fn a_counter_starts_at_its_initial_value() {
        let counter = SharedCounter::new(-7).unwrap();
        assert_eq!(counter.slot().add(8).unwrap(), 1);
        assert!(counter.slot().add(i64::MAX.into()).is_err());
        assert_eq!(counter.slot().load(), 1);
    }

    #[test]
    fn misaligned_and_out_of_bounds_offsets_are_refused() {
        let region = region_of::<u64>(2);
        assert!(matches!(
            AtomicSlot::<u64>::in_region(&region, 4),
            Err(CoreError::InvalidArgument(_))
        ));
        assert!(matches!(
            AtomicSlot::<u64>::in_region(&region, 16),
            Err(CoreError::OutOfBounds { .. })
        ));
        assert!(AtomicSlot::<u8>::in_region(&region, 15).is_ok());
        assert!(AtomicSlot::<u16>::in_region(&region, 14).is_ok());
    }

    const CHILDREN: usize = 4;
    const THREADS: usize = 2;
    const ROUNDS: i64 = 20_000;

    /// Runs `work(child, thread)` in `CHILDREN` forked processes of
    /// `THREADS` threads each and asserts they all exited 0.
    fn in_children(work: impl Fn(usize, usize) + Sync) {
        let pids: Vec<_> = (0..CHILDREN)
            .map(|child| {
                fork_and(|| {
                    std::thread::scope(|scope| {
                        for thread in 0..THREADS {
                            let work = &work;
                            scope.spawn(move || work(child, thread));
                        }
                    });
                    0
                })
            })
            .collect();
        for pid in pids {
            assert_eq!(exit_code(pid), 0);
        }
    }

    #[test]
    fn mixed_adds_across_processes_and_threads_give_the_exact_total() {
        detect_write_prefetch();
        let region = region_of::<i64>(2);
        in_children(|_, thread| {
            let counter = slot::<i64>(&region, 0);
            let narrow = slot::<u16>(&region, 4);
            for round in 0..ROUNDS {
                // Net +2 per round, through every operation that adds.
                counter.add(3).unwrap();
                counter.add(-1).unwrap();
                counter.update(|value| Ok::<_, ()>(value + 1)).unwrap();
                counter.add(-1).unwrap();
                if thread == 0 && round < 1000 {
                    narrow.add(1).unwrap();
                }
            }
        });
        let expected = (CHILDREN * THREADS) as i64 * ROUNDS * 2;
        assert_eq!(slot::<i64>(&region, 0).load(), expected);
        assert_eq!(slot::<u16>(&region, 4).load(), CHILDREN as u16 * 1000);
    }

    #[test]
    fn every_update_result_is_stored_exactly_once() {
        const UPDATES: usize = 2_000;
        let total = CHILDREN * THREADS * UPDATES;
        // Slot 0 is the counter; slot 1 + v records who stored v.
        let region = region_of::<u32>(total + 1);
        in_children(|child, thread| {
            let counter = slot::<u32>(&region, 0);
            let me = (child * THREADS + thread + 1) as u32;
            for _ in 0..UPDATES {
                let stored = counter.update(|value| Ok::<_, ()>(value + 1)).unwrap();
                // A value stored twice would find its record taken.
                assert!(slot::<u32>(&region, stored as usize).compare_and_set(0, me));
            }
        });
        assert_eq!(slot::<u32>(&region, 0).load(), total as u32);
        for value in 1..=total {
            assert_ne!(
                slot::<u32>(&region, value).load(),
                0,
                "{value} never stored"
            );
        }
    }

    #[test]
    fn max_and_min_from_many_processes_end_at_the_true_extremes() {
        let region = region_of::<i64>(2);
        slot::<i64>(&region, 1).store(i64::MAX);
        in_children(|child, thread| {
            let peak = slot::<i64>(&region, 0);
            let trough = slot::<i64>(&region, 1);
            let me = (child * THREADS + thread) as i64;
            for round in 0..ROUNDS {
                // A different pseudo-random walk in every thread.
                let value = (round * 7919 + me * 104_729) % 1_000_003;
                peak.max(value);
                trough.min(value);
            }
        });
        let values = (0..(CHILDREN * THREADS) as i64)
            .flat_map(|me| (0..ROUNDS).map(move |round| (round * 7919 + me * 104_729) % 1_000_003));
        assert_eq!(
            slot::<i64>(&region, 0).load(),
            values.clone().max().unwrap()
        );
        assert_eq!(slot::<i64>(&region, 1).load(), values.min().unwrap());
    }
}
