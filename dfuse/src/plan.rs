//! Flash plans: from an image and a memory map to the exact erases and writes,
//! or a precise refusal before a single byte moves.

use std::collections::BTreeSet;

use dfu_file::{Image, Span};

use crate::memory_map::{MemoryMap, Segment};

/// How to plan.
#[derive(Clone, Copy, Debug)]
pub struct PlanOptions {
    /// Write into read-only or non-writable segments too.
    pub force: bool,
    /// Flash programming unit: runs in erasable memory are padded with 0xFF to it.
    pub write_unit: u32,
    /// Erase the whole flash instead of the touched sectors.
    pub mass_erase: bool,
}

impl Default for PlanOptions {
    /// Not forced, sector erase, 32-byte padding (the largest unit in use: STM32H7).
    fn default() -> Self {
        PlanOptions {
            force: false,
            write_unit: 32,
            mass_erase: false,
        }
    }
}

pub use crate::memory_map::Sector;

/// Contiguous bytes written after one set-address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteRun {
    /// First address.
    pub address: u32,
    /// The bytes, padded to the write unit where the memory is flash.
    pub data: Vec<u8>,
}

/// Everything a flash will do, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlashPlan {
    /// Erase the whole flash first.
    pub mass_erase: bool,
    /// Sectors to erase, each once, in address order.
    pub erase: Vec<Sector>,
    /// Runs to write, in address order.
    pub runs: Vec<WriteRun>,
}

impl FlashPlan {
    /// Bytes to write, padding included.
    pub fn write_len(&self) -> u64 {
        self.runs.iter().map(|r| r.data.len() as u64).sum()
    }
}

/// Why an image cannot go where it was asked to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The image holds no data.
    #[error("the image holds no data: there is nothing to flash")]
    Empty,
    /// More data than the region can hold.
    #[error("the image holds {image} bytes, but {region:?} holds only {capacity} writable bytes")]
    TooLarge {
        /// Image data bytes.
        image: u64,
        /// Writable bytes in the region.
        capacity: u64,
        /// Region name.
        region: String,
    },
    /// Data where the region has no memory.
    #[error("data at {range} lies outside {region:?}, which covers {covered}")]
    OutsideMap {
        /// The data that does not fit.
        range: Span,
        /// Region name.
        region: String,
        /// What the region covers.
        covered: String,
    },
    /// Data in a segment that must not be written.
    #[error("data at {range} falls in the {what} segment {segment} of {region:?}")]
    NotWritable {
        /// The data concerned.
        range: Span,
        /// "read-only" or "non-writable".
        what: &'static str,
        /// The segment's range.
        segment: Span,
        /// Region name.
        region: String,
    },
}

impl PlanError {
    /// A stable identifier of the kind of refusal.
    pub fn code(&self) -> &'static str {
        match self {
            PlanError::Empty => "plan-empty",
            PlanError::TooLarge { .. } => "too-large",
            PlanError::OutsideMap { .. } => "outside-map",
            PlanError::NotWritable { .. } => "not-writable",
        }
    }

    /// What the user can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            PlanError::Empty => "check that the file is the firmware you meant",
            PlanError::TooLarge { .. } => {
                "this firmware is for a larger part, or for another memory region (alternate setting)"
            }
            PlanError::OutsideMap { .. } => {
                "check the load address (raw .bin files have none of their own) and the memory region; the device's memory map shows what it has"
            }
            PlanError::NotWritable { .. } => {
                "that memory guards something (often a bootloader): write there only if you are sure"
            }
        }
    }
}

fn span_of(segment: &Segment) -> Span {
    Span {
        start: u64::from(segment.address),
        end: segment.end(),
    }
}

