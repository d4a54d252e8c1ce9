//! Errors in plain words, each with the next step a person can take in this window.

use dfuse::DeviceError;
use dfuse::protocol::Status;
use dfuse::transport::TransportError;

use crate::job::JobError;

/// An error as the window shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plain {
    /// What went wrong.
    pub what: String,
    /// What to do next.
    pub next: String,
    /// The library's stable code for it.
    pub code: &'static str,
}

/// Explains a failed job; `driver` is the driver Windows bound to the board, if known.
pub fn explain(error: &JobError, driver: Option<&str>) -> Plain {
    Plain {
        code: error.code(),
        ..device(error, driver)
    }
}

fn plain(what: impl Into<String>, next: impl Into<String>) -> Plain {
    Plain {
        what: what.into(),
        next: next.into(),
        code: "",
    }
}

fn device(error: &DeviceError, driver: Option<&str>) -> Plain {
    let advice = driver.and_then(dfuse::usb::driver_advice);
    match error {
        DeviceError::Save { path, source } => plain(
            format!(
                "The memory was read, but could not be saved to {}: {source}.",
                path.display()
            ),
            "Choose another file name or folder and read again.",
        ),
        DeviceError::Output { reason, .. } => plain(
            format!("The memory cannot be saved that way: {reason}."),
            "Choose a file ending in .bin, .hex or .dfu and read again.",
        ),
        DeviceError::Open {
            source: TransportError::Busy(_),
            ..
        } => plain(
            "Another program is using this board.",
            "Close it (STM32CubeProgrammer, dfu-util, a virtual machine that holds the board) and try again.",
        ),
        DeviceError::Open { .. } | DeviceError::Transport { .. } if advice.is_some() => plain(
            "Windows does not let dfuse use this board.",
            advice.unwrap_or_default(),
        ),
        DeviceError::Open {
            source: TransportError::AccessDenied(_),
            ..
        }
        | DeviceError::Transport {
            source: TransportError::AccessDenied(_),
            ..
        } => plain(
            "You do not have permission to use this board.",
            "On Linux, install the udev rule (60-dfuse.rules) and replug the board; on Windows, press “Install the WinUSB driver” under the board (or use Zadig).",
        ),
        DeviceError::Open { location, .. } => plain(
            format!("The board at {location} could not be opened."),
            "Replug it, close other programs that may use it (STM32CubeProgrammer, dfu-util), and try again.",
        ),
        DeviceError::Transport {
            source: TransportError::Disconnected,
            operation,
            ..
        } => plain(
            format!("The board left the USB bus during the {operation}."),
            "Check the cable and that nothing reset the board, then flash again.",
        ),
        DeviceError::Status {
            status: Status::ErrVendor,
            ..
        } => plain(
            "The chip is read-protected: its flash cannot be read or written.",
            "Press Read-unprotect (this erases the whole chip), then flash again.",
        ),
        DeviceError::Status {
            status: Status::ErrWrite | Status::ErrProg | Status::ErrCheckErased | Status::ErrVerify,
            operation,
            ..
        } => plain(
            format!("The board could not program its flash ({operation})."),
            "The sector may be write-protected or not erased: try Erase all, then flash again.",
        ),
        DeviceError::Status {
            status: Status::ErrErase,
            operation,
            ..
        } => plain(
            format!("The board could not erase its flash ({operation})."),
            "The sector may be write-protected: remove the write protection with the option bytes, or try Erase all.",
        ),
        DeviceError::Status {
            status: Status::ErrTarget | Status::ErrAddress,
            operation,
            ..
        } => plain(
            format!("The board refused the address ({operation})."),
            "Check that the file is for this chip and goes to the right memory region.",
        ),
        DeviceError::VerifyMismatch {
            address,
            expected,
            found,
        } => plain(
            format!(
                "The flash does not hold what was written: at {address:#010X} it reads {found:#04X} instead of {expected:#04X}."
            ),
            "The sector may be write-protected or worn: try Erase all and flash again.",
        ),
        DeviceError::Cancelled { phase, .. } => plain(
            format!("Cancelled during the {phase}. The board is idle."),
            "The flash may be partly erased or written: flash the firmware again before starting it.",
        ),
        DeviceError::BusyTooLong { operation, waited } => plain(
            format!(
                "The board stayed busy for {:.0} s during the {operation}.",
                waited.as_secs_f64()
            ),
            "Power-cycle the board (unplug it, put it back in DFU mode) and try again.",
        ),
        other => plain(
            format!("{}.", capitalised(&other.to_string())),
            capitalised(other.help()) + ".",
        ),
    }
}

/// `text` with its first letter in upper case.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfuse::protocol::{Request, State};

    #[test]
    fn a_foreign_windows_driver_names_the_driver_and_the_fix() {
        let error = DeviceError::Open {
            location: "1-2".into(),
            source: TransportError::WrongDriver {
                driver: "STTub30".into(),
                source: dfuse::transport::OsError::new(std::io::Error::other(
                    "incompatible driver is installed for this device",
                )),
            },
        };
        let plain = explain(&error, Some("STTub30"));
        assert!(plain.next.contains("STTub30 driver bound"), "{plain:?}");
        assert!(plain.next.contains("dfuse driver install") && plain.next.contains("Zadig"));
        let with_winusb = explain(&error, Some("WinUSB"));
        assert!(
            with_winusb.what.contains("could not be opened"),
            "{with_winusb:?}"
        );
    }

    #[test]
    fn a_write_error_names_the_operation_and_suggests_erasing() {
        let error = DeviceError::Status {
            operation: "write of 2048 bytes at 0x08004000".into(),
            status: Status::ErrWrite,
            state: State::Error,
        };
        let plain = explain(&error, None);
        assert_eq!(
            plain.what,
            "The board could not program its flash (write of 2048 bytes at 0x08004000)."
        );
        assert!(plain.next.contains("Erase all"));
        assert_eq!(plain.code, "device-status");
    }

    #[test]
    fn other_errors_fall_back_to_the_library_help() {
        let error = DeviceError::BadReply {
            request: Request::GetStatus,
            len: 2,
        };
        let plain = explain(&error, None);
        assert!(
            plain.what.starts_with("DFU_GETSTATUS returned 2 bytes"),
            "{plain:?}"
        );
        assert!(
            plain.next.starts_with("The device does not behave"),
            "{plain:?}"
        );
    }
}
