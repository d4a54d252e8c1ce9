//! dfuse-gui: a window for flashing DfuSe devices, built on the `dfuse` library.
//!
//! The window never waits for a device: jobs run on a worker thread ([`job`])
//! and report back through a channel; USB boards are followed by polling
//! ([`devices`]). Simulated boards (`--sim <chip>`) make every part of it
//! usable and testable without hardware.

pub mod app;
mod choices;
pub mod devices;
pub mod driver_install;
pub mod file;
mod hex_view;
pub mod job;
pub mod log;
pub mod memory_view;
mod option_panel;
mod view;
pub mod words;

pub use app::{App, Options, Tab};

/// The window's icon: a 256-pixel PNG rendered from `gui/assets/icons/dfuse.svg`.
pub const ICON: &[u8] = include_bytes!("../assets/icons/dfuse-256.png");

#[cfg(test)]
mod tests {
    #[test]
    fn the_icon_decodes_as_a_square_image() {
        let icon = eframe::icon_data::from_png_bytes(super::ICON).unwrap();
        assert_eq!((icon.width, icon.height), (256, 256));
        assert_eq!(icon.rgba.len(), 256 * 256 * 4);
    }
}
