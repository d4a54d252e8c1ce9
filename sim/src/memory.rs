//! The memory behind a simulated chip's alternate settings.

use crate::chips::{Chip, RegionKind};
use dfuse::memory_map::{self, MemoryMap, Segment};

/// One alternate setting's memory: its map and a byte store per segment.
#[derive(Clone, Debug)]
pub struct RegionMemory {
    /// How the region behaves.
    pub kind: RegionKind,
    /// The layout the string describes.
    pub map: MemoryMap,
    /// Contents, one buffer per map segment.
    pub data: Vec<Vec<u8>>,
}

/// Why an access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The address is outside the region.
    OutOfRange,
    /// The region does not allow this access.
    NotAllowed,
    /// Flash that is not erased.
    NotErased,
}

impl RegionMemory {
    /// The region of `kind` laid out as `string` says, erased, then the `initial` (address, bytes) pieces.
    pub fn new(string: &str, kind: RegionKind, initial: &[(u32, &[u8])]) -> RegionMemory {
        let map = memory_map::parse(string).map(|p| p.map).unwrap_or_default();
        let data = map
            .segments
            .iter()
            .map(|s| vec![0xFF; (s.end() - u64::from(s.address)) as usize])
            .collect();
        let mut region = RegionMemory { kind, map, data };
        for (address, bytes) in initial {
            region.poke(*address, bytes);
        }
        region
    }

    /// Every region of `chip`, one per alternate setting.
    pub fn for_chip(chip: &Chip) -> Vec<RegionMemory> {
        chip.regions
            .iter()
            .map(|r| RegionMemory::new(r.string, r.kind, r.initial))
            .collect()
    }

    /// The segment index and offset of `address`.
    fn locate(&self, address: u64) -> Option<(usize, usize)> {
        self.map
            .segments
            .iter()
            .position(|s| s.contains(address))
            .map(|i| {
                (
                    i,
                    (address - u64::from(self.map.segments[i].address)) as usize,
                )
            })
    }

    /// The segment holding `address`.
    pub fn segment_at(&self, address: u64) -> Option<&Segment> {
        self.map.segment_at(address)
    }

    /// Reads up to `len` bytes from `address`, stopping where contiguous memory ends.
    pub fn read(&self, address: u64, len: usize) -> Result<Vec<u8>, Fault> {
        let mut out = Vec::with_capacity(len.min(1 << 16));
        let mut at = address;
        while out.len() < len {
            let Some((index, offset)) = self.locate(at) else {
                break;
            };
            if !self.map.segments[index].access.readable {
                return Err(Fault::NotAllowed);
            }
            let available = &self.data[index][offset..];
            let take = available.len().min(len - out.len());
            out.extend_from_slice(&available[..take]);
            at += take as u64;
        }
        if out.is_empty() && len > 0 && self.locate(address).is_none() {
            return Err(Fault::OutOfRange);
        }
        Ok(out)
    }

    /// Writes `bytes` at `address`; flash and OTP must hold 0xFF where they are written.
    pub fn write(&mut self, address: u64, bytes: &[u8]) -> Result<(), Fault> {
        // Check everything first: a refused write changes nothing.
        let needs_erased = matches!(self.kind, RegionKind::Flash | RegionKind::Otp);
        for (i, _) in bytes.iter().enumerate() {
            let (index, offset) = self.locate(address + i as u64).ok_or(Fault::OutOfRange)?;
            if !self.map.segments[index].access.writable {
                return Err(Fault::NotAllowed);
            }
            if needs_erased && self.data[index][offset] != 0xFF {
                return Err(Fault::NotErased);
            }
        }
        self.poke(address as u32, bytes);
        Ok(())
    }

    /// Stores `bytes` at `address` with no checks (bytes outside the map are dropped).
    pub(crate) fn poke(&mut self, address: u32, bytes: &[u8]) {
        for (i, &byte) in bytes.iter().enumerate() {
            if let Some((index, offset)) = self.locate(u64::from(address) + i as u64) {
                self.data[index][offset] = byte;
            }
        }
    }

