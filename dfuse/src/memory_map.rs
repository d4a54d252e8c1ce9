//! Memory maps: the iInterface string of a DfuSe alternate setting, decoded.
//!
//! Documented grammar: `@Name/0xADDR/NN*SSSut,NN*SSSut/0xADDR/...`, where `u`
//! is the unit (`B`, `K`, `M`, or a space meaning bytes) and `t` the type
//! letter `a`..`g` (`letter - 'a' + 1`: bit 0 readable, bit 1 erasable, bit 2
//! writable). Real devices deviate in the ways docs/PROTOCOL.md lists; every one of
//! them is accepted here, and every segment that parses is kept.

use std::fmt;

/// The first address past the 32-bit address space.
const ADDRESS_SPACE_END: u64 = 1 << 32;

/// What a region allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Access {
    /// Can be uploaded.
    pub readable: bool,
    /// Can be erased.
    pub erasable: bool,
    /// Can be downloaded to.
    pub writable: bool,
}

impl Access {
    /// The access a type letter `a`..`g` stands for.
    pub fn from_letter(letter: char) -> Option<Access> {
        if !('a'..='g').contains(&letter) {
            return None;
        }
        let bits = letter as u32 - 'a' as u32 + 1;
        Some(Access {
            readable: bits & 1 != 0,
            erasable: bits & 2 != 0,
            writable: bits & 4 != 0,
        })
    }

    /// The type letter for this access, or `None` for no access at all.
    pub fn letter(self) -> Option<char> {
        let bits = u32::from(self.readable)
            | u32::from(self.erasable) << 1
            | u32::from(self.writable) << 2;
        char::from_u32('a' as u32 + bits.checked_sub(1)?)
    }
}

/// A run of equal sectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Segment {
    /// Address of the first sector.
    pub address: u32,
    /// Bytes per sector (the erase unit).
    pub sector_size: u32,
    /// Number of sectors.
    pub sector_count: u32,
    /// What the sectors allow.
    pub access: Access,
}

impl Segment {
    /// One past the last address (at most 4 GiB).
    pub fn end(&self) -> u64 {
        u64::from(self.address) + u64::from(self.sector_size) * u64::from(self.sector_count)
    }

    /// True when `address` lies in this segment.
    pub fn contains(&self, address: u64) -> bool {
        (u64::from(self.address)..self.end()).contains(&address)
    }
}

/// A decoded memory map: a region name and its segments in string order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MemoryMap {
    /// The region name, without its padding (e.g. "Internal Flash").
    pub name: String,
    /// The segments, in the order the string lists them.
    pub segments: Vec<Segment>,
}

/// One erase unit of a memory map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sector {
    /// First address.
    pub address: u32,
    /// Size in bytes.
    pub size: u32,
}

impl Sector {
    /// One past the last address.
    pub fn end(&self) -> u64 {
        u64::from(self.address) + u64::from(self.size)
    }
}

impl MemoryMap {
    /// The segment holding `address`, if any.
    pub fn segment_at(&self, address: u64) -> Option<&Segment> {
        self.segments.iter().find(|s| s.contains(address))
    }

    /// The first address of the map (the start of its first segment).
    pub fn start(&self) -> Option<u32> {
        self.segments.first().map(|s| s.address)
    }

    /// Every sector of the map with its segment, in string order.
    pub fn sectors(&self) -> impl Iterator<Item = (Sector, &Segment)> {
        self.segments.iter().flat_map(|segment| {
            (0..segment.sector_count).map_while(move |i| {
                let start =
                    u64::from(segment.address) + u64::from(i) * u64::from(segment.sector_size);
                Some((
                    Sector {
                        address: u32::try_from(start).ok()?,
                        size: segment.sector_size,
                    },
                    segment,
                ))
            })
        })
    }

    /// The sectors that cover `start..end` (at least one byte), in address order,
    /// each with its segment; or the first address in that range with no memory.
    pub fn sectors_covering(&self, start: u64, end: u64) -> Result<Vec<(Sector, &Segment)>, u64> {
        let end = end.max(start + 1);
        let mut covering = Vec::new();
        let mut at = start;
        while at < end {
            let segment = self.segment_at(at).ok_or(at)?;
            let size = u64::from(segment.sector_size);
            let first =
                u64::from(segment.address) + (at - u64::from(segment.address)) / size * size;
            let sector = Sector {
                // Inside a segment, which ends at 4 GiB at most.
                address: first as u32,
                size: segment.sector_size,
            };
            covering.push((sector, segment));
            at = sector.end();
        }
        Ok(covering)
    }
}

/// A parsed map and the deviations worth telling the user about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The map.
    pub map: MemoryMap,
    /// What was odd about the string (ignored trailing data, corrected types, ...).
    pub warnings: Vec<String>,
}

