//! Linux: a board's device file (`/dev/bus/usb/BBB/DDD`), opened and read by dfuse itself:
//! the descriptors the kernel keeps, the strings with one blocking request each
//! ([`crate::usbfs`]), no nusb device and so no nusb event thread (docs/PERFORMANCE.md).

use super::{DESCRIPTOR_TIMEOUT, STRING_DESCRIPTOR, fill_alt_settings};
use crate::transport::{DeviceInfo, OsError, TransportError};

/// Linux: reads the descriptors from the device file and the strings with one blocking
/// request each ([`crate::usbfs`]), as nusb would but without its event thread and its
/// asynchronous transfers: part of every command's start-up (docs/PERFORMANCE.md).
pub(super) fn read_descriptors(
    device: &nusb::DeviceInfo,
    info: &mut DeviceInfo,
) -> Result<(), TransportError> {
    use std::io::Read;
    let file = open_device_file(device)?;
    // A usbfs device file reads as the device descriptor followed by every configuration
    // descriptor, as the kernel cached them at enumeration (no request reaches the device).
    let mut descriptors = Vec::new();
    (&file)
        .take(MAX_DESCRIPTORS)
        .read_to_end(&mut descriptors)
        .map_err(|error| TransportError::Io(OsError::new(error)))?;
    let active = std::fs::read_to_string(device.sysfs_path().join("bConfigurationValue"))
        .ok()
        .and_then(|value| value.trim().parse::<u8>().ok());
    let configuration = configurations(&descriptors)
        .find(|c| active.is_none_or(|value| c.configuration_value() == value))
        .ok_or_else(|| {
            TransportError::NoConfiguration(OsError::new(std::io::Error::other(
                "the device file holds no (active) configuration descriptor",
            )))
        })?;
    let usbfs = crate::usbfs::Usbfs::new(file);
    fill_alt_settings(&configuration, info, |index, language| {
        let setup = crate::usbfs::Setup {
            // GET_DESCRIPTOR, standard, to the device (USB 2.0 section 9.4.3).
            request_type: 0x80,
            request: 6,
            value: u16::from(STRING_DESCRIPTOR) << 8 | u16::from(index),
            index: language,
        };
        usbfs.control_in(setup, 255, DESCRIPTOR_TIMEOUT).ok()
    });
    Ok(())
}

/// The most a device file's descriptors are read: a configuration is at most 64 KiB long.
const MAX_DESCRIPTORS: u64 = 8 * 65_536;

/// The configuration descriptors that follow the device descriptor in `descriptors`.
fn configurations(
    descriptors: &[u8],
) -> impl Iterator<Item = nusb::descriptors::ConfigurationDescriptor<'_>> {
    let device_length = descriptors.first().map_or(0, |&length| usize::from(length));
    let mut rest = descriptors.get(device_length..).unwrap_or_default();
    std::iter::from_fn(move || {
        let configuration = nusb::descriptors::ConfigurationDescriptor::new(rest)?;
        rest = &rest[configuration.as_bytes().len()..];
        Some(configuration)
    })
}

/// Linux: the device's usbfs file (`/dev/bus/usb/BBB/DDD`), opened for requests.
pub(super) fn open_device_file(device: &nusb::DeviceInfo) -> Result<std::fs::File, TransportError> {
    let path = format!(
        "/dev/bus/usb/{:03}/{:03}",
        device.busnum(),
        device.device_address()
    );
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::PermissionDenied => TransportError::AccessDenied(OsError::new(
                std::io::Error::new(error.kind(), format!("permission denied opening {path}")),
            )),
            std::io::ErrorKind::NotFound => TransportError::Disconnected,
            _ => TransportError::Io(OsError::new(error)),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device descriptor (18 bytes) and a configuration of one interface with `alts`
    /// alternate settings, as a usbfs device file reads.
    fn device_file(value: u8, alts: u8) -> Vec<u8> {
        let mut bytes = vec![18, 1];
        bytes.resize(18, 0);
        let total = 9 + 9 * u16::from(alts);
        let [low, high] = total.to_le_bytes();
        bytes.extend([9, 2, low, high, 1, value, 0, 0x80, 50]);
        for alt in 0..alts {
            bytes.extend([9, 4, 0, alt, 0, 0xFE, 0x01, 0x02, 4 + alt]);
        }
        bytes
    }

    #[test]
    fn a_device_files_configurations_are_found_and_bad_ones_end_the_list() {
        let mut bytes = device_file(1, 4);
        bytes.extend_from_slice(&device_file(2, 1)[18..]);
        let found: Vec<(u8, usize)> = configurations(&bytes)
            .map(|c| (c.configuration_value(), c.interface_alt_settings().count()))
            .collect();
        assert_eq!(found, [(1, 4), (2, 1)]);
        // A wTotalLength past the end, a device descriptor of length 0, nothing at all.
        let mut truncated = device_file(1, 4);
        truncated.truncate(40);
        assert_eq!(configurations(&truncated).count(), 0);
        let mut zero = device_file(1, 1);
        zero[0] = 0;
        assert_eq!(configurations(&zero).count(), 0);
        assert_eq!(configurations(&[]).count(), 0);
    }
}
