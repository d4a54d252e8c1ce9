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
#[cfg(target_os = "linux")]
use linux::{open_device_file, read_descriptors};

/// A DFU device found on the bus, with what could be read without claiming it.
#[derive(Clone, Debug)]
pub struct Found {
    /// Identity, location and alternate settings (empty when the device could not be opened).
    pub info: DeviceInfo,
    /// Why the alternate settings could not be read, if they could not.
    pub problem: Option<TransportError>,
    nusb: nusb::DeviceInfo,
}

impl Found {
    /// The driver Windows has bound to the device (`None` elsewhere).
    pub fn bound_driver(&self) -> Option<String> {
        #[cfg(target_os = "windows")]
        return Some(bound_driver(&self.nusb));
        #[cfg(not(target_os = "windows"))]
        None
    }

    /// The address the bus gave the device: a new one after every re-enumeration.
    pub fn device_address(&self) -> u8 {
        self.nusb.device_address()
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

/// `<bus>-<port.path>`, as Linux and dfu-util write it (e.g. `1-2.3`).
fn location(device: &nusb::DeviceInfo) -> String {
    let ports: Vec<String> = device.port_chain().iter().map(u8::to_string).collect();
    let bus = device.bus_id().trim_start_matches('0');
    format!(
        "{}-{}",
        if bus.is_empty() { "0" } else { bus },
        ports.join(".")
    )
}

/// Every device with a DFU interface, each opened to read its alternate settings.
pub fn list() -> Result<Vec<Found>, TransportError> {
    Ok(dfu_devices()?.iter().map(describe).collect())
}

/// The devices with a DFU interface, by location, as the operating system lists them: no
/// request reaches a device.
fn dfu_devices() -> Result<Vec<nusb::DeviceInfo>, TransportError> {
    // A Linux kernel without USB support has no /sys/bus/usb: there are no devices, not an error.
    if cfg!(target_os = "linux") && !std::path::Path::new("/sys/bus/usb").exists() {
        return Ok(Vec::new());
    }
    let devices = nusb::list_devices()
        .wait()
        .map_err(|e| open_error(e, None))?;
    let mut dfu: Vec<nusb::DeviceInfo> = devices
        .filter(|d| {
            d.interfaces()
                .any(|i| (i.class(), i.subclass()) == DFU_CLASS)
        })
        .collect();
    dfu.sort_by_cached_key(location);
    Ok(dfu)
}

fn describe(device: &nusb::DeviceInfo) -> Found {
    let (interface, interface_class) = device
        .interfaces()
        .find(|i| (i.class(), i.subclass()) == DFU_CLASS)
        .map_or((0, (0xFE, 0x01, 0x02)), |i| {
            (
                i.interface_number(),
                (i.class(), i.subclass(), i.protocol()),
            )
        });
    let mut info = DeviceInfo {
        vid: device.vendor_id(),
        pid: device.product_id(),
        bcd_device: device.device_version(),
        manufacturer: device.manufacturer_string().map(str::to_owned),
        product: device.product_string().map(str::to_owned),
        serial: device.serial_number().map(str::to_owned),
        location: location(device),
        interface,
        composite: device.interfaces().count() > 1,
        interface_class,
        alt_settings: Vec::new(),
        functional: None,
    };
    let problem = read_descriptors(device, &mut info).err();
    Found {
        // Device strings are untrusted: made printable where they enter the library.
        info: info.printable(),
        problem,
        nusb: device.clone(),
    }
}

/// Opens `device` and reads its alternate settings' names and functional descriptor.
#[cfg(not(target_os = "linux"))]
fn read_descriptors(
    device: &nusb::DeviceInfo,
    info: &mut DeviceInfo,
) -> Result<(), TransportError> {
    let opened = device
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
fn open_error(error: nusb::Error, device: Option<&nusb::DeviceInfo>) -> TransportError {
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
fn bound_driver(device: &nusb::DeviceInfo) -> String {
    device.driver().unwrap_or("none").to_string()
}

/// Only Windows tells which driver is bound.
#[cfg(not(target_os = "windows"))]
fn bound_driver(_device: &nusb::DeviceInfo) -> String {
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
            let usbfs = crate::usbfs::Usbfs::new(open_device_file(&found.nusb)?);
            usbfs.claim(found.info.interface)?;
            (usbfs, None)
        };
        #[cfg(not(target_os = "linux"))]
        let interface = found
            .nusb
            .open()
            .wait()
            .map_err(|e| open_error(e, Some(&found.nusb)))?
            .detach_and_claim_interface(found.info.interface)
            .wait()
            .map_err(|e| open_error(e, Some(&found.nusb)))?;
        Ok(UsbTransport {
            info: found.info.clone(),
            address: found.device_address(),
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

/// A board arriving or leaving.
#[derive(Clone, Debug)]
pub enum Change {
    /// A DFU device appeared (or re-enumerated).
    Arrived(Box<Found>),
    /// The DFU device at this location went away.
    Left(DeviceInfo),
}

/// Follows DFU devices arriving and leaving by polling the device list.
///
/// Polling works everywhere, with or without udev, and cannot take the process
/// down (nusb's native watch aborts under Wine); a failed enumeration is simply
/// tried again at the next poll. A poll asks the operating system only: a device
/// is opened (its strings read) once, when it arrives. So boards see no requests
/// while they are watched, and a poll stays short even when a device goes away
/// in the middle of it (a long poll could miss a board that leaves and comes back).
/// A new device that refuses to be opened (permissions) is asked again at each poll and
/// reported, with that error, only once it has refused for [`PERMISSION_GRACE`].
pub struct Watcher {
    known: Vec<(Key, Known)>,
    /// Devices not reported yet because they refused to be opened, with when that began.
    refusing: Vec<(Key, Instant)>,
}

/// How long a device that has just appeared may refuse to be opened before it is reported
/// with that error: on Linux, udev grants access to a new device node a moment after the
/// kernel creates it, and a poll can fall in between.
pub const PERMISSION_GRACE: Duration = Duration::from_secs(2);

/// A device's location and bus address: the address changes at every re-enumeration.
type Key = (String, u8);

/// What a watcher keeps of a device: what it read when the device arrived, or why it could not.
type Known = (DeviceInfo, Option<TransportError>);

fn key(device: &nusb::DeviceInfo) -> Key {
    (location(device), device.device_address())
}

impl Watcher {
    /// A watcher that considers the devices present now as known (reported by [`Watcher::present`]).
    pub fn new() -> Watcher {
        let known = dfu_devices()
            .unwrap_or_default()
            .iter()
            .map(|d| {
                let found = describe(d);
                (key(d), (found.info, found.problem))
            })
            .collect();
        Watcher {
            known,
            refusing: Vec::new(),
        }
    }

    /// A watcher that knows no device yet: its first poll reports every device present as arrived.
    pub fn empty() -> Watcher {
        Watcher {
            known: Vec::new(),
            refusing: Vec::new(),
        }
    }

    /// The devices known now, each with why its alternate settings could not be read, if so.
    pub fn present(&self) -> impl Iterator<Item = (&DeviceInfo, Option<&TransportError>)> {
        self.known
            .iter()
            .map(|(_, (info, problem))| (info, problem.as_ref()))
    }

    /// What changed since the last poll (a re-enumerated device leaves and arrives).
    pub fn poll(&mut self) -> Vec<Change> {
        let Ok(now) = dfu_devices() else {
            return Vec::new();
        };
        let now: Vec<(Key, nusb::DeviceInfo)> = now.into_iter().map(|d| (key(&d), d)).collect();
        let (stayed, gone): (Vec<_>, Vec<_>) = std::mem::take(&mut self.known)
            .into_iter()
            .partition(|(known, _)| now.iter().any(|(k, _)| k == known));
        self.known = stayed; // the arrivals are added below
        let mut changes: Vec<Change> = gone
            .into_iter()
            .map(|(_, (info, _))| Change::Left(info))
            .collect();
        let mut refusing = Vec::new();
        for (k, device) in now {
            if self.known.iter().any(|(known, _)| *known == k) {
                continue;
            }
            let found = describe(&device);
            if matches!(found.problem, Some(TransportError::AccessDenied(_))) {
                let since = self
                    .refusing
                    .iter()
                    .find(|(r, _)| *r == k)
                    .map_or_else(Instant::now, |(_, since)| *since);
                if since.elapsed() < PERMISSION_GRACE {
                    refusing.push((k, since)); // asked again at the next poll
                    continue;
                }
            }
            self.known
                .push((k, (found.info.clone(), found.problem.clone())));
            changes.push(Change::Arrived(Box::new(found)));
        }
        self.refusing = refusing;
        changes
    }
}

impl Default for Watcher {
    fn default() -> Self {
        Watcher::new()
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
