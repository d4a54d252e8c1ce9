//! Work on a board, run on a worker thread so the window never waits for the device.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use dfu_file::dump::DumpFormat;
use dfu_file::{DeviceIds, Image};
use dfuse::DeviceError;
use dfuse::flash::{Flashed, TargetPlan, write_target};
use dfuse::plan::Sector;
use dfuse::session::{Event, Phase, Session, Settings};
use dfuse::transport::{DeviceInfo, Transport};
use dfuse::usb::UsbTransport;

use crate::devices::{Backend, Board};

/// What to do.
#[derive(Clone, Debug)]
pub enum Action {
    /// Write firmware targets, each verified when `verify`, then start it when `leave`.
    Flash {
        /// The planned targets.
        targets: Vec<TargetPlan>,
        /// Read back and compare.
        verify: bool,
        /// Leave DFU mode afterwards, starting the firmware at this address.
        leave: Option<u32>,
    },
    /// Read `length` bytes at `address` of alternate setting `alt` into `path`.
    Read {
        /// Alternate setting.
        alt: u8,
        /// First address.
        address: u32,
        /// Bytes.
        length: u64,
        /// The file (its extension picks the format).
        path: PathBuf,
    },
    /// Erase these sectors of alternate setting `alt`, or everything (mass erase) when empty.
    Erase {
        /// Alternate setting.
        alt: u8,
        /// The sectors; none means a mass erase.
        sectors: Vec<Sector>,
    },
    /// Remove read protection (the chip erases itself and resets).
    Unprotect,
    /// Leave DFU mode, starting the firmware at this address.
    Leave(u32),
}

impl Action {
    /// What the action is called in the status line.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Flash { .. } => "Flash",
            Action::Read { .. } => "Read",
            Action::Erase { .. } => "Erase",
            Action::Unprotect => "Read-unprotect",
            Action::Leave(_) => "Leave",
        }
    }
}

/// What the worker reports.
#[derive(Debug)]
pub enum Report {
    /// Session progress.
    Event(Event),
    /// The job ended: a summary, or the error.
    Finished(Result<String, JobError>),
}

/// Why a job failed.
#[derive(Clone, Debug)]
pub enum JobError {
    /// The device failed or refused.
    Device(DeviceError),
    /// The result could not be saved.
    Save(String),
}

impl From<DeviceError> for JobError {
    fn from(error: DeviceError) -> Self {
        JobError::Device(error)
    }
}

/// A job under way.
pub struct Job {
    /// Its reports, in order.
    pub reports: Receiver<Report>,
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// What it does.
    pub action: &'static str,
}

impl Job {
    /// Starts `action` on `board` on a new thread; `wake` is called after every report.
    pub fn start(
        board: &Board,
        settings: Settings,
        action: Action,
        wake: impl Fn() + Send + 'static,
    ) -> Job {
        let (send, reports) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let name = action.name();
        let backend = board.backend.clone();
        let flag = Arc::clone(&cancel);
        let thread = std::thread::spawn(move || {
            let mut reporter = Reporter { send, wake: &wake };
            let result = run(&backend, settings, &action, &flag, &mut reporter);
            reporter.report(Report::Finished(result));
        });
        Job {
            reports,
            cancel,
            thread: Some(thread),
            action: name,
        }
    }

    /// Asks the job to stop between two requests.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// True once cancelling was asked for.
    pub fn cancelling(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        self.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Reporter<'a> {
    send: Sender<Report>,
    wake: &'a (dyn Fn() + Send),
}

impl Reporter<'_> {
    fn report(&mut self, report: Report) {
        // The window may be gone; the job then simply ends.
        let _ = self.send.send(report);
        (self.wake)();
    }
}

