//! Simulated boards as the device facade opens them: each open is a link to
//! the same simulated chip, whose memory outlives the link (and, with
//! [`SimFiles`], the process).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use dfuse::DeviceError;
use dfuse::device::{Board, Connect, Link};
use dfuse::matching::DeviceTable;
use dfuse::protocol::Request;
use dfuse::transport::{DeviceInfo, Transport, TransportError};

use crate::{CHIPS, LogEntry, SimTransport};

/// The ids of every simulated chip (`stm32f407`, ...), in table order.
pub fn chip_ids() -> impl Iterator<Item = &'static str> {
    CHIPS.iter().map(|chip| chip.id)
}

/// The simulated chips as a comma-separated list, for help texts and messages.
pub fn chip_list() -> String {
    chip_ids().collect::<Vec<_>>().join(", ")
}

/// Files a simulated board keeps between runs.
#[derive(Clone, Debug, Default)]
pub struct SimFiles {
    /// Its memory: loaded when the board is made (if the file exists), saved when a link closes.
    pub state: Option<PathBuf>,
    /// Every request it received, appended as JSON lines when a link closes.
    pub log: Option<PathBuf>,
}

/// A simulated board that front ends list and open like a USB one.
#[derive(Clone)]
pub struct SimBoard {
    sim: Arc<Mutex<SimTransport>>,
    info: DeviceInfo,
    files: SimFiles,
}

impl SimBoard {
    /// A fresh board of the chip with this id, its memory loaded from `files.state` when that exists.
    pub fn new(chip: &str, files: SimFiles) -> Result<SimBoard, DeviceError> {
        let mut sim = SimTransport::open(chip).ok_or_else(|| {
            DeviceError::Simulator(format!(
                "there is no simulated chip {chip:?}; choose one of: {}",
                chip_list()
            ))
        })?;
        if let Some(path) = files.state.as_deref().filter(|p| p.exists()) {
            let bytes = std::fs::read(path).map_err(|e| {
                DeviceError::Simulator(format!("cannot read {}: {e}", path.display()))
            })?;
            sim.load_state(&bytes).map_err(|reason| {
                DeviceError::Simulator(format!(
                    "{} is not a state file for sim:{chip}: {reason}",
                    path.display()
                ))
            })?;
        }
        Ok(SimBoard::from_transport(sim, files))
    }

    /// A board of a simulated chip prepared by hand (faults, strings, memory).
    pub fn from_transport(sim: SimTransport, files: SimFiles) -> SimBoard {
        SimBoard {
            info: sim.info().clone(),
            sim: Arc::new(Mutex::new(sim)),
            files,
        }
    }

    /// Makes its waits take real time as well as virtual time (for people watching).
    pub fn set_real_time(&self, real_time: bool) {
        lock(&self.sim).set_real_time(real_time);
    }

    /// The simulated chip itself, to inspect its memory and log or inject faults.
    pub fn chip(&self) -> Arc<Mutex<SimTransport>> {
        Arc::clone(&self.sim)
    }

    /// The board as the device facade lists it, matched against `table`.
    pub fn board(&self, table: &DeviceTable) -> Board {
        Board::new(self.info.clone(), table, Arc::new(self.clone()))
    }
}

fn lock(sim: &Mutex<SimTransport>) -> MutexGuard<'_, SimTransport> {
    // A panic elsewhere leaves the simulated chip as usable as it was.
    sim.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Connect for SimBoard {
    /// Plugs the board back in if it had reset, as a person replugging it would.
    fn connect(&self) -> Result<Box<dyn Link>, DeviceError> {
        let mut sim = lock(&self.sim);
        if !sim.connected() {
            sim.reconnect();
        }
        drop(sim);
        Ok(Box::new(self.clone()))
    }
}

impl Transport for SimBoard {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn select_alt(&mut self, alt: u8) -> Result<(), TransportError> {
        lock(&self.sim).select_alt(alt)
    }

    fn control_out(
        &mut self,
        request: Request,
        value: u16,
        data: &[u8],
        timeout: Duration,
    ) -> Result<(), TransportError> {
        lock(&self.sim).control_out(request, value, data, timeout)
    }

    fn control_in(
        &mut self,
        request: Request,
        value: u16,
        length: u16,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        lock(&self.sim).control_in(request, value, length, timeout)
    }

    fn sleep(&mut self, duration: Duration) {
        // Not under the lock: a real-time sleep must not block the board's inspection.
        let real_time = lock(&self.sim).advance(duration);
        if real_time {
            std::thread::sleep(duration);
        }
    }

    fn now(&self) -> Duration {
        lock(&self.sim).now()
    }
}

impl Link for SimBoard {
    /// A simulated board is back as soon as it is plugged in again.
    fn wait_for_return(&mut self, _timeout: Duration) -> Result<DeviceInfo, DeviceError> {
        lock(&self.sim).reconnect();
        Ok(self.info.clone())
    }

    fn close(&mut self) -> Result<(), DeviceError> {
        let sim = lock(&self.sim);
        let saved = |path: &Path, error: std::io::Error| {
            DeviceError::Simulator(format!("cannot write {}: {error}", path.display()))
        };
        if let Some(path) = &self.files.state {
            dfuse::output::write_atomically(path, &sim.save_state()).map_err(|e| saved(path, e))?;
        }
        if let Some(path) = &self.files.log {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut file| file.write_all(log_lines(&sim).as_bytes()))
                .map_err(|e| saved(path, e))?;
        }
        Ok(())
    }
}

/// The request log as JSON lines (see [`log_line`]).
pub fn log_lines(sim: &SimTransport) -> String {
    let mut text = String::new();
    for entry in sim.log() {
        text.push_str(&log_line(entry).to_string());
        text.push('\n');
    }
    text
}

/// One logged request as JSON: time of arrival in µs, how long it waited for a running
/// operation before its answer (held_us), request, wValue, length, command, state, the
/// bwPollTimeout of a GETSTATUS reply (poll_ms), outcome.
pub fn log_line(entry: &LogEntry) -> serde_json::Value {
    serde_json::json!({
        "at_us": entry.at.as_micros() as u64,
        "held_us": entry.held.as_micros() as u64,
        "request": entry.request.name(),
        "value": entry.value,
        "length": entry.length,
        "command": entry.command.map(|c| c.to_string()),
        "state": entry.reply.map(|r| r.state.to_string()),
        "poll_ms": entry.reply.map(|r| r.poll_timeout_ms),
        "ok": entry.outcome.is_ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chip_is_listed_and_an_unknown_one_is_refused_with_the_list() {
        assert_eq!(chip_ids().count(), CHIPS.len());
        assert!(crate::chips::find("stm32f407").is_some());
        let error = SimBoard::new("stm32f999", SimFiles::default())
            .err()
            .unwrap();
        assert!(error.to_string().contains("stm32f407"), "{error}");
        assert_eq!(error.code(), "simulator");
    }
}
