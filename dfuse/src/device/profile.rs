//! What a board is before anything is sent to it: its identity, the record it
//! matched, the settings and memory maps that record gives it, and plans.

use dfu_file::{Firmware, Format};

use crate::blocks::Blocks;
use crate::error::DeviceError;
use crate::matching::{DeviceTable, Flavour, Interface, Resolution, gd32_flash_size};
use crate::memory_map::{self, MemoryMap};
use crate::plan::{FlashPlan, PlanOptions, plan};
use crate::session::Settings;
use crate::transport::DeviceInfo;

/// Where firmware starts when a map says nothing (the STM32 flash base).
const STM32_FLASH: u32 = 0x0800_0000;

/// A board as the device table sees it: identity, matching decision and memory maps.
#[derive(Clone, Debug)]
pub struct Profile {
    /// Identity, location and alternate settings as the device reports them.
    pub info: DeviceInfo,
    /// Which record it matched, with the steps of the decision.
    pub resolution: Resolution,
    maps: Vec<(u8, MemoryMap)>,
    warnings: Vec<(u8, Vec<String>)>,
}

/// How a firmware file is to be planned onto a board.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlanRequest {
    /// The alternate setting for a file without targets of its own (default 0).
    pub alt: Option<u8>,
    /// Write into read-only or non-writable memory too.
    pub force: bool,
    /// Erase the whole flash instead of the touched sectors.
    pub mass_erase: bool,
    /// Flash a .dfu whose suffix names another device.
    pub ignore_ids: bool,
}

/// One target of a firmware file, planned onto an alternate setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetPlan {
    /// The alternate setting it goes to.
    pub alt: u8,
    /// That setting's region name.
    pub region: String,
    /// Bytes of firmware data (without padding).
    pub bytes: u64,
    /// The erases and writes.
    pub plan: FlashPlan,
}

impl Profile {
    /// Matches `info` against `table` and derives the memory maps as they will be used.
    pub fn new(info: DeviceInfo, table: &DeviceTable) -> Profile {
        let resolution = table.resolve(&Interface::of(&info));
        let mut maps = Vec::new();
        let mut warnings = Vec::new();
        let quirks = resolution.chosen().map(|e| &e.record.quirks);
        for setting in &info.alt_settings {
            let text = match quirks.and_then(|q| q.layout.as_deref()) {
                Some(layout) if setting.alt == 0 => layout,
                _ => setting.name.as_str(),
            };
            let Ok(parsed) = memory_map::parse(text) else {
                continue;
            };
            let mut map = parsed.map;
            if setting.alt == 0
                && quirks.is_some_and(|q| q.flash_size_from_serial)
                && let Some(size) = info.serial.as_deref().and_then(gd32_flash_size)
            {
                truncate(&mut map, size);
            }
            maps.push((setting.alt, map));
            warnings.push((setting.alt, parsed.warnings));
        }
        Profile {
            info,
            resolution,
            maps,
            warnings,
        }
    }

    /// The alternate settings' memory maps, the record's quirks applied (a setting without a map is left out).
    pub fn maps(&self) -> &[(u8, MemoryMap)] {
        &self.maps
    }

    /// What was odd about alternate setting `alt`'s memory-map string.
    pub fn map_warnings(&self, alt: u8) -> &[String] {
        self.warnings
            .iter()
            .find(|(n, _)| *n == alt)
            .map_or(&[], |(_, w)| w.as_slice())
    }

    /// Session settings, the record's quirks applied; refused for devices dfuse cannot flash.
    pub fn settings(&self) -> Result<Settings, DeviceError> {
        let info = &self.info;
        let Some(entry) = self.resolution.chosen() else {
            return Err(DeviceError::Unsupported(format!(
                "{} ({:04X}:{:04X}) matches no record of the device table",
                info.location, info.vid, info.pid
            )));
        };
        if entry.record.flavour == Flavour::Dfu {
            return Err(DeviceError::Unsupported(format!(
                "{} is a plain DFU 1.1 device ({:?}, {}): dfuse flashes DfuSe devices only",
                info.location, entry.record.name, entry.source
            )));
        }
        Ok(entry.record.quirks.apply(Settings::default()))
    }

    /// Which chip this is (`dfuse/chips.toml`), with its flash size.
    pub fn identity(&self) -> crate::chip::Identity {
        crate::chip::identify(&self.info, &self.maps)
    }

    /// The block size sessions use with this board, and where it comes from.
    pub fn blocks(&self) -> Blocks {
        let record = self
            .resolution
            .chosen()
            .and_then(|entry| entry.record.quirks.transfer_size);
        Blocks::choose(self.info.functional.map(|f| f.transfer_size), record)
    }

    /// The name to show: the record it matched, or its product string.
    pub fn title(&self) -> String {
        match (self.resolution.chosen(), &self.info.product) {
            (Some(entry), _) => entry.record.name.clone(),
            (None, Some(product)) => product.clone(),
            (None, None) => "Unknown DFU device".into(),
        }
    }

