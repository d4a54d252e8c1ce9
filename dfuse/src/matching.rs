//! Which protocol and quirks a DFU interface gets: a prioritised table of records.
//!
//! The built-in table is `dfuse/devices.toml`, turned into Rust by `build.rs` (no TOML is
//! parsed at start-up for it). A user table is
//! read first, so among records of equal priority a user record wins. See the
//! table's header for the grammar and the six priorities.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// The built-in table's text (what `build.rs` compiles in; shown to people as written).
pub const BUILT_IN: &str = include_str!("../devices.toml");

/// Which protocol a device speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// DFU 1.1 with ST's DfuSe extensions.
    #[default]
    Dfuse,
    /// Plain DFU 1.1: reported, but DfuSe commands are refused.
    Dfu,
}

/// Deviations a device needs handled.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quirks {
    /// A memory map to use instead of the device's own.
    pub layout: Option<String>,
    /// A transfer size to use instead of the functional descriptor's.
    pub transfer_size: Option<u16>,
    /// Never poll again sooner than this.
    pub poll_timeout_floor_ms: Option<u32>,
    /// A STALLed GETSTATUS during an erase means "still busy".
    #[serde(default)]
    pub stall_means_busy: bool,
    /// A GETSTATUS sent while the device writes is answered when the write is done, so a
    /// write's status is asked again at once instead of after bwPollTimeout.
    #[serde(default)]
    pub answers_when_done: bool,
    /// The real flash size is the serial number's size letter (GD32VF103).
    #[serde(default)]
    pub flash_size_from_serial: bool,
}

/// One record of a table.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// What the device is.
    pub name: String,
    /// idVendor.
    pub vendor: Option<u16>,
    /// idProduct.
    pub product: Option<u16>,
    /// bcdDevice.
    pub release: Option<u16>,
    /// bInterfaceClass.
    pub class: Option<u8>,
    /// bInterfaceSubClass.
    pub subclass: Option<u8>,
    /// bInterfaceProtocol.
    pub protocol: Option<u8>,
    /// The protocol it speaks.
    #[serde(default)]
    pub flavour: Flavour,
    /// Its quirks.
    #[serde(default)]
    pub quirks: Quirks,
}

/// What the priorities are called, from 1 (most specific) to 6.
pub const PRIORITIES: [&str; 6] = [
    "vendor+product+release+class/sub/proto",
    "vendor+product+class/sub",
    "vendor+product",
    "vendor+class",
    "class/sub/proto",
    "class/sub",
];

impl Record {
    /// Its priority (1 to 6) from the fields it names; `None` for a combination the table does not allow.
    pub fn priority(&self) -> Option<u8> {
        let named = (
            self.vendor.is_some(),
            self.product.is_some(),
            self.release.is_some(),
            self.class.is_some(),
            self.subclass.is_some(),
            self.protocol.is_some(),
        );
        match named {
            (true, true, true, true, true, true) => Some(1),
            (true, true, false, true, true, false) => Some(2),
            (true, true, false, false, false, false) => Some(3),
            (true, false, false, true, false, false) => Some(4),
            (false, false, false, true, true, true) => Some(5),
            (false, false, false, true, true, false) => Some(6),
            _ => None,
        }
    }

    /// True when every field it names equals the interface's.
    pub fn matches(&self, interface: &Interface) -> bool {
        let fits = |wanted: Option<u16>, actual: u16| wanted.is_none_or(|w| w == actual);
        let fits8 = |wanted: Option<u8>, actual: u8| wanted.is_none_or(|w| w == actual);
        fits(self.vendor, interface.vid)
            && fits(self.product, interface.pid)
            && fits(self.release, interface.bcd_device)
            && fits8(self.class, interface.class)
            && fits8(self.subclass, interface.subclass)
            && fits8(self.protocol, interface.protocol)
    }
}

/// Where a record comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The built-in table.
    BuiltIn,
    /// A user's table.
    User(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::BuiltIn => f.write_str("built-in record"),
            Source::User(path) => write!(f, "user record from {}", path.display()),
        }
    }
}

