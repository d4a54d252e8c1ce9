//! Numbers on the command line: decimal or `0x` hexadecimal, `_` allowed as a separator.

/// Parses a u64 written in decimal (`134217728`) or hexadecimal (`0x08000000`).
fn parse_u64(text: &str) -> Result<u64, String> {
    let cleaned: String = text.trim().chars().filter(|&c| c != '_').collect();
    let parsed = match cleaned
        .strip_prefix("0x")
        .or_else(|| cleaned.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => cleaned.parse::<u64>(),
    };
    parsed.map_err(|_| {
        format!("'{text}' is not a number: write it in decimal (4096) or hexadecimal (0x1000)")
    })
}

fn parse_bounded(text: &str, max: u64) -> Result<u64, String> {
    let value = parse_u64(text)?;
    if value > max {
        return Err(format!(
            "{text} is too large: the largest allowed value is {max:#X}"
        ));
    }
    Ok(value)
}

/// A 32-bit value such as an address.
pub fn parse_u32(text: &str) -> Result<u32, String> {
    parse_bounded(text, u32::MAX.into()).map(|v| v as u32)
}

/// A 16-bit value such as a USB ID.
pub fn parse_u16(text: &str) -> Result<u16, String> {
    parse_bounded(text, u16::MAX.into()).map(|v| v as u16)
}

/// An 8-bit value such as an alternate setting.
pub fn parse_u8(text: &str) -> Result<u8, String> {
    parse_bounded(text, u8::MAX.into()).map(|v| v as u8)
}

/// A size in bytes, optionally with a binary unit: `4096`, `0x1000`, `64K`, `1M`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let (digits, multiplier) = match trimmed.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&trimmed[..trimmed.len() - 1], 1u64 << 10),
        Some('M') => (&trimmed[..trimmed.len() - 1], 1 << 20),
        Some('G') => (&trimmed[..trimmed.len() - 1], 1 << 30),
        _ => (trimmed, 1),
    };
    parse_u64(digits)?
        .checked_mul(multiplier)
        .ok_or_else(|| format!("{text} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_decimal() {
        assert_eq!(parse_u32("0x08000000"), Ok(0x0800_0000));
        assert_eq!(parse_u32("0X0800_0000"), Ok(0x0800_0000));
        assert_eq!(parse_u32("134217728"), Ok(0x0800_0000));
        assert_eq!(parse_u16("0x0483"), Ok(0x0483));
        assert_eq!(parse_u16("1155"), Ok(0x0483));
    }

    #[test]
    fn out_of_range_and_garbage_are_refused_with_advice() {
        assert!(
            parse_u16("0x10000")
                .unwrap_err()
                .contains("largest allowed value is 0xFFFF")
        );
        assert!(parse_u8("256").is_err());
        assert!(
            parse_u32("0x")
                .unwrap_err()
                .contains("hexadecimal (0x1000)")
        );
        assert!(parse_u32("12ab").is_err());
        assert!(parse_u32("-1").is_err());
    }

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("1m"), Ok(1 << 20));
        assert_eq!(parse_size("0x100"), Ok(256));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
