//! Boards and the links to them: what a front end lists, selects and opens.
//!
//! A [`Board`] is a profile plus a way to connect; opening it gives a
//! [`Device`](super::Device). USB boards come from [`boards`]; simulated ones
//! (the `dfuse-sim` crate) plug in through the [`Connect`] and [`Link`] traits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Profile;
use crate::error::DeviceError;
use crate::matching::DeviceTable;
use crate::select::{Selector, select};
use crate::transport::{DeviceInfo, Transport, TransportError};
use crate::usb::{self, Found, UsbTransport};

/// How often [`Link::wait_for_return`] looks for a USB board that reset.
const RETURN_POLL: Duration = Duration::from_millis(100);

/// An open connection to a board: the transport sessions run on, and what a
/// board that resets needs.
pub trait Link: Transport + Send {
    /// Waits until the board, which has just reset, is back at its place, and
    /// returns its identity then; bounded by `timeout`.
    fn wait_for_return(&mut self, timeout: Duration) -> Result<DeviceInfo, DeviceError>;

    /// Called once when the front end is done with the board (a simulated board saves its state).
    fn close(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
}

/// A way to open a link to a board, kept with the board while it is listed.
pub trait Connect: Send + Sync {
    /// Opens the link (claims the interface, for USB).
    fn connect(&self) -> Result<Box<dyn Link>, DeviceError>;
}

/// A board that can be opened: its profile, and how to reach it.
#[derive(Clone)]
pub struct Board {
    /// Identity, matching decision and memory maps.
    pub profile: Profile,
    /// Why its descriptors could not be read, if they could not.
    pub problem: Option<TransportError>,
    /// The driver Windows bound to it (Windows only).
    pub driver: Option<String>,
    connect: Arc<dyn Connect>,
}

impl Board {
    /// A board reached through `connect`, described by `info` and matched against `table`.
    /// Its strings are made printable here ([`DeviceInfo::printable`]).
    pub fn new(info: DeviceInfo, table: &DeviceTable, connect: Arc<dyn Connect>) -> Board {
        Board {
            profile: Profile::new(info.printable(), table),
            problem: None,
            driver: None,
            connect,
        }
    }

    /// A USB board as enumeration found it.
    pub fn usb(found: Found, table: &DeviceTable) -> Board {
        Board {
            profile: Profile::new(found.info.clone(), table),
            problem: found.problem.clone(),
            driver: found.bound_driver(),
            connect: Arc::new(found),
        }
    }

    /// Its identity and descriptors.
    pub fn info(&self) -> &DeviceInfo {
        &self.profile.info
    }

    /// Opens it.
    pub fn open(&self) -> Result<super::Device, DeviceError> {
        let link = self.connect.connect()?;
        Ok(super::Device::new(self.profile.clone(), link))
    }
}

/// Every DfuSe board on USB, matched against `table`.
pub fn boards(table: &DeviceTable) -> Result<Vec<Board>, DeviceError> {
    Ok(usb::list()
        .map_err(|source| DeviceError::Enumerate { source })?
        .into_iter()
        .map(|found| Board::usb(found, table))
        .collect())
}

/// The one board `selector` picks out of `boards`.
pub fn choose(boards: Vec<Board>, selector: &Selector) -> Result<Board, DeviceError> {
    let infos: Vec<DeviceInfo> = boards.iter().map(|b| b.info().clone()).collect();
    let location = select(&infos, selector)?.location.clone();
    boards
        .into_iter()
        .find(|b| b.info().location == location)
        .ok_or(DeviceError::Select(crate::select::SelectError::NoDevice))
}

impl Connect for Found {
    fn connect(&self) -> Result<Box<dyn Link>, DeviceError> {
        let transport = UsbTransport::open(self).map_err(|source| DeviceError::Open {
            location: self.info.location.clone(),
            source,
        })?;
        Ok(Box::new(UsbLink {
            found: self.clone(),
            transport: Some(transport),
        }))
    }
}

/// A USB board: opened at once, and again on first use after it reset.
struct UsbLink {
    found: Found,
    transport: Option<UsbTransport>,
}

impl UsbLink {
    fn transport(&mut self) -> Result<&mut UsbTransport, TransportError> {
        if self.transport.is_none() {
            self.transport = Some(UsbTransport::open(&self.found)?);
        }
        self.transport.as_mut().ok_or(TransportError::Disconnected)
    }
}

impl Transport for UsbLink {
    fn info(&self) -> &DeviceInfo {
        &self.found.info
    }

    fn select_alt(&mut self, alt: u8) -> Result<(), TransportError> {
        self.transport()?.select_alt(alt)
    }

    fn control_out(
        &mut self,
        request: crate::protocol::Request,
        value: u16,
        data: &[u8],
        timeout: Duration,
    ) -> Result<(), TransportError> {
        self.transport()?.control_out(request, value, data, timeout)
    }

    fn control_in(
        &mut self,
        request: crate::protocol::Request,
        value: u16,
        length: u16,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        self.transport()?
            .control_in(request, value, length, timeout)
    }

    fn sleep(&mut self, duration: Duration) {
        // The open transport waits precisely; a board that is away is waited for coarsely.
        match self.transport.as_mut() {
            Some(transport) => transport.sleep(duration),
            None => std::thread::sleep(duration),
        }
    }

    fn now(&self) -> Duration {
        self.transport
            .as_ref()
            .map_or(Duration::ZERO, Transport::now)
    }
}

impl Link for UsbLink {
    /// Polls the bus (hotplug events need udev) until the board has left and is back
    /// at its location, or has a new bus address there.
    fn wait_for_return(&mut self, timeout: Duration) -> Result<DeviceInfo, DeviceError> {
        self.transport = None;
        let location = self.found.info.location.clone();
        let old_address = self.found.device_address();
        let deadline = Instant::now() + timeout;
        let mut gone = false;
        loop {
            let present = usb::list()
                .unwrap_or_default()
                .into_iter()
                .find(|f| f.info.location == location);
            match present {
                None => gone = true,
                Some(found) if gone || found.device_address() != old_address => {
                    self.found = found;
                    return Ok(self.found.info.clone());
                }
                Some(_) => {}
            }
            if Instant::now() >= deadline {
                return Err(DeviceError::NoReturn { location, timeout });
            }
            std::thread::sleep(RETURN_POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::AltSetting;

    struct Unreachable;

    impl Connect for Unreachable {
        fn connect(&self) -> Result<Box<dyn Link>, DeviceError> {
            Err(DeviceError::Unsupported("not connectable".into()))
        }
    }

    #[test]
    fn a_board_shows_no_escape_sequence_its_device_sent() {
        let info = DeviceInfo {
            manufacturer: Some("\u{1b}[2J".into()),
            product: Some("STM32\u{1b}]0;pwned\u{7}".into()),
            serial: Some("\u{9b}1m".into()),
            alt_settings: vec![AltSetting {
                alt: 0,
                name: "@Internal Flash  /0x08000000/04*016Kg\u{1b}[31m".into(),
            }],
            ..DeviceInfo::new(0x0483, 0xDF11, "1-1")
        };
        let table = DeviceTable::load(None).unwrap();
        let board = Board::new(info, &table, Arc::new(Unreachable));
        let info = board.info();
        let shown = [
            info.manufacturer.clone().unwrap_or_default(),
            info.product.clone().unwrap_or_default(),
            info.serial.clone().unwrap_or_default(),
            info.alt_settings[0].name.clone(),
            board.profile.title(),
        ]
        .concat();
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert_eq!(
            board.info().product.as_deref(),
            Some("STM32\\u{1b}]0;pwned\\u{7}")
        );
    }
}
