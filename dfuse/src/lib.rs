//! The DfuSe host library.
//!
//! Layers, from the bottom (see ARCHITECTURE.md):
//! - [`memory_map`]: the alternate-setting string grammar (`@Name/0xADDR/NN*SSSut,...`).
//! - [`protocol`]: sans-IO DFU 1.1 and DfuSe request encoding and reply decoding.
//!
//! Sessions, the flash planner, the nusb transport and simulated bootloaders
//! are still to come. Firmware files live in the `dfu-file` crate.

pub mod memory_map;
pub mod protocol;
