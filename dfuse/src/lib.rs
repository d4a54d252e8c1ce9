//! The DfuSe host library: flash STM32 and other DfuSe devices over USB DFU.
//!
//! Front ends open a board as a [`Device`] and ask it to plan, flash, read,
//! erase, unprotect and leave; everything below that is here too, in layers
//! (see `docs/ARCHITECTURE.md` in the repository):
//! - [`device`]: the facade: boards, profiles (quirks applied), operations.
//! - [`memory_map`]: the alternate-setting string grammar (`@Name/0xADDR/NN*SSSut,...`) and sector geometry.
//! - [`option_bytes`]: per-family option-byte layouts (data files): decode, change, check.
//! - [`protocol`]: sans-IO DFU 1.1 and DfuSe request encoding and reply decoding.
//! - [`matching`]: which protocol and quirks a device gets (the device table).
//! - [`plan`]: what a flash will erase and write, validated before anything moves.
//! - [`select`]: choosing one device by location, serial and VID:PID.
//! - [`session`]: operations on a transport, with progress events.
//! - [`transport`]: the trait every device is reached through.
//! - [`usb`]: real devices through nusb, behind that trait.
//! - [`output`]: files written whole or not at all.
//!
//! Firmware files live in the `dfu-file` crate; simulated bootloaders in `dfuse-sim`.
//!
//! # Example
//!
//! Open a simulated STM32F407 (a USB board opens the same way, with
//! [`Device::open`]), flash an Intel HEX file and read it back:
//!
//! ```
//! use dfuse::device::{FlashOptions, PlanRequest};
//! use dfuse::matching::DeviceTable;
//! use dfuse_sim::{SimBoard, SimFiles};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let table = DeviceTable::load(None)?;
//! let board = SimBoard::new("stm32f407", SimFiles::default())?.board(&table);
//! let mut device = board.open()?;
//!
//! // Four bytes at 0x08000000, the start of the F407's flash.
//! let hex = ":020000040800F2\n:0400000001020304F2\n:00000001FF\n";
//! let firmware = dfu_file::read(hex.as_bytes(), Some("hex"), &Default::default())?;
//! let plans = device.profile().plan(&firmware, &PlanRequest::default())?;
//! let report = device.flash(&plans, &FlashOptions::default(), &mut |_event| {})?;
//! assert_eq!(report.targets.len(), 1);
//!
//! let bytes = device.read(0, 0x0800_0000, 4, &mut |_event| {})?;
//! assert_eq!(bytes, [1, 2, 3, 4]);
//! device.close()?;
//! # Ok(())
//! # }
//! ```
//!
//! Requests are traced through the [`log`](https://docs.rs/log) crate (target
//! `dfuse::request`, level trace); progress comes as [`session::Event`]s.
#![warn(missing_docs)]

pub mod blocks;
pub mod chip;
pub mod device;
mod error;
pub mod matching;
pub mod memory_map;
pub mod option_bytes;
pub mod output;
pub mod plan;
pub mod protocol;
pub mod select;
pub mod session;
pub mod transport;
pub mod usb;
#[cfg(target_os = "linux")]
mod usbfs;
pub mod wait;

pub use device::{Board, Device};
pub use error::DeviceError;
