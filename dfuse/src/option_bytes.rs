//! Option bytes as data: per chip family, where each field lives in the
//! bootloader's option-byte alternate setting, what its values mean, and the
//! rules that keep a change safe.
//!
//! The layouts are `dfuse/option-bytes/*.toml`, compiled in; a user's file in
//! the same format comes before them. `docs/OPTION-BYTES.md` describes the
//! format and the safety rules.

mod edit;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use serde::Deserialize;

pub use edit::Allow;

/// The built-in layouts: (file name, text).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("stm32f0.toml", include_str!("../option-bytes/stm32f0.toml")),
    ("stm32f4.toml", include_str!("../option-bytes/stm32f4.toml")),
    (
        "stm32f42x.toml",
        include_str!("../option-bytes/stm32f42x.toml"),
    ),
    ("stm32f7.toml", include_str!("../option-bytes/stm32f7.toml")),
    ("stm32l4.toml", include_str!("../option-bytes/stm32l4.toml")),
    ("stm32g0.toml", include_str!("../option-bytes/stm32g0.toml")),
    ("stm32h7.toml", include_str!("../option-bytes/stm32h7.toml")),
];

/// Why option bytes cannot be shown or changed as asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OptionBytesError {
    /// A layout file that does not read.
    #[error("option-byte layout {file}: {reason}")]
    BadLayout {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// No layout names this chip.
    #[error("dfuse has no option-byte layout for {chip}")]
    NoLayout {
        /// What the chip was identified as.
        chip: String,
    },
    /// The layout's option bytes are not among the device's alternate settings.
    #[error(
        "the device shows no alternate setting holding the {family} option bytes at {address:#010X}"
    )]
    NoRegion {
        /// The layout's family.
        family: String,
        /// Where the read protection byte should be.
        address: u32,
    },
    /// A field the layout does not have.
    #[error("{family} has no option-byte field {name:?}; its fields are: {known}")]
    UnknownField {
        /// The layout's family.
        family: String,
        /// The name asked for.
        name: String,
        /// Every field name, comma-separated.
        known: String,
    },
    /// A value the field cannot take.
    #[error("{field}={value} is not a value of {field}: {expected}")]
    BadValue {
        /// The field.
        field: String,
        /// The value asked for.
        value: String,
        /// What it takes.
        expected: String,
    },
    /// `FIELD=VALUE` was not written so.
    #[error("{0:?} is not FIELD=VALUE")]
    NotAnAssignment(String),
    /// Read protection level 2 can never be undone.
    #[error(
        "read protection level 2 is permanent on {family}: the chip could never again be read, debugged or flashed through its bootloader"
    )]
    PermanentLock {
        /// The layout's family.
        family: String,
    },
    /// Going from level 1 to level 0 erases the flash.
    #[error("lowering read protection from level 1 to level 0 erases the whole flash")]
    ErasesChip,
    /// At level 2 nothing can be changed.
    #[error("the chip is at read protection level 2: its option bytes can no longer be changed")]
    Locked,
    /// Read back after the reset, a field does not hold what was written.
    #[error(
        "after the reset, option-byte field {field} is {found}, not {wanted}: the change did not take"
    )]
    NotApplied {
        /// The field.
        field: String,
        /// Its value now.
        found: String,
        /// The value written.
        wanted: String,
    },
}

