//! Motorola S-record reading, on the `srec` crate.

use srec::{Address16, Address24, Address32, Count16, Count24, Data, Record};

use crate::error::{Error, Result};
use crate::firmware::Loaded;
use crate::image::{ImageBuilder, check_fits};
use crate::text::read_records;

/// How messages name the record that must close a file.
const END_RECORD: &str = "S7/S8/S9 termination record";

fn err(line: usize, message: String) -> Error {
    Error::Srec { line, message }
}

/// Reads an S-record file; it must end with an S7, S8 or S9 termination record.
///
/// The image holds the S1/S2/S3 data; the entry is the termination record's address.
pub fn read(file: &[u8]) -> Result<Loaded> {
    let mut builder = ImageBuilder::default();
    let mut data_records: u32 = 0;
    let mut entry = None;
    let parse = |text: &str| parse_record(text).map_err(|e| format!("{e} in {:?}", short(text)));
    read_records(file, err, END_RECORD, parse, |line, record| {
        let Some(record) = record else {
            return Ok(false); // an S0 header
        };
        let (address, data) = match record {
            Record::S0(_) => return Ok(false),
            Record::S1(Data {
                address: Address16(a),
                data,
            }) => (u32::from(a), data),
            Record::S2(Data {
                address: Address24(a),
                data,
            }) => (a, data),
            Record::S3(Data {
                address: Address32(a),
                data,
            }) => (a, data),
            Record::S5(Count16(count)) => {
                check_count(u32::from(count), data_records, 0xFFFF, line)?;
                return Ok(false);
            }
            Record::S6(Count24(count)) => {
                check_count(count, data_records, 0xFF_FFFF, line)?;
                return Ok(false);
            }
            Record::S7(Address32(a)) | Record::S8(Address24(a)) => {
                entry = Some(a);
                return Ok(true);
            }
            Record::S9(Address16(a)) => {
                entry = Some(u32::from(a));
                return Ok(true);
            }
        };
        check_fits(u64::from(address), data.len() as u64).map_err(|_| {
            let message = format!("{} bytes at {address:#010X} run past 4 GiB", data.len());
            err(line, message)
        })?;
        builder.push(address, &data)?;
        data_records = data_records.wrapping_add(1);
        Ok(false)
    })?;
    Ok(Loaded {
        image: builder.finish()?,
        entry,
        warnings: Vec::new(),
    })
}

/// Parses one record; `None` for a well-formed S0 header, which carries nothing to flash.
///
/// The srec crate (0.2) panics on S0 records that are shorter than their
/// address or not UTF-8. An S0 is laid out like an S1 (16-bit address, then
/// bytes, same checksum), so it is checked as one and then dropped.
fn parse_record(text: &str) -> std::result::Result<Option<Record>, srec::ReaderError> {
    match text.strip_prefix("S0") {
        Some(rest) => format!("S1{rest}").parse::<Record>().map(|_| None),
        None => text.parse::<Record>().map(Some),
    }
}

/// Compares an S5/S6 count with the data records seen, modulo the count's width (`mask`).
fn check_count(count: u32, seen: u32, mask: u32, line: usize) -> Result<()> {
    if count != seen & mask {
        return Err(err(
            line,
            format!(
                "count record says {count} data records, but {seen} came before it: records are missing or duplicated"
            ),
        ));
    }
    Ok(())
}

/// The start of a record, for messages.
fn short(text: &str) -> &str {
    let end = text.char_indices().nth(24).map_or(text.len(), |(i, _)| i);
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const S19: &[u8] = b"S00F000068656C6C6F202020202000003C\n\
S11F00007C0802A6900100049421FFF07C6C1B787C8C23783C6000003863000026\n\
S5030001FB\n\
S9030000FC\n";

    #[test]
    fn s1_data_count_and_start() {
        let contents = read(S19).unwrap();
        let segment = &contents.image.segments()[0];
        assert_eq!(segment.address(), 0);
        assert_eq!(segment.len(), 28);
        assert_eq!(contents.entry, Some(0));
    }

    #[test]
    fn s3_and_s7_with_32_bit_addresses() {
        let file = b"S3090800000001020304E4\nS70508000101F0\n";
        let contents = read(file).unwrap();
        assert_eq!(contents.image.segments()[0].address(), 0x0800_0000);
        assert_eq!(contents.image.segments()[0].data(), &[1, 2, 3, 4]);
        assert_eq!(contents.entry, Some(0x0800_0101));
    }

    #[test]
    fn wrong_count_is_refused_with_its_line() {
        let file = b"S3090800000001020304E4\nS5030002FA\nS70508000101F0\n";
        let err = read(file).unwrap_err();
        assert!(matches!(err, Error::Srec { line: 2, .. }), "{err}");
        assert!(
            err.to_string().contains("says 2 data records, but 1"),
            "{err}"
        );
    }

    #[test]
    fn missing_termination_is_refused() {
        let err = read(b"S3090800000001020304E4\n").unwrap_err();
        assert!(matches!(err, Error::Srec { line: 2, .. }), "{err}");
    }

    #[test]
    fn non_ascii_inside_a_record_is_an_error_not_a_panic() {
        // Found by fuzzing: the srec crate slices at byte offsets and panicked on a BOM mid-line.
        let err = read("S3\u{FEFF}090800000001020304E4\n".as_bytes()).unwrap_err();
        assert!(matches!(err, Error::Srec { line: 1, .. }), "{err}");
        assert!(
            err.to_string()
                .contains("'\\u{feff}' in column 3 is not ASCII"),
            "{err}"
        );
        let crash = include_bytes!("../fuzz/seeds/read_srec/regression-non-ascii-mid-record");
        assert!(read(crash).is_err());
    }

    #[test]
    fn malformed_s0_headers_are_errors_not_panics() {
        // Found by fuzzing: the srec crate panics on these S0 records.
        let short = read(b"S001FE\nS9030000FC\n").unwrap_err();
        assert!(matches!(short, Error::Srec { line: 1, .. }), "{short}");
        let bad_checksum = read(b"S0050000FF0000\nS9030000FC\n").unwrap_err();
        assert!(
            bad_checksum.to_string().contains("checksum"),
            "{bad_checksum}"
        );
        // A header that is not UTF-8 is fine: it is only a header.
        let contents = read(b"S0050000FFFEFD\nS9030000FC\n").unwrap();
        assert!(contents.image.is_empty());
        let crash = include_bytes!("../fuzz/seeds/read_srec/regression-s0-not-utf8");
        assert!(read(crash).is_err());
    }

    #[test]
    fn binary_input_names_the_byte() {
        let err = read(b"S3\n\xFF\xFE").unwrap_err();
        assert!(matches!(err, Error::Srec { line: 2, .. }), "{err}");
        assert!(err.to_string().contains("offset 0x3"), "{err}");
    }
}
