//! The one interface the rest of the library talks to a device through.
//!
//! Two implementations: the nusb backend (real USB) and the `dfuse-sim` crate
//! (simulated bootloaders on a virtual clock). Time is part of the trait so
//! that simulated devices never make a test sleep.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::protocol::{FunctionalDescriptor, Request};

/// One alternate setting of the DFU interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AltSetting {
    /// bAlternateSetting.
    pub alt: u8,
    /// Its iInterface string, as the device reports it (a DfuSe memory map).
    pub name: String,
}

/// What identifies a device and its DFU interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// idVendor.
    pub vid: u16,
    /// idProduct.
    pub pid: u16,
    /// bcdDevice.
    pub bcd_device: u16,
    /// Manufacturer string.
    pub manufacturer: Option<String>,
    /// Product string.
    pub product: Option<String>,
    /// Serial number string.
    pub serial: Option<String>,
    /// Where the device is: `sim:<chip>`, or `<bus>-<port.path>` for USB.
    pub location: String,
    /// bInterfaceNumber of the DFU interface.
    pub interface: u8,
    /// The device has more than one interface (Windows then gives each its own `&MI_nn` IDs).
    pub composite: bool,
    /// bInterfaceClass, bInterfaceSubClass and bInterfaceProtocol of the DFU interface.
    pub interface_class: (u8, u8, u8),
    /// The alternate settings, in order.
    pub alt_settings: Vec<AltSetting>,
    /// The DFU functional descriptor, when the device has one.
    pub functional: Option<FunctionalDescriptor>,
}

impl DeviceInfo {
    /// A DfuSe interface (class FE/01/02, interface 0) of `vid`:`pid` at
    /// `location`, with no strings, alternate settings or functional descriptor yet.
    pub fn new(vid: u16, pid: u16, location: &str) -> DeviceInfo {
        DeviceInfo {
            vid,
            pid,
            bcd_device: 0,
            manufacturer: None,
            product: None,
            serial: None,
            location: location.into(),
            interface: 0,
            composite: false,
            interface_class: (0xFE, 0x01, 0x02),
            alt_settings: Vec::new(),
            functional: None,
        }
    }

    /// The same, with the control characters of every string the device gave
    /// (manufacturer, product, serial, alternate-setting names) made visible, so
    /// no front end ever sends a device's escape sequences to a terminal.
    pub fn printable(mut self) -> DeviceInfo {
        for text in [&mut self.manufacturer, &mut self.product, &mut self.serial]
            .into_iter()
            .flatten()
        {
            *text = printable(text);
        }
        for alt in &mut self.alt_settings {
            alt.name = printable(&alt.name);
        }
        self
    }
}

/// `text` with each control character written as its escape (`\u{1b}`).
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// An operating-system or USB-stack error behind a [`TransportError`], kept typed:
/// [`OsError::get`] gives the original (a `nusb::Error` for USB devices).
#[derive(Clone, Debug)]
pub struct OsError(Arc<dyn std::error::Error + Send + Sync>);

impl OsError {
    /// Wraps `error`.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> OsError {
        OsError(Arc::new(error))
    }

    /// The original error.
    pub fn get(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.0.as_ref()
    }
}

impl fmt::Display for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for OsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for OsError {
    /// Equal when they say the same (the originals need not be comparable).
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for OsError {}

/// How a transfer, or opening a device, failed: as the library and the user need to tell apart.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The device answered with a STALL handshake.
    #[error("the device stalled the request")]
    Stall,
    /// No answer within the timeout.
    #[error("the device did not answer within {0:?}")]
    Timeout(Duration),
    /// The device is no longer on the bus.
    #[error("the device is gone (disconnected or reset)")]
    Disconnected,
    /// The operating system refused access (permissions).
    #[error("access to the device was denied ({0})")]
    AccessDenied(OsError),
    /// Another program (or driver) has claimed the interface.
    #[error("the device is busy: another program is using it ({0})")]
    Busy(OsError),
    /// The driver bound to the device is not one dfuse can use (Windows).
    #[error("the {driver} driver bound to the device cannot be used ({source})")]
    WrongDriver {
        /// The bound driver's name.
        driver: String,
        /// What the system said.
        source: OsError,
    },
    /// The device has no active configuration to read descriptors from.
    #[error("the device has no active configuration ({0})")]
    NoConfiguration(OsError),
    /// Any other I/O failure.
    #[error("USB I/O error: {0}")]
    Io(OsError),
}

