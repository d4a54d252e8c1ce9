//! Real USB devices through nusb: enumeration of DFU interfaces and a [`Transport`].

use std::time::{Duration, Instant};

use nusb::MaybeFuture;
use nusb::transfer::{ControlIn, ControlOut, ControlType, Recipient, TransferError};

use crate::protocol::{FUNCTIONAL_DESCRIPTOR_TYPE, FunctionalDescriptor, Request};
use crate::transport::{AltSetting, DeviceInfo, OsError, Transport, TransportError};

/// Interface class, subclass of DFU (any protocol: some DfuSe devices report 0).
const DFU_CLASS: (u8, u8) = (0xFE, 0x01);
/// US English, the language every DfuSe ROM offers.
const US_ENGLISH: u16 = 0x0409;
const DESCRIPTOR_TIMEOUT: Duration = Duration::from_secs(1);
/// bDescriptorType of a string descriptor (USB 2.0 table 9-5).
const STRING_DESCRIPTOR: u8 = 3;

#[cfg(target_os = "linux")]
mod linux;
mod watch;
#[cfg(target_os = "linux")]
use linux::{open_device_file, read_descriptors};
pub use watch::{Change, PERMISSION_GRACE, Watcher};

/// A DFU device found on the bus, with what could be read without claiming it.
#[derive(Clone, Debug)]
pub struct Found {
    /// Identity, location and alternate settings (empty when the device could not be opened).
    pub info: DeviceInfo,
    /// Why the alternate settings could not be read, if they could not.
    pub problem: Option<TransportError>,
    handle: Handle,
}

impl Found {
    /// The driver Windows has bound to the device (`None` elsewhere).
    pub fn bound_driver(&self) -> Option<String> {
        #[cfg(target_os = "windows")]
        return Some(bound_driver(&self.handle));
        #[cfg(not(target_os = "windows"))]
        None
    }

    /// The address the bus gave the device: a new one after every re-enumeration.
    pub fn device_address(&self) -> u8 {
        self.handle.address
    }
}

/// What to do when Windows has bound `driver` to a DfuSe device; `None` when nusb can use it (WinUSB).
pub fn driver_advice(driver: &str) -> Option<String> {
    (!driver.eq_ignore_ascii_case("winusb")).then(|| {
        format!(
            "Windows has the {driver} driver bound to this board, and dfuse needs WinUSB: run `dfuse driver install` (or press \"Install the WinUSB driver\" in dfuse-gui), or use Zadig to install WinUSB for it"
        )
    })
}

/// A device with a DFU interface as the operating system lists it: nothing is asked of the
/// device itself.
#[derive(Clone, Debug)]
struct Listed {
    /// Its identity, location and DFU interface; no alternate settings yet.
    info: DeviceInfo,
    /// How to reach it.
    handle: Handle,
}

/// What it takes to reach a listed device again.
#[derive(Clone, Debug)]
struct Handle {
    /// The address the bus gave it.
    address: u8,
    /// Linux: its bus and active configuration, from sysfs.
    #[cfg(target_os = "linux")]
    os: linux::Node,
    /// Elsewhere: nusb's record of it, to open it with.
    #[cfg(not(target_os = "linux"))]
    os: nusb::DeviceInfo,
}

/// Every device with a DFU interface, each opened to read its alternate settings.
pub fn list() -> Result<Vec<Found>, TransportError> {
    Ok(dfu_devices()?.into_iter().map(describe).collect())
}

/// The devices with a DFU interface, by location, as the operating system lists them: no
/// request reaches a device.
fn dfu_devices() -> Result<Vec<Listed>, TransportError> {
    #[cfg(target_os = "linux")]
    let mut dfu = linux::dfu_devices().map_err(|error| TransportError::Io(OsError::new(error)))?;
    #[cfg(not(target_os = "linux"))]
    let mut dfu: Vec<Listed> = nusb::list_devices()
        .wait()
        .map_err(|e| open_error(e, None))?
        .filter_map(listed)
        .collect();
    dfu.sort_by(|a, b| a.info.location.cmp(&b.info.location));
    Ok(dfu)
}

