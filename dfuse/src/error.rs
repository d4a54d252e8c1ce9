//! Errors of operations on a device: which request, where, in what state, and what to do.

use std::time::Duration;

use crate::plan::PlanError;
use crate::protocol::{Request, State, Status};
use crate::transport::TransportError;

/// Why an operation on a device failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// A request itself failed.
    #[error("{request} for {operation} failed: {source}")]
    Transport {
        /// The request.
        request: Request,
        /// What it was for, with the address (e.g. "erase sector at 0x08020000").
        operation: String,
        /// How it failed.
        source: TransportError,
    },
    /// The device reported an error status.
    #[error("{operation} failed: the device reports {status}, state {state}")]
    Status {
        /// What was being done, with the address.
        operation: String,
        /// bStatus.
        status: Status,
        /// bState.
        state: State,
    },
    /// The device stayed busy for longer than the operation may take.
    #[error("{operation}: the device was still busy after {waited:?} (the limit)")]
    BusyTooLong {
        /// What was being done.
        operation: String,
        /// How long was waited.
        waited: Duration,
    },
    /// The device could not be brought to dfuIDLE.
    #[error("the device stays in {state} and cannot be brought to dfuIDLE")]
    NotIdle {
        /// The state it stays in.
        state: State,
    },
    /// A reply of the wrong size.
    #[error("{request} returned {len} bytes, which is not a valid reply")]
    BadReply {
        /// The request.
        request: Request,
        /// Bytes received.
        len: usize,
    },
    /// Read-back differs from what was written.
    #[error("verify failed at {address:#010X}: wrote {expected:#04X}, read back {found:#04X}")]
    VerifyMismatch {
        /// First differing address.
        address: u32,
        /// Byte written.
        expected: u8,
        /// Byte read.
        found: u8,
    },
    /// The device could not be opened.
    #[error("cannot open the device at {location}: {source}")]
    Open {
        /// Where it is.
        location: String,
        /// Why.
        source: TransportError,
    },
    /// The image does not fit the region.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The requested alternate setting does not exist or has no memory map.
    #[error("{0}")]
    Target(String),
    /// The device table says dfuse cannot flash this device.
    #[error("{0}")]
    Unsupported(String),
    /// Stopped on request between two requests; the device is back in dfuIDLE.
    #[error("cancelled during the {phase}; the device is idle")]
    Cancelled {
        /// The phase that was under way ("erase", "write", ...).
        phase: &'static str,
    },
}

impl DeviceError {
    /// What the user can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            DeviceError::Transport {
                source: TransportError::Disconnected,
                ..
            } => {
                "the device left the bus: check the cable and that nothing reset the board, then try again"
            }
            DeviceError::Transport {
                source: TransportError::AccessDenied(_),
                ..
            } => {
                "you lack permission to use the device: install the udev rule (Linux) or the WinUSB driver (Windows)"
            }
            DeviceError::Transport { .. } => {
                "the device did not accept the request: replug the board and try again"
            }
            DeviceError::Status {
                status: Status::ErrVendor,
                ..
            } => {
                "the chip is read-protected: `dfuse unprotect --yes` removes the protection and erases the chip"
            }
            DeviceError::Status {
                status: Status::ErrTarget | Status::ErrAddress,
                ..
            } => {
                "the address is not valid for this region: check --address and --alt against `dfuse info`"
            }
            DeviceError::Status {
                status: Status::ErrWrite | Status::ErrProg | Status::ErrCheckErased,
                ..
            } => {
                "the flash could not be written: it may not be erased or may be write-protected; try --mass-erase"
            }
            DeviceError::Status { .. } => "replug the board and try again",
            DeviceError::BusyTooLong { .. } => {
                "the operation took far longer than the chip should need: power-cycle the board and try again"
            }
            DeviceError::NotIdle { .. } | DeviceError::BadReply { .. } => {
                "the device does not behave like a DfuSe bootloader: replug it and try again"
            }
            DeviceError::VerifyMismatch { .. } => {
                "the flash does not hold what was written: the sector may be write-protected or worn"
            }
            DeviceError::Open {
                source: TransportError::AccessDenied(_),
                ..
            } => {
                "you lack permission to use the device: on Linux install the udev rule (assets/60-dfuse.rules) and replug; on Windows bind WinUSB (drivers-win)"
            }
            DeviceError::Open { .. } => {
                "replug the board, check that no other program uses it, and try again"
            }
            DeviceError::Plan(error) => error.help(),
            DeviceError::Target(_) => {
                "`dfuse info` lists the alternate settings and their memory maps"
            }
            DeviceError::Unsupported(_) => {
                "use dfu-util for plain DFU devices; if this one does speak DfuSe, add a record for it to your device table (--device-db)"
            }
            DeviceError::Cancelled { .. } => {
                "the flash may be partly erased or written: flash the firmware again before starting it"
            }
        }
    }
}
