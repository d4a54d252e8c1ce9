//! The application state: boards, the loaded file, its plan, the job under way, the log.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::time::Instant;

use eframe::egui;

use dfuse::DeviceError;
use dfuse::device::{PlanRequest, TargetPlan};
use dfuse::matching::DeviceTable;
use dfuse::plan::PlanError;
use dfuse::session::{Event, Unit};

use crate::devices::{DeviceList, Update};
use crate::file::LoadedFile;
use crate::job::{Action, Flash, Job, JobError, Report};
use crate::log::{Level, Log};
use crate::words::{Plain, explain};
use dfuse::Board;

pub use crate::choices::{Confirm, DialogPurpose, Options, Progress, Refusal, Tab};

/// The whole window's state.
pub struct App {
    /// The boards.
    pub devices: DeviceList,
    /// The location of the selected board.
    pub selected: Option<String>,
    /// Other boards flashed together with the selected one.
    pub also: Vec<String>,
    /// The opened file.
    pub file: Option<LoadedFile>,
    /// Why the last file could not be opened.
    pub file_error: Option<String>,
    /// The alternate setting chosen for files without targets of their own.
    pub alt: u8,
    /// Read back and compare after writing.
    pub verify: bool,
    /// Start the firmware after flashing.
    pub leave_after: bool,
    /// Erase everything instead of the touched sectors.
    pub mass_erase: bool,
    /// Read the touched sectors first and skip those already holding the file.
    pub incremental: bool,
    /// Flash a .dfu whose suffix names another device.
    pub ignore_ids: bool,
    /// The plan for the selected board and file, or why there is none.
    pub plan: Option<Result<Vec<TargetPlan>, Refusal>>,
    /// The plan as the last flash carried it out, after reading what the board held.
    pub compared: Option<Vec<TargetPlan>>,
    /// The job under way.
    pub job: Option<Job>,
    /// The boards of the job under way (or the last one), by location, with the
    /// progress of each one's current phase.
    pub progress: Vec<(String, Option<Progress>)>,
    /// The last job's outcome.
    pub outcome: Option<Result<String, Plain>>,
    /// The log.
    pub log: Log,
    /// A question waiting for an answer.
    pub confirm: Option<Confirm>,
    /// The tab shown.
    pub tab: Tab,
    /// The option-bytes tab.
    pub options: crate::option_panel::OptionPanel,
    /// The memory tab.
    pub memory: crate::hex_view::HexView,
    /// The "Install the WinUSB driver" button.
    pub driver: crate::driver_install::DriverPanel,
    dialog: Option<(DialogPurpose, Receiver<Option<PathBuf>>)>,
    plan_key: Option<PlanKey>,
    /// Frames drawn so far.
    pub frames: u64,
}

/// What the plan depends on: when it changes, the plan is made again.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PlanKey {
    board: String,
    file: PathBuf,
    address: String,
    alt: u8,
    mass_erase: bool,
    ignore_ids: bool,
}