/// What is matched: a DFU interface of a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interface {
    /// idVendor.
    pub vid: u16,
    /// idProduct.
    pub pid: u16,
    /// bcdDevice.
    pub bcd_device: u16,
    /// bInterfaceClass.
    pub class: u8,
    /// bInterfaceSubClass.
    pub subclass: u8,
    /// bInterfaceProtocol.
    pub protocol: u8,
}

impl Interface {
    /// The DFU interface of a device.
    pub fn of(device: &crate::transport::DeviceInfo) -> Interface {
        let (class, subclass, protocol) = device.interface_class;
        Interface {
            vid: device.vid,
            pid: device.pid,
            bcd_device: device.bcd_device,
            class,
            subclass,
            protocol,
        }
    }
}

impl Quirks {
    /// Session settings with these quirks applied to `base`.
    pub fn apply(&self, base: crate::session::Settings) -> crate::session::Settings {
        crate::session::Settings {
            transfer_size: self.transfer_size.or(base.transfer_size),
            poll_floor: self.poll_timeout_floor_ms.map_or(base.poll_floor, |ms| {
                std::time::Duration::from_millis(u64::from(ms))
            }),
            stall_means_busy: base.stall_means_busy || self.stall_means_busy,
            answers_when_done: base.answers_when_done || self.answers_when_done,
            ..base
        }
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "interface {:02X}/{:02X}/{:02X} of {:04X}:{:04X} rev {:04X}",
            self.class, self.subclass, self.protocol, self.vid, self.pid, self.bcd_device
        )
    }
}

/// A table that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// Not valid TOML, or unknown fields.
    #[error("{table}: {message}")]
    Syntax {
        /// Which table.
        table: String,
        /// What the TOML parser says.
        message: String,
    },
    /// A record names a combination of fields that has no priority.
    #[error(
        "{table}: record {name:?} names a combination of fields the table does not allow (see the priorities in the built-in table's header)"
    )]
    Shape {
        /// Which table.
        table: String,
        /// The record's name.
        name: String,
    },
}

impl TableError {
    /// A stable identifier of the kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            TableError::Syntax { .. } => "table-syntax",
            TableError::Shape { .. } => "table-shape",
        }
    }

    /// What the user can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            TableError::Syntax { .. } => {
                "fix the device table: each record is a [[device]] with the fields the built-in table's header lists"
            }
            TableError::Shape { .. } => {
                "give the record one of the six field combinations the built-in table's header lists"
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    device: Vec<Record>,
}

/// One record with its origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The record.
    pub record: Record,
    /// Its priority.
    pub priority: u8,
    /// Where it comes from.
    pub source: Source,
}

/// The records, user ones first.
#[derive(Clone, Debug, Default)]
pub struct DeviceTable {
    entries: Vec<Entry>,
}

fn parse(text: &str, source: Source) -> Result<Vec<Entry>, TableError> {
    let label = match &source {
        Source::BuiltIn => "the built-in device table".to_string(),
        Source::User(path) => path.display().to_string(),
    };
    let file: File = toml::from_str(text).map_err(|e| TableError::Syntax {
        table: label.clone(),
        message: e.message().to_string(),
    })?;
    file.device
        .into_iter()
        .map(|record| match record.priority() {
            Some(priority) => Ok(Entry {
                record,
                priority,
                source: source.clone(),
            }),
            None => Err(TableError::Shape {
                table: label.clone(),
                name: record.name.clone(),
            }),
        })
        .collect()
}

/// The built-in records, as `build.rs` compiled them from [`BUILT_IN`]; a test checks they
/// equal what [`parse`] makes of the text, priorities included.
fn built_in() -> Vec<Entry> {
    let records: Vec<Record> = include!(concat!(env!("OUT_DIR"), "/built_in_devices.rs"));
    records
        .into_iter()
        .filter_map(|record| {
            Some(Entry {
                priority: record.priority()?,
                record,
                source: Source::BuiltIn,
            })
        })
        .collect()
}

