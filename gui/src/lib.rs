//! The `dfuse-gui` desktop application (eframe / egui).
//!
//! Empty on purpose until the GUI work lands; it will only render what the
//! `dfuse` library reports.
