//! Linux: DFU devices listed from sysfs and their device files (`/dev/bus/usb/BBB/DDD`)
//! opened and read by dfuse itself: the descriptors the kernel keeps, the strings with one
//! blocking request each ([`crate::usbfs`]), no nusb device and so no nusb event thread
//! (docs/PERFORMANCE.md).

use std::io::Read;
use std::path::Path;

use super::{DESCRIPTOR_TIMEOUT, DFU_CLASS, Handle, Listed, STRING_DESCRIPTOR, fill_alt_settings};
use crate::transport::{DeviceInfo, OsError, TransportError};

/// Where sysfs lists USB devices and interfaces.
const SYSFS_USB_DEVICES: &str = "/sys/bus/usb/devices";

/// What dfuse keeps of a listed device to open it.
#[derive(Clone, Debug)]
pub(super) struct Node {
    /// Its bus number.
    bus: u8,
    /// Its active configuration descriptor (with its interfaces and their descriptors), as
    /// the listing read it: describing the device needs it again.
    configuration: Vec<u8>,
}

/// The devices with a DFU interface in their active configuration, from sysfs.
///
/// A device costs one file read (its `descriptors`: the device and configuration
/// descriptors the kernel cached at enumeration); only a DFU device's few attributes are
/// read besides. nusb's listing reads a dozen attributes of every device and resolves its
/// path, which was a tenth of a flash's start-up in the USB lab (docs/PERFORMANCE.md).
pub(super) fn dfu_devices() -> std::io::Result<Vec<Listed>> {
    let entries = match std::fs::read_dir(SYSFS_USB_DEVICES) {
        Ok(entries) => entries,
        // A kernel without USB support has no /sys/bus/usb: no devices, not an error.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    Ok(entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            // Devices are named `<bus>-<port.path>` (`1-2.3`); root hubs (`usb1`) and
            // interfaces (`1-2.3:1.0`) are passed over.
            if !name
                .bytes()
                .all(|c| c.is_ascii_digit() || c == b'-' || c == b'.')
            {
                return None;
            }
            // A device that leaves during the scan fails a read and is left out.
            listed(&Path::new(SYSFS_USB_DEVICES).join(&name), name)
        })
        .collect())
}

/// The device in sysfs folder `dir`, named `name`, if it has a DFU interface.
fn listed(dir: &Path, name: String) -> Option<Listed> {
    let mut descriptors = Vec::new();
    std::fs::File::open(dir.join("descriptors"))
        .ok()?
        .take(MAX_DESCRIPTORS)
        .read_to_end(&mut descriptors)
        .ok()?;
    let device = nusb::descriptors::DeviceDescriptor::new(&descriptors)?;
    let is_dfu =
        |alt: &nusb::descriptors::InterfaceDescriptor| (alt.class(), alt.subclass()) == DFU_CLASS;
    // Most devices have no DFU interface at all: passed over without another read.
    if !configurations(&descriptors).any(|c| c.interface_alt_settings().any(|a| is_dfu(&a))) {
        return None;
    }
    // An unconfigured device (an empty value) has no interfaces to use.
    let active: u8 = attribute(dir, "bConfigurationValue")?.parse().ok()?;
    let configuration = configurations(&descriptors).find(|c| c.configuration_value() == active)?;
    let dfu = configuration.interface_alt_settings().find(is_dfu)?;
    let handle = Handle {
        address: attribute(dir, "devnum")?.parse().ok()?,
        os: Node {
            bus: name.split_once('-')?.0.parse().ok()?,
            configuration: configuration.as_bytes().to_vec(),
        },
    };
    let info = DeviceInfo {
        vid: device.vendor_id(),
        pid: device.product_id(),
        bcd_device: device.device_version(),
        manufacturer: attribute(dir, "manufacturer"),
        product: attribute(dir, "product"),
        serial: attribute(dir, "serial"),
        location: name,
        interface: dfu.interface_number(),
        composite: configuration.interfaces().count() > 1,
        interface_class: (dfu.class(), dfu.subclass(), dfu.protocol()),
        alt_settings: Vec::new(),
        functional: None,
    };
    Some(Listed { info, handle })
}

/// A sysfs attribute's text without its line end; `None` when the device has none.
fn attribute(dir: &Path, name: &str) -> Option<String> {
    let bytes = std::fs::read(dir.join(name)).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    Some(text.strip_suffix('\n').unwrap_or(&text).to_owned())
}

