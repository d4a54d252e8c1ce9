//! Real USB devices through nusb: enumeration of DFU interfaces and a [`Transport`].

use std::num::NonZeroU8;
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
    let problem = match device.open().wait() {
        Ok(opened) => read_descriptors(&opened, &mut info).err(),
        Err(error) => Some(open_error(error, Some(device))),
    };
    Found {
        // Device strings are untrusted: made printable where they enter the library.
        info: info.printable(),
        problem,
        nusb: device.clone(),
    }
}

/// Fills in the alternate settings and the functional descriptor from the configuration descriptor.
fn read_descriptors(device: &nusb::Device, info: &mut DeviceInfo) -> Result<(), TransportError> {
    let configuration = device
        .active_configuration()
        .map_err(|e| TransportError::NoConfiguration(OsError::new(e)))?;
    // The string language is asked once per device, not once per string.
    let mut language = None;
    for alt in configuration.interface_alt_settings() {
        if alt.interface_number() != info.interface {
            continue;
        }
        let name = match alt.string_index() {
            Some(index) => {
                let language = *language.get_or_insert_with(|| string_language(device));
                read_string(device, index, language).unwrap_or_default()
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
    Ok(())
}

/// The language to read strings in: US English when offered, else the first one offered.
fn string_language(device: &nusb::Device) -> u16 {
    device
        .get_string_descriptor_supported_languages(DESCRIPTOR_TIMEOUT)
        .wait()
        .ok()
        .and_then(|mut languages| {
            let all: Vec<u16> = languages.by_ref().collect();
            all.iter()
                .copied()
                .find(|&l| l == US_ENGLISH)
                .or(all.first().copied())
        })
        .unwrap_or(US_ENGLISH)
}

/// A string descriptor, decoded leniently: a bLength larger than the data is tolerated.
fn read_string(device: &nusb::Device, index: NonZeroU8, language: u16) -> Option<String> {
    let raw = device
        .get_descriptor(3, index.get(), language, DESCRIPTOR_TIMEOUT)
        .wait()
        .ok()?;
    let end = usize::from(*raw.first()?).min(raw.len());
    let units: Vec<u16> = raw
        .get(2..end)?
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some(String::from_utf16_lossy(&units))
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

/// Linux: opens the device file and hands nusb a duplicate of it, keeping the other for
/// [`crate::usbfs`]: both share one open file, so the interface nusb claims is claimed for
/// both.
#[cfg(target_os = "linux")]
fn open_usbfs(
    device: &nusb::DeviceInfo,
) -> Result<(nusb::Device, crate::usbfs::Usbfs), TransportError> {
    let path = format!(
        "/dev/bus/usb/{:03}/{:03}",
        device.busnum(),
        device.device_address()
    );
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::PermissionDenied => TransportError::AccessDenied(OsError::new(
                std::io::Error::new(error.kind(), format!("{path}: {error}")),
            )),
            std::io::ErrorKind::NotFound => TransportError::Disconnected,
            _ => TransportError::Io(OsError::new(error)),
        })?;
    let shared = file
        .try_clone()
        .map_err(|error| TransportError::Io(OsError::new(error)))?;
    let opened = nusb::Device::from_fd(shared.into())
        .wait()
        .map_err(|e| open_error(e, Some(device)))?;
    Ok((opened, crate::usbfs::Usbfs::new(file)))
}

/// An opened USB DFU interface.
pub struct UsbTransport {
    info: DeviceInfo,
    address: u8,
    interface: nusb::Interface,
    start: Instant,
    waiter: crate::wait::Waiter,
    /// Linux: the same open device file, for requests as one blocking call each.
    #[cfg(target_os = "linux")]
    usbfs: crate::usbfs::Usbfs,
}

impl UsbTransport {
    /// Opens a found device and claims its DFU interface.
    pub fn open(found: &Found) -> Result<UsbTransport, TransportError> {
        if let Some(problem) = &found.problem {
            return Err(problem.clone());
        }
        #[cfg(target_os = "linux")]
        let (device, usbfs) = open_usbfs(&found.nusb)?;
        #[cfg(not(target_os = "linux"))]
        let device = found
            .nusb
            .open()
            .wait()
            .map_err(|e| open_error(e, Some(&found.nusb)))?;
        let interface = device
            .detach_and_claim_interface(found.info.interface)
            .wait()
            .map_err(|e| open_error(e, Some(&found.nusb)))?;
        Ok(UsbTransport {
            info: found.info.clone(),
            address: found.device_address(),
            interface,
            start: Instant::now(),
            waiter: Default::default(),
            #[cfg(target_os = "linux")]
            usbfs,
        })
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
        self.interface
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
        self.interface
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
    use super::driver_advice;

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
