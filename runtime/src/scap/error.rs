//! The error of the scap reader: what went wrong, and where in the (decompressed) stream.

use crate::event::EventError;

/// A capture file could not be read. `offset` is the byte offset in the decompressed stream of the
/// block (or field) at fault, so a corrupt file can be inspected with a hex dump of
/// `zcat FILE`.
///
/// What the caller can do: report it; events already returned were valid, so a consumer may keep
/// the results of a partially read file (sysdig prints the events before the error too).
#[derive(Debug)]
pub struct ScapError {
    /// Byte offset in the decompressed stream.
    pub offset: u64,
    /// What went wrong.
    pub kind: ScapErrorKind,
}

/// The kinds of [`ScapError`].
#[derive(Debug)]
pub enum ScapErrorKind {
    /// Reading the underlying file (or decompressing it) failed.
    Io(std::io::Error),
    /// The stream ended in the middle of something.
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        wanted: u64,
        /// Bytes available.
        got: u64,
    },
    /// The first block is not a section header block.
    NotScap,
    /// The section header's byte-order magic is wrong (byte-swapped files are not supported).
    InvalidMagic(u32),
    /// The section header's major version is newer than this reader.
    VersionMismatch {
        /// Major version in the file.
        major: u16,
        /// Minor version in the file.
        minor: u16,
    },
    /// The file has no event block.
    NoEvents,
    /// A block length is impossible (too short for its header and trailer, or beyond the limits).
    BadBlockLength {
        /// The block type.
        block_type: u32,
        /// The block's total length.
        length: u32,
        /// Why it is impossible.
        reason: &'static str,
    },
    /// A block's trailer does not repeat its total length.
    TrailerMismatch {
        /// Length in the header.
        header: u32,
        /// Length in the trailer.
        trailer: u32,
    },
    /// A metadata block's content is inconsistent.
    Corrupt(String),
    /// An event is malformed.
    Event(EventError),
    /// A non-event block after the events started, other than the section header of a
    /// concatenated capture.
    UnexpectedBlock(u32),
}

impl ScapError {
    pub(crate) fn new(offset: u64, kind: ScapErrorKind) -> ScapError {
        ScapError { offset, kind }
    }

    pub(crate) fn corrupt(offset: u64, message: impl Into<String>) -> ScapError {
        ScapError::new(offset, ScapErrorKind::Corrupt(message.into()))
    }

    pub(crate) fn truncated(offset: u64, what: &'static str, wanted: u64, got: u64) -> ScapError {
        ScapError::new(offset, ScapErrorKind::Truncated { what, wanted, got })
    }
}

impl std::fmt::Display for ScapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at byte {}: ", self.offset)?;
        match &self.kind {
            ScapErrorKind::Io(e) => write!(f, "error reading file: {e}"),
            ScapErrorKind::Truncated { what, wanted, got } => write!(
                f,
                "truncated file: expecting {wanted} bytes of {what}, read {got}"
            ),
            ScapErrorKind::NotScap => f.write_str("invalid block type: not a scap capture file"),
            ScapErrorKind::InvalidMagic(m) => write!(f, "invalid magic number {m:#x}"),
            ScapErrorKind::VersionMismatch { major, minor } => write!(
                f,
                "cannot correctly parse the capture (format version {major}.{minor}); upgrade your version"
            ),
            ScapErrorKind::NoEvents => f.write_str("no events in file"),
            ScapErrorKind::BadBlockLength {
                block_type,
                length,
                reason,
            } => write!(
                f,
                "block of type {block_type:#x} has impossible length {length}: {reason}"
            ),
            ScapErrorKind::TrailerMismatch { header, trailer } => write!(
                f,
                "wrong block total length, header={header}, trailer={trailer}"
            ),
            ScapErrorKind::Corrupt(m) => f.write_str(m),
            ScapErrorKind::Event(e) => write!(f, "{e}"),
            ScapErrorKind::UnexpectedBlock(t) => write!(f, "unexpected block type {t:#x}"),
        }
    }
}

impl std::error::Error for ScapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ScapErrorKind::Io(e) => Some(e),
            ScapErrorKind::Event(e) => Some(e),
            _ => None,
        }
    }
}
