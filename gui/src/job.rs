//! Work on a board, run on a worker thread so the window never waits for the device.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use dfuse::device::{Erased, FlashOptions, Flashed, TargetPlan};
use dfuse::plan::Sector;
use dfuse::session::Event;
use dfuse::{Board, Device, DeviceError};

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
pub type JobError = DeviceError;

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
    pub fn start(board: &Board, action: Action, wake: impl Fn() + Send + 'static) -> Job {
        let (send, reports) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let name = action.name();
        let board = board.clone();
        let flag = Arc::clone(&cancel);
        let thread = std::thread::spawn(move || {
            let mut reporter = Reporter { send, wake: &wake };
            let result = board.open().and_then(|mut device| {
                device.cancel_on(flag);
                let result = perform(&mut device, &action, &mut reporter);
                let closed = device.close();
                result.and_then(|summary| closed.map(|()| summary))
            });
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

/// Runs `action` through the device facade; returns the summary line.
fn perform(
    device: &mut Device,
    action: &Action,
    reporter: &mut Reporter,
) -> Result<String, JobError> {
    let mut on_event = |event: &Event| reporter.report(Report::Event(event.clone()));
    match action {
        Action::Flash {
            targets,
            verify,
            leave,
        } => {
            let options = FlashOptions {
                verify: *verify,
                leave: leave.map(Some),
            };
            let report = device.flash(targets, &options, &mut on_event)?;
            let mut lines: Vec<String> = report
                .targets
                .iter()
                .map(|(target, flashed)| {
                    format!(
                        "Flashed {} bytes to alt {} ({}), {}.",
                        target.bytes,
                        target.alt,
                        target.region,
                        match flashed {
                            Flashed::Verified => "verified",
                            Flashed::NotVerified => "not verified",
                            Flashed::DeviceReset => "the device reset (option bytes): not verified",
                        }
                    )
                })
                .collect();
            if let Some(address) = report.started_at {
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
            device.read_to_file(*alt, *address, *length, path, &mut on_event)?;
            Ok(format!(
                "Read {length} bytes from {address:#010X} into {}.",
                path.display()
            ))
        }
        Action::Erase { alt, sectors } => {
            let erased = if sectors.is_empty() {
                device.erase(*alt, None, &mut on_event)?
            } else {
                device.erase_sectors(*alt, sectors, &mut on_event)?
            };
            Ok(match erased {
                Erased::All => "Erased the whole flash.".into(),
                Erased::Sectors(sectors) => format!("Erased {} sectors.", sectors.len()),
            })
        }
        Action::Unprotect => {
            device.unprotect(&mut on_event)?;
            Ok("Read protection removed: the chip erased itself and reset.".into())
        }
        Action::Leave(address) => {
            let address = device.leave(Some(*address), &mut on_event)?;
            Ok(format!(
                "Left DFU mode: the firmware starts at {address:#010X}."
            ))
        }
    }
}
