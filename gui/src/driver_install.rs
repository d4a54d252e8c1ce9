//! "Install the WinUSB driver": a board Windows bound another driver to (or none)
//! gets a button that runs dfuse's driver installation (the library's
//! [`dfuse_drivers_win::system`]) on a worker thread, logs what it did, and then
//! refreshes the boards so the board is usable without restarting.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};

use eframe::egui;

use crate::devices::DeviceList;
use crate::log::{Level, Log};

/// What the button says.
pub const BUTTON: &str = "Install the WinUSB driver";
/// What the button will do, shown beside it.
pub const EXPLANATION: &str = "dfuse signs its WinUSB package with a certificate made for this computer alone, adds that certificate to the machine's Trusted Root and Trusted Publisher stores, and binds Windows' own WinUSB driver to this board. Windows will ask for administrator rights (User Account Control) first.";

/// Installs the driver and refreshes the boards afterwards; a fake in tests.
pub trait DriverInstaller: Send + Sync {
    /// Installs it (asking for administrator rights as needed); what was done, or why not.
    fn install(&self) -> Result<Vec<String>, String>;
    /// Reads the boards' drivers again after an installation.
    fn refresh(&self, devices: &mut DeviceList);
}

/// The real installer: on Windows, this program again as administrator with
/// `--install-driver`; elsewhere it says it is Windows-only.
pub struct SystemInstaller;

impl DriverInstaller for SystemInstaller {
    fn install(&self) -> Result<Vec<String>, String> {
        use dfuse_drivers_win::system;
        let result = if system::needs_elevation() {
            system::elevate_and_report(&["--install-driver"])
        } else {
            system::install_fresh()
        };
        result.map_err(|error| error.to_string())
    }

    fn refresh(&self, devices: &mut DeviceList) {
        devices.rescan_usb();
    }
}

/// The button's state: the installation under way, and the last one's outcome.
pub struct DriverPanel {
    /// Who installs (replaced by a fake in tests).
    pub installer: Arc<dyn DriverInstaller>,
    running: Option<Receiver<Result<Vec<String>, String>>>,
    /// The last installation's outcome, shown under the button.
    pub outcome: Option<Result<String, String>>,
}

impl Default for DriverPanel {
    fn default() -> Self {
        DriverPanel {
            installer: Arc::new(SystemInstaller),
            running: None,
            outcome: None,
        }
    }
}

impl DriverPanel {
    /// Whether an installation is under way.
    pub fn busy(&self) -> bool {
        self.running.is_some()
    }

    /// Starts the installation on a worker thread; `ctx` is woken when it ends.
    pub fn start(&mut self, ctx: &egui::Context, log: &mut Log) {
        if self.busy() {
            return;
        }
        log.add(
            Level::Info,
            "Installing the WinUSB driver (Windows asks for administrator rights)...",
        );
        let (send, receive) = channel();
        let installer = Arc::clone(&self.installer);
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let _ = send.send(installer.install());
            ctx.request_repaint();
        });
        self.running = Some(receive);
        self.outcome = None;
    }

    /// Takes in a finished installation: logs it and refreshes the boards.
    pub fn poll(&mut self, devices: &mut DeviceList, log: &mut Log) {
        let Some(result) = self.running.as_ref().and_then(|r| r.try_recv().ok()) else {
            return;
        };
        self.running = None;
        match result {
            Ok(done) => {
                for line in &done {
                    log.add(Level::Info, format!("Driver: {line}"));
                }
                self.installer.refresh(devices);
                self.outcome = Some(Ok(
                    "The WinUSB driver is installed; the board list was read again.".into(),
                ));
            }
            Err(error) => {
                log.add(
                    Level::Error,
                    format!("The WinUSB driver was not installed: {error}"),
                );
                self.outcome = Some(Err(format!(
                    "Not installed: {error}. Zadig (WinUSB) is the fallback; see drivers-win/README.md."
                )));
            }
        }
    }

    /// The button and its explanation under a board with the wrong driver; true when pressed.
    pub fn show_button(&self, ui: &mut egui::Ui) -> bool {
        let pressed = ui
            .add_enabled(!self.busy(), egui::Button::new(BUTTON))
            .on_hover_text(EXPLANATION)
            .clicked();
        ui.label(egui::RichText::new(EXPLANATION).small());
        pressed
    }

    /// The installation under way, or the last one's outcome.
    pub fn show_outcome(&self, ui: &mut egui::Ui) {
        if self.busy() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Installing the WinUSB driver...");
            });
        }
        match &self.outcome {
            Some(Ok(done)) => {
                ui.label(done);
            }
            Some(Err(error)) => {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
            None => {}
        }
    }
}
