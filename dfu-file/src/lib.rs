//! Firmware images and file formats for DfuSe flashing. Pure: bytes in, bytes out.
//!
//! Every reader produces a [`Firmware`] whose targets each hold an [`Image`]
//! (sorted, non-overlapping segments); every writer consumes an `Image`.
//!
//! | format | read | write |
//! |---|---|---|
//! | DfuSe `.dfu` (UM0391) | [`dfuse::read`] | [`dfuse::write`] |
//! | plain DFU / raw `.bin` | [`raw::read`] | [`raw::write`] |
//! | Intel HEX | [`ihex::read`] | [`ihex::write`] |
//! | Motorola S-record | [`srec::read`] | — |
//! | ELF | [`elf::read`] | — |
//!
//! [`read`] detects the format and dispatches. Files are untrusted: no input
//! panics, and no size read from a header drives an allocation before it is
//! checked against the bytes actually there.
#![warn(missing_docs)]

pub mod dfuse;
pub mod dump;
pub mod elf;
mod error;
mod firmware;
pub mod ihex;
mod image;
pub mod raw;
pub mod srec;
pub mod suffix;
mod text;

pub use error::{Error, Result, Span};
pub use firmware::{Firmware, Format, Loaded, ReadOptions, Target, detect, read};
pub use image::{Image, Segment};
pub use suffix::{DeviceIds, Suffix};
