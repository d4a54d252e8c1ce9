//! Raw binaries: bare bytes at a caller-given address, with or without a plain DFU suffix.

use crate::error::{Error, Result};
use crate::firmware::{Firmware, Format, Target};
use crate::image::{Image, Segment};
use crate::suffix::{self, BCD_DFU_DFUSE};

/// Reads a raw image (format `bin`) or a plain DFU file (raw bytes plus suffix, format `dfu`).
///
/// The suffix is recognised and stripped, never part of the data; with
/// `expect_suffix` its absence is an error. A CRC mismatch is an error unless
/// `ignore_crc`, when it becomes a warning.
pub fn read(
    file: &[u8],
    address: Option<u32>,
    expect_suffix: bool,
    ignore_crc: bool,
) -> Result<Firmware> {
    let mut warnings = Vec::new();
    let suffix = suffix::find(file)?;
    if expect_suffix && suffix.is_none() {
        let start = file.len().saturating_sub(suffix::SUFFIX_LEN);
        let signature = file.get(start + 8..start + 11).unwrap_or_default();
        return Err(Error::BadSignature {
            what: "DFU suffix",
            offset: start + 8,
            expected: "UFD",
            found: String::from_utf8_lossy(signature).into_owned(),
        });
    }
    let (format, payload) = match &suffix {
        Some(suffix) => {
            if let Some(err) = suffix.crc_error() {
                if !ignore_crc {
                    return Err(err);
                }
                warnings.push(err.to_string());
            }
            if suffix.bcd_dfu == BCD_DFU_DFUSE {
                warnings.push(
                    "the suffix says DfuSe (bcdDFU 0x011A) but the file has no DfuSe prefix: read as plain DFU data".into(),
                );
            }
            (
                Format::Dfu,
                &file[..file.len() - usize::from(suffix.length)],
            )
        }
        None => (Format::Bin, file),
    };
    let address = address.ok_or(Error::MissingAddress {
        format: format.name(),
    })?;
    let image = Image::from_pieces([(address, payload.to_vec())])?;
    Ok(Firmware {
        format,
        targets: vec![Target::from_image(0, None, image)],
        suffix,
        entry: None,
        warnings,
    })
}

/// Writes `image` as contiguous bytes from its first address, gaps filled with 0xFF.
///
/// Refuses any gap over `max_gap` bytes, so a stray far-away segment cannot
/// silently produce a file of hundreds of megabytes.
pub fn write(image: &Image, max_gap: u64) -> Result<Vec<u8>> {
    let flat = image.flattened(0xFF, max_gap)?;
    Ok(flat
        .into_segments()
        .into_iter()
        .next()
        .map(Segment::into_data)
        .unwrap_or_default())
}