impl App {
    /// An application showing `options.sims`, and USB boards when `options.usb` (`ctx` is woken on changes).
    pub fn new(options: &Options, ctx: Option<egui::Context>) -> App {
        let mut log = Log::default();
        if let Some(path) = &options.log_file
            && let Err(error) = log.write_to(path)
        {
            log.add(
                Level::Error,
                format!("Cannot write the log to {}: {error}", path.display()),
            );
        }
        let table = match DeviceTable::load(
            options
                .device_table
                .as_ref()
                .map(|(text, path)| (text.as_str(), path.clone())),
        ) {
            Ok(table) => table,
            Err(error) => {
                log.add(
                    Level::Error,
                    format!("Your device table is not used: {error}"),
                );
                DeviceTable::load(None).unwrap_or_default()
            }
        };
        let wake = move || {
            if let Some(ctx) = &ctx {
                ctx.request_repaint();
            }
        };
        let (mut devices, refused) =
            DeviceList::new(&options.sims, options.real_time, table, options.usb, wake);
        if let Some(driver) = &options.sim_driver {
            for board in &mut devices.boards {
                board.driver = Some(driver.clone());
            }
        }
        for reason in refused {
            log.add(Level::Error, reason);
        }
        for board in &devices.boards {
            log.add(
                Level::Info,
                format!(
                    "Simulated board {} ({}).",
                    board.profile.info.location,
                    board.profile.title()
                ),
            );
            log.add(Level::Info, board.profile.decision());
        }
        let mut app = App {
            devices,
            selected: None,
            also: Vec::new(),
            file: None,
            file_error: None,
            alt: 0,
            verify: true,
            leave_after: false,
            mass_erase: false,
            incremental: true,
            ignore_ids: false,
            plan: None,
            compared: None,
            job: None,
            progress: Vec::new(),
            outcome: None,
            log,
            confirm: None,
            tab: options.tab,
            options: Default::default(),
            memory: Default::default(),
            driver: Default::default(),
            dialog: None,
            plan_key: None,
            frames: 0,
        };
        app.options.layouts = Some(user_layouts(&mut app.log));
        if let Some(path) = &options.file {
            app.open_file(path);
        }
        app
    }

    /// The selected board.
    pub fn board(&self) -> Option<&Board> {
        let location = self.selected.as_deref()?;
        self.devices
            .boards
            .iter()
            .find(|b| b.info().location == location)
    }

    /// Selects the board at `location`.
    pub fn select(&mut self, location: &str) {
        if self.selected.as_deref() == Some(location) {
            return;
        }
        self.selected = Some(location.to_owned());
        self.also.retain(|other| other != location);
        if let Some(board) = self.board() {
            let line = format!(
                "Selected {} ({}): {}",
                location,
                board.profile.title(),
                board.profile.decision()
            );
            self.log.add(Level::Info, line);
        }
    }

    /// Opens a firmware file.
    pub fn open_file(&mut self, path: &Path) {
        let start = self
            .board()
            .map_or(0x0800_0000, |b| b.profile.default_start());
        match LoadedFile::open(path, start) {
            Ok(file) => {
                self.log.add(
                    Level::Info,
                    format!("Opened {} ({}).", path.display(), file.format.description()),
                );
                if let Ok(firmware) = &file.firmware {
                    for warning in &firmware.warnings {
                        self.log
                            .add(Level::Warn, format!("{}: {warning}", file.name()));
                    }
                }
                self.file = Some(file);
                self.file_error = None;
            }
            Err(error) => {
                self.log.add(Level::Error, error.clone());
                self.file_error = Some(error);
            }
        }
    }

    /// The targets the loaded file would flash to the selected board (none when
    /// refused or unplanned), as the last flash found them when it has run.
    pub fn planned(&self) -> &[TargetPlan] {
        match (&self.compared, &self.plan) {
            (Some(compared), _) => compared,
            (None, Some(Ok(plans))) => plans,
            _ => &[],
        }
    }

    /// How the loaded `firmware` is placed, as the options say.
    fn plan_request(&self, firmware: &dfu_file::Firmware) -> PlanRequest {
        PlanRequest {
            alt: (firmware.format != dfu_file::Format::Dfuse).then_some(self.alt),
            mass_erase: self.mass_erase,
            ignore_ids: self.ignore_ids,
            force: false,
        }
    }

    /// The flash the Flash button starts: the loaded firmware, as the options say.
    pub fn flash_action(&self) -> Option<Action> {
        let firmware = self.file.as_ref()?.firmware.as_ref().ok()?;
        Some(Action::Flash(Flash {
            firmware: firmware.clone(),
            request: self.plan_request(firmware),
            incremental: self.incremental && !self.mass_erase,
            verify: self.verify,
            leave: self.leave_after,
        }))
    }

    /// Flashes the selected board together with `location` too (or no longer, when `together` is false).
    pub fn flash_together(&mut self, location: &str, together: bool) {
        self.also.retain(|other| other != location);
        if together && self.selected.as_deref() != Some(location) {
            self.also.push(location.to_owned());
        }
    }

