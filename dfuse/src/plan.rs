//! Flash plans: from an image and a memory map to the exact erases and writes,
//! or a precise refusal before a single byte moves.

use std::borrow::Cow;
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
    /// The region is the flash a mass erase clears: when the image touches every
    /// sector of it, one mass erase replaces the sector erases.
    pub mass_erase_covers_region: bool,
}

impl Default for PlanOptions {
    /// Not forced, sector erase, 32-byte padding (the largest unit in use: STM32H7).
    fn default() -> Self {
        PlanOptions {
            force: false,
            write_unit: 32,
            mass_erase: false,
            mass_erase_covers_region: false,
        }
    }
}

/// Why a plan erases the whole flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MassErase {
    /// The caller asked for it.
    Asked,
    /// The image touches every sector: one mass erase is quicker than erasing each.
    EverySector,
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
    /// Erase the whole flash first, and why.
    pub mass_erase: Option<MassErase>,
    /// Sectors to erase one by one, in address order (none with a mass erase).
    pub erase: Vec<Sector>,
    /// The image's runs, in address order; every one is verified.
    pub runs: Vec<WriteRun>,
    /// Every erasable sector the image touches, in address order.
    pub sectors: Vec<Sector>,
    /// The runs lie in erasable memory (flash). Outside it (option bytes), a
    /// device that resets after the last block has succeeded.
    pub in_flash: bool,
    /// `sectors` is the whole of a flash that one mass erase clears.
    pub whole_flash: bool,
    /// What reading the sectors before erasing found (incremental flash).
    pub found: Found,
}

/// What the device held in a plan's sectors before anything was erased.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Found {
    /// Not read: every touched sector is erased and written.
    #[default]
    NotRead,
    /// Read and compared with the image.
    Read {
        /// Sectors already holding exactly what a full flash would leave: neither erased nor written.
        unchanged: Vec<Sector>,
        /// Sectors already erased: written without an erase.
        blank: Vec<Sector>,
    },
    /// The device refused to be read (read protection): flashed in full.
    Unreadable(String),
}

impl FlashPlan {
    /// Sectors left alone because they already hold their bytes.
    pub fn unchanged(&self) -> &[Sector] {
        match &self.found {
            Found::Read { unchanged, .. } => unchanged,
            _ => &[],
        }
    }

    /// Sectors written without an erase because they are already blank.
    pub fn blank(&self) -> &[Sector] {
        match &self.found {
            Found::Read { blank, .. } => blank,
            _ => &[],
        }
    }

    /// The runs to write: the image's runs without the unchanged sectors.
    pub fn writes(&self) -> Cow<'_, [WriteRun]> {
        match self.unchanged() {
            [] => Cow::Borrowed(&self.runs),
            unchanged => Cow::Owned(compare::without(&self.runs, unchanged)),
        }
    }

    /// Bytes to write, padding included.
    pub fn write_len(&self) -> u64 {
        self.writes().iter().map(|r| r.data.len() as u64).sum()
    }

    /// Bytes of the image's runs, padding included: what a verify covers.
    pub fn image_len(&self) -> u64 {
        self.runs.iter().map(|r| r.data.len() as u64).sum()
    }

    /// The plan once the device's `contents` of every sector in `sectors` (same order) are known.
    pub fn after_reading(&self, contents: &[Vec<u8>]) -> FlashPlan {
        compare::after_reading(self, contents)
    }

    /// The plan flashed in full because the device could not be read, with the reason.
    pub fn unreadable(&self, reason: String) -> FlashPlan {
        FlashPlan {
            found: Found::Unreadable(reason),
            ..self.clone()
        }
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
    let mut in_flash = true;
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
        in_flash &= all_erasable;
        let unit = if all_erasable {
            options.write_unit.max(1)
        } else {
            1
        };
        runs.push(padded(piece.address(), piece.data(), unit));
    }
    let sectors: Vec<Sector> = sectors.into_iter().collect();
    let whole_flash = options.mass_erase_covers_region
        && !sectors.is_empty()
        && sectors.len() == map.sectors().count();
    let mass_erase = if options.mass_erase {
        Some(MassErase::Asked)
    } else {
        whole_flash.then_some(MassErase::EverySector)
    };
    Ok(FlashPlan {
        mass_erase,
        erase: if mass_erase.is_some() {
            Vec::new()
        } else {
            sectors.clone()
        },
        runs: merge(runs),
        sectors,
        in_flash,
        whole_flash,
        found: Found::NotRead,
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

mod compare;
#[cfg(test)]
mod tests;