impl TransportError {
    /// A stable identifier of the kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            TransportError::Stall => "usb-stall",
            TransportError::Timeout(_) => "usb-timeout",
            TransportError::Disconnected => "usb-gone",
            TransportError::AccessDenied(_) => "usb-access-denied",
            TransportError::Busy(_) => "usb-busy",
            TransportError::WrongDriver { .. } => "usb-wrong-driver",
            TransportError::NoConfiguration(_) => "usb-no-configuration",
            TransportError::Io(_) => "usb-io",
        }
    }

    /// What the user can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            TransportError::Stall => {
                "the device refused the request: replug the board and try again"
            }
            TransportError::Timeout(_) => {
                "the device stopped answering: power-cycle the board and try again"
            }
            TransportError::Disconnected => {
                "the device left the bus: check the cable and that nothing reset the board, then try again"
            }
            TransportError::AccessDenied(_) => {
                "you lack permission to use the device: on Linux install dfuse's udev rule (60-dfuse.rules) and replug; on Windows run `dfuse driver install`"
            }
            TransportError::Busy(_) => {
                "another program has the device open (another flasher, a serial monitor, a virtual machine): close it and try again"
            }
            TransportError::WrongDriver { .. } => {
                "bind the WinUSB driver to the board: `dfuse driver install` (as administrator), or Zadig"
            }
            TransportError::NoConfiguration(_) => {
                "the device is not configured by the system yet: replug it and try again"
            }
            TransportError::Io(_) => "replug the board and try again",
        }
    }
}

/// Control transfers to the DFU interface, alternate-setting selection and a clock.
pub trait Transport {
    /// The device's identity and descriptors.
    fn info(&self) -> &DeviceInfo;

    /// Selects an alternate setting of the DFU interface.
    fn select_alt(&mut self, alt: u8) -> Result<(), TransportError>;

    /// A class request with an OUT data stage (possibly empty).
    fn control_out(
        &mut self,
        request: Request,
        value: u16,
        data: &[u8],
        timeout: Duration,
    ) -> Result<(), TransportError>;

    /// A class request with an IN data stage of at most `length` bytes.
    fn control_in(
        &mut self,
        request: Request,
        value: u16,
        length: u16,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError>;

    /// Waits: really for USB, on the virtual clock for simulators.
    fn sleep(&mut self, duration: Duration);

    /// Time elapsed on this transport's clock since it was opened.
    fn now(&self) -> Duration;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_strings_lose_their_escape_sequences_and_keep_everything_else() {
        let hostile = "\u{1b}]0;owned\u{7}\u{1b}[2JSTM32\u{9b}31m BOOT\u{7f}";
        let info = DeviceInfo {
            manufacturer: Some(hostile.into()),
            product: Some(hostile.into()),
            serial: Some(hostile.into()),
            alt_settings: vec![AltSetting {
                alt: 0,
                name: format!("@Internal Flash{hostile}/0x08000000/04*016Kg"),
            }],
            ..DeviceInfo::new(0x0483, 0xDF11, "1-1")
        }
        .printable();
        let strings = [
            info.manufacturer.clone().unwrap(),
            info.product.clone().unwrap(),
            info.serial.clone().unwrap(),
            info.alt_settings[0].name.clone(),
        ];
        for text in &strings {
            assert!(!text.chars().any(char::is_control), "{text:?}");
            assert!(text.contains("\\u{1b}]0;owned"), "{text}");
        }
        assert_eq!(printable("STM32  BOOTLOADER äö"), "STM32  BOOTLOADER äö");
    }
}
