//! The element types of `SharedMemory` and `SharedArray`, every fact about
//! each written once, in [`scalar_types!`]: everything else (the
//! [`ScalarType`] enum, the names Ruby accepts, sizes, ranges, the Ruby
//! conversions, the method registrations, the docs and signatures) is
//! generated from that table. Values are stored in native byte order, with
//! the C sizes of this platform (`long` follows the platform's `long`).

use std::sync::atomic::{
    AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicU16, AtomicU32, AtomicU64, AtomicU8,
};

/// The table: one row per Rust storage type, in the order the docs list
/// them. Each row: the [`ScalarType`] variant, the Rust type, its atomic
/// type (for floats, the atomic of their bits), its kind (`signed`,
/// `unsigned` or `float`) and the Ruby names of the type, each with a
/// phrase for the docs. `long`/`ulong` sit in the row of the platform's C
/// `long` (a test checks the sizes).
///
/// Calls `$callback! { $($extra)* ; rows }`, so that each layer generates
/// what it needs from the same rows: see [`with_scalar_type!`] for the
/// shape of a callback.
macro_rules! scalar_types {
    ($($callback:ident)::+ ! ( $($extra:tt)* )) => {
        $($callback)::+! { $($extra)* ;
            Int8(i8, AtomicI8, signed) { char: "a C `char`, signed as in FFI", int8: "a signed 8-bit integer", }
            UInt8(u8, AtomicU8, unsigned) { uchar: "a C `unsigned char`", uint8: "an unsigned 8-bit integer", }
            Int16(i16, AtomicI16, signed) { short: "a C `short`", int16: "a signed 16-bit integer", }
            UInt16(u16, AtomicU16, unsigned) { ushort: "a C `unsigned short`", uint16: "an unsigned 16-bit integer", }
            Int32(i32, AtomicI32, signed) {
                int: "a C `int`", int32: "a signed 32-bit integer",
                #[cfg(not(target_pointer_width = "64"))] long: "a C `long` (8 bytes on 64-bit systems)",
            }
            UInt32(u32, AtomicU32, unsigned) {
                uint: "a C `unsigned int`", uint32: "an unsigned 32-bit integer",
                #[cfg(not(target_pointer_width = "64"))] ulong: "a C `unsigned long` (8 bytes on 64-bit systems)",
            }
            Int64(i64, AtomicI64, signed) {
                #[cfg(target_pointer_width = "64")] long: "a C `long` (4 bytes on 32-bit systems)",
                int64: "a signed 64-bit integer", long_long: "a C `long long`",
            }
            UInt64(u64, AtomicU64, unsigned) {
                #[cfg(target_pointer_width = "64")] ulong: "a C `unsigned long` (4 bytes on 32-bit systems)",
                uint64: "an unsigned 64-bit integer", ulong_long: "a C `unsigned long long`",
            }
            Float32(f32, AtomicU32, float) { float: "a C `float`, IEEE 754 single precision", }
            Float64(f64, AtomicU64, float) { double: "a C `double`, IEEE 754 double precision", }
        }
    };
}
pub(crate) use scalar_types;

/// `with_scalar_type!(scalar, f(args))` calls `f::<T>(args)` with `T` the
/// Rust type of the `ScalarType` value `scalar`.
macro_rules! with_scalar_type {
    ($scalar:expr, $f:ident($($arg:expr),* $(,)?)) => {
        $crate::core::scalar::scalar_types!($crate::core::scalar::scalar_type_dispatch!(
            ($scalar) ($f) (($($arg),*))
        ))
    };
}
pub(crate) use with_scalar_type;

/// The callback of [`with_scalar_type!`]: one match arm per row.
macro_rules! scalar_type_dispatch {
    (($scalar:expr) ($f:ident) ($args:tt) ;
     $($variant:ident($t:ty, $atomic:ident, $kind:ident) { $($names:tt)* })*) => {
        match $scalar {
            $($crate::core::scalar::ScalarType::$variant => $f::<$t> $args,)*
        }
    };
}
pub(crate) use scalar_type_dispatch;

/// Whether a type holds signed integers, unsigned integers, or floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Signed,
    Unsigned,
    Float,
}