impl OptionBytesError {
    /// A stable identifier of the kind of failure, for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            OptionBytesError::BadLayout { .. } => "bad-layout",
            OptionBytesError::NoLayout { .. } => "no-layout",
            OptionBytesError::NoRegion { .. } => "no-option-bytes",
            OptionBytesError::UnknownField { .. } => "unknown-field",
            OptionBytesError::BadValue { .. } | OptionBytesError::NotAnAssignment(_) => "bad-value",
            OptionBytesError::PermanentLock { .. } => "permanent-lock",
            OptionBytesError::ErasesChip => "erases-chip",
            OptionBytesError::Locked => "rdp-level-2",
            OptionBytesError::NotApplied { .. } => "not-applied",
        }
    }

    /// What the user can do about it (names no command-line flag).
    pub fn help(&self) -> &'static str {
        match self {
            OptionBytesError::BadLayout { .. } => {
                "fix the layout file: docs/OPTION-BYTES.md describes its format"
            }
            OptionBytesError::NoLayout { .. } | OptionBytesError::NoRegion { .. } => {
                "describe the chip's option bytes in a layout file of your own (docs/OPTION-BYTES.md), or read the alternate setting as memory"
            }
            OptionBytesError::UnknownField { .. } | OptionBytesError::BadValue { .. } => {
                "the option-byte listing shows every field with the values it takes"
            }
            OptionBytesError::NotAnAssignment(_) => {
                "write each change as field=value, e.g. bor_lev=off"
            }
            OptionBytesError::PermanentLock { .. } => {
                "if you really mean to lock this chip forever, confirm it explicitly"
            }
            OptionBytesError::ErasesChip => "confirm that the flash may be erased",
            OptionBytesError::Locked => "nothing can be done through the bootloader",
            OptionBytesError::NotApplied { .. } => {
                "the bootloader did not apply the change: check the layout against the chip's reference manual"
            }
        }
    }
}

/// How a family stores complements of its option bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Complement {
    /// No complements (or the bootloader keeps them itself).
    #[default]
    None,
    /// Every byte at an even offset is followed by its complement (STM32F0/F1/F3).
    Byte,
    /// Every 32-bit word at a multiple of 8 is followed by its complement (STM32L4/G0).
    Word,
}

/// One value of a choice field.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Value {
    /// The bits.
    pub raw: u32,
    /// The name a user types (`off`, `software`, `2`).
    pub name: String,
    /// What it means.
    pub means: String,
}

/// What a field holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One of named values.
    Choice {
        /// The values with names.
        values: Vec<Value>,
        /// What any other raw value means (read protection: level 1).
        other: Option<String>,
    },
    /// A plain number.
    Number,
    /// One bit a sector: set means protected, or cleared when `active_low`.
    Sectors {
        /// Cleared bits protect.
        active_low: bool,
        /// The sector number of bit 0.
        first: u32,
        /// Memory-map sectors (pages) one protection sector spans.
        pages_per_bit: u32,
    },
    /// A range of pages, first..=last, in two fields of the word; first > last protects nothing.
    Pages {
        /// Where the last page's number sits.
        end_shift: u32,
        /// Its width.
        end_width: u32,
    },
}

/// One option-byte field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Lower-case name, as typed in a change (`bor_lev`).
    pub name: String,
    /// What it controls.
    pub about: String,
    /// Address of the little-endian word holding it.
    pub word: u32,
    /// Bytes in that word: 1, 2 or 4.
    pub size: u8,
    /// Lowest bit.
    pub shift: u32,
    /// Bits.
    pub width: u32,
    /// What it holds.
    pub kind: Kind,
}

impl Field {
    /// The largest raw value the field holds.
    pub fn max(&self) -> u32 {
        mask(self.width)
    }
}

fn mask(width: u32) -> u32 {
    if width >= 32 {
        u32::MAX
    } else {
        (1 << width) - 1
    }
}

/// One family's option bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The family ("STM32F405/407/415/417").
    pub family: String,
    /// Chip identities (`dfuse/chips.toml` names) it applies to.
    pub chips: Vec<String>,
    /// The reference manual and sections the facts come from.
    pub source: String,
    /// How complements are stored.
    pub complement: Complement,
    /// (current, program) word pairs: a change to the first is written to the second too.
    pub mirror: Vec<[u32; 2]>,
    /// Every field, read protection (`rdp`) first.
    pub fields: Vec<Field>,
}

/// The option bytes as read from the device: each segment's address and bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    /// (start address, bytes), in the order of the alternate setting's segments.
    pub pieces: Vec<(u32, Vec<u8>)>,
}

