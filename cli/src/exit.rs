//! The CLI's error type and the exit codes it maps to (documented in `--help` and README).

use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes, stable for scripts.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  internal error (a bug: please report it)
  2  usage error: bad arguments or options that do not fit together
  3  bad input: a firmware file or memory map is malformed, damaged (CRC mismatch) or cannot be used as asked
  4  I/O error: a file could not be read or written
  5  device error: a device failed, refused a request or went away";

impl From<dfuse::DeviceError> for CliError {
    fn from(error: dfuse::DeviceError) -> Self {
        CliError::Device(error)
    }
}

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
    Device(dfuse::DeviceError),
    /// No device to talk to.
    NoDevice(String),
    /// More than one device fits, and the user must say which.
    Ambiguous(String),
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
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Usage(_) => 2,
            CliError::BadInput { .. }
            | CliError::Refused { .. }
            | CliError::InvalidArgument { .. } => 3,
            CliError::Io { .. } => 4,
            CliError::Device(dfuse::DeviceError::Plan(_) | dfuse::DeviceError::Target(_)) => 3,
            CliError::Device(_) | CliError::NoDevice(_) | CliError::Ambiguous(_) => 5,
        })
    }

    /// Prints the error and what to do about it to standard error.
    pub fn report(&self) {
        match self {
            CliError::Usage(message) => {
                eprintln!("error: {message}");
                eprintln!("  help: see `dfuse --help` and the --help of the command");
            }
            CliError::BadInput { path, error } => {
                eprintln!("error[{}]: {}: {error}", error.code(), path.display());
                eprintln!("  help: {}", error.help());
            }
            CliError::InvalidArgument { message, help } => {
                eprintln!("error: {message}");
                eprintln!("  help: {help}");
            }
            CliError::Device(error) => {
                eprintln!("error: {error}");
                eprintln!("  help: {}", error.help());
            }
            CliError::Ambiguous(message) => {
                eprintln!("error: {message}");
                eprintln!(
                    "  help: name one board by its location (the first column) with --device, e.g. --device 1-2"
                );
            }
            CliError::NoDevice(message) => {
                eprintln!("error: {message}");
                eprintln!(
                    "  help: connect the board in DFU mode (BOOT0 high, then reset), or use a simulated board"
                );
            }
            CliError::Refused { path, reason } => {
                eprintln!("error: {}: {reason}", path.display());
            }
            CliError::Io {
                path,
                action,
                error,
            } => {
                eprintln!("error: cannot {action} {}: {error}", path.display());
                eprintln!("  help: {}", io_help(error.kind()));
            }
        }
    }
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