/// A device nusb lists, if it has a DFU interface.
#[cfg(not(target_os = "linux"))]
fn listed(device: nusb::DeviceInfo) -> Option<Listed> {
    let dfu = device
        .interfaces()
        .find(|i| (i.class(), i.subclass()) == DFU_CLASS)?;
    let ports: Vec<String> = device.port_chain().iter().map(u8::to_string).collect();
    let bus = device.bus_id().trim_start_matches('0');
    let info = DeviceInfo {
        vid: device.vendor_id(),
        pid: device.product_id(),
        bcd_device: device.device_version(),
        manufacturer: device.manufacturer_string().map(str::to_owned),
        product: device.product_string().map(str::to_owned),
        serial: device.serial_number().map(str::to_owned),
        location: format!(
            "{}-{}",
            if bus.is_empty() { "0" } else { bus },
            ports.join(".")
        ),
        interface: dfu.interface_number(),
        composite: device.interfaces().count() > 1,
        interface_class: (dfu.class(), dfu.subclass(), dfu.protocol()),
        alt_settings: Vec::new(),
        functional: None,
    };
    Some(Listed {
        info,
        handle: Handle {
            address: device.device_address(),
            os: device,
        },
    })
}

/// A listed device with its alternate settings read (or why they could not be).
fn describe(Listed { mut info, handle }: Listed) -> Found {
    let problem = read_descriptors(&handle, &mut info).err();
    Found {
        // Device strings are untrusted: made printable where they enter the library.
        info: info.printable(),
        problem,
        handle,
    }
}

/// Opens `device` and reads its alternate settings' names and functional descriptor.
#[cfg(not(target_os = "linux"))]
fn read_descriptors(device: &Handle, info: &mut DeviceInfo) -> Result<(), TransportError> {
    let opened = device
        .os
        .open()
        .wait()
        .map_err(|error| open_error(error, Some(device)))?;
    let configuration = opened
        .active_configuration()
        .map_err(|e| TransportError::NoConfiguration(OsError::new(e)))?;
    fill_alt_settings(&configuration, info, |index, language| {
        opened
            .get_descriptor(STRING_DESCRIPTOR, index, language, DESCRIPTOR_TIMEOUT)
            .wait()
            .ok()
    });
    Ok(())
}

/// Fills in the alternate settings of the DFU interface, each named by its string, and the
/// functional descriptor. `raw_string(index, language)` reads a string descriptor.
fn fill_alt_settings(
    configuration: &nusb::descriptors::ConfigurationDescriptor,
    info: &mut DeviceInfo,
    mut raw_string: impl FnMut(u8, u16) -> Option<Vec<u8>>,
) {
    // The string language is asked once per device, not once per string.
    let mut language = None;
    for alt in configuration.interface_alt_settings() {
        if alt.interface_number() != info.interface {
            continue;
        }
        let name = match alt.string_index() {
            Some(index) => {
                let language =
                    *language.get_or_insert_with(|| string_language(raw_string(0, 0).as_deref()));
                raw_string(index.get(), language)
                    .as_deref()
                    .and_then(decode_string)
                    .unwrap_or_default()
            }
            None => String::new(),
        };
        info.alt_settings.push(AltSetting {
            alt: alt.alternate_setting(),
            name,
        });
        for descriptor in alt.descriptors() {
            if descriptor.descriptor_type() == FUNCTIONAL_DESCRIPTOR_TYPE
                && let Some(functional) = FunctionalDescriptor::decode(descriptor.as_bytes())
            {
                info.functional = Some(functional);
            }
        }
    }
}

/// The language to read strings in, from string descriptor 0 (its language IDs): US English
/// when offered, else the first one offered; US English when the device offers none.
fn string_language(languages: Option<&[u8]>) -> u16 {
    let offered = languages.and_then(utf16_units).unwrap_or_default();
    offered
        .iter()
        .copied()
        .find(|&l| l == US_ENGLISH)
        .or(offered.first().copied())
        .unwrap_or(US_ENGLISH)
}

/// A string descriptor's text, decoded leniently: a bLength larger than the data is tolerated.
fn decode_string(raw: &[u8]) -> Option<String> {
    utf16_units(raw).map(|units| String::from_utf16_lossy(&units))
}

/// The 16-bit units after a string descriptor's two-byte header, up to its bLength.
fn utf16_units(raw: &[u8]) -> Option<Vec<u16>> {
    let end = usize::from(*raw.first()?).min(raw.len());
    Some(
        raw.get(2..end)?
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect(),
    )
}