impl Image {
    fn locate(&self, address: u32, len: usize) -> Option<(usize, usize)> {
        self.pieces
            .iter()
            .enumerate()
            .find_map(|(i, (start, bytes))| {
                let offset = address.checked_sub(*start)? as usize;
                (offset + len <= bytes.len()).then_some((i, offset))
            })
    }

    /// The little-endian word of `size` bytes at `address`, if the image holds it.
    pub fn word(&self, address: u32, size: u8) -> Option<u32> {
        let (piece, offset) = self.locate(address, usize::from(size))?;
        let bytes = &self.pieces[piece].1[offset..offset + usize::from(size)];
        Some(
            bytes
                .iter()
                .rev()
                .fold(0u32, |word, &byte| (word << 8) | u32::from(byte)),
        )
    }

    /// Stores `value` as the word of `size` bytes at `address`; false when the image does not hold it.
    pub fn set_word(&mut self, address: u32, size: u8, value: u32) -> bool {
        let Some((piece, offset)) = self.locate(address, usize::from(size)) else {
            return false;
        };
        let bytes = &mut self.pieces[piece].1[offset..offset + usize::from(size)];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = (value >> (8 * i)) as u8;
        }
        true
    }
}

/// One decoded field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    /// The field's name.
    pub name: String,
    /// What it controls.
    pub about: String,
    /// Its bits.
    pub raw: u32,
    /// Its value as a change would name it (`off`, `3`, `0x0080`, `1,5`, `none`).
    pub value: String,
    /// What that means.
    pub means: String,
}

/// The read protection levels a layout's `rdp` field encodes.
const LEVEL0: u32 = 0xAA;
const LEVEL2: u32 = 0xCC;

