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
    #[error("more than one DfuSe device matches{wanted}; choose one with --device:\n{matching}")]
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
            let _ = write!(text, " --device {location}");
        }
        if let Some(serial) = &self.serial {
            let _ = write!(text, " --serial {serial}");
        }
        if let Some((vid, pid)) = self.vid_pid {
            let _ = write!(text, " --vid-pid {vid:04x}:{pid:04x}");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimTransport;
    use crate::transport::Transport;

    /// The lab's three boards: an F407 and two F072s with the F0 ROM's constant serial.
    fn boards() -> Vec<DeviceInfo> {
        let board = |chip: &str, location: &str| {
            let mut info = SimTransport::open(chip).unwrap().info().clone();
            info.location = location.into();
            info
        };
        vec![
            board("stm32f407", "1-1"),
            board("stm32f072", "1-2.1"),
            board("stm32f072", "1-2.2"),
        ]
    }

    #[test]
    fn port_path_picks_each_board() {
        let boards = boards();
        for location in ["1-1", "1-2.1", "1-2.2"] {
            let selector = Selector {
                location: Some(location.into()),
                ..Selector::default()
            };
            assert_eq!(select(&boards, &selector).unwrap().location, location);
        }
    }

    #[test]
    fn serial_picks_the_f407_and_reports_the_f072_ambiguity() {
        let boards = boards();
        let f407 = Selector {
            serial: Some("3276395A3032".into()),
            ..Selector::default()
        };
        assert_eq!(select(&boards, &f407).unwrap().location, "1-1");
        let f072 = Selector {
            serial: Some("FFFFFFFEFFFF".into()),
            ..Selector::default()
        };
        let err = select(&boards, &f072).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("more than one DfuSe device matches --serial FFFFFFFEFFFF; choose one with --device:"), "{text}");
        assert!(
            text.contains("1-2.1") && text.contains("1-2.2") && !text.contains("1-1 "),
            "{text}"
        );
    }

    #[test]
    fn no_selector_with_several_devices_lists_them_all() {
        let err = select(&boards(), &Selector::default()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("more than one DfuSe device matches; choose one with --device:"),
            "{text}"
        );
        for location in ["1-1", "1-2.1", "1-2.2"] {
            assert!(text.contains(location), "{text}");
        }
    }

    #[test]
    fn selectors_combine_and_misses_list_what_is_present() {
        let boards = boards();
        let both = Selector {
            serial: Some("FFFFFFFEFFFF".into()),
            location: Some("1-2.2".into()),
            vid_pid: Some((0x0483, 0xDF11)),
        };
        assert_eq!(select(&boards, &both).unwrap().location, "1-2.2");
        let gd32 = Selector {
            vid_pid: Some((0x28E9, 0x0189)),
            ..Selector::default()
        };
        let err = select(&boards, &gd32).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("no DfuSe device matches --vid-pid 28e9:0189; present:"),
            "{err}"
        );
        assert_eq!(
            select(&[], &Selector::default()),
            Err(SelectError::NoDevice)
        );
        let single = &boards[..1];
        assert_eq!(
            select(single, &Selector::default()).unwrap().location,
            "1-1",
            "one device needs no selector"
        );
    }
}
