//! The DfuSe `.dfu` container of UM0391: prefix, targets of elements, suffix.
//!
//! Written files carry `DFUImageSize` = prefix + targets, *excluding* the
//! 16-byte suffix (as dfu-util's `dfuse-pack` writes it); both readings are
//! accepted when reading.

use crate::error::{Error, Result, Span};
use crate::firmware::{Firmware, Format, Target};
use crate::image::ImageBuilder;
use crate::suffix::{self, BCD_DFU_DFUSE, DeviceIds};

/// The 5 bytes every DfuSe file starts with.
pub const PREFIX_SIGNATURE: &[u8; 5] = b"DfuSe";
const PREFIX_LEN: usize = 11;
const TARGET_SIGNATURE: &[u8; 6] = b"Target";
const TARGET_HEADER_LEN: usize = 274;
const TARGET_NAME_LEN: usize = 255;
const ELEMENT_HEADER_LEN: usize = 8;

/// Reads fixed-size fields and refuses to read past `end`.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, len: usize, what: impl FnOnce() -> String) -> Result<&'a [u8]> {
        let remaining = self.bytes.len() - self.pos;
        if len > remaining {
            return Err(Error::Truncated {
                what: what(),
                offset: self.pos,
                needed: len,
                end: self.bytes.len(),
            });
        }
        let slice = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        Ok(slice)
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Reads a DfuSe file. A CRC mismatch is an error unless `ignore_crc`, when it becomes a warning.
pub fn read(file: &[u8], ignore_crc: bool) -> Result<Firmware> {
    let mut warnings = Vec::new();
    let prefix = Cursor {
        bytes: file,
        pos: 0,
    }
    .take(PREFIX_LEN, || "DfuSe prefix".into())?;
    if &prefix[..5] != PREFIX_SIGNATURE {
        return Err(Error::BadSignature {
            what: "DfuSe prefix",
            offset: 0,
            expected: "DfuSe",
            found: String::from_utf8_lossy(&prefix[..5]).into_owned(),
        });
    }
    if prefix[5] != 1 {
        return Err(Error::UnsupportedVersion { version: prefix[5] });
    }

    let suffix = suffix::find(file)?.ok_or(Error::MissingSuffix {
        len: file.len(),
        offset: file.len() - suffix::SUFFIX_LEN.min(file.len()),
    })?;
    if let Some(err) = suffix.crc_error() {
        if !ignore_crc {
            return Err(err);
        }
        warnings.push(err.to_string());
    }
    if suffix.bcd_dfu != BCD_DFU_DFUSE {
        warnings.push(format!(
            "suffix bcdDFU is {:#06X}, but DfuSe files use 0x011A",
            suffix.bcd_dfu
        ));
    }
    let body_end = file.len() - usize::from(suffix.length);
    if body_end < PREFIX_LEN {
        return Err(Error::Truncated {
            what: "DfuSe prefix".into(),
            offset: 0,
            needed: PREFIX_LEN,
            end: body_end,
        });
    }
    let image_size = u32_at(prefix, 6) as usize;
    if image_size != body_end && image_size != file.len() {
        warnings.push(format!(
            "DFUImageSize says {image_size} bytes, but the file has {} ({body_end} without its suffix)",
            file.len()
        ));
    }

    let mut cursor = Cursor {
        bytes: &file[..body_end],
        pos: PREFIX_LEN,
    };
    let target_count = prefix[10];
    let mut targets = Vec::with_capacity(usize::from(target_count));
    for index in 0..usize::from(target_count) {
        targets.push(read_target(&mut cursor, index, &mut warnings)?);
    }
    for (index, target) in targets.iter().enumerate() {
        if let Some(first) = targets[..index].iter().position(|t| t.alt == target.alt) {
            warnings.push(format!(
                "targets {first} and {index} are both for alternate setting {}",
                target.alt
            ));
        }
    }
    if cursor.pos < body_end {
        warnings.push(format!(
            "{} bytes at offset {:#X} after the last target belong to no target and were ignored",
            body_end - cursor.pos,
            cursor.pos
        ));
    }
    Ok(Firmware {
        format: Format::Dfuse,
        targets,
        suffix: Some(suffix),
        entry: None,
        warnings,
    })
}

