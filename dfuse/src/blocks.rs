//! How big the blocks of a transfer are, and whether one set-address may cover
//! many of them: decided once from the functional descriptor and the device
//! record, and shown to the user as decided (`dfuse info`).
//!
//! A DfuSe ROM places block n at `pointer + (n - 2) × its own wTransferSize`.
//! Only when dfuse's block size is that same size may many blocks follow one
//! set-address; otherwise every block gets its own set-address (block 2), which
//! is correct whatever the ROM's stride. See docs/PROTOCOL.md.

use std::fmt;

/// Block size when the device declares none (no functional descriptor, or wTransferSize 0).
pub const ASSUMED_SIZE: u16 = 1024;
/// The largest flash programming unit in use (STM32H7): blocks are whole multiples of it,
/// so no ROM drops the tail of a block.
pub const WRITE_UNIT: u16 = 32;

/// Where the block size came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The device's wTransferSize.
    Declared,
    /// The device record's `transfer_size` quirk.
    Record,
    /// The device declares none (no functional descriptor, or 0): a safe size is assumed.
    Assumed,
    /// The device's wTransferSize is not a whole number of programming units: rounded down.
    Rounded,
}

/// The block size a session uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocks {
    /// Bytes a block.
    pub size: u16,
    /// Every block gets its own set-address (the size is not the device's own).
    pub one_per_address: bool,
    /// Where the size came from.
    pub source: Source,
}

impl Blocks {
    /// The blocks for a device declaring `declared` (its wTransferSize, if it has a
    /// functional descriptor), with the record's `record` size overriding it.
    pub fn choose(declared: Option<u16>, record: Option<u16>) -> Blocks {
        let declared = declared.filter(|&size| size > 0);
        match (record.filter(|&size| size > 0), declared) {
            (Some(size), declared) => Blocks {
                size,
                one_per_address: declared != Some(size),
                source: Source::Record,
            },
            (None, None) => Blocks {
                size: ASSUMED_SIZE,
                one_per_address: true,
                source: Source::Assumed,
            },
            (None, Some(size)) if size % WRITE_UNIT == 0 || size < WRITE_UNIT => Blocks {
                size,
                one_per_address: false,
                source: Source::Declared,
            },
            (None, Some(size)) => Blocks {
                size: size / WRITE_UNIT * WRITE_UNIT,
                one_per_address: true,
                source: Source::Rounded,
            },
        }
    }
}

impl fmt::Display for Blocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.size)?;
        match self.source {
            Source::Declared => Ok(()),
            Source::Record => f.write_str(" (from the device record)"),
            Source::Assumed => {
                f.write_str(" (assumed: the device declares no transfer size; one block per set-address)")
            }
            Source::Rounded => f.write_str(
                " (the device's wTransferSize rounded down to 32-byte units; one block per set-address)",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_size_is_used_with_many_blocks_per_address() {
        let blocks = Blocks::choose(Some(2048), None);
        assert_eq!((blocks.size, blocks.one_per_address), (2048, false));
        assert_eq!(blocks.to_string(), "2048");
    }

    #[test]
    fn no_descriptor_or_zero_assumes_a_size_and_addresses_every_block() {
        for declared in [None, Some(0)] {
            let blocks = Blocks::choose(declared, None);
            assert_eq!(
                (blocks.size, blocks.one_per_address, blocks.source),
                (ASSUMED_SIZE, true, Source::Assumed)
            );
        }
        assert!(Blocks::choose(None, None).to_string().contains("assumed"));
    }

    #[test]
    fn an_odd_size_is_rounded_to_programming_units_and_every_block_addressed() {
        let blocks = Blocks::choose(Some(1000), None);
        assert_eq!((blocks.size, blocks.one_per_address), (992, true));
        // Tiny sizes cannot be rounded: used as they are.
        assert_eq!(Blocks::choose(Some(16), None).size, 16);
    }

    #[test]
    fn a_record_size_overrides_and_addresses_every_block_unless_it_is_the_devices() {
        assert!(Blocks::choose(Some(2048), Some(1024)).one_per_address);
        assert!(!Blocks::choose(Some(1024), Some(1024)).one_per_address);
        assert!(Blocks::choose(None, Some(1024)).one_per_address);
    }
}
