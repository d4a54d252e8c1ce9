//! Following DFU devices as they arrive and leave.

use std::time::{Duration, Instant};

use super::{Found, Listed, describe, dfu_devices};
use crate::transport::{DeviceInfo, TransportError};

/// A board arriving or leaving.
#[derive(Clone, Debug)]
pub enum Change {
    /// A DFU device appeared (or re-enumerated).
    Arrived(Box<Found>),
    /// The DFU device at this location went away.
    Left(DeviceInfo),
}

/// Follows DFU devices arriving and leaving by polling the device list.
///
/// Polling works everywhere, with or without udev, and cannot take the process
/// down (nusb's native watch aborts under Wine); a failed enumeration is simply
/// tried again at the next poll. A poll asks the operating system only: a device
/// is opened (its strings read) once, when it arrives. So boards see no requests
/// while they are watched, and a poll stays short even when a device goes away
/// in the middle of it (a long poll could miss a board that leaves and comes back).
/// A new device that refuses to be opened (permissions) is asked again at each poll and
/// reported, with that error, only once it has refused for [`PERMISSION_GRACE`].
pub struct Watcher {
    known: Vec<(Key, Known)>,
    /// Devices not reported yet because they refused to be opened, with when that began.
    refusing: Vec<(Key, Instant)>,
}

/// How long a device that has just appeared may refuse to be opened before it is reported
/// with that error: on Linux, udev grants access to a new device node a moment after the
/// kernel creates it, and a poll can fall in between.
pub const PERMISSION_GRACE: Duration = Duration::from_secs(2);

/// A device's location and bus address: the address changes at every re-enumeration.
type Key = (String, u8);

/// What a watcher keeps of a device: what it read when the device arrived, or why it could not.
type Known = (DeviceInfo, Option<TransportError>);

fn key(device: &Listed) -> Key {
    (device.info.location.clone(), device.handle.address)
}

impl Watcher {
    /// A watcher that considers the devices present now as known (reported by [`Watcher::present`]).
    pub fn new() -> Watcher {
        let known = dfu_devices()
            .unwrap_or_default()
            .into_iter()
            .map(|d| {
                let key = key(&d);
                let found = describe(d);
                (key, (found.info, found.problem))
            })
            .collect();
        Watcher {
            known,
            refusing: Vec::new(),
        }
    }

    /// A watcher that knows no device yet: its first poll reports every device present as arrived.
    pub fn empty() -> Watcher {
        Watcher {
            known: Vec::new(),
            refusing: Vec::new(),
        }
    }

    /// The devices known now, each with why its alternate settings could not be read, if so.
    pub fn present(&self) -> impl Iterator<Item = (&DeviceInfo, Option<&TransportError>)> {
        self.known
            .iter()
            .map(|(_, (info, problem))| (info, problem.as_ref()))
    }

    /// What changed since the last poll (a re-enumerated device leaves and arrives).
    pub fn poll(&mut self) -> Vec<Change> {
        let Ok(now) = dfu_devices() else {
            return Vec::new();
        };
        let now: Vec<(Key, Listed)> = now.into_iter().map(|d| (key(&d), d)).collect();
        let (stayed, gone): (Vec<_>, Vec<_>) = std::mem::take(&mut self.known)
            .into_iter()
            .partition(|(known, _)| now.iter().any(|(k, _)| k == known));
        self.known = stayed; // the arrivals are added below
        let mut changes: Vec<Change> = gone
            .into_iter()
            .map(|(_, (info, _))| Change::Left(info))
            .collect();
        let mut refusing = Vec::new();
        for (k, device) in now {
            if self.known.iter().any(|(known, _)| *known == k) {
                continue;
            }
            let found = describe(device);
            if matches!(found.problem, Some(TransportError::AccessDenied(_))) {
                let since = self
                    .refusing
                    .iter()
                    .find(|(r, _)| *r == k)
                    .map_or_else(Instant::now, |(_, since)| *since);
                if since.elapsed() < PERMISSION_GRACE {
                    refusing.push((k, since)); // asked again at the next poll
                    continue;
                }
            }
            self.known
                .push((k, (found.info.clone(), found.problem.clone())));
            changes.push(Change::Arrived(Box::new(found)));
        }
        self.refusing = refusing;
        changes
    }
}

impl Default for Watcher {
    fn default() -> Self {
        Watcher::new()
    }
}
