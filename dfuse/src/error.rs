//! Errors of operations on a device: which request, where, in what state, and what to do.
//!
//! Every error has a stable [`code`](DeviceError::code) (for scripts and
//! `--json` results) and a [`help`](DeviceError::help) line worded for any
//! front end: it names no command-line flag and no button.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::option_bytes::OptionBytesError;
use crate::plan::PlanError;
use crate::protocol::{Request, State, Status};
use crate::select::SelectError;
use crate::session::Unit;
use crate::transport::TransportError;

/// Why an operation on a device failed.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// Selecting an alternate setting (SET_INTERFACE) failed.
    #[error("SET_INTERFACE to alternate setting {alt} failed: {source}")]
    SelectAlt {
        /// The alternate setting.
        alt: u8,
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
    /// The device ended a request in another state than DFU prescribes (it dropped it).
    #[error(
        "{operation}: the device ended in {state} instead of dfuDNLOAD-IDLE: it did not carry the request out"
    )]
    WrongState {
        /// What was being done, with the address.
        operation: String,
        /// The state it reported.
        state: State,
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
    /// The memory ended before everything asked for was read.
    #[error(
        "the memory of alternate setting {alt} ends at {end:#010X}: only {read} of {wanted} bytes could be read"
    )]
    ShortRead {
        /// The alternate setting.
        alt: u8,
        /// Where reading stopped.
        end: u64,
        /// Bytes read.
        read: u64,
        /// Bytes asked for.
        wanted: u64,
    },
    /// The device sent less than asked for where its memory map says memory goes on.
    #[error(
        "the device stopped sending at {at:#010X} of alternate setting {alt} after {read} of {wanted} bytes, though its memory map goes on there"
    )]
    ShortUpload {
        /// The alternate setting.
        alt: u8,
        /// Where the data stopped.
        at: u64,
        /// Bytes read.
        read: u64,
        /// Bytes asked for.
        wanted: u64,
    },
    /// The USB devices could not be listed.
    #[error("cannot list the USB devices: {source}")]
    Enumerate {
        /// Why.
        source: TransportError,
    },
    /// No single device fits the selection.
    #[error(transparent)]
    Select(#[from] SelectError),
    /// The device could not be opened.
    #[error("cannot open the device at {location}: {source}")]
    Open {
        /// Where it is.
        location: String,
        /// Why.
        source: TransportError,
    },
    /// A board that reset did not come back in time.
    #[error("the board at {location} did not come back within {} s", timeout.as_secs())]
    NoReturn {
        /// Where it was.
        location: String,
        /// How long was waited.
        timeout: Duration,
    },
    /// The image does not fit the region.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A .dfu file whose suffix names another device.
    #[error(
        "the file is for device {:04X}:{:04X} (its DFU suffix), but this device is {:04X}:{:04X}",
        file.0, file.1, device.0, device.1
    )]
    ForeignFile {
        /// VID and PID the file names.
        file: (u16, u16),
        /// VID and PID of the device.
        device: (u16, u16),
    },
    /// The requested alternate setting does not exist or has no memory map.
    #[error("{0}")]
    Target(String),
    /// A range to read that is not all readable memory: refused before any request.
    #[error("cannot read {start:#010X}-{last:#010X} of {region:?}: {why}; it covers {covered}")]
    NotReadable {
        /// The first address asked for.
        start: u64,
        /// The last address asked for.
        last: u64,
        /// The region's name.
        region: String,
        /// Why.
        why: &'static str,
        /// The address ranges the region covers.
        covered: String,
    },
    /// A range to erase that is not all erasable memory.
    #[error("cannot erase {address:#010X} in {region:?}: {why}")]
    NotErasable {
        /// The first address that cannot be erased.
        address: u64,
        /// The region's name.
        region: String,
        /// Why.
        why: &'static str,
    },
    /// The device table says dfuse cannot flash this device.
    #[error("{0}")]
    Unsupported(String),
    /// Stopped on request between two requests; the device is back in dfuIDLE.
    #[error("cancelled during the {phase}; the device is idle")]
    Cancelled {
        /// The phase that was under way ("erase", "write", ...).
        phase: &'static str,
        /// How much of that phase was done.
        done: u64,
        /// The phase's size.
        total: u64,
        /// What `done` and `total` count.
        unit: Unit,
    },
    /// What was read cannot be put in the file asked for.
    #[error("cannot write {}: {reason}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Save {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: Arc<std::io::Error>,
    },
    /// A simulated board's state or log could not be loaded or saved.
    #[error("simulated board: {0}")]
    Simulator(String),
    /// Option bytes that cannot be shown or changed as asked.
    #[error(transparent)]
    OptionBytes(#[from] OptionBytesError),
    /// An erase or write refused because the option bytes write-protect the sector.
    #[error(
        "sector {sector} at {address:#010X} is write-protected: option-byte field {field} of {family} protects it"
    )]
    WriteProtected {
        /// The sector's number in the memory map of alternate setting 0.
        sector: u32,
        /// Its first address.
        address: u32,
        /// The option-byte field that protects it.
        field: String,
        /// The option-byte layout's family.
        family: String,
    },
}

