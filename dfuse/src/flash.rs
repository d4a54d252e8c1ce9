//! Flashing firmware files: each target planned onto its alternate setting, then written and verified.

use std::sync::atomic::AtomicBool;

use dfu_file::{Firmware, Format};

use crate::error::DeviceError;
use crate::memory_map::MemoryMap;
use crate::plan::{FlashPlan, PlanOptions, plan};
use crate::session::{Event, Session, Settings, Written};
use crate::transport::{DeviceInfo, Transport};

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

/// Why a .dfu file's suffix says it is for another device (0xFFFF matches any), if it does.
pub fn foreign_ids(firmware: &Firmware, device: &DeviceInfo) -> Option<String> {
    let suffix = firmware.suffix?;
    let matches = |wanted: u16, actual: u16| wanted == 0xFFFF || wanted == actual;
    if matches(suffix.ids.vid, device.vid) && matches(suffix.ids.pid, device.pid) {
        return None;
    }
    Some(format!(
        "the file is for device {:04X}:{:04X} (its DFU suffix), but this device is {:04X}:{:04X}",
        suffix.ids.vid, suffix.ids.pid, device.vid, device.pid
    ))
}

/// Plans every target before anything is erased.
///
/// A target goes to `alt` when given, else to the alternate setting a .dfu file
/// names for it, else to 0. Fails on the first target that cannot be placed.
pub fn plan_firmware(
    firmware: &Firmware,
    maps: &[(u8, MemoryMap)],
    alt: Option<u8>,
    options: &PlanOptions,
) -> Result<Vec<TargetPlan>, DeviceError> {
    firmware
        .targets
        .iter()
        .map(|target| {
            let wanted = alt.unwrap_or(match firmware.format {
                Format::Dfuse => target.alt,
                _ => 0,
            });
            let (_, map) = maps.iter().find(|(n, _)| *n == wanted).ok_or_else(|| {
                DeviceError::Target(format!(
                    "the device has no alternate setting {wanted} with a memory map"
                ))
            })?;
            Ok(TargetPlan {
                alt: wanted,
                region: map.name.clone(),
                bytes: target.image.len(),
                plan: plan(&target.image, map, options)?,
            })
        })
        .collect()
}

/// How writing one target ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flashed {
    /// Written and read back identical.
    Verified,
    /// Written; not read back because the caller asked so.
    NotVerified,
    /// Written, then the device reset itself (option bytes): nothing to read back.
    DeviceReset,
}

/// Erases and writes one planned target, then reads it back unless `verify` is off.
pub fn write_target<T: Transport + ?Sized>(
    transport: &mut T,
    settings: Settings,
    target: &TargetPlan,
    verify: bool,
    cancel: &AtomicBool,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Flashed, DeviceError> {
    let mut session = Session::open(transport, target.alt, settings, on_event)?.cancel_on(cancel);
    if session.download(&target.plan)? == Written::DeviceReset {
        return Ok(Flashed::DeviceReset);
    }
    if !verify {
        return Ok(Flashed::NotVerified);
    }
    session.verify(&target.plan)?;
    Ok(Flashed::Verified)
}
