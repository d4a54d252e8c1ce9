//! The device facade: one type every front end opens a board as, and asks.
//!
//! ```text
//! Board (listed) --open--> Device --plan/flash/read/erase/unprotect/leave--> events, results
//! ```
//!
//! A [`Device`] knows its [`Profile`] (identity, matching decision, memory maps
//! with the record's quirks applied) and runs every operation as a
//! [`Session`] with those settings. Progress goes to the caller's event
//! callback; a cancel flag set from another thread (Ctrl-C, a Cancel button)
//! stops an operation between two requests with the board back in dfuIDLE.

mod board;
mod many;
mod options;
mod profile;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use dfu_file::dump::DumpFormat;
use dfu_file::{DeviceIds, Firmware, Image};

pub use board::{Board, Connect, Link, boards, choose};
pub use many::{BoardEvent, BoardResult, flash_boards};
pub use options::{Applied, OptionBytes, RELOAD_TIMEOUT};
pub use profile::{PlanRequest, Profile, TargetPlan};

use crate::error::DeviceError;
use crate::matching::DeviceTable;
use crate::memory_map::Sector;
use crate::option_bytes::Layouts;
use crate::plan::MassErase;
use crate::protocol::Request;
use crate::select::Selector;
use crate::session::{Event, Phase, Session, Written};
use crate::transport::DeviceInfo;
use crate::transport::TransportError;

/// How a flash runs once planned.
#[derive(Clone, Copy, Debug)]
pub struct FlashOptions {
    /// Read every target back and compare.
    pub verify: bool,
    /// Leave DFU mode afterwards, starting the firmware at this address
    /// (`Some(None)`: at the default start).
    pub leave: Option<Option<u32>>,
}

impl Default for FlashOptions {
    /// Verify, stay in DFU mode.
    fn default() -> Self {
        FlashOptions {
            verify: true,
            leave: None,
        }
    }
}

/// What to flash onto a board and how: the same for one board or many.
#[derive(Clone, Copy, Debug)]
pub struct FlashJob<'a> {
    /// The firmware.
    pub firmware: &'a Firmware,
    /// How to place it.
    pub request: PlanRequest,
    /// Read the touched sectors first and leave alone those already right
    /// (see [`Device::compare`]); `false` erases and writes everything touched.
    pub incremental: bool,
    /// Verify and leave.
    pub options: FlashOptions,
}

/// A range where the device's memory differs from a firmware file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The alternate setting.
    pub alt: u8,
    /// First differing address.
    pub start: u64,
    /// One past the last differing address of the range.
    pub end: u64,
}

/// How writing one target ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flashed {
    /// Written and read back identical.
    Verified,
    /// Written; not read back because the caller asked so.
    NotVerified,
    /// Written, then the device reset itself (option bytes): nothing to read back.
    DeviceReset,
}

impl TargetPlan {
    /// How flashing this target went, in a few words: "1 sector erased, 5 sectors
    /// unchanged (skipped), 16384 bytes written, verified".
    pub fn summary(&self, flashed: Flashed) -> String {
        let plan = &self.plan;
        let mut parts = Vec::new();
        if plan.mass_erase.is_some() {
            parts.push("after a mass erase".to_string());
        } else if !plan.erase.is_empty() {
            parts.push(format!("{} erased", count(plan.erase.len(), "sector")));
        }
        if !plan.unchanged().is_empty() {
            parts.push(format!(
                "{} unchanged (skipped)",
                count(plan.unchanged().len(), "sector")
            ));
        }
        if !plan.blank().is_empty() {
            parts.push(format!(
                "{} already blank",
                count(plan.blank().len(), "sector")
            ));
        }
        match plan.write_len() {
            0 => parts.push("nothing written".into()),
            bytes if bytes != self.bytes => parts.push(format!("{bytes} bytes written")),
            _ => {}
        }
        parts.push(
            match flashed {
                Flashed::Verified => "verified",
                Flashed::NotVerified => "not verified",
                Flashed::DeviceReset => "not verified (the device reset)",
            }
            .into(),
        );
        parts.join(", ")
    }
}

/// "1 sector", "2 sectors": a count for people, as every front end words it.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// What a flash did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlashReport {
    /// Each target with how it ended, in the order written.
    pub targets: Vec<(TargetPlan, Flashed)>,
    /// Where the firmware was started, when the flash left DFU mode.
    pub started_at: Option<u32>,
}

/// What an erase did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Erased {
    /// These sectors were erased.
    Sectors(Vec<Sector>),
    /// The whole flash was erased.
    All,
}

