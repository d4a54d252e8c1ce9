//! Reading layout files, and changing option bytes: `FIELD=VALUE`, the
//! complements and mirrors a change drags along, and the safety rules.

use serde::Deserialize;

use super::{
    Complement, Field, Image, Kind, LEVEL0, LEVEL2, Layout, OptionBytesError, Reading, Value, mask,
};

/// What a change may do that is refused unless asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allow {
    /// Set read protection level 2, which can never be undone.
    pub permanent_lock: bool,
    /// Lower read protection from level 1 to 0, which erases the flash.
    pub erase: bool,
}

/// Where a field sits: the shorthand of the `rdp` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Place {
    word: u32,
    size: u8,
    bits: String,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum KindName {
    #[default]
    Choice,
    Number,
    Sectors,
    Pages,
}

/// A field's values: a list, or the name of a common set.
#[derive(Deserialize)]
#[serde(untagged)]
enum Values {
    Preset(String),
    List(Vec<Value>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldRecord {
    name: String,
    word: u32,
    size: u8,
    bits: String,
    about: String,
    #[serde(default)]
    kind: KindName,
    values: Option<Values>,
    other: Option<String>,
    #[serde(default)]
    active_low: bool,
    #[serde(default)]
    first: u32,
    pages_per_bit: Option<u32>,
    end_bits: Option<String>,
}

/// A layout file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LayoutFile {
    family: String,
    #[serde(default)]
    chips: Vec<String>,
    source: String,
    #[serde(default)]
    complement: Complement,
    #[serde(default)]
    mirror: Vec<[u32; 2]>,
    rdp: Place,
    #[serde(default, rename = "field")]
    fields: Vec<FieldRecord>,
}

fn value(raw: u32, name: &str, means: &str) -> Value {
    Value {
        raw,
        name: name.into(),
        means: means.into(),
    }
}

/// The common value sets a field may name instead of listing its values.
fn preset(name: &str) -> Option<Vec<Value>> {
    Some(match name {
        "reset" => vec![
            value(0, "reset", "reset when entering the mode"),
            value(1, "no-reset", "no reset"),
        ],
        "watchdog" => vec![
            value(0, "hardware", "hardware: always running"),
            value(1, "software", "software: started by the firmware"),
        ],
        "freeze" => vec![
            value(0, "frozen", "the counter stops in this mode"),
            value(1, "running", "the counter runs in this mode"),
        ],
        "enable" => vec![value(0, "off", "disabled"), value(1, "on", "enabled")],
        "disable" => vec![value(0, "on", "enabled"), value(1, "off", "disabled")],
        _ => return None,
    })
}

/// Read protection's values, the same on every STM32 family.
fn rdp_values() -> Vec<Value> {
    vec![
        value(LEVEL0, "0", "level 0: no protection"),
        value(0xBB, "1", LEVEL1_MEANS),
        value(LEVEL2, "2", "level 2: chip protection, permanent"),
    ]
}

const LEVEL1_MEANS: &str = "level 1: flash not readable from the bootloader or a debugger";

/// "15:8" or "5": (shift, width) within a word of `size` bytes.
fn bit_range(bits: &str, size: u8) -> Result<(u32, u32), String> {
    let number = |s: &str| {
        s.trim()
            .parse::<u32>()
            .map_err(|_| format!("bits {bits:?}"))
    };
    let (high, low) = match bits.split_once(':') {
        Some((high, low)) => (number(high)?, number(low)?),
        None => (number(bits)?, number(bits)?),
    };
    if low > high || high >= u32::from(size) * 8 {
        return Err(format!("bits {bits:?} do not fit a {size}-byte word"));
    }
    Ok((low, high - low + 1))
}

impl LayoutFile {
    pub(super) fn into_layout(self) -> Result<Layout, String> {
        let rdp = FieldRecord {
            name: "rdp".into(),
            word: self.rdp.word,
            size: self.rdp.size,
            bits: self.rdp.bits,
            about: "Read protection level".into(),
            kind: KindName::Choice,
            values: Some(Values::List(rdp_values())),
            other: Some(LEVEL1_MEANS.into()),
            active_low: false,
            first: 0,
            pages_per_bit: None,
            end_bits: None,
        };
        let mut fields = Vec::new();
        for record in std::iter::once(rdp).chain(self.fields) {
            let field = record.into_field()?;
            if fields.iter().any(|f: &Field| f.name == field.name) {
                return Err(format!("field {} is defined twice", field.name));
            }
            fields.push(field);
        }
        Ok(Layout {
            family: self.family,
            chips: self.chips,
            source: self.source,
            complement: self.complement,
            mirror: self.mirror,
            fields,
        })
    }
}

impl FieldRecord {
    fn into_field(self) -> Result<Field, String> {
        let name = self.name;
        let context = |reason: String| format!("field {name}: {reason}");
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(context("names are lower-case letters, digits and _".into()));
        }
        if ![1, 2, 4].contains(&self.size) {
            return Err(context(format!("size {} is not 1, 2 or 4", self.size)));
        }
        let (shift, width) = bit_range(&self.bits, self.size).map_err(context)?;
        let kind = match self.kind {
            KindName::Choice => {
                let values = match self.values {
                    Some(Values::List(values)) => values,
                    Some(Values::Preset(preset_name)) => preset(&preset_name).ok_or_else(|| {
                        context(format!("no value set is called {preset_name:?}"))
                    })?,
                    None => return Err(context("a choice needs values".into())),
                };
                if let Some(v) = values.iter().find(|v| v.raw > mask(width)) {
                    return Err(context(format!(
                        "value {} does not fit {width} bits",
                        v.raw
                    )));
                }
                Kind::Choice {
                    values,
                    other: self.other,
                }
            }
            KindName::Number => Kind::Number,
            KindName::Sectors => Kind::Sectors {
                active_low: self.active_low,
                first: self.first,
                pages_per_bit: self.pages_per_bit.unwrap_or(1).max(1),
            },
            KindName::Pages => {
                let end = self
                    .end_bits
                    .ok_or_else(|| context("a page range needs end_bits".into()))?;
                let (end_shift, end_width) = bit_range(&end, self.size).map_err(context)?;
                Kind::Pages {
                    end_shift,
                    end_width,
                }
            }
        };
        Ok(Field {
            name,
            about: self.about,
            word: self.word,
            size: self.size,
            shift,
            width,
            kind,
        })
    }
}

