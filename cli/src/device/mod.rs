//! The device commands: choosing a device, and running operations on it.

pub mod driver;
pub mod flash;
pub mod inspect;
pub mod ops;
mod report;

use std::path::{Path, PathBuf};

use clap::Args;
use dfuse::DeviceError;
use dfuse::matching::{DeviceTable, Interface, Resolution};
use dfuse::memory_map::MemoryMap;
use dfuse::select::{SelectError, Selector, select};
use dfuse::session::{Event, Session, Settings};
use dfuse::sim::{CHIPS, SimTransport};
use dfuse::transport::{DeviceInfo, Transport};
use dfuse::usb::UsbTransport;

use crate::exit::CliError;
use crate::output::{read_input, write_atomically};

fn read_to_string(path: &std::path::Path) -> Result<String, CliError> {
    String::from_utf8(read_input(path)?)
        .map_err(|_| CliError::Usage(format!("{} is not a text file", path.display())))
}

pub use flash::FlashArgs;

/// Reports a board that came back after a reset.
pub fn report_return(info: &DeviceInfo) -> String {
    format!(
        "The board is back: {} {:04X}:{:04X} {:?}.",
        info.location,
        info.vid,
        info.pid,
        info.product.as_deref().unwrap_or("")
    )
}
pub use inspect::{InfoArgs, ListArgs};
pub use ops::{EraseArgs, LeaveArgs, ReadArgs, UnprotectArgs};
use report::Reporter;

/// How to pick the device; shared by every device command.
#[derive(Args, Debug, Clone)]
pub struct DeviceArgs {
    /// The device: `sim:<chip>` for a simulated board (e.g. sim:stm32f407), or `<bus>-<port.path>` for USB.
    #[arg(long, short = 'd', value_name = "DEVICE")]
    pub device: Option<String>,
    /// Keep a simulated board's memory in this file between runs (created erased if missing).
    #[arg(long, value_name = "FILE")]
    pub sim_state: Option<PathBuf>,
    /// Append every request the simulated board receives to this file, one JSON object per line.
    #[arg(long, value_name = "FILE")]
    pub sim_log: Option<PathBuf>,
    /// Select a USB device by serial number.
    #[arg(long, value_name = "SERIAL")]
    pub serial: Option<String>,
    /// Select a USB device by VID:PID, e.g. 0483:df11.
    #[arg(long, value_name = "VID:PID")]
    pub vid_pid: Option<String>,
    /// A device table consulted before the built-in one (default: $XDG_CONFIG_HOME/dfuse/devices.toml, if present).
    #[arg(long, value_name = "FILE")]
    pub device_db: Option<PathBuf>,
}

/// Waiting for a board that resets to come back (after leave or unprotect).
#[derive(Args, Debug, Clone, Copy)]
pub struct WaitArgs {
    /// Afterwards, wait until the board is back on the bus and report it.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, in seconds.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub wait_timeout: u64,
}

/// Where an open device's requests go.
enum Backend {
    Sim(Box<SimTransport>),
    Usb(UsbTransport),
}

/// An open device: a simulated board or a real one.
pub struct OpenDevice {
    backend: Backend,
    resolution: Resolution,
    state_file: Option<PathBuf>,
    log_file: Option<PathBuf>,
}

fn chip_list() -> String {
    CHIPS
        .iter()
        .map(|c| format!("sim:{}", c.id))
        .collect::<Vec<_>>()
        .join(", ")
}

impl DeviceArgs {
    /// What --device (when not a simulated board), --serial and --vid-pid ask for.
    pub fn selector(&self) -> Result<Selector, CliError> {
        Ok(Selector {
            location: self.device.clone().filter(|d| !d.starts_with("sim:")),
            serial: self.serial.clone(),
            vid_pid: self.vid_pid.as_deref().map(parse_vid_pid).transpose()?,
        })
    }

    /// Opens the selected device.
    pub fn open(&self) -> Result<OpenDevice, CliError> {
        let selector = self.selector()?;
        let backend = match self.device.as_deref().and_then(|d| d.strip_prefix("sim:")) {
            Some(chip) => Backend::Sim(Box::new(self.open_sim(chip, &selector)?)),
            None => {
                if self.sim_state.is_some() || self.sim_log.is_some() {
                    return Err(CliError::Usage(
                        "--sim-state and --sim-log apply to simulated boards (--device sim:<chip>)"
                            .into(),
                    ));
                }
                Backend::Usb(open_usb(&selector)?)
            }
        };
        let table = self.table()?;
        let info = match &backend {
            Backend::Sim(sim) => sim.info(),
            Backend::Usb(usb) => usb.info(),
        };
        let resolution = table.resolve(&Interface::of(info));
        Ok(OpenDevice {
            backend,
            resolution,
            state_file: self.sim_state.clone(),
            log_file: self.sim_log.clone(),
        })
    }