/// An open board: a profile and a link, and the operations a front end asks for.
pub struct Device {
    profile: Profile,
    link: Box<dyn Link>,
    cancel: Option<Arc<AtomicBool>>,
    /// Set by [`Device::use_layouts`], or the built-in ones, parsed when first needed (not for
    /// every flash: parsing them is a good part of a flash's start-up on a slow machine).
    layouts: std::sync::OnceLock<Layouts>,
}

impl Device {
    /// A device on an open link.
    pub fn new(profile: Profile, link: Box<dyn Link>) -> Device {
        Device {
            profile,
            link,
            cancel: None,
            layouts: std::sync::OnceLock::new(),
        }
    }

    /// Option-byte layouts to use instead of the built-in ones (a user's file first).
    pub fn use_layouts(&mut self, layouts: Layouts) {
        self.layouts = std::sync::OnceLock::from(layouts);
    }

    /// Opens the one USB board `selector` picks, matched against `table`.
    pub fn open(selector: &Selector, table: &DeviceTable) -> Result<Device, DeviceError> {
        choose(boards(table)?, selector)?.open()
    }

    /// Every operation from now on stops between two requests once `flag` is set.
    pub fn cancel_on(&mut self, flag: Arc<AtomicBool>) {
        self.cancel = Some(flag);
    }

    /// Identity, matching decision and memory maps.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Its identity and descriptors.
    pub fn info(&self) -> &DeviceInfo {
        &self.profile.info
    }

