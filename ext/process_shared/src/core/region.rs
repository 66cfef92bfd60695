//! A block of shared memory with bounds-checked access: anonymous (shared
//! with every process forked after it was made) or part of a named object
//! (`core::named`: a POSIX shared-memory object or a file, shared with any
//! process that opens it).
//!
//! Other processes may write the memory at any moment, so nothing here ever
//! hands out a Rust reference into it: values are copied in and out.

use super::error::{CoreError, CoreResult};
use super::named::Origin;
use super::scalar::Scalar;
use crate::platform;
use std::ptr::NonNull;

/// An owned shared mapping; dropping it unmaps it in this process only.
///
/// The usable bytes (`base`, `len`) may start after the start of the
/// mapping: a named object keeps its header in front of them.
#[derive(Debug)]
pub struct SharedRegion {
    base: NonNull<u8>,
    len: usize,
    mapping: NonNull<u8>,
    mapped_len: usize,
    origin: Option<Origin>,
    /// In a named object (see [`SharedRegion::is_named`]).
    named: bool,
}

// SAFETY: the region is plain memory; every access goes through raw-pointer
// copies that tolerate concurrent writers, so it may move between and be used
// from several threads.
unsafe impl Send for SharedRegion {}
// SAFETY: as above.
unsafe impl Sync for SharedRegion {}

impl SharedRegion {
    /// The largest region we agree to map; larger requests are surely mistakes
    /// (and would overflow size arithmetic in callers).
    pub const MAX_LEN: usize = 1 << 40;

    /// Maps `len` zero-filled bytes (`len` > 0).
    pub fn new(len: usize) -> CoreResult<Self> {
        if len == 0 {
            return Err(CoreError::InvalidArgument(
                "size must be positive".to_string(),
            ));
        }
        if len > Self::MAX_LEN {
            return Err(CoreError::InvalidArgument(format!(
                "size {len} is larger than the maximum of {} bytes",
                Self::MAX_LEN
            )));
        }
        let page = platform::page_size();
        let mapped_len = len.div_ceil(page) * page;
        let base = platform::map_shared(mapped_len)?;
        Ok(SharedRegion {
            base,
            len,
            mapping: base,
            mapped_len,
            origin: None,
            named: false,
        })
    }

    /// The `len` bytes at `offset` into a mapping of a named object; the
    /// region owns the mapping from now on.
    ///
    /// # Safety
    /// `mapping`/`mapped_len` must be exactly one `map_file` result, not yet
    /// unmapped and owned by nothing else, and `offset + len <= mapped_len`.
    pub(crate) unsafe fn from_named_mapping(
        mapping: NonNull<u8>,
        mapped_len: usize,
        offset: usize,
        len: usize,
        origin: Option<Origin>,
    ) -> Self {
        debug_assert!(offset + len <= mapped_len);
        // SAFETY: offset is inside the mapping (guaranteed by the caller),
        // and an address inside a mapping is never null.
        let base = unsafe { NonNull::new_unchecked(mapping.as_ptr().add(offset)) };
        SharedRegion {
            base,
            len,
            mapping,
            mapped_len,
            origin,
            named: true,
        }
    }

    /// Where a named region came from; `None` for anonymous memory (and
    /// for the view a named object's state is initialized through).
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// Whether the region is in a named object, which any process may map,
    /// rather than anonymous memory, which only forked children share: the
    /// state must then hold nothing that is valid in one process only (a
    /// Mach semaphore's port name). True for the view a named object's state
    /// is initialized through too.
    pub fn is_named(&self) -> bool {
        self.named
    }

    /// The usable size in bytes, as asked for.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: regions have a positive size. (For clippy's sake.)
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first byte; valid for `len()` bytes while `self` lives.
    pub fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    /// A pointer to `length` bytes at `offset`, or `OutOfBounds`.
    pub fn span(&self, offset: u64, length: usize) -> CoreResult<*mut u8> {
        let out_of_bounds = || CoreError::OutOfBounds {
            offset: offset.into(),
            length: length as u128,
            size: self.len,
        };
        let start = usize::try_from(offset).map_err(|_| out_of_bounds())?;
        let end = start.checked_add(length).ok_or_else(out_of_bounds)?;
        if end > self.len {
            return Err(out_of_bounds());
        }
        // SAFETY: start <= end <= len, so the result stays inside the mapping.
        Ok(unsafe { self.base.as_ptr().add(start) })
    }

    /// Reads one value at a byte offset (no alignment needed).
    pub fn read<T: Scalar>(&self, offset: u64) -> CoreResult<T> {
        let at = self.span(offset, T::SIZE)?;
        // SAFETY: `span` checked that SIZE bytes at `at` are inside the region.
        Ok(unsafe { at.cast::<T>().read_unaligned() })
    }

    /// Writes one value at a byte offset (no alignment needed).
    pub fn write<T: Scalar>(&self, offset: u64, value: T) -> CoreResult<()> {
        let at = self.span(offset, T::SIZE)?;
        // SAFETY: `span` checked that SIZE bytes at `at` are inside the region.
        unsafe { at.cast::<T>().write_unaligned(value) };
        Ok(())
    }