/// Reads the alternate settings' strings with one blocking request each ([`crate::usbfs`])
/// on the device file, as nusb would but without its event thread and its asynchronous
/// transfers: part of every command's start-up (docs/PERFORMANCE.md). The descriptors
/// themselves are those the listing read.
pub(super) fn read_descriptors(
    device: &Handle,
    info: &mut DeviceInfo,
) -> Result<(), TransportError> {
    let configuration = nusb::descriptors::ConfigurationDescriptor::new(&device.os.configuration)
        .ok_or_else(|| {
        TransportError::NoConfiguration(OsError::new(std::io::Error::other(
            "the listing kept no valid configuration descriptor",
        )))
    })?;
    let usbfs = crate::usbfs::Usbfs::new(open_device_file(device)?);
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

/// The most of a device's `descriptors` file that is read: a configuration is at most 64 KiB long.
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
pub(super) fn open_device_file(device: &Handle) -> Result<std::fs::File, TransportError> {
    let path = format!("/dev/bus/usb/{:03}/{:03}", device.os.bus, device.address);
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
    /// alternate settings, as a device's sysfs `descriptors` file reads.
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

    /// A configuration descriptor holding these (interface, alternate setting, class,
    /// subclass) interface descriptors.
    fn configuration(value: u8, interfaces: &[(u8, u8, u8, u8)]) -> Vec<u8> {
        let total = 9 + 9 * interfaces.len() as u16;
        let [low, high] = total.to_le_bytes();
        let count = interfaces.iter().map(|i| i.0).max().map_or(0, |n| n + 1);
        let mut bytes = vec![9, 2, low, high, count, value, 0, 0x80, 50];
        for &(number, alt, class, subclass) in interfaces {
            bytes.extend([9, 4, number, alt, 0, class, subclass, 0x02, 0]);
        }
        bytes
    }

    /// A sysfs device folder: `descriptors` (a device descriptor for 0483:DF11 release
    /// 0x2200, then `configurations`) and the attribute files given.
    fn sysfs_device(configurations: &[Vec<u8>], attributes: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut descriptors = vec![
            18, 1, 0, 2, 0, 0, 0, 64, 0x83, 0x04, 0x11, 0xDF, 0x00, 0x22, 1, 2, 3,
        ];
        descriptors.push(configurations.len() as u8);
        descriptors.extend(configurations.concat());
        std::fs::write(dir.path().join("descriptors"), descriptors).unwrap();
        for (name, text) in attributes {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    const ATTRIBUTES: [(&str, &str); 5] = [
        ("bConfigurationValue", "1\n"),
        ("devnum", "7\n"),
        ("manufacturer", "STMicroelectronics\n"),
        ("product", "STM32  BOOTLOADER\n"),
        ("serial", "3276395A3032\n"),
    ];

    #[test]
    fn a_dfu_device_is_listed_from_its_sysfs_folder() {
        let dir = sysfs_device(
            &[configuration(1, &[(0, 0, 0xFE, 1), (0, 1, 0xFE, 1)])],
            &ATTRIBUTES,
        );
        let Listed { info, handle } = listed(dir.path(), "3-1.4".into()).expect("a DFU device");
        assert_eq!(
            (info.vid, info.pid, info.bcd_device),
            (0x0483, 0xDF11, 0x2200)
        );
        assert_eq!(info.manufacturer.as_deref(), Some("STMicroelectronics"));
        assert_eq!(info.product.as_deref(), Some("STM32  BOOTLOADER"));
        assert_eq!(info.serial.as_deref(), Some("3276395A3032"));
        assert_eq!((info.location.as_str(), handle.address), ("3-1.4", 7));
        assert_eq!((info.interface, info.interface_class), (0, (0xFE, 1, 2)));
        assert!(info.alt_settings.is_empty() && info.functional.is_none());
        assert!(!info.composite);
        assert_eq!(handle.os.bus, 3);
        let kept = nusb::descriptors::ConfigurationDescriptor::new(&handle.os.configuration);
        assert_eq!(
            kept.map(|c| (c.configuration_value(), c.interface_alt_settings().count())),
            Some((1, 2))
        );
    }

    #[test]
    fn a_composite_devices_dfu_interface_is_found_and_missing_strings_are_none() {
        let interfaces = [(0, 0, 0x02, 0x02), (1, 0, 0x0A, 0x00), (2, 0, 0xFE, 0x01)];
        let attributes = [("bConfigurationValue", "1\n"), ("devnum", "12\n")];
        let dir = sysfs_device(&[configuration(1, &interfaces)], &attributes);
        let info = listed(dir.path(), "1-2".into())
            .expect("a DFU interface")
            .info;
        assert_eq!((info.interface, info.composite), (2, true));
        assert_eq!(
            (info.manufacturer, info.product, info.serial),
            (None, None, None)
        );
    }

    #[test]
    fn devices_without_a_usable_dfu_interface_are_not_listed() {
        // No DFU interface: nothing else is read (there is nothing else here to read).
        let serial_port = sysfs_device(&[configuration(1, &[(0, 0, 0x02, 0x02)])], &[]);
        assert!(listed(serial_port.path(), "1-1".into()).is_none());
        // DFU in a configuration that is not the active one.
        let other = [
            configuration(1, &[(0, 0, 0x02, 0x02)]),
            configuration(2, &[(0, 0, 0xFE, 1)]),
        ];
        let inactive = sysfs_device(&other, &ATTRIBUTES);
        assert!(listed(inactive.path(), "1-1".into()).is_none());
        // Unconfigured: sysfs shows an empty value.
        let mut unconfigured_attributes = ATTRIBUTES;
        unconfigured_attributes[0].1 = "\n";
        let unconfigured = sysfs_device(
            &[configuration(1, &[(0, 0, 0xFE, 1)])],
            &unconfigured_attributes,
        );
        assert!(listed(unconfigured.path(), "1-1".into()).is_none());
        // Gone while being read, or descriptors that are not a device's.
        let gone = tempfile::tempdir().unwrap();
        assert!(listed(gone.path(), "1-1".into()).is_none());
        let garbage = tempfile::tempdir().unwrap();
        std::fs::write(garbage.path().join("descriptors"), [9, 2, 0xFF]).unwrap();
        assert!(listed(garbage.path(), "1-1".into()).is_none());
    }
}
