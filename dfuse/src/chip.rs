//! Which chip a board is, from what its bootloader shows: the records of
//! `dfuse/chips.toml`, first match wins; the flash size always comes from the
//! memory map of alternate setting 0.

use serde::Deserialize;

use crate::memory_map::MemoryMap;
use crate::transport::DeviceInfo;

/// The built-in chip identities (`dfuse/chips.toml`).
pub const BUILT_IN: &str = include_str!("../chips.toml");

/// One record of the chip table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    name: String,
    vendor: Option<u16>,
    product: Option<u16>,
    product_string: Option<String>,
    flash_layout: Option<String>,
    option_bytes: Option<u32>,
    source: String,
}

#[derive(Deserialize)]
struct Table {
    chip: Vec<Record>,
}

/// What a board is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The chip or family, when a record matched.
    pub family: Option<String>,
    /// Bytes of flash alternate setting 0 describes.
    pub flash: u64,
    /// Why: the conditions of the record that matched, and its source.
    pub reason: String,
}

impl Identity {
    /// "STM32F405/407/412/415/417, 1 MiB flash", or "unknown STM32, 1 MiB flash".
    pub fn summary(&self) -> String {
        let flash = size(self.flash);
        match &self.family {
            Some(family) => format!("{family}, {flash} flash"),
            None => format!("{}, {flash} flash", self.reason),
        }
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b % 1024 == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Alternate setting 0's sectors as "4x16K,1x64K,7x128K".
pub fn layout(map: &MemoryMap) -> String {
    map.segments
        .iter()
        .map(|s| {
            let unit = if s.sector_size % 1024 == 0 {
                format!("{}K", s.sector_size / 1024)
            } else {
                s.sector_size.to_string()
            };
            format!("{}x{unit}", s.sector_count)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Identifies the board `info` with memory maps `maps` (alternate setting, map).
pub fn identify(info: &DeviceInfo, maps: &[(u8, MemoryMap)]) -> Identity {
    let flash_map = maps.iter().find(|(alt, _)| *alt == 0).map(|(_, map)| map);
    let flash = flash_map.map_or(0, |map| {
        map.segments
            .iter()
            .map(|s| s.end() - u64::from(s.address))
            .sum()
    });
    let flash_layout = flash_map.map(layout);
    let starts: Vec<u32> = maps.iter().filter_map(|(_, map)| map.start()).collect();
    // The table is compiled in and checked by a test: a broken one matches nothing.
    let records = toml::from_str::<Table>(BUILT_IN).map_or_else(|_| Vec::new(), |t| t.chip);
    for record in &records {
        let mut reasons = Vec::new();
        let mut check = |holds: bool, reason: String| {
            reasons.push(reason);
            holds
        };
        let matches = record
            .vendor
            .is_none_or(|v| check(v == info.vid, format!("vendor {v:04X}")))
            && record
                .product
                .is_none_or(|p| check(p == info.pid, format!("product {p:04X}")))
            && record.product_string.as_ref().is_none_or(|text| {
                check(
                    info.product.as_deref().is_some_and(|p| p.contains(text)),
                    format!("product string {text:?}"),
                )
            })
            && record.flash_layout.as_ref().is_none_or(|wanted| {
                check(
                    flash_layout.as_deref() == Some(wanted),
                    format!("flash layout {wanted}"),
                )
            })
            && record.option_bytes.is_none_or(|address| {
                check(
                    starts.contains(&address),
                    format!("option bytes at {address:#010X}"),
                )
            });
        if matches {
            return Identity {
                family: Some(record.name.clone()),
                flash,
                reason: format!("{} ({})", reasons.join(", "), record.source),
            };
        }
    }
    Identity {
        family: None,
        flash,
        reason: if info.vid == 0x0483 {
            "unknown STM32".into()
        } else {
            "unknown chip".into()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory_map;

    #[test]
    fn the_built_in_table_reads_and_cites_a_source_for_every_record() {
        let table: Table = toml::from_str(BUILT_IN).unwrap();
        assert!(table.chip.len() >= 10);
        assert!(table.chip.iter().all(|r| !r.source.is_empty()));
    }

    #[test]
    fn an_unknown_layout_is_called_unknown_with_its_flash_size() {
        let map = memory_map::parse("@Internal Flash  /0x08000000/16*64Kg")
            .unwrap()
            .map;
        let info = DeviceInfo::new(0x0483, 0xDF11, "1-1");
        let identity = identify(&info, &[(0, map)]);
        assert_eq!(identity.family, None);
        assert_eq!(identity.summary(), "unknown STM32, 1 MiB flash");
    }
}
