//! The CLI's error type and the exit codes it maps to (documented in `--help` and README).

use std::path::PathBuf;

use dfuse::DeviceError;
use dfuse_drivers_win::system::SystemError;

/// Exit codes, stable for scripts.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  internal error (a bug: please report it)
  2  usage error: bad arguments or options that do not fit together
  3  bad input: a firmware file or memory map is malformed, damaged (CRC mismatch) or cannot be used as asked;
     or a change refused by a safety rule before anything was sent (option bytes)
  4  I/O error: a file could not be read or written
  5  device error: a device failed, refused a request or went away
  6  the device does not hold the firmware (dfuse verify)
130  interrupted (Ctrl-C): the operation stopped between two requests, the board idle in DFU mode";

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// Arguments that do not fit together or with the input.
    Usage(String),
    /// A firmware file that is malformed or cannot be converted as asked.
    BadInput {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        error: dfu_file::Error,
    },
    /// A firmware file that is readable but cannot be used as asked.
    Refused {
        /// The file concerned.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Input given on the command line that is not what it should be.
    InvalidArgument {
        /// What was wrong.
        message: String,
        /// What to do about it.
        help: &'static str,
    },
    /// A device operation failed or was refused.
    Device(DeviceError),
    /// Some of several boards flashed at once failed (the others succeeded).
    Boards {
        /// Each failed board's location and error.
        failed: Vec<(String, DeviceError)>,
        /// How many boards there were.
        of: usize,
        /// Every board's result, for the JSON result object.
        boards: Vec<serde_json::Value>,
    },
    /// `dfuse verify`: the device does not hold the file.
    Differs {
        /// The first differing address.
        first: u64,
        /// The device, the bytes compared and the differing ranges, for the JSON result object.
        details: serde_json::Value,
    },
    /// The device table could not be used.
    Table(dfuse::matching::TableError),
    /// An error whose JSON result object also carries what was found (e.g. a file's info).
    Detailed {
        /// The error.
        error: Box<CliError>,
        /// Fields added to its JSON result object.
        details: serde_json::Value,
    },
    /// Installing or checking the Windows driver package failed.
    Driver(dfuse_drivers_win::system::SystemError),
    /// A file that could not be read or written.
    Io {
        /// The file concerned.
        path: PathBuf,
        /// "read" or "write".
        action: &'static str,
        /// The operating system's error.
        error: std::io::Error,
    },
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_number(&self) -> u8 {
        match self {
            CliError::Detailed { error, .. } => error.exit_number(),
            CliError::Usage(_) => 2,
            CliError::BadInput { .. }
            | CliError::Refused { .. }
            | CliError::InvalidArgument { .. } => 3,
            CliError::Io { .. } => 4,
            CliError::Table(_) => 2,
            CliError::Driver(SystemError::NotWindows(_)) => 2,
            CliError::Driver(SystemError::NotElevated | SystemError::Declined) => 3,
            CliError::Driver(SystemError::Package(dfuse_drivers_win::PackageError::Io {
                ..
            })) => 4,
            CliError::Driver(SystemError::Package(_)) => 3,
            CliError::Driver(_) => 5,
            CliError::Differs { .. } => 6,
            CliError::Device(DeviceError::Cancelled { .. }) => crate::device::INTERRUPTED,
            CliError::Device(error) if error.is_refusal() => 3,
            CliError::Device(_) => 5,
            CliError::Boards { failed, .. } => {
                let cancelled =
                    |(_, e): &(String, DeviceError)| matches!(e, DeviceError::Cancelled { .. });
                if failed.iter().any(cancelled) {
                    crate::device::INTERRUPTED
                } else if failed.iter().all(|(_, e)| e.is_refusal()) {
                    3
                } else {
                    5
                }
            }
        }
    }

    /// A stable identifier of the kind of failure, for scripts.
    pub fn code(&self) -> String {
        match self {
            CliError::Detailed { error, .. } => error.code(),
            CliError::Usage(_) => "usage".into(),
            CliError::BadInput { error, .. } => error.code().into(),
            CliError::Refused { .. } => "refused".into(),
            CliError::InvalidArgument { .. } => "invalid-argument".into(),
            CliError::Device(error) => error.code().into(),
            CliError::Boards { .. } => "boards-failed".into(),
            CliError::Differs { .. } => "differs".into(),
            CliError::Table(error) => error.code().into(),
            CliError::Io { .. } => "io".into(),
            CliError::Driver(error) => crate::device::driver_install::code(error).into(),
        }
    }

    /// What went wrong, in one line.
    pub fn message(&self) -> String {
        match self {
            CliError::Detailed { error, .. } => error.message(),
            CliError::Usage(message) | CliError::InvalidArgument { message, .. } => message.clone(),
            CliError::BadInput { path, error } => format!("{}: {error}", path.display()),
            CliError::Refused { path, reason } => format!("{}: {reason}", path.display()),
            CliError::Device(error) => error.to_string(),
            CliError::Driver(error) => error.to_string(),
            CliError::Boards { failed, of, .. } => {
                let names: Vec<&str> = failed.iter().map(|(board, _)| board.as_str()).collect();
                format!(
                    "{} of {of} boards failed: {}",
                    failed.len(),
                    names.join(", ")
                )
            }
            CliError::Differs { first, .. } => format!(
                "the device does not hold the file; the first difference is at {first:#010X}"
            ),
            CliError::Table(error) => format!("bad device table: {error}"),
            CliError::Io {
                path,
                action,
                error,
            } => format!("cannot {action} {}: {error}", path.display()),
        }
    }

    /// What to do about it.
    pub fn help(&self) -> String {
        match self {
            CliError::Detailed { error, .. } => error.help(),
            CliError::Usage(_) => "see `dfuse --help` and the --help of the command".into(),
            CliError::BadInput { error, .. } => error.help().into(),
            CliError::Refused { .. } => "check the file and the options given for it".into(),
            CliError::InvalidArgument { help, .. } => (*help).into(),
            CliError::Device(error) => device_help(error),
            CliError::Boards { .. } => {
                "the other boards succeeded; flash the failed ones again with --device <location>"
                    .into()
            }
            CliError::Differs { .. } => {
                "flash the file (`dfuse flash` rewrites only the sectors that differ)".into()
            }
            CliError::Table(error) => error.help().into(),
            CliError::Io { error, .. } => io_help(error.kind()).into(),
            CliError::Driver(error) => crate::device::driver_install::help(error).into(),
        }
    }

    /// The JSON result object of a failed command (schema 1).
    pub fn json(&self) -> serde_json::Value {
        let mut object = serde_json::json!({
            "schema": crate::output::JSON_SCHEMA,
            "result": "error",
            "exit": self.exit_number(),
            "code": self.code(),
            "message": self.message(),
            "help": self.help(),
        });
        match self {
            CliError::Differs { details, .. } | CliError::Detailed { details, .. } => {
                if let (Some(object), Some(details)) = (object.as_object_mut(), details.as_object())
                {
                    object.extend(details.clone());
                }
            }
            CliError::Boards { boards, .. } => object["boards"] = boards.clone().into(),
            CliError::Driver(SystemError::Call { done, .. }) => {
                object["done"] = done.clone().into()
            }
            CliError::Device(error @ DeviceError::Cancelled { .. }) => {
                object["cancelled"] = cancelled(error).into();
            }
            _ => {}
        }
        object
    }

    /// Prints the error for people on standard error.
    pub fn report(&self) {
        if let CliError::Detailed { error, .. } = self {
            return error.report();
        }
        let code = match self {
            CliError::Usage(_)
            | CliError::InvalidArgument { .. }
            | CliError::Refused { .. }
            | CliError::Io { .. } => String::new(),
            _ => format!("[{}]", self.code()),
        };
        eprintln!("error{code}: {}", self.message());
        match self {
            CliError::Device(error @ DeviceError::Cancelled { .. }) => {
                eprintln!("  {}", cancelled(error));
            }
            CliError::Boards { failed, .. } => {
                for (board, error) in failed {
                    eprintln!("  {board}: error[{}]: {error}", error.code());
                    eprintln!("    help: {}", device_help(error));
                }
            }
            _ => {}
        }
        eprintln!("  help: {}", self.help());
    }
}

