//! The element types of API.md and how each is stored: native byte order,
//! C sizes of this platform (`long` follows the platform's `long`).

/// A fixed-size value that can be copied in and out of shared memory.
pub trait Scalar: Copy + Default + Send + 'static {
    const SIZE: usize = std::mem::size_of::<Self>();
}

macro_rules! scalar {
    ($($t:ty),*) => { $(impl Scalar for $t {})* };
}
scalar!(i8, u8, i16, u16, i32, u32, i64, u64, f32, f64);

/// One of the element types, as Ruby names them with a Symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float32,
    Float64,
}

const C_LONG_IS_64: bool = std::mem::size_of::<libc::c_long>() == 8;

/// Every type name API.md accepts, with the type it stands for.
pub const TYPE_NAMES: &[(&str, ScalarType)] = &[
    ("char", ScalarType::Int8),
    ("int8", ScalarType::Int8),
    ("uchar", ScalarType::UInt8),
    ("uint8", ScalarType::UInt8),
    ("short", ScalarType::Int16),
    ("int16", ScalarType::Int16),
    ("ushort", ScalarType::UInt16),
    ("uint16", ScalarType::UInt16),
    ("int", ScalarType::Int32),
    ("int32", ScalarType::Int32),
    ("uint", ScalarType::UInt32),
    ("uint32", ScalarType::UInt32),
    (
        "long",
        if C_LONG_IS_64 {
            ScalarType::Int64
        } else {
            ScalarType::Int32
        },
    ),
    (
        "ulong",
        if C_LONG_IS_64 {
            ScalarType::UInt64
        } else {
            ScalarType::UInt32
        },
    ),
    ("int64", ScalarType::Int64),
    ("long_long", ScalarType::Int64),
    ("uint64", ScalarType::UInt64),
    ("ulong_long", ScalarType::UInt64),
    ("float", ScalarType::Float32),
    ("double", ScalarType::Float64),
];

impl ScalarType {
    /// The type a Ruby type name stands for, if it is one of API.md's.
    pub fn from_name(name: &str) -> Option<ScalarType> {
        TYPE_NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|&(_, scalar)| scalar)
    }

    /// Bytes one element occupies.
    pub fn size(self) -> usize {
        match self {
            ScalarType::Int8 | ScalarType::UInt8 => 1,
            ScalarType::Int16 | ScalarType::UInt16 => 2,
            ScalarType::Int32 | ScalarType::UInt32 | ScalarType::Float32 => 4,
            ScalarType::Int64 | ScalarType::UInt64 | ScalarType::Float64 => 8,
        }
    }

    /// The inclusive integer range of the type, `None` for floating point.
    pub fn integer_range(self) -> Option<(i128, i128)> {
        Some(match self {
            ScalarType::Int8 => (i8::MIN.into(), i8::MAX.into()),
            ScalarType::UInt8 => (0, u8::MAX.into()),
            ScalarType::Int16 => (i16::MIN.into(), i16::MAX.into()),
            ScalarType::UInt16 => (0, u16::MAX.into()),
            ScalarType::Int32 => (i32::MIN.into(), i32::MAX.into()),
            ScalarType::UInt32 => (0, u32::MAX.into()),
            ScalarType::Int64 => (i64::MIN.into(), i64::MAX.into()),
            ScalarType::UInt64 => (0, u64::MAX.into()),
            ScalarType::Float32 | ScalarType::Float64 => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_resolves_to_a_type_of_its_c_size() {
        assert_eq!(ScalarType::from_name("char").map(ScalarType::size), Some(1));
        assert_eq!(
            ScalarType::from_name("short").map(ScalarType::size),
            Some(2)
        );
        assert_eq!(ScalarType::from_name("int").map(ScalarType::size), Some(4));
        assert_eq!(
            ScalarType::from_name("long").map(ScalarType::size),
            Some(std::mem::size_of::<libc::c_long>())
        );
        assert_eq!(
            ScalarType::from_name("ulong_long").map(ScalarType::size),
            Some(8)
        );
        assert_eq!(ScalarType::from_name("double"), Some(ScalarType::Float64));
        assert_eq!(TYPE_NAMES.len(), 20);
    }

    #[test]
    fn unknown_names_are_rejected() {
        assert_eq!(ScalarType::from_name("pointer"), None);
        assert_eq!(ScalarType::from_name("Int"), None);
    }

    #[test]
    fn integer_ranges_match_the_rust_types() {
        assert_eq!(ScalarType::UInt8.integer_range(), Some((0, 255)));
        assert_eq!(ScalarType::Int16.integer_range(), Some((-32768, 32767)));
        assert_eq!(
            ScalarType::UInt64.integer_range(),
            Some((0, u64::MAX as i128))
        );
        assert_eq!(ScalarType::Float32.integer_range(), None);
    }
}