/// Plans writing `image` into the region described by `map`.
pub fn plan(image: &Image, map: &MemoryMap, options: &PlanOptions) -> Result<FlashPlan, PlanError> {
    if image.is_empty() {
        return Err(PlanError::Empty);
    }
    let capacity: u64 = map
        .segments
        .iter()
        .filter(|s| options.force || s.access.writable)
        .map(|s| s.end() - u64::from(s.address))
        .sum();
    if image.len() > capacity {
        return Err(PlanError::TooLarge {
            image: image.len(),
            capacity,
            region: map.name.clone(),
        });
    }
    let mut sectors = BTreeSet::new();
    let mut runs = Vec::new();
    for piece in image.segments() {
        let (start, end) = (u64::from(piece.address()), piece.end());
        let covering = map
            .sectors_covering(start, end)
            .map_err(|at| outside(map, at, end))?;
        let mut all_erasable = true;
        for (sector, segment) in covering {
            let range = Span {
                start: start.max(u64::from(segment.address)),
                end: end.min(segment.end()),
            };
            check_writable(segment, range, map, options)?;
            if segment.access.erasable {
                sectors.insert(sector);
            } else {
                all_erasable = false;
            }
        }
        let unit = if all_erasable {
            options.write_unit.max(1)
        } else {
            1
        };
        runs.push(padded(piece.address(), piece.data(), unit));
    }
    Ok(FlashPlan {
        mass_erase: options.mass_erase,
        erase: if options.mass_erase {
            Vec::new()
        } else {
            sectors.into_iter().collect()
        },
        runs: merge(runs),
    })
}

fn outside(map: &MemoryMap, at: u64, end: u64) -> PlanError {
    // Report the run of data up to the next segment, or to the end of the piece.
    let next = map
        .segments
        .iter()
        .map(|s| u64::from(s.address))
        .filter(|&start| start > at)
        .min()
        .unwrap_or(end)
        .min(end);
    let covered: Vec<String> = map
        .segments
        .iter()
        .map(|s| span_of(s).to_string())
        .collect();
    PlanError::OutsideMap {
        range: Span {
            start: at,
            end: next,
        },
        region: map.name.clone(),
        covered: covered.join(", "),
    }
}

fn check_writable(
    segment: &Segment,
    range: Span,
    map: &MemoryMap,
    options: &PlanOptions,
) -> Result<(), PlanError> {
    if options.force || segment.access.writable {
        return Ok(());
    }
    let read_only = segment.access.readable && !segment.access.erasable;
    Err(PlanError::NotWritable {
        range,
        what: if read_only {
            "read-only"
        } else {
            "non-writable"
        },
        segment: span_of(segment),
        region: map.name.clone(),
    })
}

/// The run of `data` at `address`, extended with 0xFF to whole `unit`s on both sides.
fn padded(address: u32, data: &[u8], unit: u32) -> WriteRun {
    let unit = u64::from(unit);
    let start = u64::from(address) / unit * unit;
    let end = (u64::from(address) + data.len() as u64).div_ceil(unit) * unit;
    let end = end.min(1 << 32);
    let mut bytes = vec![0xFF; (end - start) as usize];
    let offset = (u64::from(address) - start) as usize;
    bytes[offset..offset + data.len()].copy_from_slice(data);
    WriteRun {
        address: start as u32,
        data: bytes,
    }
}

/// Joins runs whose padding made them touch or overlap (overlap is only 0xFF padding).
fn merge(runs: Vec<WriteRun>) -> Vec<WriteRun> {
    let mut merged: Vec<WriteRun> = Vec::with_capacity(runs.len());
    for run in runs {
        if let Some(last) = merged.last_mut() {
            let last_end = u64::from(last.address) + last.data.len() as u64;
            if u64::from(run.address) <= last_end {
                let overlap = (last_end - u64::from(run.address)) as usize;
                for (i, &byte) in run.data.iter().enumerate() {
                    if i < overlap {
                        let at = last.data.len() - overlap + i;
                        if byte != 0xFF {
                            last.data[at] = byte;
                        }
                    } else {
                        last.data.push(byte);
                    }
                }
                continue;
            }
        }
        merged.push(run);
    }
    merged
}

#[cfg(test)]
mod tests;