fn read_target(cursor: &mut Cursor, index: usize, warnings: &mut Vec<String>) -> Result<Target> {
    let header_offset = cursor.pos;
    let header = cursor.take(TARGET_HEADER_LEN, || format!("header of target {index}"))?;
    if &header[..6] != TARGET_SIGNATURE {
        return Err(Error::BadSignature {
            what: "target",
            offset: header_offset,
            expected: "Target",
            found: String::from_utf8_lossy(&header[..6]).into_owned(),
        });
    }
    let alt = header[6];
    let named = u32_at(header, 7) != 0;
    let name_field = &header[11..11 + TARGET_NAME_LEN];
    let name_len = name_field
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(TARGET_NAME_LEN);
    let name = named.then(|| String::from_utf8_lossy(&name_field[..name_len]).into_owned());
    let target_size = u32_at(header, 266) as usize;
    let element_count = u32_at(header, 270);

    let elements_start = cursor.pos;
    let mut builder = ImageBuilder::default();
    let mut elements = Vec::new();
    for element in 0..element_count {
        let element_header = cursor.take(ELEMENT_HEADER_LEN, || {
            format!("header of element {element} of target {index}")
        })?;
        let address = u32_at(element_header, 0);
        let size = u32_at(element_header, 4);
        let data_offset = cursor.pos;
        let data =
            cursor
                .take(size as usize, String::new)
                .map_err(|_| Error::ElementTruncated {
                    target: index,
                    element,
                    size,
                    offset: data_offset,
                    end: cursor.bytes.len(),
                })?;
        builder.push(address, data)?;
        elements.push(Span::new(u64::from(address), u64::from(size)));
    }
    let elements_len = cursor.pos - elements_start;
    if elements_len != target_size {
        warnings.push(format!(
            "target {index}: dwTargetSize says {target_size} bytes, but its {element_count} elements take {elements_len}"
        ));
    }
    Ok(Target {
        alt,
        name,
        elements,
        image: builder.finish()?,
    })
}

fn unrepresentable(message: String) -> Error {
    Error::Unrepresentable {
        format: "DfuSe file",
        message,
    }
}

/// Writes a DfuSe file: one target per entry, one element per segment, a suffix for `ids`.
pub fn write(targets: &[Target], ids: DeviceIds) -> Result<Vec<u8>> {
    let target_count = u8::try_from(targets.len())
        .map_err(|_| unrepresentable(format!("{} targets (at most 255)", targets.len())))?;
    let mut out = Vec::with_capacity(
        PREFIX_LEN + suffix::SUFFIX_LEN + targets.iter().map(target_len).sum::<usize>(),
    );
    out.extend_from_slice(PREFIX_SIGNATURE);
    out.push(1);
    out.extend_from_slice(&[0; 4]); // DFUImageSize, patched below
    out.push(target_count);
    for target in targets {
        write_target(&mut out, target)?;
    }
    let image_size = u32::try_from(out.len())
        .map_err(|_| unrepresentable(format!("{} bytes exceed 4 GiB", out.len())))?;
    out[6..10].copy_from_slice(&image_size.to_le_bytes());
    suffix::append(&mut out, ids, BCD_DFU_DFUSE);
    Ok(out)
}

fn target_len(target: &Target) -> usize {
    TARGET_HEADER_LEN
        + target
            .image
            .segments()
            .iter()
            .map(|s| ELEMENT_HEADER_LEN + s.len())
            .sum::<usize>()
}