    /// The device table: the user's (from --device-db or the default place) before the built-in one.
    pub fn table(&self) -> Result<DeviceTable, CliError> {
        let default = dfuse::matching::user_table_path();
        let user = match self.device_db.clone().or(default) {
            Some(path) => Some((read_to_string(&path)?, path)),
            None => None,
        };
        let user = user
            .as_ref()
            .map(|(text, path)| (text.as_str(), path.clone()));
        DeviceTable::load(user)
            .map_err(|error| CliError::Usage(format!("bad device table: {error}")))
    }

    fn open_sim(&self, chip: &str, selector: &Selector) -> Result<SimTransport, CliError> {
        let mut sim = SimTransport::open(chip).ok_or_else(|| {
            CliError::Usage(format!(
                "there is no simulated chip {chip:?}; choose one of: {}",
                chip_list()
            ))
        })?;
        select(std::slice::from_ref(sim.info()), selector)
            .map_err(|e| CliError::NoDevice(e.to_string()))?;
        if let Some(path) = &self.sim_state
            && path.exists()
        {
            let bytes = read_input(path)?;
            sim.load_state(&bytes).map_err(|reason| CliError::Refused {
                path: path.clone(),
                reason: format!("not a state file for sim:{chip}: {reason}"),
            })?;
        }
        Ok(sim)
    }
}

/// A device as `list` and `driver` show it.
pub struct Listed {
    /// Its identity and alternate settings.
    pub info: DeviceInfo,
    /// Why its alternate settings could not be read, if they could not.
    pub problem: Option<String>,
    /// The driver Windows bound to it (Windows only).
    pub driver: Option<String>,
}

impl DeviceArgs {
    /// The devices the selection names: the one simulated board, or every USB device that matches.
    pub fn listed(&self) -> Result<Vec<Listed>, CliError> {
        if self
            .device
            .as_deref()
            .is_some_and(|d| d.starts_with("sim:"))
        {
            let info = self.open()?.info().clone();
            return Ok(vec![Listed {
                info,
                problem: None,
                driver: None,
            }]);
        }
        let selector = self.selector()?;
        Ok(usb_devices()?
            .into_iter()
            .filter(|found| selector.matches(&found.info))
            .map(|found| Listed {
                driver: found.bound_driver(),
                problem: found.problem.clone(),
                info: found.info,
            })
            .collect())
    }
}

/// Every DfuSe device on USB; an enumeration failure is a device error.
pub fn usb_devices() -> Result<Vec<dfuse::usb::Found>, CliError> {
    dfuse::usb::list().map_err(|source| {
        CliError::Device(DeviceError::Open {
            location: "USB".into(),
            source,
        })
    })
}

fn open_usb(selector: &Selector) -> Result<UsbTransport, CliError> {
    let found = usb_devices()?;
    let infos: Vec<DeviceInfo> = found.iter().map(|f| f.info.clone()).collect();
    let chosen = select(&infos, selector).map_err(|error| match error {
        SelectError::NoDevice => CliError::NoDevice(format!(
            "no DfuSe device found on USB. Simulated boards: --device sim:<chip>, one of: {}",
            chip_list()
        )),
        ambiguous @ SelectError::Ambiguous { .. } => CliError::Ambiguous(ambiguous.to_string()),
        other => CliError::NoDevice(other.to_string()),
    })?;
    let index = infos
        .iter()
        .position(|i| i.location == chosen.location)
        .unwrap_or(0);
    UsbTransport::open(&found[index]).map_err(|source| {
        CliError::Device(DeviceError::Open {
            location: chosen.location.clone(),
            source,
        })
    })
}

impl OpenDevice {
    /// The transport to run sessions on.
    pub fn transport(&mut self) -> &mut dyn Transport {
        match &mut self.backend {
            Backend::Sim(sim) => sim.as_mut(),
            Backend::Usb(usb) => usb,
        }
    }

