//! Simulated DfuSe bootloaders behind the same [`Transport`] as real USB.
//!
//! [`SimBoard`] makes one a board the `dfuse` device facade opens like a USB
//! board; the `dfuse-sim` binary serves one as a real USB device (USB/IP).
//!
//! Each chip of [`CHIPS`] has its ROM's descriptors and strings (quirks
//! included), flash that must be erased before it is written, option bytes
//! with read protection, datasheet timing on a virtual clock, a log of every
//! request and injectable [`Fault`]s. Its memory can be saved to and loaded
//! from a state file (a DfuSe file with one target per alternate setting).
#![warn(missing_docs)]

mod board;
pub mod chips;
mod device;
pub mod hostile;
mod memory;

pub use memory::RegionMemory;
pub mod usbip;

use std::time::Duration;

use dfu_file::{DeviceIds, Image, Target};

pub use board::{SimBoard, SimFiles, chip_ids, chip_list, log_line, log_lines};
pub use chips::{CHIPS, Chip, RegionKind};
pub use device::Device;

use dfuse::protocol::{Command, FunctionalDescriptor, Request, StatusReply};
use dfuse::transport::{AltSetting, DeviceInfo, Transport, TransportError};

/// The result of a request to a simulated device.
pub type Outcome<T> = Result<T, TransportError>;

/// A misbehaviour to inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// STALL the `nth` (from 0) occurrence of `request`.
    Stall {
        /// Which request.
        request: Request,
        /// Which occurrence.
        nth: usize,
    },
    /// The `nth` (from 0) DNLOAD ends in dfuERROR with `status`.
    Status {
        /// Which DNLOAD.
        nth_dnload: usize,
        /// The status it fails with.
        status: dfuse::protocol::Status,
    },
    /// Every busy reply claims this poll timeout, whatever the operation really takes.
    LyingPollTimeout {
        /// The claimed milliseconds.
        ms: u32,
    },
    /// The device drops off the bus when request number `nth_request` (from 0, all requests) arrives.
    Disconnect {
        /// Which request.
        nth_request: usize,
    },
    /// Busy operations never finish.
    BusyForever,
    /// A GETSTATUS that arrives before a busy operation ends is STALLed, the state
    /// unchanged (STM32L4 during an erase).
    StallWhenPolledEarly,
    /// A GETSTATUS that arrives before a busy operation ends is answered dfuDNBUSY with the
    /// time left, also on a chip that [answers when done](Chip::answers_when_done).
    BusyWhenPolledEarly,
    /// Every data UPLOAD is STALLed with errVENDOR, as a read-protected ROM that
    /// accepts the set-address does.
    UploadRefused,
    /// Request number `nth_request` (from 0, all requests) gets no answer: the transport times out.
    Timeout {
        /// Which request.
        nth_request: usize,
    },
    /// The `nth_getstatus` (from 0) GETSTATUS is answered with these bytes instead
    /// (short, long, empty, or with an invalid status or state); the state machine moves on as usual.
    GarbledStatus {
        /// Which GETSTATUS.
        nth_getstatus: usize,
        /// The bytes sent back.
        reply: &'static [u8],
    },
    /// Every operation stays busy for this many more polls after its time (1 ms each).
    BusyPolls {
        /// Extra busy replies.
        polls: u32,
    },
    /// The byte at `address` reads back with its lowest bit flipped once written (worn flash).
    FlipBit {
        /// The address.
        address: u32,
    },
    /// The `nth_upload` (from 0) UPLOAD sends only half the bytes asked for.
    ShortUpload {
        /// Which UPLOAD.
        nth_upload: usize,
    },
    /// The `nth_dnload` (from 0) DNLOAD is dropped: the next GETSTATUS says dfuIDLE,
    /// and nothing is written.
    DropDnload {
        /// Which DNLOAD.
        nth_dnload: usize,
    },
}

/// One request as the simulated device saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Virtual time of arrival.
    pub at: Duration,
    /// The request.
    pub request: Request,
    /// wValue (the block number for DNLOAD/UPLOAD).
    pub value: u16,
    /// Bytes sent (OUT) or asked for (IN).
    pub length: usize,
    /// The DfuSe command, for block-0 DNLOADs.
    pub command: Option<Command>,
    /// The GETSTATUS reply, for GETSTATUS.
    pub reply: Option<StatusReply>,
    /// How the request ended.
    pub outcome: Outcome<()>,
    /// How long it waited for a running operation before it was answered.
    pub held: Duration,
}

