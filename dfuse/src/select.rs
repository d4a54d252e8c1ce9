//! Choosing one device among those present: by location, serial and VID:PID.
//!
//! Locations are `<bus>-<port.path>` for USB (e.g. `1-2.3`) and `sim:<chip>`.
//! Serials alone cannot tell every board apart (the STM32F0 ROM's serial is
//! the constant FFFFFFFEFFFF), so an ambiguous choice is an error that lists
//! the candidates with their locations.

use std::fmt::Write;

use crate::transport::DeviceInfo;

/// What the user asked for; empty fields match anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    /// `<bus>-<port.path>` or `sim:<chip>`.
    pub location: Option<String>,
    /// Serial number string.
    pub serial: Option<String>,
    /// VID and PID.
    pub vid_pid: Option<(u16, u16)>,
}

/// Why no single device was chosen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectError {
    /// No device at all.
    #[error("no DfuSe device found")]
    NoDevice,
    /// Devices, but none that matches.
    #[error("no DfuSe device matches {wanted}; present:\n{present}")]
    NoMatch {
        /// The selector, described.
        wanted: String,
        /// The devices present, one per line.
        present: String,
    },
    /// More than one device matches.
    #[error("more than one DfuSe device matches{wanted}; choose one by its location:\n{matching}")]
    Ambiguous {
        /// The selector, described (empty when there was none).
        wanted: String,
        /// The matching devices, one per line.
        matching: String,
    },
}

impl Selector {
    /// True when nothing narrows the choice.
    pub fn is_empty(&self) -> bool {
        self.location.is_none() && self.serial.is_none() && self.vid_pid.is_none()
    }

    /// True when `device` fits every field given.
    pub fn matches(&self, device: &DeviceInfo) -> bool {
        self.location.as_ref().is_none_or(|l| *l == device.location)
            && self
                .serial
                .as_ref()
                .is_none_or(|s| device.serial.as_ref() == Some(s))
            && self
                .vid_pid
                .is_none_or(|(v, p)| (v, p) == (device.vid, device.pid))
    }

    fn describe(&self) -> String {
        let mut text = String::new();
        if let Some(location) = &self.location {
            let _ = write!(text, " at location {location}");
        }
        if let Some(serial) = &self.serial {
            let _ = write!(text, " with serial {serial}");
        }
        if let Some((vid, pid)) = self.vid_pid {
            let _ = write!(text, " with VID:PID {vid:04x}:{pid:04x}");
        }
        text
    }
}

/// One line describing a device, for lists in messages.
pub fn describe(device: &DeviceInfo) -> String {
    format!(
        "  {:<16} {:04X}:{:04X}  serial {:<14} {}",
        device.location,
        device.vid,
        device.pid,
        device.serial.as_deref().unwrap_or("-"),
        device.product.as_deref().unwrap_or("")
    )
}

fn lines<'a>(devices: impl IntoIterator<Item = &'a DeviceInfo>) -> String {
    devices
        .into_iter()
        .map(describe)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The one device `selector` picks out of `devices`.
pub fn select<'a>(
    devices: &'a [DeviceInfo],
    selector: &Selector,
) -> Result<&'a DeviceInfo, SelectError> {
    if devices.is_empty() {
        return Err(SelectError::NoDevice);
    }
    let matching: Vec<&DeviceInfo> = devices.iter().filter(|d| selector.matches(d)).collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => Err(SelectError::NoMatch {
            wanted: selector.describe().trim().to_string(),
            present: lines(devices),
        }),
        _ => Err(SelectError::Ambiguous {
            wanted: selector.describe(),
            matching: lines(matching),
        }),
    }
}
