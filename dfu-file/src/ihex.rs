//! Intel HEX (I8HEX, I16HEX, I32HEX) reading and writing, on the `ihex` crate.

use ihex::Record;

use crate::error::{Error, Result};
use crate::firmware::Loaded;
use crate::image::{ADDRESS_SPACE_END, Image, ImageBuilder};
use crate::text::read_records;

/// How messages name the record that must close a file.
const END_RECORD: &str = "end-of-file record (:00000001FF)";

/// Data bytes per record written (the common choice of toolchains).
const BYTES_PER_RECORD: usize = 16;

/// How data-record offsets become addresses.
#[derive(Clone, Copy)]
enum Base {
    /// Extended linear address: `(upper << 16) + offset`, no wrap.
    Linear(u32),
    /// Extended segment address: `base + (offset mod 64 KiB)`, wrapping inside the segment.
    Segment(u32),
}

fn err(line: usize, message: String) -> Error {
    Error::Ihex { line, message }
}

/// Reads an Intel HEX file; it must end with an end-of-file record.
///
/// The entry is the start address record: 03 as CS*16+IP, or 05.
pub fn read(file: &[u8]) -> Result<Loaded> {
    let mut builder = ImageBuilder::default();
    let mut base = Base::Linear(0);
    let mut entry = None;
    let parse = |text: &str| Record::from_record_string(text).map_err(|e| describe(&e));
    read_records(file, err, END_RECORD, parse, |line, record| {
        match record {
            Record::Data { offset, value } => place(&mut builder, base, offset, &value, line)?,
            Record::EndOfFile => return Ok(true),
            Record::ExtendedSegmentAddress(segment) => {
                base = Base::Segment(u32::from(segment) << 4)
            }
            Record::ExtendedLinearAddress(upper) => base = Base::Linear(u32::from(upper) << 16),
            Record::StartSegmentAddress { cs, ip } => {
                entry = Some((u32::from(cs) << 4) + u32::from(ip))
            }
            Record::StartLinearAddress(address) => entry = Some(address),
        }
        Ok(false)
    })?;
    Ok(Loaded {
        image: builder.finish()?,
        entry,
        warnings: Vec::new(),
    })
}

/// The crate's message, except for checksums, whose two values it labels the wrong way round.
fn describe(error: &ihex::ReaderError) -> String {
    match error {
        ihex::ReaderError::ChecksumMismatch(computed, stored) => {
            format!(
                "checksum mismatch: the record says {stored:#04X}, but its bytes call for {computed:#04X}"
            )
        }
        other => other.to_string(),
    }
}

fn place(
    builder: &mut ImageBuilder,
    base: Base,
    offset: u16,
    value: &[u8],
    line: usize,
) -> Result<()> {
    match base {
        Base::Linear(upper) => {
            let start = u64::from(upper) + u64::from(offset);
            if start + value.len() as u64 > ADDRESS_SPACE_END {
                let message = format!("{} bytes at {start:#010X} run past 4 GiB", value.len());
                return Err(err(line, message));
            }
            builder.push(start as u32, value)
        }
        Base::Segment(segment) => {
            let before_wrap = value.len().min(0x1_0000 - usize::from(offset));
            builder.push(segment + u32::from(offset), &value[..before_wrap])?;
            builder.push(segment, &value[before_wrap..])
        }
    }
}

