//! What a device's matched record means for it: session settings and memory maps.

use crate::error::DeviceError;
use crate::matching::{Flavour, Resolution, gd32_flash_size};
use crate::memory_map::{self, MemoryMap};
use crate::session::Settings;
use crate::transport::DeviceInfo;

/// Session settings for the device, its record's quirks applied; refused for devices dfuse cannot flash.
pub fn settings(info: &DeviceInfo, resolution: &Resolution) -> Result<Settings, DeviceError> {
    let Some(entry) = &resolution.chosen else {
        return Err(DeviceError::Unsupported(format!(
            "{} ({:04X}:{:04X}) matches no record of the device table",
            info.location, info.vid, info.pid
        )));
    };
    if entry.record.flavour == Flavour::Dfu {
        return Err(DeviceError::Unsupported(format!(
            "{} is a plain DFU 1.1 device ({:?}, {}): dfuse flashes DfuSe devices only; use dfu-util for it",
            info.location, entry.record.name, entry.source
        )));
    }
    Ok(entry.record.quirks.apply(Settings::default()))
}

/// The alternate settings' memory maps (one without a map is skipped), with the
/// record's layout override and real flash size applied to alternate setting 0.
pub fn memory_maps(info: &DeviceInfo, resolution: &Resolution) -> Vec<(u8, MemoryMap)> {
    let quirks = resolution.chosen.as_ref().map(|e| &e.record.quirks);
    info.alt_settings
        .iter()
        .filter_map(|a| {
            let text = match quirks.and_then(|q| q.layout.as_deref()) {
                Some(layout) if a.alt == 0 => layout,
                _ => a.name.as_str(),
            };
            let mut map = memory_map::parse(text).ok()?.map;
            if a.alt == 0
                && quirks.is_some_and(|q| q.flash_size_from_serial)
                && let Some(size) = info.serial.as_deref().and_then(gd32_flash_size)
            {
                truncate(&mut map, size);
            }
            Some((a.alt, map))
        })
        .collect()
}

/// The address firmware starts at by default: the start of alternate setting 0's memory.
pub fn default_start(maps: &[(u8, MemoryMap)]) -> u32 {
    maps.first()
        .and_then(|(_, m)| m.segments.first())
        .map_or(0x0800_0000, |s| s.address)
}

/// Cuts a memory map down to its first `size` bytes (a part smaller than its string claims).
fn truncate(map: &mut MemoryMap, size: u32) {
    let Some(start) = map.segments.first().map(|s| u64::from(s.address)) else {
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