/// A number written in decimal or as 0x hex.
fn number(text: &str) -> Option<u32> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

impl Layout {
    /// Applies one `FIELD=VALUE` to `image`, with the complements and mirrors it drags along.
    pub fn set(&self, image: &mut Image, assignment: &str) -> Result<(), OptionBytesError> {
        let (name, text) = assignment
            .split_once('=')
            .ok_or_else(|| OptionBytesError::NotAnAssignment(assignment.to_owned()))?;
        let field = self.field(name.trim())?;
        let text = text.trim();
        let word =
            image
                .word(field.word, field.size)
                .ok_or_else(|| OptionBytesError::BadValue {
                    field: field.name.clone(),
                    value: text.into(),
                    expected: format!("the option bytes read hold no word at {:#010X}", field.word),
                })?;
        let word = new_word(field, word, text)?;
        image.set_word(field.word, field.size, word);
        self.drag_along(image, field.word);
        Ok(())
    }

    /// Sets read protection level 1 (what `protect` does).
    pub fn protect(&self, image: &mut Image) -> Result<(), OptionBytesError> {
        self.set(image, "rdp=1")
    }

    /// Writes the complement of the word at `address` and copies it to its mirror.
    fn drag_along(&self, image: &mut Image, address: u32) {
        match self.complement {
            Complement::None => {}
            Complement::Byte => {
                // Each byte at an even offset is followed by its complement.
                let even = address & !1;
                for at in (even..address + 4).step_by(2) {
                    if let Some(byte) = image.word(at, 1) {
                        image.set_word(at + 1, 1, !byte & 0xFF);
                    }
                }
            }
            Complement::Word => {
                let word = address & !7;
                if let Some(value) = image.word(word, 4) {
                    image.set_word(word + 4, 4, !value);
                }
            }
        }
        for [current, program] in &self.mirror {
            if *current == address
                && let Some(value) = image.word(*current, 4)
            {
                image.set_word(*program, 4, value);
            }
        }
    }

    /// Refuses a change from `before` to `after` that would lock the chip for
    /// good or erase it, unless `allow` says so; at level 2 nothing may change.
    pub fn check(
        &self,
        before: &Image,
        after: &Image,
        allow: Allow,
    ) -> Result<(), OptionBytesError> {
        let (from, to) = (self.rdp_level(before), self.rdp_level(after));
        if from == Some(2) && before != after {
            return Err(OptionBytesError::Locked);
        }
        if to == Some(2) && from != Some(2) && !allow.permanent_lock {
            return Err(OptionBytesError::PermanentLock {
                family: self.family.clone(),
            });
        }
        if from == Some(1) && to == Some(0) && !allow.erase {
            return Err(OptionBytesError::ErasesChip);
        }
        Ok(())
    }