/// Writes `image` as I32HEX: 16-byte data records, extended linear addresses, optional start address.
pub fn write(image: &Image, entry: Option<u32>) -> Result<String> {
    let mut records = Vec::new();
    let mut upper = None;
    for segment in image.segments() {
        let mut address = u64::from(segment.address());
        let mut data = segment.data();
        while !data.is_empty() {
            let high = (address >> 16) as u16;
            if upper != Some(high) {
                records.push(Record::ExtendedLinearAddress(high));
                upper = Some(high);
            }
            let low = (address & 0xFFFF) as usize;
            let count = data.len().min(BYTES_PER_RECORD).min(0x1_0000 - low);
            records.push(Record::Data {
                offset: low as u16,
                value: data[..count].to_vec(),
            });
            address += count as u64;
            data = &data[count..];
        }
    }
    if let Some(entry) = entry {
        records.push(Record::StartLinearAddress(entry));
    }
    records.push(Record::EndOfFile);
    ihex::create_object_file_representation(&records).map_err(|e| Error::Unrepresentable {
        format: "Intel HEX",
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_linear_addresses_and_start_address() {
        let file = b":020000040800F2\n:0400000001020304F2\n:0400000508000101ED\n:00000001FF\n";
        let contents = read(file).unwrap();
        let segment = &contents.image.segments()[0];
        assert_eq!(segment.address(), 0x0800_0000);
        assert_eq!(segment.data(), &[1, 2, 3, 4]);
        assert_eq!(contents.entry, Some(0x0800_0101));
    }

    #[test]
    fn segment_addresses_wrap_inside_their_segment() {
        // Base 0x10000; a 2-byte record at offset 0xFFFF puts its second byte at 0x10000.
        let file = b":020000021000EC\n:02FFFF00AABB9B\n:0400000300100020C9\n:00000001FF\n";
        let contents = read(file).unwrap();
        let got: Vec<(u32, Vec<u8>)> = contents
            .image
            .segments()
            .iter()
            .map(|s| (s.address(), s.data().to_vec()))
            .collect();
        assert_eq!(got, vec![(0x1_0000, vec![0xBB]), (0x1_FFFF, vec![0xAA])]);
        assert_eq!(contents.entry, Some(0x100 + 0x20));
    }

    #[test]
    fn linear_records_cross_64k_without_wrapping() {
        let file = b":02FFFF00AABB9B\n:00000001FF\n";
        let contents = read(file).unwrap();
        assert_eq!(contents.image.segments()[0].address(), 0xFFFF);
        assert_eq!(contents.image.segments()[0].len(), 2);
    }

    #[test]
    fn missing_end_record_names_the_line_after_the_last() {
        let err = read(b":0400000001020304F2\n\n").unwrap_err();
        assert_eq!(err.code(), "ihex");
        assert!(
            err.to_string()
                .starts_with("Intel HEX line 2: no end-of-file record"),
            "{err}"
        );
    }

    #[test]
    fn bad_checksum_names_its_line() {
        let err = read(b":020000040800F2\n:0400000001020304F3\n:00000001FF\n").unwrap_err();
        assert!(matches!(err, Error::Ihex { line: 2, .. }), "{err}");
        assert!(
            err.to_string()
                .ends_with("the record says 0xF3, but its bytes call for 0xF2"),
            "{err}"
        );
    }

    #[test]
    fn byte_order_mark_and_crlf_are_accepted() {
        let contents = read(b"\xEF\xBB\xBF:0400000001020304F2\r\n:00000001FF\r\n\x1A").unwrap();
        assert_eq!(contents.image.segments()[0].data(), &[1, 2, 3, 4]);
    }

    #[test]
    fn data_after_the_end_record_is_refused() {
        let err = read(b":00000001FF\n:0400000001020304F2\n").unwrap_err();
        assert!(matches!(err, Error::Ihex { line: 2, .. }), "{err}");
    }

    #[test]
    fn written_records_stay_inside_64k_pages() {
        let image = Image::from_pieces([(0x0800_FFF8, vec![0x11; 24])]).unwrap();
        let text = write(&image, Some(0x0800_0201)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], ":020000040800F2");
        assert!(lines[1].starts_with(":08FFF800"));
        assert_eq!(lines[2], ":020000040801F1");
        assert!(lines[3].starts_with(":10000000"));
        assert_eq!(lines[lines.len() - 1], ":00000001FF");
        let back = read(text.as_bytes()).unwrap();
        assert_eq!(back.image, image);
        assert_eq!(back.entry, Some(0x0800_0201));
    }
}
