//! The one error type of this crate: what went wrong, where in the file, and what to do.

use std::fmt;

/// A half-open address range `start..end`, displayed inclusively as `0x08000000-0x080003FF`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
}

impl Span {
    /// The range of `len` bytes starting at `start`.
    pub fn new(start: u64, len: u64) -> Self {
        Span {
            start,
            end: start.saturating_add(len),
        }
    }

    /// Number of bytes in the range.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// True when the range holds no byte.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            write!(f, "{:#010X} (empty)", self.start)
        } else {
            write!(f, "{:#010X}-{:#010X}", self.start, self.end - 1)
        }
    }
}

/// Everything that can be wrong with a firmware file or an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A fixed-size structure does not fit in the bytes that are left.
    #[error(
        "file is truncated: the {what} at offset {offset:#X} needs {needed} bytes but the file ends at {end:#X}"
    )]
    Truncated {
        /// The structure being read.
        what: String,
        /// Its offset in the file.
        offset: usize,
        /// Its size.
        needed: usize,
        /// Where the readable data ends.
        end: usize,
    },

    /// A DfuSe element claims more data than the file holds.
    #[error(
        "element {element} of target {target} claims {size} bytes at offset {offset:#X} but the file ends at {end:#X}"
    )]
    ElementTruncated {
        /// Index of the target (from 0).
        target: usize,
        /// Index of the element within the target (from 0).
        element: u32,
        /// The claimed size.
        size: u32,
        /// Offset of the element's data.
        offset: usize,
        /// Where the readable data ends (the suffix is not data).
        end: usize,
    },

    /// A magic signature is not what the format requires.
    #[error("bad {what} signature at offset {offset:#X}: expected {expected:?}, found {found:?}")]
    BadSignature {
        /// Which signature.
        what: &'static str,
        /// Its offset in the file.
        offset: usize,
        /// What the format requires.
        expected: &'static str,
        /// What the file holds (lossily decoded).
        found: String,
    },

    /// A DfuSe prefix with a bVersion other than 1.
    #[error(
        "unsupported DfuSe format version {version} at offset 0x5 (UM0391 defines only version 1)"
    )]
    UnsupportedVersion {
        /// The version byte found.
        version: u8,
    },

    /// A DfuSe file (it has the prefix) without the DFU suffix UM0391 requires.
    #[error(
        "DfuSe file of {len} bytes has no DFU suffix (the 16 bytes at offset {offset:#X} lack the \"UFD\" signature)"
    )]
    MissingSuffix {
        /// File length.
        len: usize,
        /// Where the suffix should start.
        offset: usize,
    },

    /// A DFU suffix whose bLength cannot be right.
    #[error(
        "bad DFU suffix: bLength at offset {offset:#X} is {length}, but it must be at least 16 and at most the file size ({file_len})"
    )]
    BadSuffixLength {
        /// Offset of the bLength byte.
        offset: usize,
        /// The bLength value.
        length: u8,
        /// File length.
        file_len: usize,
    },

    /// The suffix CRC does not match the file's bytes.
    #[error("CRC mismatch: file says {stored:#010X}, computed {computed:#010X}")]
    CrcMismatch {
        /// dwCRC from the suffix.
        stored: u32,
        /// CRC computed over the file.
        computed: u32,
    },

    /// Two pieces of data claim the same address.
    #[error("data at {first} overlaps data at {second}")]
    Overlap {
        /// The earlier range.
        first: Span,
        /// The range that overlaps it.
        second: Span,
    },

    /// Data that would run past the 32-bit address space.
    #[error("{len} bytes at {address:#010X} run past the end of the 32-bit address space")]
    AddressOverflow {
        /// Start address.
        address: u64,
        /// Length in bytes.
        len: u64,
    },

    /// A malformed Intel HEX file.
    #[error("Intel HEX line {line}: {message}")]
    Ihex {
        /// Line number (from 1).
        line: usize,
        /// What is wrong.
        message: String,
    },

    /// A malformed Motorola S-record file.
    #[error("S-record line {line}: {message}")]
    Srec {
        /// Line number (from 1).
        line: usize,
        /// What is wrong.
        message: String,
    },

    /// A malformed ELF file.
    #[error("ELF: {message}")]
    Elf {
        /// What is wrong.
        message: String,
    },

    /// A raw binary (or plain DFU file) was read without a load address.
    #[error("a {format} file has no load address: one must be given")]
    MissingAddress {
        /// The format name.
        format: &'static str,
    },

    /// Filling a gap for .bin output would exceed the allowed fill.
    #[error("the gap {gap} ({} bytes) is larger than the fill limit of {limit} bytes", gap.len())]
    GapTooLarge {
        /// The gap between two segments.
        gap: Span,
        /// The largest gap allowed.
        limit: u64,
    },

    /// A value does not fit the field the output format has for it.
    #[error("cannot write {format}: {message}")]
    Unrepresentable {
        /// The output format.
        format: &'static str,
        /// What does not fit.
        message: String,
    },
}

impl Error {
    /// A stable short code for scripts and documentation.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Truncated { .. } => "truncated",
            Error::ElementTruncated { .. } => "element-truncated",
            Error::BadSignature { .. } => "bad-signature",
            Error::UnsupportedVersion { .. } => "unsupported-version",
            Error::MissingSuffix { .. } => "missing-suffix",
            Error::BadSuffixLength { .. } => "bad-suffix",
            Error::CrcMismatch { .. } => "crc-mismatch",
            Error::Overlap { .. } => "overlap",
            Error::AddressOverflow { .. } => "address-overflow",
            Error::Ihex { .. } => "ihex",
            Error::Srec { .. } => "srec",
            Error::Elf { .. } => "elf",
            Error::MissingAddress { .. } => "missing-address",
            Error::GapTooLarge { .. } => "gap-too-large",
            Error::Unrepresentable { .. } => "unrepresentable",
        }
    }

    /// What the user can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            Error::Truncated { .. } | Error::ElementTruncated { .. } => {
                "the file is incomplete or damaged: download or build it again"
            }
            Error::BadSignature { .. } | Error::UnsupportedVersion { .. } => {
                "this is not the format it was taken for: name the input format explicitly if detection guessed wrong"
            }
            Error::MissingSuffix { .. } | Error::BadSuffixLength { .. } => {
                "the file's DFU suffix is missing or damaged: re-create the file with `dfuse file convert`"
            }
            Error::CrcMismatch { .. } => {
                "the file was damaged or edited after its suffix was written: get a fresh copy; if you trust its contents, convert it with --ignore-crc to write a new CRC"
            }
            Error::Overlap { .. } => {
                "two parts of the file write the same addresses: fix the linker script or the tool that produced the file"
            }
            Error::AddressOverflow { .. } => {
                "the data would wrap past 0xFFFFFFFF: check the load address"
            }
            Error::Ihex { .. } | Error::Srec { .. } | Error::Elf { .. } => {
                "the file is malformed at the place named: regenerate it with your toolchain"
            }
            Error::MissingAddress { .. } => {
                "raw images carry no address: pass --address (for STM32 internal flash usually 0x08000000)"
            }
            Error::GapTooLarge { .. } => {
                "a .bin cannot hold gaps, so they are filled with 0xFF: raise --max-fill, or write .hex or .dfu, which keep gaps"
            }
            Error::Unrepresentable { .. } => "choose an output format that can hold this image",
        }
    }
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;
