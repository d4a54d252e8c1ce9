//! Work on a board, run on a worker thread so the window never waits for the device.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use dfu_file::Firmware;
use dfuse::device::{
    BoardEvent, Erased, FlashJob, FlashOptions, FlashReport, OptionBytes, PlanRequest, TargetPlan,
    flash_boards,
};
use dfuse::option_bytes::{Allow, Image, Layouts};
use dfuse::plan::Sector;
use dfuse::session::Event;
use dfuse::{Board, Device, DeviceError};

/// What to do.
#[derive(Clone, Debug)]
pub enum Action {
    /// Flash the firmware onto every board of the job at once.
    Flash(Flash),
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
    /// Read the option bytes, with these layouts (the user's first).
    ReadOptionBytes(Layouts),
    /// Change the option bytes read as `read` to `after` (the board resets), then read them back.
    WriteOptionBytes {
        /// As read.
        read: Box<OptionBytes>,
        /// As wanted.
        after: Image,
        /// What the change may do that needed a confirmation.
        allow: Allow,
    },
    /// Read every segment of alternate setting `alt` for the memory view.
    ReadMemory {
        /// Alternate setting.
        alt: u8,
    },
}

/// A flash: each board plans it, skips what it already holds when
/// `incremental`, verifies when `verify`, and starts it when `leave`.
#[derive(Clone, Debug)]
pub struct Flash {
    /// The firmware.
    pub firmware: Firmware,
    /// How to place it.
    pub request: PlanRequest,
    /// Read the touched sectors first and leave alone those already right.
    pub incremental: bool,
    /// Read back and compare.
    pub verify: bool,
    /// Leave DFU mode afterwards, starting the firmware at each board's default start.
    pub leave: bool,
}

impl Flash {
    /// The library's flash job.
    fn job(&self) -> FlashJob<'_> {
        FlashJob {
            firmware: &self.firmware,
            request: self.request,
            incremental: self.incremental,
            options: FlashOptions {
                verify: self.verify,
                leave: self.leave.then_some(None),
            },
        }
    }
}

impl Action {
    /// What the action is called in the status line.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Flash(_) => "Flash",
            Action::Read { .. } => "Read",
            Action::Erase { .. } => "Erase",
            Action::Unprotect => "Read-unprotect",
            Action::Leave(_) => "Leave",
            Action::ReadOptionBytes(_) => "Read option bytes",
            Action::WriteOptionBytes { .. } => "Write option bytes",
            Action::ReadMemory { .. } => "Read memory",
        }
    }
}

