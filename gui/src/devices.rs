//! The boards the GUI knows: simulated ones given on the command line, and USB
//! boards followed by polling as they arrive and leave. Each is a
//! [`dfuse::Board`], opened through the device facade for every job.

use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use dfuse::Board;
use dfuse::matching::DeviceTable;
use dfuse::usb::{Change, Watcher};

/// How often the USB device list is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

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
    /// The simulated boards, in the order they lead `boards` (they never leave).
    #[cfg(feature = "sim")]
    sims: Vec<dfuse_sim::SimBoard>,
    table: DeviceTable,
    changes: Option<Receiver<Change>>,
}

impl DeviceList {
    /// A list holding simulated boards of `chips` (their waits in real time when
    /// `real_time`), following USB boards too when `usb` (the watcher wakes
    /// `wake` on a change). Returns the chips that could not be simulated, with why.
    pub fn new(
        chips: &[String],
        real_time: bool,
        table: DeviceTable,
        usb: bool,
        wake: impl Fn() + Send + 'static,
    ) -> (DeviceList, Vec<String>) {
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
        let mut list = DeviceList {
            boards: Vec::new(),
            #[cfg(feature = "sim")]
            sims: Vec::new(),
            table,
            changes,
        };
        let refused = chips
            .iter()
            .filter_map(|chip| list.simulate(chip, real_time).err())
            .collect();
        (list, refused)
    }

    #[cfg(feature = "sim")]
    fn simulate(&mut self, chip: &str, real_time: bool) -> Result<(), String> {
        let sim = dfuse_sim::SimBoard::new(chip, dfuse_sim::SimFiles::default())
            .map_err(|e| crate::words::capitalised(&e.to_string()))?;
        sim.set_real_time(real_time);
        self.boards.insert(self.simulated(), sim.board(&self.table));
        self.sims.push(sim);
        Ok(())
    }

    #[cfg(not(feature = "sim"))]
    fn simulate(&mut self, chip: &str, _real_time: bool) -> Result<(), String> {
        Err(format!(
            "There is no simulated board {chip:?}: this dfuse-gui was built without simulated boards."
        ))
    }

    /// How many of the first boards are simulated.
    fn simulated(&self) -> usize {
        #[cfg(feature = "sim")]
        return self.sims.len();
        #[cfg(not(feature = "sim"))]
        0
    }

    /// The simulated chip at `location`, to inspect or inject faults (tests, benchmarks).
    #[cfg(feature = "sim")]
    pub fn simulated_chip(
        &self,
        location: &str,
    ) -> Option<std::sync::Arc<std::sync::Mutex<dfuse_sim::SimTransport>>> {
        let index = self.boards[..self.simulated()]
            .iter()
            .position(|b| b.info().location == location)?;
        self.sims.get(index).map(dfuse_sim::SimBoard::chip)
    }

    /// Reads the USB boards again in place (after a driver change: their driver and
    /// memory map may differ now). A board no longer listed stays until the watcher says
    /// it left.
    pub fn rescan_usb(&mut self) {
        let Ok(found) = dfuse::usb::list() else {
            return;
        };
        let simulated = self.simulated();
        for found in found {
            let location = found.info.location.clone();
            let fresh = Board::usb(found, &self.table);
            match self.boards[simulated..]
                .iter_mut()
                .find(|board| board.info().location == location)
            {
                Some(board) => *board = fresh,
                None => self.boards.push(fresh),
            }
        }
    }

    /// Takes in what the watcher saw since the last call.
    pub fn update(&mut self) -> Vec<Update> {
        let Some(changes) = &self.changes else {
            return Vec::new();
        };
        let simulated = self.simulated();
        let mut updates = Vec::new();
        while let Ok(change) = changes.try_recv() {
            let location = match &change {
                Change::Arrived(found) => found.info.location.clone(),
                Change::Left(info) => info.location.clone(),
            };
            let before = self.boards.len();
            let mut index = 0;
            self.boards.retain(|b| {
                index += 1;
                index <= simulated || b.info().location != location
            });
            match change {
                Change::Arrived(found) => {
                    self.boards.push(Board::usb(*found, &self.table));
                    updates.push(Update::Arrived(location));
                }
                Change::Left(_) if self.boards.len() < before => {
                    updates.push(Update::Left(location))
                }
                Change::Left(_) => {}
            }
        }
        updates
    }
}