/// A fixed-size value that can be copied in and out of shared memory: one
/// of the table's Rust types.
pub trait Scalar: Copy + Default + PartialEq + std::fmt::Debug + Send + Sync + 'static {
    /// The element type this Rust type stores.
    const TYPE: ScalarType;
    /// Bytes one value occupies.
    const SIZE: usize = std::mem::size_of::<Self>();
    /// Signed, unsigned or float.
    const KIND: Kind;
    /// The inclusive range of an integer type as `(MIN, MAX)`; `None` for
    /// floating point.
    const RANGE: Option<(i128, i128)>;
    /// The atomic type of the same size (for floats: of their bits), for
    /// read-modify-write operations on shared elements.
    type Atomic: Send + Sync;
}

/// Turns a kind token of the table into a [`Kind`].
macro_rules! kind {
    (signed) => {
        Kind::Signed
    };
    (unsigned) => {
        Kind::Unsigned
    };
    (float) => {
        Kind::Float
    };
}

/// The range of a Rust type of the table, by its kind token.
macro_rules! range {
    (float, $t:ty) => {
        None
    };
    ($integer:ident, $t:ty) => {
        Some((<$t>::MIN as i128, <$t>::MAX as i128))
    };
}

/// The enum, its facts, and the `Scalar` impls.
macro_rules! define_scalar_types {
    (; $($variant:ident($t:ty, $atomic:ident, $kind:ident) {
        $($(#[$cfg:meta])* $name:ident: $doc:literal,)*
    })*) => {
        /// One of the element types (a Rust storage type; several Ruby
        /// names may stand for one, see [`TypeName`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ScalarType {
            $($variant,)*
        }

        impl ScalarType {
            /// Every element type, in the table's order.
            pub const ALL: &'static [ScalarType] = &[$(ScalarType::$variant,)*];

            /// Bytes one element occupies.
            pub const fn size(self) -> usize {
                match self {
                    $(ScalarType::$variant => <$t as Scalar>::SIZE,)*
                }
            }

            /// Signed, unsigned or float.
            pub const fn kind(self) -> Kind {
                match self {
                    $(ScalarType::$variant => <$t as Scalar>::KIND,)*
                }
            }

            /// The inclusive integer range of the type, `None` for floating
            /// point.
            pub const fn integer_range(self) -> Option<(i128, i128)> {
                match self {
                    $(ScalarType::$variant => <$t as Scalar>::RANGE,)*
                }
            }

            /// The Rust type's name (`"i32"`), for messages.
            pub const fn rust_name(self) -> &'static str {
                match self {
                    $(ScalarType::$variant => stringify!($t),)*
                }
            }
        }

        $(impl Scalar for $t {
            const TYPE: ScalarType = ScalarType::$variant;
            const KIND: Kind = kind!($kind);
            const RANGE: Option<(i128, i128)> = range!($kind, $t);
            type Atomic = $atomic;
        })*
    };
}
scalar_types!(define_scalar_types!());