    /// The boards a flash goes to: the selected one first, then those flashed together with it.
    pub fn flash_boards(&self) -> Vec<Board> {
        let selected = self.selected.iter();
        selected
            .chain(&self.also)
            .filter_map(|location| {
                self.devices
                    .boards
                    .iter()
                    .find(|b| b.info().location == *location)
                    .cloned()
            })
            .collect()
    }

    /// True while a job runs.
    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// Makes the plan again when the board, the file or an option changed.
    pub fn refresh_plan(&mut self) {
        let (Some(board), Some(file)) = (self.board(), &self.file) else {
            self.plan = None;
            self.plan_key = None;
            self.compared = None;
            return;
        };
        let key = PlanKey {
            board: board.profile.info.location.clone(),
            file: file.path.clone(),
            address: file.address.clone(),
            alt: self.alt,
            mass_erase: self.mass_erase,
            ignore_ids: self.ignore_ids,
        };
        if self.plan_key.as_ref() == Some(&key) {
            return;
        }
        let Ok(firmware) = &file.firmware else {
            self.plan = None;
            self.plan_key = Some(key);
            self.compared = None;
            return;
        };
        let request = self.plan_request(firmware);
        let plan = board
            .profile
            .plan(firmware, &request)
            .map_err(|error| refusal(&error));
        if let Err(refused) = &plan {
            self.log.add(
                Level::Warn,
                format!(
                    "{} cannot be flashed to {}: {}",
                    file.name(),
                    key.board,
                    refused.reason
                ),
            );
        }
        self.plan = Some(plan);
        self.plan_key = Some(key);
        self.compared = None;
    }

    /// Starts `action` on the selected board (a flash: also on the boards flashed together with it).
    pub fn start(&mut self, action: Action, ctx: &egui::Context) {
        let boards = match action {
            Action::Flash(_) => self.flash_boards(),
            _ => self.board().cloned().into_iter().collect(),
        };
        if boards.is_empty() {
            return;
        }
        for board in &boards {
            if let Err(error) = board.profile.settings() {
                self.fail(&error);
                return;
            }
        }
        let locations: Vec<String> = boards.iter().map(|b| b.info().location.clone()).collect();
        let line = format!("{} on {} started.", action.name(), locations.join(", "));
        let ctx = ctx.clone();
        self.job = Some(Job::start(boards, action, move || ctx.request_repaint()));
        self.log.add(Level::Info, line);
        self.outcome = None;
        self.progress = locations.into_iter().map(|l| (l, None)).collect();
    }

    fn fail(&mut self, error: &JobError) {
        let driver = self.board().and_then(|b| b.driver.clone());
        let plain = explain(error, driver.as_deref());
        self.log.add(
            Level::Error,
            format!(
                "{} {} (error[{}]: {error})",
                plain.what, plain.next, plain.code
            ),
        );
        self.outcome = Some(Err(plain));
    }

    /// Takes in the job's reports and the device list's changes.
    pub fn poll(&mut self) {
        self.driver.poll(&mut self.devices, &mut self.log);
        for update in self.devices.update() {
            match update {
                Update::Arrived(location) => {
                    let Some(board) = self
                        .devices
                        .boards
                        .iter()
                        .find(|b| b.info().location == location)
                    else {
                        continue;
                    };
                    let line = format!(
                        "Board arrived: {} {:04X}:{:04X} {}",
                        board.profile.info.location,
                        board.profile.info.vid,
                        board.profile.info.pid,
                        board.profile.title()
                    );
                    let decision = board.profile.decision();
                    let problem = board.problem.clone();
                    self.log.add(Level::Info, line);
                    self.log.add(Level::Info, decision);
                    if let Some(problem) = problem {
                        self.log.add(
                            Level::Warn,
                            format!("Its alternate settings could not be read: {problem}"),
                        );
                    }
                }
                Update::Left(location) => {
                    self.log.add(Level::Info, format!("Board left: {location}"));
                }
            }
        }
        if self.selected.is_none()
            && let Some(first) = self.devices.boards.first()
        {
            let location = first.info().location.clone();
            self.select(&location);
        }
        let Some(job) = &self.job else {
            return;
        };
        let reports: Vec<Report> = job.reports.try_iter().collect();
        let mut finished = None;
        for report in reports {
            match report {
                Report::Event(board, event) => self.progress_event(board, &event),
                Report::Planned(0, plans) => self.compared = Some(plans),
                Report::Planned(..) => {}
                Report::OptionBytes(read) => {
                    if let Some((location, _)) = self.progress.first() {
                        let location = location.clone();
                        self.options.show_read(&location, *read);
                    }
                }
                Report::Memory(alt, pieces) => {
                    if let Some((location, _)) = self.progress.first() {
                        let location = location.clone();
                        self.memory.show_read(&location, alt, pieces);
                    }
                }
                Report::Finished(results) => finished = Some(results),
            }
        }
        if let Some(results) = finished {
            self.job = None;
            self.finish(results);
        }
    }

