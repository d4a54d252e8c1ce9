//! `Firmware`: what any supported file holds, and reading a file of any format.

use crate::error::{Result, Span};
use crate::image::Image;
use crate::suffix::Suffix;
use crate::{dfuse, elf, ihex, raw, srec};

/// The file formats this crate reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// DfuSe container (UM0391): prefix, targets, elements, suffix.
    Dfuse,
    /// Plain DFU 1.0/1.1 file: raw bytes with a DFU suffix, no address.
    Dfu,
    /// Intel HEX.
    Ihex,
    /// Motorola S-record.
    Srec,
    /// ELF executable.
    Elf,
    /// Raw binary: bytes, no address.
    Bin,
}

impl Format {
    /// The short name used in JSON output and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Dfuse => "dfuse",
            Format::Dfu => "dfu",
            Format::Ihex => "ihex",
            Format::Srec => "srec",
            Format::Elf => "elf",
            Format::Bin => "bin",
        }
    }

    /// A human description.
    pub fn description(self) -> &'static str {
        match self {
            Format::Dfuse => "DfuSe file (UM0391)",
            Format::Dfu => "plain DFU file (raw data with a DFU suffix)",
            Format::Ihex => "Intel HEX",
            Format::Srec => "Motorola S-record",
            Format::Elf => "ELF",
            Format::Bin => "raw binary",
        }
    }

    /// True for formats whose data has no address of its own.
    pub fn needs_address(self) -> bool {
        matches!(self, Format::Dfu | Format::Bin)
    }

    /// The format a file name extension usually means (case-insensitive).
    pub fn from_extension(extension: &str) -> Option<Format> {
        match extension.to_ascii_lowercase().as_str() {
            "hex" | "ihex" | "ihx" | "h86" | "hxl" | "hxh" | "a43" | "a90" => Some(Format::Ihex),
            "srec" | "s19" | "s28" | "s37" | "mot" | "mhx" | "sx" | "s" | "exo" => {
                Some(Format::Srec)
            }
            "elf" | "axf" | "out" => Some(Format::Elf),
            "bin" | "raw" | "img" => Some(Format::Bin),
            "dfu" => Some(Format::Dfu),
            _ => None,
        }
    }
}

/// What a single-image format (Intel HEX, S-record, ELF) holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// The data.
    pub image: Image,
    /// The start address, when the file records one.
    pub entry: Option<u32>,
    /// Oddities that did not stop reading.
    pub warnings: Vec<String>,
}

/// The data for one alternate setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// bAlternateSetting (0 for formats without targets).
    pub alt: u8,
    /// The target name, when the file gives one.
    pub name: Option<String>,
    /// The address ranges as the file stores them (a .dfu's elements; otherwise the segments).
    pub elements: Vec<Span>,
    /// The data.
    pub image: Image,
}

impl Target {
    /// A target whose elements are the image's segments.
    pub fn from_image(alt: u8, name: Option<String>, image: Image) -> Self {
        Target {
            alt,
            name,
            elements: image.segments().iter().map(|s| s.span()).collect(),
            image,
        }
    }
}

/// Everything read from a firmware file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Firmware {
    /// The format it was read as.
    pub format: Format,
    /// One target per alternate setting (exactly one for formats without targets).
    pub targets: Vec<Target>,
    /// The DFU suffix, when the file has one.
    pub suffix: Option<Suffix>,
    /// The start address, when the format records one.
    pub entry: Option<u32>,
    /// Oddities that did not stop reading; each is worth showing the user.
    pub warnings: Vec<String>,
}

impl Firmware {
    fn single(format: Format, loaded: Loaded) -> Self {
        Firmware {
            format,
            targets: vec![Target::from_image(0, None, loaded.image)],
            suffix: None,
            entry: loaded.entry,
            warnings: loaded.warnings,
        }
    }
}

/// How to read a file.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    /// The format, or `None` to detect it.
    pub format: Option<Format>,
    /// Load address for raw data (.bin, plain .dfu); ignored, with a warning, by formats with addresses.
    pub address: Option<u32>,
    /// Turn a suffix CRC mismatch into a warning instead of an error.
    pub ignore_crc: bool,
}

