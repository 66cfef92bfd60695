use std::fmt;
use std::io;

/// Everything the core can refuse or fail with. The binding layer maps each
/// variant to a Ruby exception (`ruby_api/errors.rs`, `core_error`).
#[derive(Debug)]
pub enum CoreError {
    /// An access that does not lie inside the region (`IndexError`).
    OutOfBounds {
        offset: u128,
        length: u128,
        size: usize,
    },
    /// A bad size, count or initial value (`ArgumentError`).
    InvalidArgument(String),
    /// A value that does not fit the type being written (`RangeError`).
    OutOfRange(String),
    /// The operating system refused (`Errno::*`).
    Os(io::Error),
    /// This platform cannot do that (`NotImplementedError`).
    Unsupported(&'static str),
    /// Lock misuse: unlocking what the caller does not hold, locking again
    /// what it holds, posting a binary semaphore above 1 (`ProcessError`).
    Misuse(String),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::OutOfBounds {
                offset,
                length,
                size,
            } => write!(
                f,
                "access of {length} byte(s) at offset {offset} is outside the region of {size} byte(s)"
            ),
            CoreError::InvalidArgument(message)
            | CoreError::OutOfRange(message)
            | CoreError::Misuse(message) => f.write_str(message),
            CoreError::Os(err) => err.fmt(f),
            CoreError::Unsupported(message) => f.write_str(message),
        }
    }
}

impl From<io::Error> for CoreError {
    fn from(err: io::Error) -> Self {
        CoreError::Os(err)
    }
}