    /// Moves the progress of board number `board` of the job on.
    fn progress_event(&mut self, board: usize, event: &Event) {
        let several = self.progress.len() > 1;
        let Some((location, progress)) = self.progress.get_mut(board) else {
            return;
        };
        match *event {
            Event::Begin { phase, total } => {
                let size = match phase.unit() {
                    Unit::Bytes => format!("{total} bytes"),
                    Unit::Steps => format!("{total} step"),
                };
                let whose = if several {
                    format!("{location}: ")
                } else {
                    String::new()
                };
                self.log
                    .add(Level::Debug, format!("{whose}{} of {size}", phase.name()));
                *progress = Some(Progress {
                    phase,
                    total,
                    done: 0,
                    started: Instant::now(),
                    ended: None,
                });
            }
            Event::Progress { done, .. } => {
                if let Some(progress) = progress {
                    progress.done = done;
                }
            }
            Event::End { .. } => {
                if let Some(progress) = progress {
                    progress.ended = Some(Instant::now());
                }
            }
            _ => {}
        }
    }

    /// Logs how the job ended on each board, and shows the outcome.
    fn finish(&mut self, results: Vec<(String, Result<String, JobError>)>) {
        let several = results.len() > 1;
        let mut summaries = Vec::new();
        let mut failed = Vec::new();
        for (location, result) in results {
            match result {
                Ok(summary) if several => summaries.push(format!("{location}: {summary}")),
                Ok(summary) => summaries.push(summary),
                Err(error) => failed.push((location, error)),
            }
        }
        for summary in &summaries {
            self.log.add(Level::Info, summary.clone());
        }
        let count = summaries.len() + failed.len();
        for (location, error) in &failed {
            if several {
                self.log.add(
                    Level::Error,
                    format!("{location} failed: error[{}]: {error}", error.code()),
                );
            }
        }
        match failed.first() {
            None => self.outcome = Some(Ok(summaries.join(" "))),
            Some((_, error)) if !several => {
                let error = error.clone();
                self.fail(&error);
            }
            Some(_) => {
                let names: Vec<&str> = failed.iter().map(|(l, _)| l.as_str()).collect();
                let what = format!(
                    "{} of {count} boards failed: {}. The others were flashed.",
                    failed.len(),
                    names.join(", ")
                );
                self.log.add(Level::Error, what.clone());
                self.outcome = Some(Err(Plain {
                    what,
                    next: "The log says why each failed. Select a failed board and flash it again."
                        .into(),
                    code: "boards-failed",
                }));
            }
        }
    }

    /// Opens a native file dialog on its own thread, so the window keeps drawing.
    pub fn ask_for_file(&mut self, purpose: DialogPurpose) {
        let (send, receive) = channel();
        std::thread::spawn(move || {
            let dialog = rfd::FileDialog::new();
            let chosen = match purpose {
                DialogPurpose::Open => dialog
                    .add_filter("Firmware", &crate::file::EXTENSIONS)
                    .add_filter("All files", &["*"])
                    .pick_file(),
                DialogPurpose::SaveRead => dialog
                    .add_filter("Raw binary", &["bin"])
                    .add_filter("Intel HEX", &["hex"])
                    .add_filter("DfuSe file", &["dfu"])
                    .set_file_name("read.bin")
                    .save_file(),
            };
            let _ = send.send(chosen);
        });
        self.dialog = Some((purpose, receive));
    }

