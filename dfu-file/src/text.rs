//! Line handling shared by the text record formats (Intel HEX, S-record).

/// The non-blank lines of a record file with their 1-based numbers, trimmed of
/// white space and DOS end-of-file marks, after any UTF-8 byte-order mark; or the line and message of the first non-text byte.
pub(crate) fn record_lines(file: &[u8]) -> Result<Vec<(usize, &str)>, (usize, String)> {
    let text = std::str::from_utf8(file).map_err(|err| {
        let offset = err.valid_up_to();
        let line = file[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
        (
            line,
            format!(
                "byte {:#04X} at offset {offset:#X} is not text: this looks like a binary file",
                file[offset]
            ),
        )
    })?;
    Ok(text
        .strip_prefix('\u{FEFF}')
        .unwrap_or(text)
        .lines()
        .enumerate()
        .map(|(i, line)| {
            (
                i + 1,
                line.trim_matches(|c: char| c.is_whitespace() || c == '\x1A'),
            )
        })
        .filter(|(_, line)| !line.is_empty())
        .collect())
}

/// The line number just past the last one, for "missing end record" errors.
pub(crate) fn line_after(lines: &[(usize, &str)]) -> usize {
    lines.last().map_or(1, |(n, _)| n + 1)
}
