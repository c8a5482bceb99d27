//! The codec's error type: what is wrong, where (byte offset from the start of
//! the buffer given to `parse`), and in which chunk, parameter or field.

use core::fmt;

/// What went wrong while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// The buffer ends before the structure it should hold.
    #[error("truncated")]
    Truncated,
    /// A length field is smaller than the fixed part of its structure.
    #[error("length field too small")]
    LengthTooSmall,
    /// A length field points past the end of the enclosing structure.
    #[error("length field exceeds the enclosing data")]
    LengthTooLarge,
    /// A length field does not fit the structure's layout (for example a list
    /// of 4-byte items whose length is not a multiple of 4).
    #[error("length field inconsistent with the layout")]
    BadLength,
    /// The CRC32c checksum (RFC 9260 §6.8) does not match the packet.
    #[error("checksum mismatch")]
    BadChecksum,
    /// A parameter appeared where another type was required.
    #[error("unexpected parameter type")]
    UnexpectedParameter,
    /// A mandatory element is missing.
    #[error("missing mandatory element")]
    Missing,
    /// Bytes remain after the last element where none are allowed.
    #[error("trailing bytes")]
    Trailing,
}

/// A parse error: its kind, the byte offset where it was found, and the chunk,
/// parameter or field being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Offset in bytes from the start of the buffer handed to the parser.
    pub offset: usize,
    /// The structure being parsed, such as `"INIT"`, `"SACK"` or `"IPv4 Address"`.
    pub context: &'static str,
    /// The field being read, such as `"length"` or `"gap ack blocks"`.
    pub field: &'static str,
}

impl Error {
    /// Builds an error.
    pub const fn new(
        kind: ErrorKind,
        offset: usize,
        context: &'static str,
        field: &'static str,
    ) -> Self {
        Error {
            kind,
            offset,
            context,
            field,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.kind, self.offset)?;
        match (self.context.is_empty(), self.field.is_empty()) {
            (false, false) => write!(f, " ({}, field '{}')", self.context, self.field),
            (false, true) => write!(f, " ({})", self.context),
            (true, false) => write!(f, " (field '{}')", self.field),
            (true, true) => Ok(()),
        }
    }
}

impl std::error::Error for Error {}

/// Result alias for this crate.
pub type Result<T> = core::result::Result<T, Error>;