/// Why a string yields no memory map.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MemoryMapError {
    /// The string is not a DfuSe layout at all (no leading `@`).
    #[error("no memory map: {text:?} is not a DfuSe layout (it does not start with '@')")]
    NotDfuse {
        /// The string.
        text: String,
    },
    /// The string starts like a layout but its first group does not parse.
    #[error("malformed memory map at character {position}: {message} in {text:?}")]
    Malformed {
        /// 1-based character position.
        position: usize,
        /// What was expected there.
        message: String,
        /// The string.
        text: String,
    },
    /// A segment would run past the 32-bit address space.
    #[error(
        "segment {segment} of the memory map ({count} sectors of {size} bytes at {address:#010X}) runs past 4 GiB"
    )]
    Overflow {
        /// 0-based index of the segment.
        segment: usize,
        /// Its start address.
        address: u64,
        /// Its sector count.
        count: u64,
        /// Its sector size in bytes.
        size: u64,
    },
}

impl MemoryMapError {
    /// A stable identifier of the kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            MemoryMapError::NotDfuse { .. } => "memmap-not-dfuse",
            MemoryMapError::Malformed { .. } => "memmap-malformed",
            MemoryMapError::Overflow { .. } => "memmap-overflow",
        }
    }

    /// What the user can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            MemoryMapError::NotDfuse { .. } => {
                "this alternate setting has no DfuSe memory map; a layout can be given in the device table"
            }
            MemoryMapError::Malformed { .. } | MemoryMapError::Overflow { .. } => {
                "pass the alternate setting's string exactly as the device reports it; a corrected layout can be given in the device table"
            }
        }
    }
}

/// Decodes an alternate setting's string.
pub fn parse(text: &str) -> Result<Parsed, MemoryMapError> {
    let mut scanner = Scanner {
        chars: text.chars().collect(),
        pos: 0,
    };
    if !scanner.eat('@') {
        return Err(MemoryMapError::NotDfuse { text: text.into() });
    }
    let name_end = scanner
        .chars
        .iter()
        .position(|&c| c == '/')
        .ok_or_else(|| {
            malformed(
                scanner.chars.len(),
                "expected '/' and a layout after the name",
                text,
            )
        })?;
    let name: String = scanner.chars[1..name_end].iter().collect();
    scanner.pos = name_end;

    let mut parser = Parser {
        text,
        name: name.trim().to_string(),
        segments: Vec::new(),
        warnings: Vec::new(),
    };
    parser.groups(&mut scanner)?;
    if parser.segments.is_empty() {
        return Err(malformed(scanner.pos, "no segment has any sectors", text));
    }
    if scanner.pos < scanner.chars.len() {
        let rest: String = scanner.chars[scanner.pos..].iter().collect();
        parser.warnings.push(format!(
            "ignored {} characters of trailing data after the last segment: {rest:?}",
            rest.chars().count()
        ));
    }
    Ok(Parsed {
        map: MemoryMap {
            name: parser.name,
            segments: parser.segments,
        },
        warnings: parser.warnings,
    })
}

fn malformed(position: usize, message: &str, text: &str) -> MemoryMapError {
    MemoryMapError::Malformed {
        position: position + 1,
        message: message.into(),
        text: text.into(),
    }
}

struct Parser<'a> {
    text: &'a str,
    name: String,
    segments: Vec<Segment>,
    warnings: Vec<String>,
}

