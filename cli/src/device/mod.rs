//! The device commands: which board the arguments name, and the options they share.
//! Everything done to a board goes through the library's device facade ([`dfuse::Device`]).

pub mod driver;
pub mod driver_install;
pub mod dump;
pub mod flash;
pub mod inspect;
mod interrupt;
mod many;
pub mod options;
pub mod verify;

pub use interrupt::INTERRUPTED;
pub mod ops;
mod report;

use std::path::PathBuf;

use clap::Args;
use dfuse::device::{Board, choose};
use dfuse::matching::DeviceTable;
use dfuse::select::Selector;
use dfuse::{Device, DeviceError};

use crate::exit::CliError;
use crate::output::read_text;

pub use flash::FlashArgs;
pub use inspect::{InfoArgs, ListArgs};
pub use ops::{EraseArgs, LeaveArgs, ReadArgs, UnprotectArgs};
use report::Reporter;

// How to pick the device; shared by every device command.
#[derive(Args, Debug, Clone)]
pub struct DeviceArgs {
    /// The device: `<bus>-<port.path>` for USB (as `dfuse list` shows), or `sim:<chip>` for a simulated board (e.g. sim:stm32f407). `flash` takes it several times to flash those boards at once.
    #[arg(long, short = 'd', value_name = "DEVICE", env = "DFUSE_DEVICE")]
    pub device: Vec<String>,
    /// Keep a simulated board's memory in this file between runs (created erased if missing); once per simulated --device, in order.
    #[arg(long, value_name = "FILE", env = "DFUSE_SIM_STATE")]
    pub sim_state: Vec<PathBuf>,
    /// Append every request the simulated board receives to this file, one JSON object per line; once per simulated --device, in order.
    #[arg(long, value_name = "FILE", env = "DFUSE_SIM_LOG")]
    pub sim_log: Vec<PathBuf>,
    /// Select a USB device by serial number.
    #[arg(long, value_name = "SERIAL", env = "DFUSE_SERIAL")]
    pub serial: Option<String>,
    /// Select a USB device by VID:PID, e.g. 0483:df11.
    #[arg(long, value_name = "VID:PID", env = "DFUSE_VID_PID")]
    pub vid_pid: Option<String>,
    /// A device table consulted before the built-in one (default: $XDG_CONFIG_HOME/dfuse/devices.toml, if present).
    #[arg(long, value_name = "FILE")]
    pub device_db: Option<PathBuf>,
}

// Waiting for a board that resets to come back (after leave or unprotect).
#[derive(Args, Debug, Clone, Copy)]
pub struct WaitArgs {
    /// Afterwards, wait until the board is back on the bus and report it.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, in seconds.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub wait_timeout: u64,
}

impl WaitArgs {
    /// With --wait, waits until the board that just reset is back, and says so.
    fn wait_if_asked(self, device: &mut Device, reporter: &Reporter) -> Result<(), CliError> {
        if self.wait {
            let info = device.wait_for_return(std::time::Duration::from_secs(self.wait_timeout))?;
            reporter.message(&format!(
                "The board is back: {} {:04X}:{:04X} {:?}.",
                info.location,
                info.vid,
                info.pid,
                info.product.as_deref().unwrap_or("")
            ));
        }
        Ok(())
    }
}

impl DeviceArgs {
    /// The one --device given, if any; several are for `flash` only.
    fn one_device(&self) -> Result<Option<&str>, CliError> {
        self.no_vid_pid_as_location()?;
        match self.device.as_slice() {
            [] => Ok(None),
            [device] => Ok(Some(device)),
            _ => Err(CliError::Usage(
                "--device names one board here: only `dfuse flash` takes several".into(),
            )),
        }
    }

    /// What --device (when not a simulated board), --serial and --vid-pid ask for.
    pub fn selector(&self) -> Result<Selector, CliError> {
        Ok(Selector {
            location: self
                .one_device()?
                .filter(|d| !d.starts_with("sim:"))
                .map(str::to_owned),
            ..self.narrowing()?
        })
    }