impl PartialEq for DeviceError {
    /// Equal when of the same kind and saying the same.
    fn eq(&self, other: &Self) -> bool {
        self.code() == other.code() && self.to_string() == other.to_string()
    }
}

impl Eq for DeviceError {}

impl DeviceError {
    /// Every code a [`DeviceError`] can have (those of transport failures included).
    pub const CODES: &[&str] = &[
        "request-failed",
        "set-interface-failed",
        "device-status",
        "busy-too-long",
        "not-idle",
        "bad-reply",
        "verify-mismatch",
        "short-read",
        "enumeration-failed",
        "no-device",
        "no-match",
        "ambiguous",
        "open-failed",
        "no-return",
        "plan-empty",
        "too-large",
        "outside-map",
        "not-writable",
        "foreign-file",
        "no-such-alt",
        "not-erasable",
        "unsupported-device",
        "cancelled",
        "bad-output",
        "save-failed",
        "simulator",
        "read-protected",
        "wrong-state",
        "short-upload",
        "write-protected",
        "not-readable",
        "bad-layout",
        "no-layout",
        "no-option-bytes",
        "unknown-field",
        "bad-value",
        "permanent-lock",
        "erases-chip",
        "rdp-level-2",
        "not-applied",
    ];

    /// A stable identifier of the kind of failure, for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            DeviceError::Status {
                status: Status::ErrVendor,
                ..
            } => "read-protected",
            DeviceError::Transport { .. } => "request-failed",
            DeviceError::SelectAlt { .. } => "set-interface-failed",
            DeviceError::Status { .. } => "device-status",
            DeviceError::BusyTooLong { .. } => "busy-too-long",
            DeviceError::NotIdle { .. } => "not-idle",
            DeviceError::WrongState { .. } => "wrong-state",
            DeviceError::ShortUpload { .. } => "short-upload",
            DeviceError::BadReply { .. } => "bad-reply",
            DeviceError::VerifyMismatch { .. } => "verify-mismatch",
            DeviceError::ShortRead { .. } => "short-read",
            DeviceError::Enumerate { .. } => "enumeration-failed",
            DeviceError::Select(SelectError::NoDevice) => "no-device",
            DeviceError::Select(SelectError::NoMatch { .. }) => "no-match",
            DeviceError::Select(SelectError::Ambiguous { .. }) => "ambiguous",
            DeviceError::Open { .. } => "open-failed",
            DeviceError::NoReturn { .. } => "no-return",
            DeviceError::Plan(error) => error.code(),
            DeviceError::ForeignFile { .. } => "foreign-file",
            DeviceError::Target(_) => "no-such-alt",
            DeviceError::NotErasable { .. } => "not-erasable",
            DeviceError::NotReadable { .. } => "not-readable",
            DeviceError::Unsupported(_) => "unsupported-device",
            DeviceError::Cancelled { .. } => "cancelled",
            DeviceError::Output { .. } => "bad-output",
            DeviceError::Save { .. } => "save-failed",
            DeviceError::Simulator(_) => "simulator",
            DeviceError::OptionBytes(error) => error.code(),
            DeviceError::WriteProtected { .. } => "write-protected",
        }
    }

    /// The transport failure behind this error, if there is one.
    pub fn transport(&self) -> Option<&TransportError> {
        match self {
            DeviceError::Transport { source, .. }
            | DeviceError::SelectAlt { source, .. }
            | DeviceError::Enumerate { source }
            | DeviceError::Open { source, .. } => Some(source),
            _ => None,
        }
    }

    /// True when the fault is in what was asked (the file, the range, the
    /// region), not in the device: nothing was sent that changed the board.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            DeviceError::Plan(_)
                | DeviceError::ShortRead { .. }
                | DeviceError::ForeignFile { .. }
                | DeviceError::Target(_)
                | DeviceError::NotErasable { .. }
                | DeviceError::NotReadable { .. }
                | DeviceError::Output { .. }
        ) || matches!(
            self,
            DeviceError::OptionBytes(error) if !matches!(error, OptionBytesError::NotApplied { .. })
        )
    }

    /// What the user can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            DeviceError::Transport { source, .. }
            | DeviceError::SelectAlt { source, .. }
            | DeviceError::Enumerate { source }
            | DeviceError::Open { source, .. } => source.help(),
            DeviceError::Status {
                status: Status::ErrVendor,
                ..
            } => {
                "the chip is read-protected: removing the protection (read-unprotect) erases the whole chip"
            }
            DeviceError::Status {
                status: Status::ErrTarget | Status::ErrAddress,
                ..
            } => {
                "the address is not valid for this region: check the address and the alternate setting against the memory map"
            }
            DeviceError::Status {
                status: Status::ErrWrite | Status::ErrProg | Status::ErrCheckErased,
                ..
            } => {
                "the flash could not be written: it may not be erased or may be write-protected; try a mass erase first"
            }
            DeviceError::Status { .. } => "replug the board and try again",
            DeviceError::BusyTooLong { .. } => {
                "the operation took far longer than the chip should need: power-cycle the board and try again"
            }
            DeviceError::ShortUpload { .. } => {
                "the device broke off a read inside its own memory: replug the board and try again"
            }
            DeviceError::WrongState { .. } => {
                "the device skipped a request: flash again, and verify; if it happens again, the board's bootloader is faulty"
            }
            DeviceError::NotIdle { .. } | DeviceError::BadReply { .. } => {
                "the device does not behave like a DfuSe bootloader: replug it and try again"
            }
            DeviceError::VerifyMismatch { .. } => {
                "the flash does not hold what was written: the sector may be write-protected or worn"
            }
            DeviceError::ShortRead { .. } => {
                "read less: the memory map of the alternate setting shows where its memory ends"
            }
            DeviceError::Select(SelectError::NoDevice) => {
                "connect the board in DFU mode (BOOT0 high, then reset)"
            }
            DeviceError::Select(SelectError::NoMatch { .. }) => {
                "choose one of the devices present, by location, serial or VID:PID"
            }
            DeviceError::Select(SelectError::Ambiguous { .. }) => {
                "name one board by its location (the first column)"
            }
            DeviceError::NoReturn { .. } => {
                "the board did not re-enter DFU mode: check BOOT0 and reset it by hand"
            }
            DeviceError::Plan(error) => error.help(),
            DeviceError::ForeignFile { .. } => {
                "check that the file is meant for this board; its device IDs can be ignored if you are sure"
            }
            DeviceError::Target(_) => {
                "the device's alternate settings and memory maps show what it has"
            }
            DeviceError::NotErasable { .. } => {
                "choose a range inside erasable memory: the memory map shows which sectors can be erased"
            }
            DeviceError::NotReadable { .. } => {
                "choose a range inside readable memory: the memory map shows where the region's memory is"
            }
            DeviceError::Unsupported(_) => {
                "use dfu-util for plain DFU devices; if this one does speak DfuSe, add a record for it to your device table"
            }
            DeviceError::Cancelled { .. } => {
                "the flash may be partly erased or written: flash the firmware again before starting it"
            }
            DeviceError::Output { .. } => "name a file ending in .bin, .hex or .dfu",
            DeviceError::Save { .. } => "check the path, free space and permissions",
            DeviceError::Simulator(_) => "check the simulated board's state and log files",
            DeviceError::OptionBytes(error) => error.help(),
            DeviceError::WriteProtected { .. } => {
                "remove the sector from the write protection in the option bytes (for example wrp=none), then try again"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::transport::OsError;

    /// One error of every variant (and of every code the matches give).
    fn one_of_each() -> Vec<DeviceError> {
        let transport = TransportError::Stall;
        let status = |status| DeviceError::Status {
            operation: "erase".into(),
            status,
            state: State::Error,
        };
        let span = dfu_file::Span { start: 0, end: 1 };
        vec![
            DeviceError::Transport {
                request: Request::Dnload,
                operation: "write".into(),
                source: transport.clone(),
            },
            DeviceError::SelectAlt {
                alt: 1,
                source: transport.clone(),
            },
            status(Status::ErrWrite),
            status(Status::ErrVendor),
            DeviceError::BusyTooLong {
                operation: "erase".into(),
                waited: Duration::from_secs(30),
            },
            DeviceError::NotIdle {
                state: State::Error,
            },
            DeviceError::BadReply {
                request: Request::GetStatus,
                len: 2,
            },
            DeviceError::VerifyMismatch {
                address: 0,
                expected: 1,
                found: 2,
            },
            DeviceError::ShortRead {
                alt: 0,
                end: 1,
                read: 1,
                wanted: 2,
            },
            DeviceError::Enumerate {
                source: transport.clone(),
            },
            DeviceError::Select(SelectError::NoDevice),
            DeviceError::Select(SelectError::NoMatch {
                wanted: String::new(),
                present: String::new(),
            }),
            DeviceError::Select(SelectError::Ambiguous {
                wanted: String::new(),
                matching: String::new(),
            }),
            DeviceError::Open {
                location: "1-1".into(),
                source: TransportError::Busy(OsError::new(std::io::Error::other("busy"))),
            },
            DeviceError::NoReturn {
                location: "1-1".into(),
                timeout: Duration::from_secs(10),
            },
            DeviceError::Plan(PlanError::Empty),
            DeviceError::Plan(PlanError::TooLarge {
                image: 2,
                capacity: 1,
                region: "Flash".into(),
            }),
            DeviceError::Plan(PlanError::OutsideMap {
                range: span,
                region: "Flash".into(),
                covered: String::new(),
            }),
            DeviceError::Plan(PlanError::NotWritable {
                range: span,
                what: "read-only",
                segment: span,
                region: "Flash".into(),
            }),
            DeviceError::ForeignFile {
                file: (1, 2),
                device: (3, 4),
            },
            DeviceError::Target("no alt 9".into()),
            DeviceError::NotErasable {
                address: 0,
                region: "Flash".into(),
                why: "no memory there",
            },
            DeviceError::NotReadable {
                start: 0,
                last: 1,
                region: "Flash".into(),
                why: "there is no memory there",
                covered: "0x08000000-0x080FFFFF".into(),
            },
            DeviceError::Unsupported("plain DFU".into()),
            DeviceError::Cancelled {
                phase: "write",
                done: 1,
                total: 2,
                unit: Unit::Bytes,
            },
            DeviceError::Output {
                path: "x.txt".into(),
                reason: "unknown extension".into(),
            },
            DeviceError::Save {
                path: "x.bin".into(),
                source: Arc::new(std::io::Error::other("disk full")),
            },
            DeviceError::Simulator("bad state file".into()),
            DeviceError::WrongState {
                operation: "write".into(),
                state: State::DfuIdle,
            },
            DeviceError::ShortUpload {
                alt: 0,
                at: 0x0800_1000,
                read: 4096,
                wanted: 8192,
            },
            DeviceError::WriteProtected {
                sector: 3,
                address: 0x0800_C000,
                field: "wrp".into(),
                family: "STM32F405/407/415/417".into(),
            },
            DeviceError::OptionBytes(OptionBytesError::BadLayout {
                file: "x.toml".into(),
                reason: "bad".into(),
            }),
            DeviceError::OptionBytes(OptionBytesError::NoLayout { chip: "x".into() }),
            DeviceError::OptionBytes(OptionBytesError::NoRegion {
                family: "x".into(),
                address: 0,
            }),
            DeviceError::OptionBytes(OptionBytesError::UnknownField {
                family: "x".into(),
                name: "y".into(),
                known: "rdp".into(),
            }),
            DeviceError::OptionBytes(OptionBytesError::BadValue {
                field: "rdp".into(),
                value: "9".into(),
                expected: "0, 1, 2".into(),
            }),
            DeviceError::OptionBytes(OptionBytesError::PermanentLock { family: "x".into() }),
            DeviceError::OptionBytes(OptionBytesError::ErasesChip),
            DeviceError::OptionBytes(OptionBytesError::Locked),
            DeviceError::OptionBytes(OptionBytesError::NotApplied {
                field: "wrp".into(),
                found: "none".into(),
                wanted: "1".into(),
            }),
        ]
    }

    #[test]
    fn every_error_has_a_listed_unique_code_and_help() {
        let errors = one_of_each();
        let codes: HashSet<&str> = errors.iter().map(DeviceError::code).collect();
        assert_eq!(codes.len(), errors.len(), "two variants share a code");
        assert_eq!(
            codes,
            DeviceError::CODES.iter().copied().collect(),
            "CODES lists exactly the codes in use"
        );
        for error in &errors {
            assert!(!error.help().is_empty(), "{} has no help", error.code());
            assert!(
                !error.help().contains("--"),
                "{}'s help names a command-line flag: {}",
                error.code(),
                error.help()
            );
        }
    }

    #[test]
    fn transport_errors_have_unique_codes_and_only_access_denied_advises_permissions() {
        let os = || OsError::new(std::io::Error::other("x"));
        let errors = [
            TransportError::Stall,
            TransportError::Timeout(Duration::from_secs(1)),
            TransportError::Disconnected,
            TransportError::AccessDenied(os()),
            TransportError::Busy(os()),
            TransportError::WrongDriver {
                driver: "STTub30".into(),
                source: os(),
            },
            TransportError::NoConfiguration(os()),
            TransportError::Io(os()),
        ];
        let codes: HashSet<&str> = errors.iter().map(TransportError::code).collect();
        assert_eq!(codes.len(), errors.len());
        for error in &errors {
            let udev = error.help().contains("udev");
            assert_eq!(
                udev,
                matches!(error, TransportError::AccessDenied(_)),
                "{}: {}",
                error.code(),
                error.help()
            );
        }
    }
}