    fn session<'a>(
        &'a mut self,
        alt: u8,
        events: &'a mut dyn FnMut(&Event),
    ) -> Result<Session<'a, dyn Link>, DeviceError> {
        let settings = self.profile.settings()?;
        let session = Session::open(self.link.as_mut(), alt, settings, events)?;
        Ok(match &self.cancel {
            Some(flag) => session.cancel_on(Arc::clone(flag)),
            None => session,
        })
    }

    /// Plans `job` for this board and, when incremental, compares it with what
    /// the board holds: the plans [`Device::flash`] then carries out.
    pub fn prepare(
        &mut self,
        job: &FlashJob,
        events: &mut dyn FnMut(&Event),
    ) -> Result<Vec<TargetPlan>, DeviceError> {
        let plans = self.profile.plan(job.firmware, &job.request)?;
        if job.incremental {
            self.compare(&plans, events)
        } else {
            Ok(plans)
        }
    }

    /// Compares the board with `firmware` without writing anything: reads every
    /// byte the file holds (where [`Profile::plan`] would put it) and returns the
    /// ranges that differ, none when the board holds the file.
    pub fn differences(
        &mut self,
        firmware: &Firmware,
        request: &PlanRequest,
        events: &mut dyn FnMut(&Event),
    ) -> Result<Vec<Difference>, DeviceError> {
        let plans = self.profile.plan(firmware, request)?;
        let total: u64 = firmware.targets.iter().map(|t| t.image.len()).sum();
        events(&Event::Begin {
            phase: Phase::Verify,
            total,
        });
        let mut done = 0;
        let mut differences = Vec::new();
        for (target, plan) in firmware.targets.iter().zip(&plans) {
            let alt = plan.alt;
            for segment in target.image.segments() {
                let mut quiet = |_: &Event| {};
                let read = self.session(alt, &mut quiet)?.upload(
                    segment.address(),
                    segment.len() as u64,
                    Phase::Verify,
                )?;
                let mut open: Option<Difference> = None;
                for (i, expected) in segment.data().iter().enumerate() {
                    let address = u64::from(segment.address()) + i as u64;
                    if read.get(i) == Some(expected) {
                        differences.extend(open.take());
                    } else {
                        let range = open.get_or_insert(Difference {
                            alt,
                            start: address,
                            end: address,
                        });
                        range.end = address + 1;
                    }
                }
                differences.extend(open);
                done += segment.len() as u64;
                events(&Event::Progress {
                    phase: Phase::Verify,
                    done,
                });
            }
        }
        events(&Event::End {
            phase: Phase::Verify,
        });
        Ok(differences)
    }

    /// Reads the sectors each target touches and returns the plans with those
    /// already right left out (incremental flash). A target whose memory the
    /// device refuses to read (read protection) keeps its full plan, with the reason.
    pub fn compare(
        &mut self,
        targets: &[TargetPlan],
        events: &mut dyn FnMut(&Event),
    ) -> Result<Vec<TargetPlan>, DeviceError> {
        let mut compared = Vec::with_capacity(targets.len());
        for target in targets {
            let plan = &target.plan;
            let plan = if plan.sectors.is_empty() || plan.mass_erase == Some(MassErase::Asked) {
                plan.clone()
            } else {
                match self
                    .session(target.alt, events)?
                    .read_sectors(&plan.sectors)
                {
                    Ok(contents) => plan.after_reading(&contents),
                    Err(error) if refused_read(&error) => plan.unreadable(error.to_string()),
                    Err(error) => return Err(error),
                }
            };
            compared.push(TargetPlan {
                plan,
                ..target.clone()
            });
        }
        Ok(compared)
    }

    /// Erases and writes every planned target, verifies each unless told not to,
    /// then leaves DFU mode when asked.
    pub fn flash(
        &mut self,
        targets: &[TargetPlan],
        options: &FlashOptions,
        events: &mut dyn FnMut(&Event),
    ) -> Result<FlashReport, DeviceError> {
        let mut report = FlashReport {
            targets: Vec::new(),
            started_at: None,
        };
        for target in targets {
            let plan = &target.plan;
            if plan.erase.is_empty() && plan.mass_erase.is_none() && plan.write_len() == 0 {
                // Every sector already holds its bytes, as the comparison read back.
                let flashed = if options.verify {
                    Flashed::Verified
                } else {
                    Flashed::NotVerified
                };
                report.targets.push((target.clone(), flashed));
                continue;
            }
            let mut session = self.session(target.alt, events)?;
            let flashed = session.download(plan).and_then(|written| {
                if written == Written::DeviceReset {
                    Ok(Flashed::DeviceReset)
                } else if options.verify {
                    session.verify(plan).map(|()| Flashed::Verified)
                } else {
                    Ok(Flashed::NotVerified)
                }
            });
            drop(session);
            let flashed =
                flashed.map_err(|error| self.explain_refusal(target.alt, &plan.sectors, error))?;
            report.targets.push((target.clone(), flashed));
        }
        if let Some(address) = options.leave {
            report.started_at = Some(self.leave(address, events)?);
        }
        Ok(report)
    }

    /// Refuses, before any request, a read of `length` bytes at `address` of
    /// `alt` that is not all readable memory of its map.
    pub fn check_readable(&self, alt: u8, address: u32, length: u64) -> Result<(), DeviceError> {
        let map = self.profile.map(alt)?;
        let start = u64::from(address);
        let end = start + length.max(1);
        let refuse = |why| DeviceError::NotReadable {
            start,
            last: end - 1,
            region: map.name.clone(),
            why,
            covered: covered(map),
        };
        let covering = map
            .sectors_covering(start, end)
            .map_err(|_| refuse("there is no memory there"))?;
        if covering.iter().any(|(_, segment)| !segment.access.readable) {
            return Err(refuse("that memory is not readable"));
        }
        Ok(())
    }

    /// Reads `length` bytes at `address` of alternate setting `alt`; all of them or an error.
    /// A range outside the memory map is refused before any request.
    pub fn read(
        &mut self,
        alt: u8,
        address: u32,
        length: u64,
        events: &mut dyn FnMut(&Event),
    ) -> Result<Vec<u8>, DeviceError> {
        self.check_readable(alt, address, length)?;
        let data = self
            .session(alt, events)?
            .upload(address, length, Phase::Read)?;
        if (data.len() as u64) < length {
            let at = u64::from(address) + data.len() as u64;
            let memory_goes_on = self
                .profile
                .map(alt)
                .is_ok_and(|map| map.sectors_covering(at, at + 1).is_ok());
            if memory_goes_on {
                return Err(DeviceError::ShortUpload {
                    alt,
                    at,
                    read: data.len() as u64,
                    wanted: length,
                });
            }
            return Err(DeviceError::ShortRead {
                alt,
                end: at,
                read: data.len() as u64,
                wanted: length,
            });
        }
        Ok(data)
    }

    /// Reads every segment of alternate setting `alt` whole: (segment address, bytes) each.
    pub fn read_region(
        &mut self,
        alt: u8,
        events: &mut dyn FnMut(&Event),
    ) -> Result<Vec<(u32, Vec<u8>)>, DeviceError> {
        let segments = self.profile.map(alt)?.segments.clone();
        let mut pieces = Vec::new();
        for segment in segments {
            let length = segment.end() - u64::from(segment.address);
            pieces.push((
                segment.address,
                self.read(alt, segment.address, length, events)?,
            ));
        }
        Ok(pieces)
    }

    /// Reads `length` bytes at `address` of `alt` into `path`, in the format its
    /// extension names, written whole or not at all.
    pub fn read_to_file(
        &mut self,
        alt: u8,
        address: u32,
        length: u64,
        path: &Path,
        events: &mut dyn FnMut(&Event),
    ) -> Result<(), DeviceError> {
        let format = DumpFormat::of(path).map_err(|reason| DeviceError::Output {
            path: path.to_owned(),
            reason,
        })?;
        // Everything that can be checked first: the range, and that the file can be written.
        self.check_readable(alt, address, length)?;
        crate::output::check_writable(path).map_err(|error| DeviceError::Output {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
        let data = self.read(alt, address, length, events)?;
        let info = self.info();
        let ids = DeviceIds {
            vid: info.vid,
            pid: info.pid,
            bcd_device: info.bcd_device,
        };
        let output = |reason: String| DeviceError::Output {
            path: path.to_owned(),
            reason,
        };
        let image = Image::from_pieces([(address, data)]).map_err(|e| output(e.to_string()))?;
        let bytes =
            dfu_file::dump::encode(format, alt, image, ids).map_err(|e| output(e.to_string()))?;
        crate::output::write_atomically(path, &bytes).map_err(|error| DeviceError::Save {
            path: path.to_owned(),
            source: Arc::new(error),
        })
    }

    /// Erases the sectors covering `address..address+length` of `alt`, or the whole flash when `range` is `None`.
    pub fn erase(
        &mut self,
        alt: u8,
        range: Option<(u32, u64)>,
        events: &mut dyn FnMut(&Event),
    ) -> Result<Erased, DeviceError> {
        let Some((address, length)) = range else {
            let erased = self.session(alt, events)?.mass_erase();
            return match erased {
                Ok(()) => Ok(Erased::All),
                Err(error) => Err(self.explain_refusal(alt, &[], error)),
            };
        };
        let map = self.profile.map(alt)?;
        let start = u64::from(address);
        let covering =
            map.sectors_covering(start, start + length)
                .map_err(|at| DeviceError::NotErasable {
                    address: at,
                    region: map.name.clone(),
                    why: "there is no memory there",
                })?;
        if let Some((sector, _)) = covering.iter().find(|(_, s)| !s.access.erasable) {
            return Err(DeviceError::NotErasable {
                address: u64::from(sector.address).max(start),
                region: map.name.clone(),
                why: "the memory is not erasable",
            });
        }
        let sectors: Vec<Sector> = covering.into_iter().map(|(sector, _)| sector).collect();
        self.erase_sectors(alt, &sectors, events)
    }

    /// Erases `sectors` of `alt` (as a plan lists them), each once.
    pub fn erase_sectors(
        &mut self,
        alt: u8,
        sectors: &[Sector],
        events: &mut dyn FnMut(&Event),
    ) -> Result<Erased, DeviceError> {
        match self.session(alt, events)?.erase(sectors) {
            Ok(()) => Ok(Erased::Sectors(sectors.to_vec())),
            Err(error) => Err(self.explain_refusal(alt, sectors, error)),
        }
    }

    /// Removes read protection: the chip erases itself and resets.
    pub fn unprotect(&mut self, events: &mut dyn FnMut(&Event)) -> Result<(), DeviceError> {
        self.session(0, events)?.read_unprotect()
    }

    /// Leaves DFU mode, starting the firmware at `address` (default: the start of
    /// alternate setting 0's memory); returns the address.
    pub fn leave(
        &mut self,
        address: Option<u32>,
        events: &mut dyn FnMut(&Event),
    ) -> Result<u32, DeviceError> {
        let address = address.unwrap_or_else(|| self.profile.default_start());
        self.session(0, events)?.leave(address)?;
        Ok(address)
    }

    /// Waits until the board, which has just reset, is back; returns its identity then.
    pub fn wait_for_return(&mut self, timeout: Duration) -> Result<&DeviceInfo, DeviceError> {
        let info = self.link.wait_for_return(timeout)?;
        self.profile.info = info;
        Ok(&self.profile.info)
    }

    /// Done with the board: a simulated board saves its state.
    pub fn close(mut self) -> Result<(), DeviceError> {
        self.link.close()
    }
}

/// The address ranges `map` covers, adjacent segments joined: "0x08000000-0x080FFFFF".
fn covered(map: &crate::memory_map::MemoryMap) -> String {
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for segment in &map.segments {
        let (start, end) = (u64::from(segment.address), segment.end());
        match ranges.last_mut() {
            Some(last) if last.1 == start => last.1 = end,
            _ => ranges.push((start, end)),
        }
    }
    ranges
        .iter()
        .map(|(start, end)| format!("{start:#010X}-{:#010X}", end - 1))
        .collect::<Vec<_>>()
        .join(", ")
}

/// True when the device refused an upload (read protection) rather than failed.
fn refused_read(error: &DeviceError) -> bool {
    matches!(
        error,
        DeviceError::Transport {
            request: Request::Upload,
            source: TransportError::Stall,
            ..
        } | DeviceError::Status { .. }
    )
}
