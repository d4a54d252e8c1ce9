//! The skeleton shared by the text record formats (Intel HEX, S-record): numbered
//! lines, one record each, closed by an end record.

use crate::error::{Error, Result};

/// Feeds each record of a text record file to `handle`, which returns true for the end record.
///
/// Blank lines, white space, a UTF-8 byte-order mark and DOS end-of-file marks
/// are skipped. Non-text bytes, a record `parse` rejects, anything after the
/// end record and a missing end record are errors made by `error` with the line number.
/// `parse` only ever sees ASCII.
pub(crate) fn read_records<R>(
    file: &[u8],
    error: fn(usize, String) -> Error,
    end_record: &str,
    parse: impl Fn(&str) -> std::result::Result<R, String>,
    mut handle: impl FnMut(usize, R) -> Result<bool>,
) -> Result<()> {
    let text = decode(file).map_err(|(line, message)| error(line, message))?;
    let mut end_line = None;
    let mut last_line = 0; // of the last record, so a missing end record is "the line after it"
    let lines = text.strip_prefix('\u{FEFF}').unwrap_or(text).lines();
    for (index, line) in lines.enumerate() {
        let number = index + 1;
        let record = line.trim_matches(|c: char| c.is_whitespace() || c == '\x1A');
        if record.is_empty() {
            continue;
        }
        last_line = number;
        if let Some(end) = end_line {
            return Err(error(
                number,
                format!("content after the {end_record} on line {end}"),
            ));
        }
        // Records are ASCII; record parsers may slice at byte offsets and must never see more.
        if let Some((column, c)) = record.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
            let message = format!("character {c:?} in column {} is not ASCII", column + 1);
            return Err(error(number, message));
        }
        let parsed = parse(record).map_err(|message| error(number, message))?;
        if handle(number, parsed)? {
            end_line = Some(number);
        }
    }
    match end_line {
        Some(_) => Ok(()),
        None => Err(error(
            last_line + 1,
            format!("no {end_record}: the file may be truncated"),
        )),
    }
}

/// The file as text, or the line and a message naming the first non-text byte.
fn decode(file: &[u8]) -> std::result::Result<&str, (usize, String)> {
    std::str::from_utf8(file).map_err(|err| {
        let offset = err.valid_up_to();
        let line = file[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
        (
            line,
            format!(
                "byte {:#04X} at offset {offset:#X} is not text: this looks like a binary file",
                file[offset]
            ),
        )
    })
}