impl DeviceTable {
    /// The user's records (if any) before the built-in ones.
    pub fn load(user: Option<(&str, PathBuf)>) -> Result<DeviceTable, TableError> {
        let mut entries = match user {
            Some((text, path)) => parse(text, Source::User(path))?,
            None => Vec::new(),
        };
        entries.extend(built_in());
        Ok(DeviceTable { entries })
    }

    /// Every record, in the order they are consulted.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The most specific matching record (the first among equals), with what matched at
    /// each priority level ([`Resolution::steps`] explains it).
    pub fn resolve(&self, interface: &Interface) -> Resolution {
        let levels = std::array::from_fn(|level| {
            let priority = level as u8 + 1;
            let mut matching = self
                .entries
                .iter()
                .filter(|e| e.priority == priority && e.record.matches(interface));
            matching.next().map(|first| Level {
                first: first.clone(),
                several: matching.next().is_some(),
            })
        });
        Resolution {
            interface: *interface,
            levels,
        }
    }
}

/// What matched at one priority level: the first record, and whether others did too.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Level {
    first: Entry,
    several: bool,
}

/// The decision for one interface, with what matched at each priority level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    interface: Interface,
    /// Per priority level, most specific first.
    levels: [Option<Level>; 6],
}

impl Resolution {
    /// The record chosen, if any matched: the first of the most specific level that matched.
    pub fn chosen(&self) -> Option<&Entry> {
        self.levels
            .iter()
            .flatten()
            .next()
            .map(|level| &level.first)
    }

    /// How the decision was made: the interface, one line per priority level, most specific
    /// first, and the outcome. Formatted when asked (`dfuse info`, `list --explain`), not at
    /// every match.
    pub fn steps(&self) -> Vec<String> {
        let mut steps = vec![self.interface.to_string()];
        let mut chosen = false;
        for (level, (matched, label)) in self.levels.iter().zip(PRIORITIES).enumerate() {
            let priority = level + 1;
            steps.push(match matched {
                None => format!("  priority {priority} ({label}): no record"),
                Some(Level { first, several }) if !chosen => {
                    chosen = true;
                    let several = if *several { " (first of several)" } else { "" };
                    format!(
                        "  priority {priority} ({label}): {:?}, {}{several}",
                        first.record.name, first.source
                    )
                }
                Some(Level { first, .. }) => format!(
                    "  priority {priority} ({label}): {:?}, {} (less specific, not used)",
                    first.record.name, first.source
                ),
            });
        }
        steps.push(match self.chosen() {
            Some(entry) => format!(
                "  → {}, {}, priority {}",
                entry.record.name, entry.source, entry.priority
            ),
            None => "  → no record matches: not a DFU interface dfuse knows".into(),
        });
        steps
    }
}

/// Where the user's device table lives when it exists: `$XDG_CONFIG_HOME/dfuse/devices.toml`,
/// else `~/.config/dfuse/devices.toml`, else (Windows) `%APPDATA%\dfuse\devices.toml`.
pub fn user_table_path() -> Option<PathBuf> {
    user_config_file("devices.toml")
}

/// The user's configuration file `name` in dfuse's configuration folder, when it exists:
/// `$XDG_CONFIG_HOME/dfuse/`, else `~/.config/dfuse/`, else (Windows) `%APPDATA%\dfuse\`.
pub fn user_config_file(name: &str) -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))
        .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
        .map(|config| config.join("dfuse").join(name))
        .filter(|path| path.exists())
}

/// The flash size the GD32VF103's serial number states: its third character is
/// the STM32-style density letter (4 = 16 KiB, 6 = 32, 8 = 64, B = 128).
pub fn gd32_flash_size(serial: &str) -> Option<u32> {
    let kib = match serial.chars().nth(2)?.to_ascii_uppercase() {
        '4' => 16,
        '6' => 32,
        '8' => 64,
        'B' => 128,
        _ => return None,
    };
    Some(kib * 1024)
}

#[cfg(test)]
mod tests;