    /// The fields whose value differs between `before` and `after`: (before, after).
    pub fn changes(&self, before: &Image, after: &Image) -> Vec<(Reading, Reading)> {
        self.decode(before)
            .into_iter()
            .zip(self.decode(after))
            .filter(|(old, new)| old.raw != new.raw || old.value != new.value)
            .collect()
    }
}

/// `word` with `field` set to `text`.
fn new_word(field: &Field, word: u32, text: &str) -> Result<u32, OptionBytesError> {
    let bad = |expected: String| OptionBytesError::BadValue {
        field: field.name.clone(),
        value: text.into(),
        expected,
    };
    let raw = (word >> field.shift) & field.max();
    let place = |raw: u32| (word & !(field.max() << field.shift)) | (raw << field.shift);
    match &field.kind {
        Kind::Choice { values, .. } => {
            if let Some(value) = values.iter().find(|v| v.name.eq_ignore_ascii_case(text)) {
                return Ok(place(value.raw));
            }
            let names: Vec<&str> = values.iter().map(|v| v.name.as_str()).collect();
            let expected = format!(
                "one of {} (or a raw value up to {:#x}, written 0x..)",
                names.join(", "),
                field.max()
            );
            match text
                .strip_prefix("0x")
                .map(|hex| u32::from_str_radix(hex, 16))
            {
                Some(Ok(raw)) if raw <= field.max() => Ok(place(raw)),
                _ => Err(bad(expected)),
            }
        }
        Kind::Number => match number(text) {
            Some(raw) if raw <= field.max() => Ok(place(raw)),
            _ => Err(bad(format!("a number up to {:#x}", field.max()))),
        },
        Kind::Sectors {
            active_low, first, ..
        } => {
            let expected = || {
                format!(
                    "none, all, or sectors {first}-{} as a list (1,3 or 0-3), or +N / -N to add or remove one",
                    first + field.width - 1
                )
            };
            let protected =
                sectors(text, raw, field, *active_low).ok_or_else(|| bad(expected()))?;
            let bits = (0..field.width).fold(0u32, |bits, bit| {
                let on = protected.contains(&(first + bit)) != *active_low;
                bits | (u32::from(on) << bit)
            });
            Ok(place(bits))
        }
        Kind::Pages {
            end_shift,
            end_width,
        } => {
            let expected = format!(
                "none, or pages FIRST..LAST from 0 to {} (one page: N)",
                field.max().min(mask(*end_width))
            );
            let (start, end) = if text.eq_ignore_ascii_case("none") {
                (field.max(), 0)
            } else {
                let (a, b) = text
                    .split_once("..")
                    .or_else(|| text.split_once('-'))
                    .unwrap_or((text, text));
                match (number(a), number(b)) {
                    (Some(a), Some(b)) if a <= b && b <= field.max().min(mask(*end_width)) => {
                        (a, b)
                    }
                    _ => return Err(bad(expected)),
                }
            };
            let word = place(start);
            Ok((word & !(mask(*end_width) << end_shift)) | (end << end_shift))
        }
    }
}

/// The sectors a sector-mask value names, given the current bits (for +N / -N).
fn sectors(text: &str, raw: u32, field: &Field, active_low: bool) -> Option<Vec<u32>> {
    let Kind::Sectors { first, .. } = field.kind else {
        return None;
    };
    let all: Vec<u32> = (first..first + field.width).collect();
    let current: Vec<u32> = super::protected_bits(raw, field.width, active_low)
        .map(|bit| first + bit)
        .collect();
    let one = |s: &str| number(s).filter(|n| all.contains(n));
    let mut chosen = match text.to_ascii_lowercase().as_str() {
        "none" => Vec::new(),
        "all" => all.clone(),
        t if t.starts_with('+') => {
            let mut list = current;
            list.push(one(&t[1..])?);
            list
        }
        t if t.starts_with('-') => {
            let sector = one(&t[1..])?;
            current.into_iter().filter(|s| *s != sector).collect()
        }
        t => {
            let mut list = Vec::new();
            for part in t.split(',') {
                match part.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (one(a)?, one(b)?);
                        if a > b {
                            return None;
                        }
                        list.extend(a..=b);
                    }
                    None => list.push(one(part)?),
                }
            }
            list
        }
    };
    chosen.sort_unstable();
    chosen.dedup();
    Some(chosen)
}