    /// Copies `length` bytes out, starting at `offset`.
    pub fn read_bytes(&self, offset: u64, length: usize) -> CoreResult<Vec<u8>> {
        let at = self.span(offset, length)?;
        let mut out = vec![0u8; length];
        // SAFETY: the source span is inside the region and `out` has room for
        // `length` bytes; a fresh Vec never overlaps the mapping.
        unsafe { std::ptr::copy_nonoverlapping(at, out.as_mut_ptr(), length) };
        Ok(out)
    }

    /// Copies `bytes` in, starting at `offset`; writes nothing if it does
    /// not fit.
    pub fn write_bytes(&self, offset: u64, bytes: &[u8]) -> CoreResult<()> {
        let at = self.span(offset, bytes.len())?;
        // SAFETY: the target span is inside the region; `bytes` is a Rust
        // slice, which cannot alias the shared mapping (we never create one).
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), at, bytes.len()) };
        Ok(())
    }

    /// The bytes from `offset` up to (not including) the first NUL, or up to
    /// the end of the region when there is none.
    pub fn read_c_string(&self, offset: u64) -> CoreResult<Vec<u8>> {
        let start = self.span(offset, 0)?;
        let available = self.len - offset as usize;
        let mut out = Vec::new();
        for index in 0..available {
            // SAFETY: index < available, so start + index is inside the region.
            let byte = unsafe { start.add(index).read_volatile() };
            if byte == 0 {
                break;
            }
            out.push(byte);
        }
        Ok(out)
    }

    /// Writes `bytes` followed by a NUL; writes nothing if that does not fit.
    pub fn write_c_string(&self, offset: u64, bytes: &[u8]) -> CoreResult<()> {
        let total = bytes.len().checked_add(1).ok_or(CoreError::OutOfBounds {
            offset: offset.into(),
            length: bytes.len() as u128 + 1,
            size: self.len,
        })?;
        let at = self.span(offset, total)?;
        // SAFETY: `span` checked `total` bytes at `at`; `bytes` cannot alias.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), at, bytes.len());
            at.add(bytes.len()).write(0);
        }
        Ok(())
    }
}

impl Drop for SharedRegion {
    fn drop(&mut self) {
        // SAFETY: mapping/mapped_len came from map_shared or map_file and
        // are unmapped once, here; no reference into the mapping outlives
        // `self`.
        unsafe { platform::unmap(self.mapping, self.mapped_len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_regions_are_zero_filled_and_sized_as_asked() {
        let region = SharedRegion::new(10).unwrap();
        assert_eq!(region.len(), 10);
        assert_eq!(region.read_bytes(0, 10).unwrap(), vec![0; 10]);
    }

    #[test]
    fn zero_and_absurd_sizes_are_refused() {
        assert!(matches!(
            SharedRegion::new(0),
            Err(CoreError::InvalidArgument(_))
        ));
        assert!(matches!(
            SharedRegion::new(usize::MAX),
            Err(CoreError::InvalidArgument(_))
        ));
    }

    #[test]
    fn values_round_trip_at_unaligned_offsets() {
        let region = SharedRegion::new(16).unwrap();
        region.write::<i64>(3, -5).unwrap();
        assert_eq!(region.read::<i64>(3).unwrap(), -5);
        region.write::<f32>(11, 1.5).unwrap();
        assert_eq!(region.read::<f32>(11).unwrap(), 1.5);
    }

    #[test]
    fn every_access_past_the_end_is_refused_and_writes_nothing() {
        let region = SharedRegion::new(8).unwrap();
        assert!(region.read::<u64>(1).is_err());
        assert!(region.write::<u32>(5, 7).is_err());
        assert!(region.read_bytes(u64::MAX, 1).is_err());
        assert!(region.span(8, usize::MAX).is_err());
        assert!(region.write_bytes(4, b"12345").is_err());
        assert_eq!(region.read_bytes(0, 8).unwrap(), vec![0; 8]);
        assert!(region.read_bytes(8, 0).is_ok());
    }

    #[test]
    fn c_strings_stop_at_nul_or_the_end() {
        let region = SharedRegion::new(8).unwrap();
        region.write_c_string(0, b"abc").unwrap();
        assert_eq!(region.read_c_string(0).unwrap(), b"abc");
        region.write_bytes(0, b"abcdefgh").unwrap();
        assert_eq!(region.read_c_string(5).unwrap(), b"fgh");
        assert!(region.write_c_string(0, b"12345678").is_err());
        assert!(region.read_c_string(9).is_err());
    }

    #[test]
    fn writes_are_seen_by_a_forked_child() {
        let region = SharedRegion::new(8).unwrap();
        // SAFETY: the child only touches the shared region and then _exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let _ = region.write::<u32>(0, 0xfeed);
            // SAFETY: _exit ends the child without running the test harness.
            unsafe { libc::_exit(0) };
        }
        let mut status = 0;
        // SAFETY: waiting for the child we just forked.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(region.read::<u32>(0).unwrap(), 0xfeed);
    }
}