/// An error opening or claiming a device, classified by its cause.
fn open_error(error: nusb::Error, device: Option<&Handle>) -> TransportError {
    match error.kind() {
        nusb::ErrorKind::PermissionDenied => TransportError::AccessDenied(OsError::new(error)),
        nusb::ErrorKind::Disconnected => TransportError::Disconnected,
        nusb::ErrorKind::Busy => TransportError::Busy(OsError::new(error)),
        nusb::ErrorKind::Unsupported => TransportError::WrongDriver {
            driver: device.map_or_else(|| "unknown".into(), bound_driver),
            source: OsError::new(error),
        },
        _ => TransportError::Io(OsError::new(error)),
    }
}

/// The name of the driver Windows bound to the device.
#[cfg(target_os = "windows")]
fn bound_driver(device: &Handle) -> String {
    device.os.driver().unwrap_or("none").to_string()
}

/// Only Windows tells which driver is bound.
#[cfg(not(target_os = "windows"))]
fn bound_driver(_device: &Handle) -> String {
    "unknown".to_string()
}

fn transfer_error(error: TransferError, timeout: Duration) -> TransportError {
    match error {
        TransferError::Stall => TransportError::Stall,
        TransferError::Disconnected => TransportError::Disconnected,
        TransferError::Cancelled => TransportError::Timeout(timeout),
        other => TransportError::Io(OsError::new(other)),
    }
}

/// An opened USB DFU interface.
pub struct UsbTransport {
    info: DeviceInfo,
    address: u8,
    start: Instant,
    waiter: crate::wait::Waiter,
    /// Linux: the device file, the interface claimed through it; each request one blocking call.
    #[cfg(target_os = "linux")]
    usbfs: crate::usbfs::Usbfs,
    /// Linux: nusb on the same open file, opened for the first transfer over a page only.
    #[cfg(target_os = "linux")]
    interface: Option<nusb::Interface>,
    /// Elsewhere: the claimed interface, through nusb.
    #[cfg(not(target_os = "linux"))]
    interface: nusb::Interface,
}

impl UsbTransport {
    /// Opens a found device and claims its DFU interface.
    pub fn open(found: &Found) -> Result<UsbTransport, TransportError> {
        if let Some(problem) = &found.problem {
            return Err(problem.clone());
        }
        #[cfg(target_os = "linux")]
        let (usbfs, interface) = {
            let usbfs = crate::usbfs::Usbfs::new(open_device_file(&found.handle)?);
            usbfs.claim(found.info.interface)?;
            (usbfs, None)
        };
        #[cfg(not(target_os = "linux"))]
        let interface = found
            .handle
            .os
            .open()
            .wait()
            .map_err(|e| open_error(e, Some(&found.handle)))?
            .detach_and_claim_interface(found.info.interface)
            .wait()
            .map_err(|e| open_error(e, Some(&found.handle)))?;
        Ok(UsbTransport {
            info: found.info.clone(),
            address: found.handle.address,
            start: Instant::now(),
            waiter: Default::default(),
            #[cfg(target_os = "linux")]
            usbfs,
            interface,
        })
    }

    /// The interface through nusb, for a transfer usbfs's one-call request refuses (over a
    /// page). Linux: opened on the same file, whose claim it shares (claiming it again
    /// through that file succeeds at once).
    fn nusb_interface(&mut self) -> Result<&nusb::Interface, TransportError> {
        #[cfg(target_os = "linux")]
        {
            let interface = match self.interface.take() {
                Some(interface) => interface,
                None => {
                    let shared = self
                        .usbfs
                        .share()
                        .map_err(|error| TransportError::Io(OsError::new(error)))?;
                    nusb::Device::from_fd(shared.into())
                        .wait()
                        .and_then(|device| device.claim_interface(self.info.interface).wait())
                        .map_err(|e| open_error(e, None))?
                }
            };
            Ok(self.interface.insert(interface))
        }
        #[cfg(not(target_os = "linux"))]
        Ok(&self.interface)
    }