    /// Waits until the board has reset and is back at its location (by polling: hotplug
    /// events need udev), bounded by `timeout`.
    pub fn wait_for_return(
        &mut self,
        timeout: std::time::Duration,
    ) -> Result<DeviceInfo, CliError> {
        let usb = match &mut self.backend {
            Backend::Sim(sim) => {
                sim.reconnect();
                return Ok(sim.info().clone());
            }
            Backend::Usb(usb) => usb,
        };
        let location = usb.info().location.clone();
        let old_address = usb.device_address();
        let deadline = std::time::Instant::now() + timeout;
        let mut gone = false;
        loop {
            let present = dfuse::usb::list()
                .unwrap_or_default()
                .into_iter()
                .find(|f| f.info.location == location);
            match present {
                None => gone = true,
                Some(found) if gone || found.device_address() != old_address => {
                    return Ok(found.info);
                }
                Some(_) => {}
            }
            if std::time::Instant::now() >= deadline {
                return Err(CliError::NoDevice(format!(
                    "the board at {location} did not come back within {} s",
                    timeout.as_secs()
                )));
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Leaves DFU mode, starting the firmware at `address` (default: the start of alternate
    /// setting 0's memory), then waits for the board if asked; returns the address.
    pub fn leave(
        &mut self,
        address: Option<u32>,
        wait: WaitArgs,
        reporter: &mut Reporter,
    ) -> Result<u32, CliError> {
        let address = address.unwrap_or_else(|| dfuse::profile::default_start(&self.maps()));
        let settings = self.settings()?;
        let mut on_event = |event: &Event| reporter.event(event);
        Session::open(self.transport(), 0, settings, &mut on_event)?.leave(address)?;
        reporter.message(&format!(
            "Left DFU mode: the firmware starts at {address:#010X}."
        ));
        self.wait_if_asked(wait, reporter)?;
        Ok(address)
    }

    /// With --wait, waits until the board that just reset is back, and says so.
    pub fn wait_if_asked(&mut self, wait: WaitArgs, reporter: &Reporter) -> Result<(), CliError> {
        if wait.wait {
            let back = self.wait_for_return(std::time::Duration::from_secs(wait.wait_timeout))?;
            reporter.message(&report_return(&back));
        }
        Ok(())
    }

    /// The device's identity and descriptors.
    pub fn info(&self) -> &DeviceInfo {
        match &self.backend {
            Backend::Sim(sim) => sim.info(),
            Backend::Usb(usb) => usb.info(),
        }
    }

    /// Session settings for this device, its quirks applied; refused for devices dfuse cannot flash.
    pub fn settings(&self) -> Result<Settings, CliError> {
        Ok(dfuse::profile::settings(self.info(), &self.resolution)?)
    }

    /// The alternate settings' memory maps, the device record's quirks applied.
    pub fn maps(&self) -> Vec<(u8, MemoryMap)> {
        dfuse::profile::memory_maps(self.info(), &self.resolution)
    }

    /// Resolves `--alt`: a number, or a region name (without padding) that only one setting has.
    pub fn resolve_alt(&self, alt: Option<&str>) -> Result<(u8, MemoryMap), CliError> {
        let maps = self.maps();
        let listing = || {
            maps.iter()
                .map(|(n, m)| format!("{n} ({:?})", m.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let wanted = alt.unwrap_or("0");
        let found: Vec<&(u8, MemoryMap)> = match wanted.parse::<u8>() {
            Ok(number) => maps.iter().filter(|(n, _)| *n == number).collect(),
            Err(_) => maps
                .iter()
                .filter(|(_, m)| m.name.eq_ignore_ascii_case(wanted.trim()))
                .collect(),
        };
        match found.as_slice() {
            [(alt, map)] => Ok((*alt, map.clone())),
            [] => Err(CliError::Usage(format!(
                "the device has no alternate setting {wanted:?} with a memory map; it has: {}",
                listing()
            ))),
            _ => Err(CliError::Usage(format!(
                "several alternate settings are named {wanted:?}: choose one by number ({})",
                listing()
            ))),
        }
    }

    /// Saves a simulated board's memory and request log, when asked to.
    pub fn close(self) -> Result<(), CliError> {
        let Backend::Sim(sim) = &self.backend else {
            return Ok(());
        };
        if let Some(path) = &self.state_file {
            write_atomically(path, &sim.save_state())?;
        }
        if let Some(path) = &self.log_file {
            append_log(path, sim)?;
        }
        Ok(())
    }
}

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

fn append_log(path: &Path, sim: &SimTransport) -> Result<(), CliError> {
    use std::io::Write;
    let mut text = String::new();
    for entry in sim.log() {
        let line = serde_json::json!({
            "at_us": entry.at.as_micros() as u64,
            "request": entry.request.name(),
            "value": entry.value,
            "length": entry.length,
            "command": entry.command.map(|c| c.to_string()),
            "state": entry.reply.map(|r| r.state.to_string()),
            "ok": entry.outcome.is_ok(),
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|error| CliError::Io {
            path: path.to_owned(),
            action: "write",
            error,
        })
}