/// What one control transfer costs on the bus, charged to the virtual clock
/// before the device sees the request.
///
/// The default models a full-speed device: 1 ms per transfer (its setup and
/// status stages, started in the next 1 ms frame) and 800 data bytes per ms
/// (USB 2.0, section 5.5.4: at most 13 control packets of 64 bytes fit a
/// frame; a little under that). See docs/PERFORMANCE.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsbTiming {
    /// Fixed cost of every control transfer.
    pub latency: Duration,
    /// Data bytes moved per millisecond (0: data costs nothing).
    pub bytes_per_ms: u32,
}

impl UsbTiming {
    /// Requests cost no time: only the device's own busy time passes.
    pub const FREE: UsbTiming = UsbTiming {
        latency: Duration::ZERO,
        bytes_per_ms: 0,
    };

    /// The bus time of one control transfer carrying `bytes` of data.
    pub fn cost(&self, bytes: usize) -> Duration {
        let data = match self.bytes_per_ms {
            0 => Duration::ZERO,
            rate => Duration::from_nanos(bytes as u64 * 1_000_000 / u64::from(rate)),
        };
        self.latency + data
    }
}

impl Default for UsbTiming {
    /// Full speed: 1 ms a transfer, 800 bytes a millisecond.
    fn default() -> Self {
        UsbTiming {
            latency: Duration::from_millis(1),
            bytes_per_ms: 800,
        }
    }
}

/// A simulated chip, as a [`Transport`].
#[derive(Debug)]
pub struct SimTransport {
    device: Device,
    info: DeviceInfo,
    real_time: bool,
    usb: UsbTiming,
}

impl SimTransport {
    /// A fresh (erased) simulated `chip`.
    pub fn new(chip: &'static Chip) -> SimTransport {
        SimTransport {
            device: Device::new(chip),
            info: info(chip),
            real_time: false,
            usb: UsbTiming::default(),
        }
    }

    /// What the chip declares (strings, alternate settings, functional
    /// descriptor), to change: the ROM itself keeps its own transfer size and memory.
    pub fn info_mut(&mut self) -> &mut DeviceInfo {
        &mut self.info
    }

    /// Sets what each request costs on the (virtual) bus.
    pub fn set_usb_timing(&mut self, usb: UsbTiming) {
        self.usb = usb;
    }

    /// What each request costs on the bus.
    pub fn usb_timing(&self) -> UsbTiming {
        self.usb
    }

    /// Charges one control transfer of `bytes` to the clock (and to real time in real-time mode).
    fn charge(&mut self, bytes: usize) {
        let cost = self.usb.cost(bytes);
        if self.advance(cost) && !cost.is_zero() {
            std::thread::sleep(cost);
        }
    }

    /// Moves the virtual clock on by `duration`; true when the wait must also take real time.
    pub(crate) fn advance(&mut self, duration: Duration) -> bool {
        self.device.now = self.device.now.saturating_add(duration);
        self.real_time
    }

    /// Makes waits take real time as well as virtual time, so a person watching sees the chip's pace.
    pub fn set_real_time(&mut self, real_time: bool) {
        self.real_time = real_time;
    }

    /// The simulated chip with this id (`stm32f407`, ...).
    pub fn open(id: &str) -> Option<SimTransport> {
        chips::find(id).map(SimTransport::new)
    }

    /// The device, for inspection.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The device, to set its state or inject faults.
    pub fn device_mut(&mut self) -> &mut Device {
        &mut self.device
    }

    /// Every request so far.
    pub fn log(&self) -> &[LogEntry] {
        &self.device.log
    }

    /// Adds a fault.
    pub fn inject(&mut self, fault: Fault) {
        self.device.inject(fault);
    }

    /// True while the device is on the bus.
    pub fn connected(&self) -> bool {
        self.device.connected
    }