    /// Erases the sector holding `address`; returns its size.
    pub fn erase_sector(&mut self, address: u64) -> Result<u32, Fault> {
        let (index, offset) = self.locate(address).ok_or(Fault::OutOfRange)?;
        let segment = self.map.segments[index];
        if !segment.access.erasable {
            return Err(Fault::NotAllowed);
        }
        let size = segment.sector_size as usize;
        let start = offset / size * size;
        self.data[index][start..start + size].fill(0xFF);
        Ok(segment.sector_size)
    }

    /// Erases every erasable segment.
    pub fn erase_all(&mut self) {
        for (segment, data) in self.map.segments.iter().zip(&mut self.data) {
            if segment.access.erasable {
                data.fill(0xFF);
            }
        }
    }

    /// The byte at `address`, if it is in the region.
    pub fn byte(&self, address: u32) -> Option<u8> {
        self.locate(u64::from(address))
            .map(|(index, offset)| self.data[index][offset])
    }

    /// Sets the byte at `address`, ignoring access rights (option bytes changed by the ROM itself).
    pub fn set_byte(&mut self, address: u32, value: u8) {
        self.poke(address, &[value]);
    }

    /// The whole region as (segment address, bytes) pieces, as a host reads option bytes.
    pub fn image(&self) -> dfuse::option_bytes::Image {
        dfuse::option_bytes::Image {
            pieces: self
                .map
                .segments
                .iter()
                .map(|s| s.address)
                .zip(self.data.iter().cloned())
                .collect(),
        }
    }

    /// The number of the sector holding `address`, counting every sector of the map in order.
    pub fn sector_number(&self, address: u64) -> Option<u32> {
        self.map
            .sectors()
            .position(|(sector, _)| (u64::from(sector.address)..sector.end()).contains(&address))
            .map(|n| n as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flash() -> RegionMemory {
        RegionMemory::new("@F/0x08000000/02*1Kg,1*1Ka", RegionKind::Flash, &[])
    }

    #[test]
    fn flash_must_be_erased_before_it_is_written() {
        let mut mem = flash();
        mem.write(0x0800_0000, &[1, 2]).unwrap();
        assert_eq!(mem.write(0x0800_0001, &[3]), Err(Fault::NotErased));
        assert_eq!(mem.read(0x0800_0000, 3).unwrap(), vec![1, 2, 0xFF]);
        assert_eq!(mem.erase_sector(0x0800_03FF), Ok(1024));
        mem.write(0x0800_0001, &[3]).unwrap();
    }

    #[test]
    fn reads_stop_at_the_end_and_writes_respect_access() {
        let mut mem = flash();
        assert_eq!(mem.read(0x0800_0BFE, 16).unwrap().len(), 2);
        assert_eq!(mem.read(0x0900_0000, 16), Err(Fault::OutOfRange));
        assert_eq!(mem.write(0x0800_0800, &[0]), Err(Fault::NotAllowed));
        assert_eq!(mem.erase_sector(0x0800_0800), Err(Fault::NotAllowed));
        assert_eq!(
            mem.write(0x0800_07FF, &[0, 0]),
            Err(Fault::NotAllowed),
            "refused whole"
        );
        assert_eq!(mem.byte(0x0800_07FF), Some(0xFF));
    }

    #[test]
    fn initial_contents_and_option_bytes_written_in_place() {
        let mut mem = RegionMemory::new(
            "@OB/0x1FFFC000/01*016 e",
            RegionKind::OptionBytes,
            &[(0x1FFF_C000, &[0xEC, 0xAA])],
        );
        assert_eq!(mem.byte(0x1FFF_C001), Some(0xAA));
        mem.write(0x1FFF_C001, &[0x55]).unwrap();
        assert_eq!(mem.byte(0x1FFF_C001), Some(0x55));
    }
}