    /// The matching decision in one line.
    pub fn decision(&self) -> String {
        let interface = Interface::of(&self.info);
        match self.resolution.chosen() {
            Some(entry) => format!(
                "{interface} → {}, {}, priority {}",
                entry.record.name, entry.source, entry.priority
            ),
            None => format!("{interface} → no record matches: not a DFU interface dfuse knows"),
        }
    }

    /// Where firmware starts by default: the start of alternate setting 0's memory.
    pub fn default_start(&self) -> u32 {
        self.maps
            .first()
            .and_then(|(_, m)| m.start())
            .unwrap_or(STM32_FLASH)
    }

    /// The map of alternate setting `alt`.
    pub fn map(&self, alt: u8) -> Result<&MemoryMap, DeviceError> {
        self.maps
            .iter()
            .find(|(n, _)| *n == alt)
            .map(|(_, map)| map)
            .ok_or_else(|| self.no_alt(alt))
    }

    /// Finds an alternate setting by number, or by a region name only one setting has.
    pub fn find_alt(&self, wanted: &str) -> Result<u8, DeviceError> {
        let found: Vec<u8> = match wanted.trim().parse::<u8>() {
            Ok(number) => self
                .maps
                .iter()
                .filter(|(n, _)| *n == number)
                .map(|(n, _)| *n)
                .collect(),
            Err(_) => self
                .maps
                .iter()
                .filter(|(_, m)| m.name.eq_ignore_ascii_case(wanted.trim()))
                .map(|(n, _)| *n)
                .collect(),
        };
        match found.as_slice() {
            [alt] => Ok(*alt),
            [] => Err(self.no_alt(format!("{wanted:?}"))),
            _ => Err(DeviceError::Target(format!(
                "several alternate settings are named {wanted:?}: choose one by number ({})",
                self.alt_listing()
            ))),
        }
    }

    /// The refusal for an alternate setting the device does not have (with a map), listing those it has.
    fn no_alt(&self, wanted: impl std::fmt::Display) -> DeviceError {
        DeviceError::Target(format!(
            "the device has no alternate setting {wanted} with a memory map; it has: {}",
            self.alt_listing()
        ))
    }

    fn alt_listing(&self) -> String {
        self.maps
            .iter()
            .map(|(n, m)| format!("{n} ({:?})", m.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Why a .dfu file's suffix says it is for another device (0xFFFF matches any), if it does.
    pub fn foreign_ids(&self, firmware: &Firmware) -> Option<DeviceError> {
        let suffix = firmware.suffix?;
        let matches = |wanted: u16, actual: u16| wanted == 0xFFFF || wanted == actual;
        if matches(suffix.ids.vid, self.info.vid) && matches(suffix.ids.pid, self.info.pid) {
            return None;
        }
        Some(DeviceError::ForeignFile {
            file: (suffix.ids.vid, suffix.ids.pid),
            device: (self.info.vid, self.info.pid),
        })
    }

    /// Plans every target of `firmware` before anything is erased.
    ///
    /// A target goes to `request.alt` when given, else to the alternate setting
    /// a .dfu file names for it, else to 0. Fails on the first target that cannot be placed.
    pub fn plan(
        &self,
        firmware: &Firmware,
        request: &PlanRequest,
    ) -> Result<Vec<TargetPlan>, DeviceError> {
        if !request.ignore_ids
            && let Some(refusal) = self.foreign_ids(firmware)
        {
            return Err(refusal);
        }
        if firmware.targets.len() > 1 && request.alt.is_some() {
            return Err(DeviceError::Target(
                "the file has several targets, each for its own alternate setting: choosing one does not apply".into(),
            ));
        }
        firmware
            .targets
            .iter()
            .map(|target| {
                let alt = request.alt.unwrap_or(match firmware.format {
                    Format::Dfuse => target.alt,
                    _ => 0,
                });
                let map = self.map(alt)?;
                let options = PlanOptions {
                    force: request.force,
                    mass_erase: request.mass_erase,
                    // A mass erase clears the internal flash: alternate setting 0 of a DfuSe ROM.
                    mass_erase_covers_region: alt == 0,
                    ..PlanOptions::default()
                };
                Ok(TargetPlan {
                    alt,
                    region: map.name.clone(),
                    bytes: target.image.len(),
                    plan: plan(&target.image, map, &options)?,
                })
            })
            .collect()
    }
}

/// Cuts a memory map down to its first `size` bytes (a part smaller than its string claims).
fn truncate(map: &mut MemoryMap, size: u32) {
    let Some(start) = map.start().map(u64::from) else {
        return;
    };
    let end = start + u64::from(size);
    map.segments.retain(|s| u64::from(s.address) < end);
    for segment in &mut map.segments {
        let room = (end - u64::from(segment.address)) / u64::from(segment.sector_size);
        segment.sector_count = segment.sector_count.min(room as u32);
    }
    map.segments.retain(|s| s.sector_count > 0);
}