/// The per-name enum and its facts.
macro_rules! define_type_names {
    (; $($variant:ident($t:ty, $atomic:ident, $kind:ident) {
        $($(#[$cfg:meta])* $name:ident: $doc:literal,)*
    })*) => {
        /// A name Ruby gives an element type (`:int`, `:int32`, …). Its
        /// discriminant is its position in [`TypeName::ALL`].
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum TypeName {
            $($($(#[$cfg])* $name,)*)*
        }

        impl TypeName {
            /// Every name, in the table's order.
            pub const ALL: &'static [TypeName] = &[$($($(#[$cfg])* TypeName::$name,)*)*];

            /// The name, as Ruby spells the Symbol.
            pub const fn name(self) -> &'static str {
                match self {
                    $($($(#[$cfg])* TypeName::$name => stringify!($name),)*)*
                }
            }

            /// The element type the name stands for.
            pub const fn scalar(self) -> ScalarType {
                match self {
                    $($($(#[$cfg])* TypeName::$name => ScalarType::$variant,)*)*
                }
            }

            /// What the name stands for, in a phrase for the docs.
            pub const fn description(self) -> &'static str {
                match self {
                    $($($(#[$cfg])* TypeName::$name => $doc,)*)*
                }
            }
        }
    };
}
scalar_types!(define_type_names!());

impl TypeName {
    /// The name Ruby spelled, if it is one of the table's.
    pub fn from_name(name: &str) -> Option<TypeName> {
        TypeName::ALL
            .iter()
            .copied()
            .find(|known| known.name() == name)
    }
}

impl ScalarType {
    /// The type a Ruby type name stands for, if it is one of the table's.
    pub fn from_name(name: &str) -> Option<ScalarType> {
        TypeName::from_name(name).map(TypeName::scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_resolves_to_a_type_of_its_c_size() {
        let size = |name| ScalarType::from_name(name).map(ScalarType::size);
        assert_eq!(size("char"), Some(1));
        assert_eq!(size("uchar"), Some(1));
        assert_eq!(size("short"), Some(2));
        assert_eq!(size("int"), Some(std::mem::size_of::<libc::c_int>()));
        assert_eq!(size("long"), Some(std::mem::size_of::<libc::c_long>()));
        assert_eq!(size("ulong"), Some(std::mem::size_of::<libc::c_ulong>()));
        assert_eq!(size("long_long"), Some(8));
        assert_eq!(size("ulong_long"), Some(8));
        assert_eq!(size("float"), Some(4));
        assert_eq!(ScalarType::from_name("double"), Some(ScalarType::Float64));
        assert_eq!(TypeName::ALL.len(), 20);
    }

    #[test]
    fn fixed_width_names_have_their_width_and_sign() {
        for &name in TypeName::ALL {
            let spelled = name.name();
            let digits = spelled.strip_prefix("int").or(spelled.strip_prefix("uint"));
            if let Some(Ok(bits)) = digits.map(str::parse::<usize>) {
                assert_eq!(name.scalar().size() * 8, bits, "{spelled}");
                let kind = if spelled.starts_with('u') {
                    Kind::Unsigned
                } else {
                    Kind::Signed
                };
                assert_eq!(name.scalar().kind(), kind, "{spelled}");
            }
        }
    }

    #[test]
    fn unsigned_names_are_unsigned_and_the_others_signed() {
        for &name in TypeName::ALL {
            let kind = name.scalar().kind();
            if name.name().starts_with('u') {
                assert_eq!(kind, Kind::Unsigned, "{name:?}");
            } else if kind != Kind::Float {
                assert_eq!(kind, Kind::Signed, "{name:?}");
            }
        }
    }

    #[test]
    fn names_are_unique_and_positions_are_discriminants() {
        for (position, &name) in TypeName::ALL.iter().enumerate() {
            // Code that keeps a name as an index (fast_path's const
            // parameters) relies on this.
            assert_eq!(name as usize, position);
            assert_eq!(TypeName::from_name(name.name()), Some(name));
        }
        for (position, &scalar) in ScalarType::ALL.iter().enumerate() {
            assert_eq!(scalar as usize, position);
        }
    }

    #[test]
    fn each_rust_type_knows_its_row() {
        fn check<T: Scalar>(scalar: ScalarType) -> ScalarType {
            assert_eq!(T::SIZE, scalar.size());
            assert_eq!(std::mem::size_of::<T::Atomic>(), T::SIZE);
            T::TYPE
        }
        for &scalar in ScalarType::ALL {
            let found = crate::core::scalar::with_scalar_type!(scalar, check(scalar));
            assert_eq!(found, scalar);
        }
    }

    #[test]
    fn unknown_names_are_rejected() {
        assert_eq!(ScalarType::from_name("pointer"), None);
        assert_eq!(ScalarType::from_name("Int"), None);
        assert_eq!(ScalarType::from_name(""), None);
    }

    #[test]
    fn integer_ranges_match_the_rust_types() {
        assert_eq!(ScalarType::UInt8.integer_range(), Some((0, 255)));
        assert_eq!(ScalarType::Int8.integer_range(), Some((-128, 127)));
        assert_eq!(ScalarType::Int16.integer_range(), Some((-32768, 32767)));
        assert_eq!(
            ScalarType::UInt64.integer_range(),
            Some((0, u64::MAX as i128))
        );
        assert_eq!(
            ScalarType::Int64.integer_range(),
            Some((i64::MIN as i128, i64::MAX as i128))
        );
        assert_eq!(ScalarType::Float32.integer_range(), None);
        assert_eq!(ScalarType::Float64.integer_range(), None);
    }
}
