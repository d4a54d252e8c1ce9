//! Ranking INF entries against a device the way Windows picks a driver.

use crate::ids::UsbIds;
use crate::inf::{Entry, Inf};

/// Which of the device's ID lists matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IdKind {
    /// One of the device's hardware IDs: always preferred.
    Hardware,
    /// One of its compatible IDs.
    Compatible,
}

/// An INF entry that would bind the device, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match<'a> {
    /// The entry.
    pub entry: &'a Entry,
    /// The device ID that matched.
    pub id: String,
    /// Which list it came from.
    pub kind: IdKind,
    /// Its position in that list (0 = most specific).
    pub position: usize,
    /// Its position on the INF line (0 = the entry's hardware ID).
    pub inf_position: usize,
}

impl Match<'_> {
    /// Windows' order: hardware before compatible, earlier device ID before later, the
    /// entry's own hardware ID before its compatible IDs. Lower is better.
    pub fn rank(&self) -> (IdKind, usize, usize) {
        (self.kind, self.position, self.inf_position)
    }

    /// A sentence saying why this entry matches.
    pub fn explain(&self) -> String {
        let kind = match self.kind {
            IdKind::Hardware => "hardware ID",
            IdKind::Compatible => "compatible ID",
        };
        format!(
            "[{}] {:?} ({}) matches the device's {kind} #{} {}",
            self.entry.section,
            self.entry.description,
            self.entry.install,
            self.position + 1,
            self.id
        )
    }
}

/// Every entry of models sections whose name ends with `decoration` (e.g. `NTamd64`) that
/// matches the device, best first.
pub fn rank<'a>(inf: &'a Inf, device: &UsbIds, decoration: &str) -> Vec<Match<'a>> {
    let lists = [
        (IdKind::Hardware, device.hardware_ids()),
        (IdKind::Compatible, device.compatible_ids()),
    ];
    let mut matches = Vec::new();
    for entry in inf.entries.iter().filter(|e| {
        e.section
            .to_ascii_lowercase()
            .ends_with(&decoration.to_ascii_lowercase())
    }) {
        let best = lists
            .iter()
            .flat_map(|(kind, ids)| {
                ids.iter()
                    .enumerate()
                    .map(move |(position, id)| (*kind, position, id))
            })
            .flat_map(|(kind, position, id)| {
                entry
                    .ids
                    .iter()
                    .position(|inf_id| inf_id.eq_ignore_ascii_case(id))
                    .map(|inf_position| Match {
                        entry,
                        id: id.clone(),
                        kind,
                        position,
                        inf_position,
                    })
            })
            .min_by_key(Match::rank);
        matches.extend(best);
    }
    matches.sort_by_key(Match::rank);
    matches
}

#[cfg(test)]
mod tests;
