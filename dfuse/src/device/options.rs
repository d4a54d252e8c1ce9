//! Option bytes on a board: the family's layout and the alternate setting
//! holding it, reading, writing (the board resets to load them), and turning
//! a refused erase into the write protection behind it.

use std::time::Duration;

use super::{Device, Profile};
use crate::error::DeviceError;
use crate::memory_map::Sector;
use crate::option_bytes::{Allow, Image, Layout, Layouts, OptionBytesError};
use crate::plan::{PlanOptions, plan};
use crate::protocol::Status;
use crate::session::{Event, Written};

/// Option bytes as read from a board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionBytes {
    /// The family's layout.
    pub layout: Layout,
    /// The alternate setting holding them.
    pub alt: u8,
    /// The bytes.
    pub image: Image,
}

/// What a change of option bytes did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The board reset to load them.
    pub reset: bool,
    /// The option bytes read back, or `None` when read protection now hides
    /// them (most ST ROMs refuse every read at level 1).
    pub back: Option<OptionBytes>,
}

/// How long a board may take to come back after its option bytes were written.
pub const RELOAD_TIMEOUT: Duration = Duration::from_secs(10);

impl Profile {
    /// The first of `layouts` for this chip, and the alternate setting holding its option bytes.
    pub fn option_layout(&self, layouts: &Layouts) -> Result<(Layout, u8), DeviceError> {
        let identity = self.identity();
        let layout = identity
            .family
            .as_deref()
            .and_then(|family| layouts.for_chip(family))
            .ok_or_else(|| OptionBytesError::NoLayout {
                chip: identity.summary(),
            })?;
        let address = u64::from(layout.rdp_word());
        let alt = self
            .maps()
            .iter()
            .find(|(_, map)| map.segment_at(address).is_some())
            .map(|(alt, _)| *alt)
            .ok_or_else(|| OptionBytesError::NoRegion {
                family: layout.family.clone(),
                address: layout.rdp_word(),
            })?;
        Ok((layout.clone(), alt))
    }
}

impl Device {
    /// The layout of this chip's option bytes and the alternate setting that holds them.
    pub fn option_layout(&self) -> Result<(Layout, u8), DeviceError> {
        self.profile
            .option_layout(self.layouts.get_or_init(Layouts::built_in))
    }

    /// Reads the option bytes: every segment of their alternate setting.
    pub fn read_option_bytes(
        &mut self,
        events: &mut dyn FnMut(&Event),
    ) -> Result<OptionBytes, DeviceError> {
        let (layout, alt) = self.option_layout()?;
        self.read_option_bytes_as(layout, alt, events)
    }

    /// Reads the option bytes of `alt` as `layout` describes them.
    fn read_option_bytes_as(
        &mut self,
        layout: Layout,
        alt: u8,
        events: &mut dyn FnMut(&Event),
    ) -> Result<OptionBytes, DeviceError> {
        Ok(OptionBytes {
            layout,
            alt,
            image: Image {
                pieces: self.read_region(alt, events)?,
            },
        })
    }

    /// Writes `after` over the option bytes read as `read`, once the change
    /// passes the safety rules `allow` relaxes. Each changed segment is written
    /// whole; the board resets to load it, and is waited for before the next.
    /// Returns whether the board reset (nothing is sent when nothing changes).
    pub fn write_option_bytes(
        &mut self,
        read: &OptionBytes,
        after: &Image,
        allow: Allow,
        events: &mut dyn FnMut(&Event),
    ) -> Result<bool, DeviceError> {
        read.layout.check(&read.image, after, allow)?;
        let changed: Vec<&(u32, Vec<u8>)> = after
            .pieces
            .iter()
            .filter(|piece| !read.image.pieces.contains(piece))
            .collect();
        let mut reset = false;
        for (address, bytes) in changed {
            if reset {
                self.wait_for_return(RELOAD_TIMEOUT)?;
            }
            let image = dfu_file::Image::from_pieces([(*address, bytes.clone())])
                .map_err(|e| DeviceError::Target(e.to_string()))?;
            let map = self.profile.map(read.alt)?;
            let plan = plan(&image, map, &PlanOptions::default())?;
            let written = self.session(read.alt, events)?.download(&plan)?;
            reset = written == Written::DeviceReset;
        }
        Ok(reset)
    }

    /// Changes the option bytes read as `read` to `after`: checks the rules,
    /// writes, waits for the board to come back from its reset, and reads them
    /// again; a field that does not hold its new value then is an error.
    pub fn apply_option_bytes(
        &mut self,
        read: &OptionBytes,
        after: &Image,
        allow: Allow,
        events: &mut dyn FnMut(&Event),
    ) -> Result<Applied, DeviceError> {
        let reset = self.write_option_bytes(read, after, allow, events)?;
        if reset {
            self.wait_for_return(RELOAD_TIMEOUT)?;
        }
        let back = match self.read_option_bytes_as(read.layout.clone(), read.alt, events) {
            Ok(back) => back,
            Err(error)
                if error.code() == "read-protected" && read.layout.rdp_level(after) != Some(0) =>
            {
                return Ok(Applied { reset, back: None });
            }
            Err(error) => return Err(error),
        };
        if let Some((found, wanted)) = read.layout.changes(&back.image, after).first() {
            return Err(OptionBytesError::NotApplied {
                field: found.name.clone(),
                found: found.value.clone(),
                wanted: wanted.value.clone(),
            }
            .into());
        }
        Ok(Applied {
            reset,
            back: Some(back),
        })
    }

    /// After a failed erase or write of `sectors` of alternate setting 0:
    /// the write protection behind it, when the option bytes show one.
    pub(super) fn explain_refusal(
        &mut self,
        alt: u8,
        sectors: &[Sector],
        error: DeviceError,
    ) -> DeviceError {
        let refused = matches!(
            &error,
            DeviceError::Status { status, .. } if *status != Status::ErrVendor
        );
        if alt != 0 || !refused {
            return error;
        }
        let Ok(read) = self.read_option_bytes(&mut |_| {}) else {
            return error;
        };
        let Ok(map) = self.profile.map(0) else {
            return error;
        };
        let numbered: Vec<(u32, Sector)> = map
            .sectors()
            .enumerate()
            .map(|(i, (sector, _))| (i as u32, sector))
            .collect();
        let protected = numbered.iter().find_map(|(number, sector)| {
            let touched = sectors.is_empty() || sectors.contains(sector);
            let field = read.layout.protecting(&read.image, *number)?;
            touched.then(|| (*number, sector.address, field.name.clone()))
        });
        match protected {
            Some((sector, address, field)) => DeviceError::WriteProtected {
                sector,
                address,
                field,
                family: read.layout.family,
            },
            None => error,
        }
    }
}
