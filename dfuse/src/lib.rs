//! The DfuSe host library.
//!
//! Layers, from the bottom (see ARCHITECTURE.md):
//! - [`memory_map`]: the alternate-setting string grammar (`@Name/0xADDR/NN*SSSut,...`).
//! - [`protocol`]: sans-IO DFU 1.1 and DfuSe request encoding and reply decoding.
//! - [`matching`]: which protocol and quirks a device gets (the device table).
//! - [`flash`]: firmware files planned onto alternate settings, written and verified.
//! - [`output`]: files written whole or not at all.
//! - [`plan`]: what a flash will erase and write, validated before anything moves.
//! - [`profile`]: what a device's matched record means for its settings and memory maps.
//! - [`select`]: choosing one device by location, serial and VID:PID.
//! - [`session`]: operations on a device, with progress events.
//! - [`transport`]: the trait every device is reached through.
//! - [`usb`]: real devices through nusb, behind that trait.
//! - [`sim`]: simulated bootloaders behind that trait, on a virtual clock.
//!
//! Firmware files live in the `dfu-file` crate.

mod error;
pub mod flash;
pub mod matching;
pub mod memory_map;
pub mod output;
pub mod plan;
pub mod profile;
pub mod protocol;
pub mod select;
pub mod session;
pub mod sim;
pub mod transport;
pub mod usb;

pub use error::DeviceError;