/// What the worker reports; `usize` is the board's place in the job's list.
#[derive(Debug)]
pub enum Report {
    /// Session progress of a board.
    Event(usize, Event),
    /// A board's flash, planned and compared with what it holds, before anything is erased.
    Planned(usize, Vec<TargetPlan>),
    /// The option bytes as read (after a change: as read back).
    OptionBytes(Box<OptionBytes>),
    /// Memory read for the memory view: the alternate setting and its (address, bytes) segments.
    Memory(u8, Vec<(u32, Vec<u8>)>),
    /// The job ended: each board's location with a summary, or the error.
    Finished(Vec<(String, Result<String, JobError>)>),
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
    /// Starts `action` on a new thread: a flash on every board of `boards` at
    /// once, anything else on the first. `wake` is called after every report.
    pub fn start(
        boards: Vec<Board>,
        action: Action,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Job {
        let (send, reports) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let name = action.name();
        let flag = Arc::clone(&cancel);
        let thread = std::thread::spawn(move || {
            let reporter = Reporter {
                send: std::sync::Mutex::new(send),
                wake: &wake,
            };
            let results = match &action {
                Action::Flash(flash) if boards.len() > 1 => {
                    flash_many(&boards, &flash.job(), &flag, &reporter)
                }
                _ => boards
                    .first()
                    .map(|board| {
                        let result = board.open().and_then(|mut device| {
                            device.cancel_on(flag);
                            let result = perform(&mut device, &action, &reporter);
                            let closed = device.close();
                            result.and_then(|summary| closed.map(|()| summary))
                        });
                        (board.info().location.clone(), result)
                    })
                    .into_iter()
                    .collect(),
            };
            reporter.report(Report::Finished(results));
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

/// Sends reports from the job's threads (one per board when flashing several).
struct Reporter<'a> {
    send: std::sync::Mutex<Sender<Report>>,
    wake: &'a (dyn Fn() + Send + Sync),
}

impl Reporter<'_> {
    fn report(&self, report: Report) {
        // The window may be gone; the job then simply ends.
        if let Ok(send) = self.send.lock() {
            let _ = send.send(report);
        }
        (self.wake)();
    }
}

/// Flashes every board of `boards` at once; each board's summary or error.
fn flash_many(
    boards: &[Board],
    job: &FlashJob,
    cancel: &Arc<AtomicBool>,
    reporter: &Reporter,
) -> Vec<(String, Result<String, JobError>)> {
    flash_boards(boards, job, cancel, &|index, event| match event {
        BoardEvent::Planned(plans) => reporter.report(Report::Planned(index, plans.to_vec())),
        BoardEvent::Session(event) => reporter.report(Report::Event(index, event.clone())),
        _ => {}
    })
    .into_iter()
    .map(|board| {
        (
            board.location,
            board.result.map(|report| flash_summary(&report)),
        )
    })
    .collect()
}

/// The summary line of one board's flash.
fn flash_summary(report: &FlashReport) -> String {
    let mut lines: Vec<String> = report
        .targets
        .iter()
        .map(|(target, flashed)| {
            format!(
                "Flashed {} bytes to alt {} ({}): {}.",
                target.bytes,
                target.alt,
                target.region,
                target.summary(*flashed)
            )
        })
        .collect();
    if let Some(address) = report.started_at {
        lines.push(format!("Started the firmware at {address:#010X}."));
    }
    lines.join(" ")
}

/// Runs `action` on one board through the device facade; returns the summary line.
fn perform(device: &mut Device, action: &Action, reporter: &Reporter) -> Result<String, JobError> {
    let mut on_event = |event: &Event| reporter.report(Report::Event(0, event.clone()));
    match action {
        Action::Flash(flash) => {
            let job = flash.job();
            let plans = device.prepare(&job, &mut on_event)?;
            reporter.report(Report::Planned(0, plans.clone()));
            let report = device.flash(&plans, &job.options, &mut on_event)?;
            Ok(flash_summary(&report))
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
        Action::ReadOptionBytes(layouts) => {
            device.use_layouts(layouts.clone());
            let read = device.read_option_bytes(&mut on_event)?;
            let summary = format!("Read the option bytes of {}.", read.layout.family);
            reporter.report(Report::OptionBytes(Box::new(read)));
            Ok(summary)
        }
        Action::WriteOptionBytes { read, after, allow } => {
            let applied = device.apply_option_bytes(read, after, *allow, &mut on_event)?;
            let Some(back) = applied.back else {
                return Ok("Option bytes written: read protection is active, so the bootloader no longer shows them.".into());
            };
            let changed: Vec<String> = read
                .layout
                .changes(&read.image, &back.image)
                .iter()
                .map(|(old, new)| format!("{} {} -> {}", new.name, old.value, new.value))
                .collect();
            reporter.report(Report::OptionBytes(Box::new(back)));
            let reset = if applied.reset {
                "the board reset and now shows "
            } else {
                "now "
            };
            Ok(format!(
                "Option bytes written: {reset}{}.",
                changed.join(", ")
            ))
        }
        Action::ReadMemory { alt } => {
            let pieces = device.read_region(*alt, &mut on_event)?;
            let total: usize = pieces.iter().map(|(_, data)| data.len()).sum();
            reporter.report(Report::Memory(*alt, pieces));
            Ok(format!(
                "Read {total} bytes of alt {alt} for the memory view."
            ))
        }
    }
}