fn device_help(error: &DeviceError) -> String {
    if let DeviceError::WriteProtected { field, .. } = error {
        return format!(
            "`dfuse option-bytes show` lists the write protection; `dfuse option-bytes set {}=none` clears it",
            dfuse::transport::printable(field)
        );
    }
    if let Some(dfuse::transport::TransportError::AccessDenied(_)) = error.transport() {
        return "you lack permission to use the device: on Linux install dfuse's udev rule (`sudo dfuse udev-rule --install`) and replug the board; on Windows run `dfuse driver install` (`dfuse driver` shows which driver is bound)".into();
    }
    let cli = match error.code() {
        "permanent-lock" => {
            "level 2 can never be undone; if you really mean to lock this chip forever, pass --permanently-lock-this-chip"
        }
        "erases-chip" => "pass --yes to confirm that the whole flash may be erased",
        "unknown-field" | "bad-value" => {
            "`dfuse option-bytes show` lists every field and its value; `dfuse option-bytes set --help` shows how to write values"
        }
        "no-layout" | "no-option-bytes" => {
            "describe the option bytes in a layout file (docs/OPTION-BYTES.md) and pass it with --layout, or read them as memory with `dfuse dump --alt 1`"
        }
        "read-protected" => {
            "the chip is read-protected: `dfuse unprotect --yes` removes the protection and erases the chip"
        }
        "foreign-file" => {
            "check that the file is for this board; pass --ignore-ids to flash it anyway"
        }
        "not-writable" => {
            "that memory guards something (often a bootloader); pass --force only if you are sure"
        }
        "outside-map" | "no-such-alt" => {
            "check --address (for .bin files) and --alt against the memory maps `dfuse info` shows"
        }
        "too-large" => "this firmware is for a larger part, or the wrong region (--alt) was chosen",
        "ambiguous" => {
            "name one board by its location (the first column) with --device, e.g. --device 1-2"
        }
        "no-match" => "choose one of the boards present with --device, --serial or --vid-pid",
        "short-read" => "read less (--length): `dfuse info` shows where the memory ends",
        "not-readable" => "choose --address and --length inside the memory `dfuse info` shows",
        "not-erasable" => {
            "choose --address and --length inside erasable memory: `dfuse info` shows the sectors"
        }
        "unsupported-device" => {
            "use dfu-util for plain DFU devices; if this one does speak DfuSe, add a record for it to your device table (--device-db)"
        }
        "no-device" => {
            return match crate::device::offer_simulated() {
                Some(offer) => {
                    format!("connect the board in DFU mode (BOOT0 high, then reset), {offer}")
                }
                None => error.help().to_string(),
            };
        }
        _ => error.help(),
    };
    cli.to_string()
}

/// What an interrupted operation did before it stopped.
fn cancelled(error: &DeviceError) -> String {
    let DeviceError::Cancelled {
        phase,
        done,
        total,
        unit,
    } = error
    else {
        return String::new();
    };
    let amount = match unit {
        dfuse::session::Unit::Bytes => format!("{done} of {total} bytes"),
        dfuse::session::Unit::Steps => format!("{done} of {total} steps"),
    };
    let state = match *phase {
        "erase" | "mass erase" => "Sectors were erased and the image is not written: flash again.",
        "write" => "The flash holds part of the image, which will not run as it is: flash again.",
        "verify" => "The image was written but not completely read back: verify or flash again.",
        _ => "Reading changes nothing on the board.",
    };
    format!(
        "Stopped by Ctrl-C during the {phase} after {amount}. {state} The board is idle in DFU mode."
    )
}

fn io_help(kind: std::io::ErrorKind) -> &'static str {
    use std::io::ErrorKind::*;
    match kind {
        NotFound => "check the path; relative paths start at the current directory",
        PermissionDenied => "check the file's permissions, or choose another location",
        IsADirectory => "name a file, not a directory",
        _ => "check the path, free space and permissions",
    }
}