    /// Plugs the device back in after it reset.
    pub fn reconnect(&mut self) {
        self.device.reconnect();
    }

    /// The memory of every alternate setting, as a DfuSe file.
    pub fn save_state(&self) -> Vec<u8> {
        self.device.save_state()
    }

    /// Restores memory saved by [`SimTransport::save_state`] for the same chip.
    pub fn load_state(&mut self, file: &[u8]) -> Result<(), String> {
        self.device.load_state(file)
    }
}

impl Device {
    /// The memory of every alternate setting, as a DfuSe file.
    pub fn save_state(&self) -> Vec<u8> {
        let chip = self.chip;
        let targets: Vec<Target> = self
            .regions
            .iter()
            .enumerate()
            .map(|(alt, region)| {
                let pieces = region
                    .map
                    .segments
                    .iter()
                    .zip(&region.data)
                    .map(|(segment, data)| (segment.address, data.clone()));
                let image = Image::from_pieces(pieces).unwrap_or_default();
                Target::from_image(
                    alt as u8,
                    Some(format!("{} {}", chip.id, region.map.name)),
                    image,
                )
            })
            .collect();
        let ids = DeviceIds {
            vid: chip.vid,
            pid: chip.pid,
            bcd_device: chip.bcd_device,
        };
        // Region sizes are far below the format's limits.
        dfu_file::dfuse::write(&targets, ids).unwrap_or_default()
    }

    /// Restores memory saved by [`Device::save_state`] for the same chip.
    pub fn load_state(&mut self, file: &[u8]) -> Result<(), String> {
        let chip = self.chip;
        let firmware = dfu_file::dfuse::read(file, false).map_err(|e| e.to_string())?;
        for target in &firmware.targets {
            let owner = target
                .name
                .as_deref()
                .and_then(|n| n.split(' ').next())
                .unwrap_or("");
            if owner != chip.id {
                return Err(format!("it holds the memory of {owner:?}, not {}", chip.id));
            }
            let Some(region) = self.regions.get_mut(usize::from(target.alt)) else {
                return Err(format!(
                    "{} has no alternate setting {}",
                    chip.id, target.alt
                ));
            };
            for segment in target.image.segments() {
                for (i, &byte) in segment.data().iter().enumerate() {
                    region.set_byte(segment.address().wrapping_add(i as u32), byte);
                }
            }
        }
        Ok(())
    }
}

fn info(chip: &Chip) -> DeviceInfo {
    DeviceInfo {
        vid: chip.vid,
        pid: chip.pid,
        bcd_device: chip.bcd_device,
        manufacturer: Some(chip.manufacturer.into()),
        product: Some(chip.product.into()),
        serial: Some(chip.serial.into()),
        location: format!("sim:{}", chip.id),
        interface: 0,
        composite: false,
        interface_class: (0xFE, 0x01, 0x02),
        alt_settings: chip
            .regions
            .iter()
            .enumerate()
            .map(|(alt, region)| AltSetting {
                alt: alt as u8,
                name: region.string.into(),
            })
            .collect(),
        functional: Some(FunctionalDescriptor {
            attributes: 0x0B,
            detach_timeout_ms: 255,
            transfer_size: chip.transfer_size,
            dfu_version: 0x011A,
        }),
    }
}

impl Transport for SimTransport {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn select_alt(&mut self, alt: u8) -> Result<(), TransportError> {
        self.device.select_alt(alt)
    }

    fn control_out(
        &mut self,
        request: Request,
        value: u16,
        data: &[u8],
        _timeout: Duration,
    ) -> Result<(), TransportError> {
        self.charge(data.len());
        self.device.request(request, value, data, 0).map(|_| ())
    }

    fn control_in(
        &mut self,
        request: Request,
        value: u16,
        length: u16,
        _timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        self.charge(usize::from(length));
        let answer = self.device.request(request, value, &[], length);
        let held = self.device.held();
        if self.real_time && !held.is_zero() {
            std::thread::sleep(held);
        }
        answer
    }

    fn sleep(&mut self, duration: Duration) {
        if self.advance(duration) {
            std::thread::sleep(duration);
        }
    }

    fn now(&self) -> Duration {
        self.device.now
    }
}

#[cfg(test)]
mod tests;