/// Guesses the format: magic numbers first, then the extension, then the first characters.
pub fn detect(file: &[u8], extension: Option<&str>) -> Format {
    if file.starts_with(dfuse::PREFIX_SIGNATURE) {
        return Format::Dfuse;
    }
    if file.starts_with(b"\x7FELF") {
        return Format::Elf;
    }
    if let Some(format) = extension.and_then(Format::from_extension) {
        return format;
    }
    let text = file.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(file);
    let mut text = text.iter().skip_while(|b| b.is_ascii_whitespace());
    match (text.next(), text.next()) {
        (Some(b':'), Some(c)) if c.is_ascii_hexdigit() => Format::Ihex,
        (Some(b'S'), Some(c)) if c.is_ascii_digit() => Format::Srec,
        _ => Format::Bin,
    }
}

/// Reads a firmware file of any supported format.
///
/// `extension` is the file name's extension, used only to detect the format
/// when `options.format` is `None`.
pub fn read(file: &[u8], extension: Option<&str>, options: &ReadOptions) -> Result<Firmware> {
    let format = options.format.unwrap_or_else(|| detect(file, extension));
    let mut firmware = match format {
        Format::Dfuse => dfuse::read(file, options.ignore_crc)?,
        Format::Dfu | Format::Bin => {
            let expect_suffix = format == Format::Dfu;
            raw::read(file, options.address, expect_suffix, options.ignore_crc)?
        }
        Format::Ihex => Firmware::single(format, ihex::read(file)?),
        Format::Srec => Firmware::single(format, srec::read(file)?),
        Format::Elf => Firmware::single(format, elf::read(file)?),
    };
    if let Some(address) = options.address
        && !firmware.format.needs_address()
    {
        firmware.warnings.push(format!(
            "the load address {address:#010X} was ignored: a {} file carries its own addresses",
            firmware.format.description()
        ));
    }
    Ok(firmware)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_prefers_magic_then_extension_then_content() {
        assert_eq!(detect(b"DfuSe\x01", Some("bin")), Format::Dfuse);
        assert_eq!(detect(b"\x7FELF\x01", Some("hex")), Format::Elf);
        assert_eq!(detect(b":10000000", Some("bin")), Format::Bin);
        assert_eq!(detect(b"\r\n:10000000", None), Format::Ihex);
        assert_eq!(detect(b"S00F0000", Some("txt")), Format::Srec);
        assert_eq!(detect(b"\xEF\xBB\xBF:10000000", None), Format::Ihex);
        assert_eq!(detect(b"\x00\x00\x02\x20", None), Format::Bin);
        assert_eq!(detect(b"anything", Some("S19")), Format::Srec);
    }

    #[test]
    fn a_dfu_file_without_prefix_or_suffix_is_refused() {
        let options = ReadOptions {
            address: Some(0),
            ..ReadOptions::default()
        };
        let err = read(&[0x55; 40], Some("dfu"), &options).unwrap_err();
        assert_eq!(
            err,
            crate::Error::BadSignature {
                what: "DFU suffix",
                offset: 32,
                expected: "UFD",
                found: "UUU".into()
            }
        );
        let firmware = read(&[0x55; 40], Some("bin"), &options).unwrap();
        assert_eq!(firmware.format, Format::Bin);
    }

    #[test]
    fn address_is_required_for_raw_data_and_ignored_with_a_warning_elsewhere() {
        let err = read(b"\x01\x02", Some("bin"), &ReadOptions::default()).unwrap_err();
        assert_eq!(err.code(), "missing-address");
        let options = ReadOptions {
            address: Some(0x0800_0000),
            ..ReadOptions::default()
        };
        let firmware = read(b":0100000001FE\n:00000001FF\n", None, &options).unwrap();
        assert_eq!(firmware.format, Format::Ihex);
        assert_eq!(firmware.targets[0].image.segments()[0].address(), 0);
        assert_eq!(firmware.warnings.len(), 1);
    }
}
