//! The boards the GUI knows: simulated ones given on the command line, and USB
//! boards followed by polling as they arrive and leave.

use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dfuse::matching::{DeviceTable, Interface, Resolution};
use dfuse::memory_map::MemoryMap;
use dfuse::sim::SimTransport;
use dfuse::transport::DeviceInfo;
use dfuse::usb::{Change, Found, Watcher};

/// How often the USB device list is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Where a board's requests go.
#[derive(Clone)]
pub enum Backend {
    /// A simulated board, shared with the worker while a job runs.
    Sim(Arc<Mutex<SimTransport>>),
    /// A USB board, opened for each job.
    Usb(Box<Found>),
}

/// One board in the device panel.
#[derive(Clone)]
pub struct Board {
    /// Identity, location and alternate settings.
    pub info: DeviceInfo,
    /// Which device record it matched, with the steps of the decision.
    pub resolution: Resolution,
    /// Its alternate settings' memory maps, the record's quirks applied.
    pub maps: Vec<(u8, MemoryMap)>,
    /// Why its descriptors could not be read, if they could not.
    pub problem: Option<String>,
    /// The driver Windows bound to it (Windows only).
    pub driver: Option<String>,
    /// How to reach it.
    pub backend: Backend,
}

impl Board {
    fn new(
        info: DeviceInfo,
        table: &DeviceTable,
        backend: Backend,
        problem: Option<String>,
        driver: Option<String>,
    ) -> Board {
        let resolution = table.resolve(&Interface::of(&info));
        let maps = dfuse::profile::memory_maps(&info, &resolution);
        Board {
            info,
            resolution,
            maps,
            problem,
            driver,
            backend,
        }
    }

    /// A simulated board of `chip`, whose waits take real time when `real_time`.
    pub fn simulated(chip: &str, table: &DeviceTable, real_time: bool) -> Option<Board> {
        let mut sim = SimTransport::open(chip)?;
        sim.set_real_time(real_time);
        let info = dfuse::transport::Transport::info(&sim).clone();
        Some(Board::new(
            info,
            table,
            Backend::Sim(Arc::new(Mutex::new(sim))),
            None,
            None,
        ))
    }

    fn usb(found: Found, table: &DeviceTable) -> Board {
        let problem = found.problem.clone();
        let driver = found.bound_driver();
        Board::new(
            found.info.clone(),
            table,
            Backend::Usb(Box::new(found)),
            problem,
            driver,
        )
    }

    /// The name shown for it: the record it matched, or its product string.
    pub fn title(&self) -> String {
        match (&self.resolution.chosen, &self.info.product) {
            (Some(entry), _) => entry.record.name.clone(),
            (None, Some(product)) => product.clone(),
            (None, None) => "Unknown DFU device".into(),
        }
    }

    /// The matching decision in one line, for the log.
    pub fn decision(&self) -> String {
        let interface = Interface::of(&self.info);
        match &self.resolution.chosen {
            Some(entry) => format!(
                "{interface} → {}, {}, priority {}",
                entry.record.name, entry.source, entry.priority
            ),
            None => format!("{interface} → no record matches: not a DFU interface dfuse knows"),
        }
    }
}

/// What changed in the device list, for the log.
pub enum Update {
    /// A board arrived at this location.
    Arrived(String),
    /// The board at this location left.
    Left(String),
}

/// The boards, and the USB watcher thread's channel when USB is followed.
pub struct DeviceList {
    /// The boards, simulated ones first.
    pub boards: Vec<Board>,
    table: DeviceTable,
    changes: Option<Receiver<Change>>,
}

impl DeviceList {
    /// A list holding `sims`, following USB boards too when `usb` (the watcher wakes `wake` on a change).
    pub fn new(
        sims: Vec<Board>,
        table: DeviceTable,
        usb: bool,
        wake: impl Fn() + Send + 'static,
    ) -> DeviceList {
        let changes = usb.then(|| {
            let (send, receive) = channel();
            std::thread::spawn(move || {
                // Empty at first, so the first poll announces the boards already there.
                let mut watcher = Watcher::empty();
                loop {
                    let changes = watcher.poll();
                    if !changes.is_empty() {
                        for change in changes {
                            if send.send(change).is_err() {
                                return;
                            }
                        }
                        wake();
                    }
                    std::thread::sleep(POLL_INTERVAL);
                }
            });
            receive
        });
        DeviceList {
            boards: sims,
            table,
            changes,
        }
    }

    /// The device table boards are matched against.
    pub fn table(&self) -> &DeviceTable {
        &self.table
    }

    /// Takes in what the watcher saw since the last call.
    pub fn update(&mut self) -> Vec<Update> {
        let Some(changes) = &self.changes else {
            return Vec::new();
        };
        let mut updates = Vec::new();
        while let Ok(change) = changes.try_recv() {
            match change {
                Change::Arrived(found) => {
                    let location = found.info.location.clone();
                    self.boards.retain(|b| b.info.location != location);
                    self.boards.push(Board::usb(*found, &self.table));
                    updates.push(Update::Arrived(location));
                }
                Change::Left(info) => {
                    let before = self.boards.len();
                    self.boards.retain(|b| {
                        matches!(b.backend, Backend::Sim(_)) || b.info.location != info.location
                    });
                    if self.boards.len() < before {
                        updates.push(Update::Left(info.location));
                    }
                }
            }
        }
        updates
    }
}