impl Parser<'_> {
    /// Parses `/0xADDR/segments` groups until the string ends or stops making sense.
    fn groups(&mut self, scanner: &mut Scanner) -> Result<(), MemoryMapError> {
        loop {
            let group_start = scanner.pos;
            if !scanner.eat('/') {
                return Ok(());
            }
            scanner.skip_spaces();
            let address = scanner.hex_address();
            scanner.skip_spaces();
            let Some(address) = address.filter(|_| scanner.eat('/')) else {
                if self.segments.is_empty() {
                    let message = "expected an address like 0x08000000 between slashes";
                    return Err(malformed(scanner.pos, message, self.text));
                }
                scanner.pos = group_start; // trailing data from here
                return Ok(());
            };
            if !self.segment_list(scanner, address, group_start)? {
                return Ok(());
            }
        }
    }

    /// Parses `NN*SSSut,...` from `address` on; false when it ran into trailing data.
    ///
    /// Trailing data starts at the group (`group_start`) when its first segment
    /// fails, or at the comma before a later segment that fails.
    fn segment_list(
        &mut self,
        scanner: &mut Scanner,
        address: u32,
        group_start: usize,
    ) -> Result<bool, MemoryMapError> {
        let mut next = u64::from(address);
        let mut rewind_to = group_start;
        loop {
            let (count, size, access) = match scanner.segment() {
                Ok(segment) => segment,
                Err(message) if self.segments.is_empty() => {
                    return Err(malformed(scanner.pos, message, self.text));
                }
                Err(_) => {
                    scanner.pos = rewind_to;
                    return Ok(false);
                }
            };
            let index = self.segments.len();
            let overflow = MemoryMapError::Overflow {
                segment: index,
                address: next,
                count,
                size,
            };
            let end = count
                .checked_mul(size)
                .and_then(|len| next.checked_add(len))
                .filter(|&end| end <= ADDRESS_SPACE_END)
                .ok_or(overflow.clone())?;
            if count == 0 || size == 0 {
                self.warnings.push(format!(
                    "segment {index} at {next:#010X} has {count} sectors of {size} bytes and was ignored"
                ));
            } else {
                let (Ok(sector_count), Ok(sector_size)) =
                    (u32::try_from(count), u32::try_from(size))
                else {
                    return Err(overflow);
                };
                let access = self.corrected(access, index);
                self.segments.push(Segment {
                    address: next as u32,
                    sector_size,
                    sector_count,
                    access,
                });
            }
            next = end;
            rewind_to = scanner.pos;
            if !scanner.eat(',') {
                return Ok(true);
            }
        }
    }

    /// Old F4 ROMs call the "Device Feature" region erasable (`g`); it is not.
    fn corrected(&mut self, access: Access, index: usize) -> Access {
        if self.name == "Device Feature" && access.erasable {
            self.warnings.push(format!(
                "segment {index} of \"Device Feature\" claims to be erasable; treated as not erasable"
            ));
            return Access {
                erasable: false,
                ..access
            };
        }
        access
    }
}

/// A cursor over the string's characters.
struct Scanner {
    chars: Vec<char>,
    pos: usize,
}

impl Scanner {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.pos += 1;
        }
        found
    }

    fn skip_spaces(&mut self) {
        while self.eat(' ') {}
    }

    /// Decimal digits of any width (leading zeros allowed), as u64; `None` without a digit or on overflow.
    fn decimal(&mut self) -> Option<u64> {
        let start = self.pos;
        let mut value: u64 = 0;
        while let Some(digit) = self.peek().and_then(|c| c.to_digit(10)) {
            value = value.checked_mul(10)?.checked_add(u64::from(digit))?;
            self.pos += 1;
        }
        (self.pos > start).then_some(value)
    }

    /// `0x` and 1 to 8 hex digits.
    fn hex_address(&mut self) -> Option<u32> {
        let start = self.pos;
        if !(self.eat('0') && (self.eat('x') || self.eat('X'))) {
            self.pos = start;
            return None;
        }
        let digits_start = self.pos;
        let mut value: u64 = 0;
        while let Some(digit) = self.peek().and_then(|c| c.to_digit(16)) {
            value = value * 16 + u64::from(digit);
            self.pos += 1;
            if self.pos - digits_start > 8 {
                self.pos = start;
                return None;
            }
        }
        if self.pos == digits_start {
            self.pos = start;
            return None;
        }
        Some(value as u32)
    }

    /// One `NN*SSSut` segment: sector count, sector size in bytes, access.
    fn segment(&mut self) -> Result<(u64, u64, Access), &'static str> {
        self.skip_spaces();
        let count = self.decimal().ok_or("expected a sector count")?;
        if !self.eat('*') {
            return Err("expected '*' after the sector count");
        }
        let size = self.decimal().ok_or("expected a sector size")?;
        let multiplier = match self.peek() {
            Some('B') => 1,
            Some('K') => 1 << 10,
            Some('M') => 1 << 20,
            Some(' ') => 1,
            Some(c) if Access::from_letter(c).is_some() => 0, // no unit: bytes, letter follows
            _ => return Err("expected a unit (B, K, M or space) or a type letter a-g"),
        };
        if multiplier != 0 {
            self.pos += 1;
        }
        let access = self
            .peek()
            .and_then(Access::from_letter)
            .ok_or("expected a type letter a-g")?;
        self.pos += 1;
        Ok((count, size.saturating_mul(multiplier.max(1)), access))
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let access = self.access;
        let flag = |on: bool, c: char| if on { c } else { '-' };
        write!(
            f,
            "{:#010X}-{:#010X}  {:>4} x {:>7} bytes  {}{}{}",
            self.address,
            self.end() - 1,
            self.sector_count,
            self.sector_size,
            flag(access.readable, 'r'),
            flag(access.erasable, 'e'),
            flag(access.writable, 'w'),
        )
    }
}

#[cfg(test)]
mod tests;