    /// Refuses a --device that looks like a VID:PID (dfu-util's -d), saying what was meant.
    fn no_vid_pid_as_location(&self) -> Result<(), CliError> {
        let looks_like_ids = |device: &str| {
            device.split_once(':').is_some_and(|(vid, pid)| {
                !vid.is_empty()
                    && vid.len() <= 4
                    && !pid.is_empty()
                    && pid.len() <= 4
                    && vid
                        .chars()
                        .chain(pid.chars())
                        .all(|c| c.is_ascii_hexdigit())
            })
        };
        match self.device.iter().find(|d| looks_like_ids(d)) {
            Some(device) => Err(CliError::Usage(format!(
                "--device (-d) names a board by its location (1-2.3, as `dfuse list` shows) or sim:<chip>; {device} looks like a VID:PID: did you mean --vid-pid {device}?"
            ))),
            None => Ok(()),
        }
    }

    /// What --serial and --vid-pid ask for, whatever --device says.
    fn narrowing(&self) -> Result<Selector, CliError> {
        Ok(Selector {
            location: None,
            serial: self.serial.clone(),
            vid_pid: self.vid_pid.as_deref().map(parse_vid_pid).transpose()?,
        })
    }

    /// The boards `flash` works on: every --device given, or with `all`
    /// every DfuSe board attached that --serial and --vid-pid let through.
    pub fn several(&self, all: bool) -> Result<Vec<Board>, CliError> {
        self.no_vid_pid_as_location()?;
        if all && !self.device.is_empty() {
            return Err(CliError::Usage(
                "--all flashes every board attached; --device names boards: use one or the other"
                    .into(),
            ));
        }
        let table = self.table()?;
        let selector = self.narrowing()?;
        if all {
            self.no_sim_files()?;
            let boards: Vec<Board> = dfuse::device::boards(&table)?
                .into_iter()
                .filter(|board| selector.matches(board.info()))
                .filter(|board| board.problem.is_some() || board.profile.settings().is_ok())
                .collect();
            if boards.is_empty() {
                return Err(DeviceError::Select(dfuse::select::SelectError::NoDevice).into());
            }
            return Ok(boards);
        }
        for (i, device) in self.device.iter().enumerate() {
            if self.device[..i].contains(device) {
                return Err(CliError::Usage(format!("--device {device} is named twice")));
            }
        }
        let sims = self.device.iter().filter(|d| d.starts_with("sim:")).count();
        for (files, flag) in [
            (&self.sim_state, "--sim-state"),
            (&self.sim_log, "--sim-log"),
        ] {
            if !files.is_empty() && files.len() != sims {
                return Err(CliError::Usage(format!(
                    "{flag} goes once with each simulated board, in order: {sims} boards, {} given",
                    files.len()
                )));
            }
        }
        let usb = if sims < self.device.len() {
            dfuse::device::boards(&table)?
        } else {
            Vec::new()
        };
        let mut sim_index = 0;
        let mut chosen = Vec::new();
        for device in &self.device {
            chosen.push(match device.strip_prefix("sim:") {
                Some(chip) => {
                    let files = (
                        self.sim_state.get(sim_index).cloned(),
                        self.sim_log.get(sim_index).cloned(),
                    );
                    sim_index += 1;
                    sim::board(chip, files, &table)?
                }
                None => choose(
                    usb.clone(),
                    &Selector {
                        location: Some(device.clone()),
                        ..selector.clone()
                    },
                )?,
            });
        }
        Ok(chosen)
    }

    /// Refuses --sim-state and --sim-log where no simulated board is named.
    fn no_sim_files(&self) -> Result<(), CliError> {
        if self.sim_state.is_empty() && self.sim_log.is_empty() {
            Ok(())
        } else {
            Err(CliError::Usage(
                "--sim-state and --sim-log apply to simulated boards (--device sim:<chip>)".into(),
            ))
        }
    }

    /// The device table: the user's (from --device-db or the default place) before the built-in one.
    pub fn table(&self) -> Result<DeviceTable, CliError> {
        let user = match self
            .device_db
            .clone()
            .or_else(dfuse::matching::user_table_path)
        {
            Some(path) => Some((read_text(&path)?, path)),
            None => None,
        };
        DeviceTable::load(
            user.as_ref()
                .map(|(text, path)| (text.as_str(), path.clone())),
        )
        .map_err(CliError::Table)
    }

