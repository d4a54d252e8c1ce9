//! The DfuSe host library: memory maps, the sans-IO protocol, flash plans,
//! sessions, the nusb transport and simulated bootloaders.
//!
//! Empty on purpose until the protocol work lands (see ARCHITECTURE.md for the
//! layers it will hold). Firmware files live in the `dfu-file` crate.