fn write_target(out: &mut Vec<u8>, target: &Target) -> Result<()> {
    let name = target.name.as_deref().unwrap_or("").as_bytes();
    if name.len() > TARGET_NAME_LEN || name.contains(&0) {
        return Err(unrepresentable(format!(
            "target name of {} bytes (at most 255, no NUL)",
            name.len()
        )));
    }
    let segments = target.image.segments();
    let size = u32::try_from(target_len(target) - TARGET_HEADER_LEN)
        .map_err(|_| unrepresentable(format!("target for alt {} exceeds 4 GiB", target.alt)))?;
    out.extend_from_slice(TARGET_SIGNATURE);
    out.push(target.alt);
    out.extend_from_slice(&u32::from(target.name.is_some()).to_le_bytes());
    out.extend_from_slice(name);
    out.resize(out.len() + TARGET_NAME_LEN - name.len(), 0);
    out.extend_from_slice(&size.to_le_bytes());
    // Both fit: the target's total size fits in u32, so each part does too.
    out.extend_from_slice(&(segments.len() as u32).to_le_bytes());
    for segment in segments {
        out.extend_from_slice(&segment.address().to_le_bytes());
        out.extend_from_slice(&(segment.len() as u32).to_le_bytes());
        out.extend_from_slice(segment.data());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Image;

    fn target(alt: u8, name: Option<&str>, pieces: Vec<(u32, Vec<u8>)>) -> Target {
        let image = Image::from_pieces(pieces).unwrap();
        Target {
            alt,
            name: name.map(str::to_owned),
            elements: image.segments().iter().map(|s| s.span()).collect(),
            image,
        }
    }

    #[test]
    fn layout_matches_um0391() {
        let file = write(
            &[target(
                0,
                Some("Internal Flash"),
                vec![(0x0800_0000, vec![0xAA; 4])],
            )],
            DeviceIds::default(),
        )
        .unwrap();
        assert_eq!(file.len(), 11 + 274 + 8 + 4 + 16);
        assert_eq!(&file[..6], b"DfuSe\x01");
        assert_eq!(u32_at(&file, 6) as usize, file.len() - 16);
        assert_eq!(file[10], 1);
        assert_eq!(&file[11..17], b"Target");
        assert_eq!(u32_at(&file, 18), 1, "bTargetNamed");
        assert_eq!(&file[22..36], b"Internal Flash");
        assert_eq!(u32_at(&file, 11 + 266), 12, "dwTargetSize");
        assert_eq!(u32_at(&file, 11 + 270), 1, "dwNbElements");
        assert_eq!(u32_at(&file, 285), 0x0800_0000);
        assert_eq!(u32_at(&file, 289), 4);
        assert_eq!(&file[file.len() - 8..file.len() - 5], b"UFD");
    }

    #[test]
    fn several_targets_read_back() {
        let targets = vec![
            target(
                0,
                Some("Flash"),
                vec![(0x0800_0000, vec![1, 2]), (0x0800_4000, vec![3])],
            ),
            target(1, None, vec![(0x1FFF_C000, vec![0xAA, 0x55])]),
        ];
        let ids = DeviceIds {
            vid: 0x0483,
            pid: 0xDF11,
            bcd_device: 0x2200,
        };
        let firmware = read(&write(&targets, ids).unwrap(), false).unwrap();
        assert_eq!(firmware.format, Format::Dfuse);
        assert_eq!(firmware.targets, targets);
        assert_eq!(firmware.suffix.unwrap().ids, ids);
        assert!(firmware.warnings.is_empty(), "{:?}", firmware.warnings);
    }

    #[test]
    fn image_size_including_the_suffix_is_accepted() {
        let mut file = write(&[target(0, None, vec![(0, vec![7])])], DeviceIds::default()).unwrap();
        let len = file.len() as u32;
        file[6..10].copy_from_slice(&len.to_le_bytes());
        let body = file.len() - 4;
        let crc = suffix::crc32(&file[..body]);
        file[body..].copy_from_slice(&crc.to_le_bytes());
        let firmware = read(&file, false).unwrap();
        assert!(firmware.warnings.is_empty(), "{:?}", firmware.warnings);
    }

    #[test]
    fn wrong_target_size_is_only_a_warning() {
        let mut file = write(&[target(0, None, vec![(0, vec![7])])], DeviceIds::default()).unwrap();
        file[11 + 266] = 99;
        let body = file.len() - 4;
        let crc = suffix::crc32(&file[..body]);
        file[body..].copy_from_slice(&crc.to_le_bytes());
        let firmware = read(&file, false).unwrap();
        assert_eq!(firmware.warnings.len(), 1);
        assert!(firmware.warnings[0].contains("dwTargetSize says 99"));
    }

    #[test]
    fn two_targets_for_one_alt_are_reported() {
        let targets = vec![
            target(1, None, vec![(0, vec![1])]),
            target(1, None, vec![(8, vec![2])]),
        ];
        let firmware = read(&write(&targets, DeviceIds::default()).unwrap(), false).unwrap();
        assert_eq!(
            firmware.warnings,
            vec!["targets 0 and 1 are both for alternate setting 1".to_string()]
        );
    }

    #[test]
    fn overlong_name_is_refused() {
        let name = "x".repeat(256);
        let err = write(&[target(0, Some(&name), vec![])], DeviceIds::default()).unwrap_err();
        assert!(matches!(err, Error::Unrepresentable { .. }));
    }
}
