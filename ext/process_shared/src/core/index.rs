//! Element indexes of typed arrays: a negative index counts from the end,
//! as in Ruby's `Array`; anything outside `-count...count` is out of bounds.

/// The position of element `index` among `count` elements, or `None`
/// outside `-count...count`. `count` is at most `isize::MAX`, as for any
/// Rust slice (the elements of one mapping always are).
#[inline(always)]
pub fn resolve(index: i64, count: usize) -> Option<usize> {
    debug_assert!(count <= isize::MAX as usize);
    // One unsigned compare for the common case, a non-negative index in
    // range (a negative index is huge as a u64).
    if (index as u64) < count as u64 {
        return Some(index as usize);
    }
    from_the_end(index, count)
}

/// `resolve` past its one compare: the position of a negative index
/// (`None` for any other, and outside `-count...count`). Inlined: a call
/// would make the callers' fast paths save registers.
#[inline]
pub fn from_the_end(index: i64, count: usize) -> Option<usize> {
    if index >= 0 {
        return None;
    }
    count.checked_sub(usize::try_from(index.unsigned_abs()).ok()?)
}

/// The byte offset of element `index` (negative from the end) among
/// `count` elements of `size` bytes each, or `None` out of bounds.
#[inline]
pub fn element_offset(index: i64, count: usize, size: usize) -> Option<u64> {
    let position = resolve(index, count)?;
    (position as u64).checked_mul(size as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_negative_indexes_count_from_the_start() {
        assert_eq!(resolve(0, 3), Some(0));
        assert_eq!(resolve(2, 3), Some(2));
        assert_eq!(resolve(3, 3), None);
        assert_eq!(resolve(i64::MAX, 3), None);
    }

    #[test]
    fn negative_indexes_count_from_the_end() {
        assert_eq!(resolve(-1, 3), Some(2));
        assert_eq!(resolve(-3, 3), Some(0));
        assert_eq!(resolve(-4, 3), None);
        assert_eq!(resolve(i64::MIN, 3), None);
        assert_eq!(resolve(i64::MIN, isize::MAX as usize), None);
        assert_eq!(resolve(i64::MIN + 1, isize::MAX as usize), Some(0));
    }

    #[test]
    fn an_empty_array_has_no_index() {
        assert_eq!(resolve(0, 0), None);
        assert_eq!(resolve(-1, 0), None);
    }

    #[test]
    fn offsets_are_positions_times_the_element_size() {
        assert_eq!(element_offset(1, 4, 8), Some(8));
        assert_eq!(element_offset(-1, 4, 8), Some(24));
        assert_eq!(element_offset(4, 4, 8), None);
        assert_eq!(element_offset(-5, 4, 2), None);
        assert_eq!(element_offset(-1, isize::MAX as usize, usize::MAX), None);
    }
}