impl Layout {
    /// Reads one layout file.
    pub fn parse(text: &str, file: &str) -> Result<Layout, OptionBytesError> {
        let bad = |reason: String| OptionBytesError::BadLayout {
            file: file.to_owned(),
            reason,
        };
        let record: edit::LayoutFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        record.into_layout().map_err(bad)
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Result<&Field, OptionBytesError> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| OptionBytesError::UnknownField {
                family: self.family.clone(),
                name: name.to_owned(),
                known: self
                    .fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Where the read protection byte lives: an alternate setting holding it holds the option bytes.
    pub fn rdp_word(&self) -> u32 {
        self.fields[0].word
    }

    /// The raw bits of `field` in `image`, if the image holds its word.
    pub fn raw(&self, field: &Field, image: &Image) -> Option<u32> {
        image
            .word(field.word, field.size)
            .map(|word| (word >> field.shift) & field.max())
    }

    /// Every field the image holds, decoded.
    pub fn decode(&self, image: &Image) -> Vec<Reading> {
        self.fields
            .iter()
            .filter_map(|field| {
                let word = image.word(field.word, field.size)?;
                let raw = (word >> field.shift) & field.max();
                let (value, means) = describe(field, word);
                Some(Reading {
                    name: field.name.clone(),
                    about: field.about.clone(),
                    raw,
                    value,
                    means,
                })
            })
            .collect()
    }

    /// Read protection level 0, 1 or 2, if the image holds it.
    pub fn rdp_level(&self, image: &Image) -> Option<u8> {
        self.raw(&self.fields[0], image).map(|raw| match raw {
            LEVEL0 => 0,
            LEVEL2 => 2,
            _ => 1,
        })
    }

    /// The memory-map sectors (pages) of alternate setting 0 the image write-protects, ascending.
    pub fn protected_sectors(&self, image: &Image) -> Vec<u32> {
        let mut sectors: Vec<u32> = self
            .fields
            .iter()
            .filter_map(|field| Some(protected_by(field, image.word(field.word, field.size)?)))
            .flatten()
            .collect();
        sectors.sort_unstable();
        sectors.dedup();
        sectors
    }

    /// The field that write-protects memory-map sector `sector`, if one does.
    pub fn protecting(&self, image: &Image, sector: u32) -> Option<&Field> {
        self.fields.iter().find(|field| {
            image
                .word(field.word, field.size)
                .is_some_and(|word| protected_by(field, word).contains(&sector))
        })
    }
}

/// The memory-map sectors a protection field protects, given its word.
fn protected_by(field: &Field, word: u32) -> Vec<u32> {
    let raw = (word >> field.shift) & field.max();
    match field.kind {
        Kind::Sectors {
            active_low,
            first,
            pages_per_bit,
        } => protected_bits(raw, field.width, active_low)
            .flat_map(|bit| {
                let sector = (first + bit) * pages_per_bit;
                sector..sector + pages_per_bit
            })
            .collect(),
        Kind::Pages { .. } => {
            page_range(field, word).map_or_else(Vec::new, |(s, e)| (s..=e).collect())
        }
        Kind::Choice { .. } | Kind::Number => Vec::new(),
    }
}

/// The bits of a sector mask that protect.
pub(super) fn protected_bits(raw: u32, width: u32, active_low: bool) -> impl Iterator<Item = u32> {
    (0..width).filter(move |bit| (raw >> bit & 1 == 0) == active_low)
}

/// The protected pages first..=last of a page-range field's word, or none.
fn page_range(field: &Field, word: u32) -> Option<(u32, u32)> {
    let Kind::Pages {
        end_shift,
        end_width,
    } = field.kind
    else {
        return None;
    };
    let start = (word >> field.shift) & field.max();
    let end = (word >> end_shift) & mask(end_width);
    (start <= end).then_some((start, end))
}

/// A field's value as a change would name it, and what it means, given its word.
fn describe(field: &Field, word: u32) -> (String, String) {
    let raw = (word >> field.shift) & field.max();
    match &field.kind {
        Kind::Choice { values, other } => match values.iter().find(|v| v.raw == raw) {
            Some(value) => (value.name.clone(), value.means.clone()),
            None => (
                format!("{raw:#x}"),
                other
                    .clone()
                    .unwrap_or_else(|| "not a documented value".into()),
            ),
        },
        Kind::Number => (format!("{raw:#x}"), String::new()),
        Kind::Sectors {
            active_low, first, ..
        } => {
            let protected: Vec<String> = protected_bits(raw, field.width, *active_low)
                .map(|bit| (first + bit).to_string())
                .collect();
            if protected.is_empty() {
                ("none".into(), "no sector write-protected".into())
            } else {
                let list = protected.join(",");
                let noun = if protected.len() == 1 {
                    "sector"
                } else {
                    "sectors"
                };
                let means = format!("{noun} {list} write-protected");
                (list, means)
            }
        }
        Kind::Pages { .. } => match page_range(field, word) {
            Some((start, end)) => (
                format!("{start}..{end}"),
                format!("pages {start} to {end} write-protected"),
            ),
            None => ("none".into(), "no page write-protected".into()),
        },
    }
}

/// The layouts to choose from: a user's first, then the built-in ones.
#[derive(Clone, Debug)]
pub struct Layouts {
    list: Vec<Layout>,
}

impl Layouts {
    /// The built-in layouts (a test checks that every one reads).
    pub fn built_in() -> Layouts {
        Layouts {
            list: BUILT_IN
                .iter()
                .filter_map(|(file, text)| Layout::parse(text, file).ok())
                .collect(),
        }
    }

    /// The built-in layouts after the user's file `user` (its text and path), if given.
    pub fn load(user: Option<(&str, PathBuf)>) -> Result<Layouts, OptionBytesError> {
        let mut layouts = Layouts::built_in();
        if let Some((text, path)) = user {
            let layout = Layout::parse(text, &path.display().to_string())?;
            layouts.list.insert(0, layout);
        }
        Ok(layouts)
    }

    /// Every layout, in order of precedence.
    pub fn all(&self) -> &[Layout] {
        &self.list
    }

    /// The first layout for the chip identified as `chip` (a `dfuse/chips.toml` name).
    pub fn for_chip(&self, chip: &str) -> Option<&Layout> {
        self.list
            .iter()
            .find(|layout| layout.chips.iter().any(|c| c == chip) || layout.family == chip)
    }
}