    /// The simulated board the arguments name, if they name one.
    fn simulated(&self, table: &DeviceTable) -> Result<Option<Board>, CliError> {
        let Some(chip) = self.one_device()?.and_then(|d| d.strip_prefix("sim:")) else {
            self.no_sim_files()?;
            return Ok(None);
        };
        if self.sim_state.len() > 1 || self.sim_log.len() > 1 {
            return Err(CliError::Usage(
                "--sim-state and --sim-log are given once per simulated board".into(),
            ));
        }
        let files = (
            self.sim_state.first().cloned(),
            self.sim_log.first().cloned(),
        );
        Ok(Some(choose(
            vec![sim::board(chip, files, table)?],
            &self.selector()?,
        )?))
    }

    /// The boards the arguments name: the one simulated board, or every USB board the selectors match.
    pub fn boards(&self) -> Result<Vec<Board>, CliError> {
        let table = self.table()?;
        if let Some(board) = self.simulated(&table)? {
            return Ok(vec![board]);
        }
        let selector = self.selector()?;
        Ok(dfuse::device::boards(&table)?
            .into_iter()
            .filter(|board| selector.matches(board.info()))
            .collect())
    }

    /// Opens the one board the arguments name; Ctrl-C cancels its operations.
    pub fn open(&self) -> Result<Device, CliError> {
        let table = self.table()?;
        let mut device = match self.simulated(&table)? {
            Some(board) => board.open()?,
            None => Device::open(&self.selector()?, &table)?,
        };
        device.cancel_on(interrupt::flag());
        Ok(device)
    }
}

/// The alternate setting `alt` (a number or a region name) names on `device`, if given.
fn alt_named(device: &Device, alt: Option<&str>) -> Result<Option<u8>, CliError> {
    Ok(alt.map(|alt| device.profile().find_alt(alt)).transpose()?)
}

/// Runs `body` on the opened device, then closes it (a simulated board saves its state) whatever happened.
fn with_device(
    args: &DeviceArgs,
    body: impl FnOnce(&mut Device) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let mut device = args.open()?;
    let result = body(&mut device);
    let closed = device.close().map_err(CliError::from);
    result.and(closed)
}

/// Simulated boards, when this dfuse is built with them (the default `sim` feature).
#[cfg(feature = "sim")]
mod sim {
    use super::*;

    /// A simulated board with its state and log files.
    pub fn board(
        chip: &str,
        (state, log): (Option<PathBuf>, Option<PathBuf>),
        table: &DeviceTable,
    ) -> Result<Board, CliError> {
        let files = dfuse_sim::SimFiles { state, log };
        let board = dfuse_sim::SimBoard::new(chip, files).map_err(|error| {
            if dfuse_sim::chips::find(chip).is_none() {
                CliError::Usage(error.to_string())
            } else {
                CliError::from(error)
            }
        })?;
        Ok(board.board(table))
    }

    /// The simulated boards there are, for help lines.
    pub fn offer() -> Option<String> {
        Some(format!(
            "or try a simulated board: --device sim:<chip>, one of: {}",
            dfuse_sim::chip_list()
        ))
    }
}

/// This dfuse was built without simulated boards.
#[cfg(not(feature = "sim"))]
mod sim {
    use super::*;

    pub fn board(
        _chip: &str,
        _files: (Option<PathBuf>, Option<PathBuf>),
        _table: &DeviceTable,
    ) -> Result<Board, CliError> {
        Err(CliError::Usage(
            "this dfuse was built without simulated boards (cargo feature `sim`)".into(),
        ))
    }

    pub fn offer() -> Option<String> {
        None
    }
}

pub use sim::offer as offer_simulated;

/// Parses `0483:df11` (hexadecimal, as lsusb prints it).
fn parse_vid_pid(text: &str) -> Result<(u16, u16), CliError> {
    let parse = |part: &str| u16::from_str_radix(part.trim().trim_start_matches("0x"), 16).ok();
    match text.split_once(':') {
        Some((vid, pid)) => parse(vid).zip(parse(pid)),
        None => None,
    }
    .ok_or_else(|| {
        CliError::Usage(format!(
            "--vid-pid takes VID:PID in hexadecimal, like 0483:df11, not {text:?}"
        ))
    })
}

impl From<DeviceError> for CliError {
    fn from(error: DeviceError) -> Self {
        CliError::Device(error)
    }
}