    /// True while a file dialog is open.
    pub fn dialog_open(&self) -> bool {
        self.dialog.is_some()
    }

    /// Takes the dialog's answer when it has come; returns it with its purpose.
    pub fn dialog_answer(&mut self) -> Option<(DialogPurpose, PathBuf)> {
        let (purpose, receive) = self.dialog.as_ref()?;
        let purpose = *purpose;
        match receive.try_recv() {
            Ok(Some(path)) => {
                self.dialog = None;
                Some((purpose, path))
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => None,
            Ok(None) | Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                self.dialog = None;
                self.log.add(
                    Level::Info,
                    "No file chosen. If no dialog appeared, this desktop offers none (on Linux it takes xdg-desktop-portal or zenity): drop the firmware on the window, or name it on the command line.",
                );
                None
            }
        }
    }

    /// Reads the chosen alternate setting's whole memory into `path`.
    pub fn read_to(&mut self, path: PathBuf, ctx: &egui::Context) {
        let Some(board) = self.board() else {
            return;
        };
        let Some((alt, map)) = board
            .profile
            .maps()
            .iter()
            .find(|(n, _)| *n == self.alt)
            .or(board.profile.maps().first())
        else {
            return;
        };
        let (Some(first), Some(last)) = (map.segments.first(), map.segments.last()) else {
            return;
        };
        let action = Action::Read {
            alt: *alt,
            address: first.address,
            length: last.end().saturating_sub(u64::from(first.address)),
            path,
        };
        self.start(action, ctx);
    }
}

/// The option-byte layouts: the user's `option-bytes.toml` (dfuse's configuration folder) before
/// the built-in ones; a broken file is logged and left out.
fn user_layouts(log: &mut Log) -> dfuse::option_bytes::Layouts {
    let Some(path) = dfuse::matching::user_config_file("option-bytes.toml") else {
        return dfuse::option_bytes::Layouts::built_in();
    };
    let loaded = std::fs::read_to_string(&path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
        .and_then(|text| {
            dfuse::option_bytes::Layouts::load(Some((&text, path.clone())))
                .map_err(|error| error.to_string())
        });
    loaded.unwrap_or_else(|error| {
        log.add(
            Level::Error,
            format!("Your option-byte layout is not used: {error}"),
        );
        dfuse::option_bytes::Layouts::built_in()
    })
}

/// A plan error as the window shows it, with the addresses to mark.
fn refusal(error: &DeviceError) -> Refusal {
    let (range, next) = match error {
        DeviceError::Plan(PlanError::OutsideMap { range, .. }) => (
            Some((range.start, range.end)),
            "Check the load address and the memory region: the bars above show the memory the board has.",
        ),
        DeviceError::Plan(PlanError::NotWritable { range, .. }) => (
            Some((range.start, range.end)),
            "That memory is protected (a bootloader or option bytes live there): build the firmware for the application area.",
        ),
        DeviceError::Plan(PlanError::TooLarge { .. }) => (
            None,
            "This firmware is for a larger chip, or for another memory region.",
        ),
        DeviceError::Plan(PlanError::Empty) => {
            (None, "Check that the file is the firmware you meant.")
        }
        DeviceError::ForeignFile { .. } => {
            return Refusal {
                reason: format!(
                    "{error}. Tick \"Ignore the file's device IDs\" to flash it anyway."
                ),
                range: None,
            };
        }
        _ => (
            None,
            "Choose another memory region, or check that the file is for this board.",
        ),
    };
    Refusal {
        reason: format!("{}. {next}", crate::words::capitalised(&error.to_string())),
        range,
    }
}
