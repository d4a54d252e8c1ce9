//! The one interface the rest of the library talks to a device through.
//!
//! Two implementations: the nusb backend (real USB) and [`crate::sim`]
//! (simulated bootloaders on a virtual clock). Time is part of the trait so
//! that simulated devices never make a test sleep.

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
    /// The DFU functional descriptor.
    pub functional: FunctionalDescriptor,
}

/// How a transfer failed, as the rest of the library needs to tell apart.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
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
    /// The operating system refused access.
    #[error("access to the device was denied: {0}")]
    AccessDenied(String),
    /// Any other I/O failure.
    #[error("USB I/O error: {0}")]
    Io(String),
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