fn run(
    backend: &Backend,
    settings: Settings,
    action: &Action,
    cancel: &AtomicBool,
    reporter: &mut Reporter,
) -> Result<String, JobError> {
    match backend {
        Backend::Sim(sim) => {
            let mut sim = sim.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            sim.reconnect();
            perform(&mut *sim, settings, action, cancel, reporter)
        }
        Backend::Usb(found) => {
            let mut usb = UsbTransport::open(found).map_err(|source| {
                JobError::Device(DeviceError::Open {
                    location: found.info.location.clone(),
                    source,
                })
            })?;
            perform(&mut usb, settings, action, cancel, reporter)
        }
    }
}

fn perform(
    transport: &mut dyn Transport,
    settings: Settings,
    action: &Action,
    cancel: &AtomicBool,
    reporter: &mut Reporter,
) -> Result<String, JobError> {
    let info = transport.info().clone();
    let mut on_event = |event: &Event| {
        if !matches!(event, Event::Request { .. }) {
            reporter.report(Report::Event(event.clone()));
        }
    };
    match action {
        Action::Flash {
            targets,
            verify,
            leave,
        } => {
            let mut lines = Vec::new();
            for target in targets {
                let flashed =
                    write_target(transport, settings, target, *verify, cancel, &mut on_event)?;
                lines.push(format!(
                    "Flashed {} bytes to alt {} ({}), {}.",
                    target.bytes,
                    target.alt,
                    target.region,
                    match flashed {
                        Flashed::Verified => "verified",
                        Flashed::NotVerified => "not verified",
                        Flashed::DeviceReset => "the device reset (option bytes): not verified",
                    }
                ));
            }
            if let Some(address) = leave {
                Session::open(transport, 0, settings, &mut on_event)
                    .and_then(|mut s| s.leave(*address))?;
                lines.push(format!("Started the firmware at {address:#010X}."));
            }
            Ok(lines.join(" "))
        }
        Action::Read {
            alt,
            address,
            length,
            path,
        } => {
            let data = Session::open(transport, *alt, settings, &mut on_event)
                .map(|s| s.cancel_on(cancel))
                .and_then(|mut s| s.upload(*address, *length, Phase::Read))?;
            let read = data.len();
            save(&info, *alt, *address, data, path)?;
            Ok(format!(
                "Read {read} bytes from {address:#010X} into {}.",
                path.display()
            ))
        }
        Action::Erase { alt, sectors } => {
            let mut session =
                Session::open(transport, *alt, settings, &mut on_event)?.cancel_on(cancel);
            if sectors.is_empty() {
                session.mass_erase()?;
                Ok("Erased the whole flash.".into())
            } else {
                session.erase(sectors)?;
                Ok(format!("Erased {} sectors.", sectors.len()))
            }
        }
        Action::Unprotect => {
            Session::open(transport, 0, settings, &mut on_event)
                .and_then(|mut s| s.read_unprotect())?;
            Ok("Read protection removed: the chip erased itself and reset.".into())
        }
        Action::Leave(address) => {
            Session::open(transport, 0, settings, &mut on_event)
                .and_then(|mut s| s.leave(*address))?;
            Ok(format!(
                "Left DFU mode: the firmware starts at {address:#010X}."
            ))
        }
    }
}

/// Writes what was read to `path`, through a temporary file so nothing half-written is left.
fn save(
    info: &DeviceInfo,
    alt: u8,
    address: u32,
    data: Vec<u8>,
    path: &std::path::Path,
) -> Result<(), JobError> {
    let format = DumpFormat::of(path).map_err(JobError::Save)?;
    let ids = DeviceIds {
        vid: info.vid,
        pid: info.pid,
        bcd_device: info.bcd_device,
    };
    let image = Image::from_pieces([(address, data)]).map_err(|e| JobError::Save(e.to_string()))?;
    let bytes = dfu_file::dump::encode(format, alt, image, ids)
        .map_err(|e| JobError::Save(e.to_string()))?;
    dfuse::output::write_atomically(path, &bytes)
        .map_err(|e| JobError::Save(format!("cannot write {}: {e}", path.display())))
}
