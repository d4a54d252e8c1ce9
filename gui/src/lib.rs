//! dfuse-gui: a window for flashing DfuSe devices, built on the `dfuse` library.
//!
//! The window never waits for a device: jobs run on a worker thread ([`job`])
//! and report back through a channel; USB boards are followed by polling
//! ([`devices`]). Simulated boards (`--sim <chip>`) make every part of it
//! usable and testable without hardware.

pub mod app;
pub mod devices;
pub mod file;
mod hex_view;
pub mod job;
pub mod log;
pub mod memory_view;
mod option_panel;
mod view;
pub mod words;

pub use app::{App, Options, Tab};