    /// The setup packet of a DFU class request to the interface.
    #[cfg(target_os = "linux")]
    fn setup(&self, direction_in: bool, request: Request, value: u16) -> crate::usbfs::Setup {
        crate::usbfs::Setup {
            // Class request to an interface (USB 2.0 table 9-2), IN or OUT.
            request_type: if direction_in { 0xA1 } else { 0x21 },
            request: request as u8,
            value,
            index: u16::from(self.info.interface),
        }
    }

    /// The bus address the device had when it was opened.
    pub fn device_address(&self) -> u8 {
        self.address
    }
}

impl Transport for UsbTransport {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn select_alt(&mut self, alt: u8) -> Result<(), TransportError> {
        #[cfg(target_os = "linux")]
        return self.usbfs.set_alt(self.info.interface, alt);
        #[cfg(not(target_os = "linux"))]
        self.interface
            .set_alt_setting(alt)
            .wait()
            .map_err(|e| open_error(e, None))
    }

    fn control_out(
        &mut self,
        request: Request,
        value: u16,
        data: &[u8],
        timeout: Duration,
    ) -> Result<(), TransportError> {
        #[cfg(target_os = "linux")]
        if data.len() <= crate::usbfs::MAX_LENGTH {
            let setup = self.setup(false, request, value);
            return self.usbfs.control_out(setup, data, timeout);
        }
        let transfer = ControlOut {
            control_type: ControlType::Class,
            recipient: Recipient::Interface,
            request: request as u8,
            value,
            index: u16::from(self.info.interface),
            data,
        };
        self.nusb_interface()?
            .control_out(transfer, timeout)
            .wait()
            .map_err(|e| transfer_error(e, timeout))
    }

    fn control_in(
        &mut self,
        request: Request,
        value: u16,
        length: u16,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        #[cfg(target_os = "linux")]
        if usize::from(length) <= crate::usbfs::MAX_LENGTH {
            let setup = self.setup(true, request, value);
            return self.usbfs.control_in(setup, length, timeout);
        }
        let transfer = ControlIn {
            control_type: ControlType::Class,
            recipient: Recipient::Interface,
            request: request as u8,
            value,
            index: u16::from(self.info.interface),
            length,
        };
        self.nusb_interface()?
            .control_in(transfer, timeout)
            .wait()
            .map_err(|e| transfer_error(e, timeout))
    }

    /// Waits as long as asked, not noticeably longer (a poll timeout is a minimum).
    fn sleep(&mut self, duration: Duration) {
        self.waiter.wait(duration);
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

/// Linux: the interface is released, and its kernel driver (if it has one) bound again,
/// as nusb does when its interface is dropped.
#[cfg(target_os = "linux")]
impl Drop for UsbTransport {
    fn drop(&mut self) {
        self.usbfs.release(self.info.interface);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_us_english_when_offered_else_the_first() {
        assert_eq!(string_language(Some(&[4, 3, 0x09, 0x04])), 0x0409);
        assert_eq!(
            string_language(Some(&[6, 3, 0x07, 0x04, 0x09, 0x04])),
            0x0409
        );
        assert_eq!(string_language(Some(&[4, 3, 0x07, 0x04])), 0x0407);
        // None offered, no answer, or a truncated one: US English, which every DfuSe ROM has.
        assert_eq!(string_language(Some(&[2, 3])), 0x0409);
        assert_eq!(string_language(Some(&[])), 0x0409);
        assert_eq!(string_language(None), 0x0409);
    }

    #[test]
    fn strings_decode_leniently() {
        let text = [10, 3, b'@', 0, b'F', 0, b'l', 0, b'a', 0];
        assert_eq!(decode_string(&text).as_deref(), Some("@Fla"));
        // A bLength past the data, and an odd byte at the end, are tolerated.
        assert_eq!(
            decode_string(&[200, 3, b'A', 0, b'B']).as_deref(),
            Some("A")
        );
        assert_eq!(decode_string(&[1]), None);
        assert_eq!(decode_string(&[]), None);
    }

    #[test]
    fn only_winusb_needs_no_advice() {
        assert_eq!(driver_advice("WinUSB"), None);
        let advice = driver_advice("STTub30").unwrap();
        assert!(advice.contains("STTub30 driver bound"), "{advice}");
        assert!(
            advice.contains("dfuse driver install") && advice.contains("Zadig"),
            "{advice}"
        );
    }
}
