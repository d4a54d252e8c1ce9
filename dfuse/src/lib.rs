//! The DfuSe host library.
//!
//! Layers, from the bottom (see ARCHITECTURE.md):
//! - [`memory_map`]: the alternate-setting string grammar (`@Name/0xADDR/NN*SSSut,...`).
//! - [`protocol`]: sans-IO DFU 1.1 and DfuSe request encoding and reply decoding.
//! - [`transport`]: the trait every device is reached through.
//! - [`sim`]: simulated bootloaders behind that trait, on a virtual clock.
//!
//! Sessions, the flash planner, the nusb transport and simulated bootloaders
//! are still to come. Firmware files live in the `dfu-file` crate.

pub mod memory_map;
pub mod protocol;
pub mod sim;
pub mod transport;
