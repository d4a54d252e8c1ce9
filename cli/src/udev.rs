//! `dfuse udev-rule [--install]`: the Linux udev rule that lets the logged-in
//! user use DfuSe bootloaders without root, printed or installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Args;

use crate::exit::CliError;

/// The rule, as shipped.
pub const RULE: &str = include_str!("../assets/60-dfuse.rules");

/// Where `--install` puts it (before 73-seat-late.rules, which applies uaccess).
const INSTALLED: &str = "/etc/udev/rules.d/60-dfuse.rules";

// Arguments of `dfuse udev-rule`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  dfuse udev-rule                       # print it\n  sudo dfuse udev-rule --install        # install it and reload udev; then replug the board"
)]
pub struct UdevArgs {
    /// Write the rule to /etc/udev/rules.d/60-dfuse.rules and reload udev (as root).
    #[arg(long)]
    install: bool,
    /// Where --install writes it.
    #[arg(long, value_name = "FILE", default_value = INSTALLED, requires = "install")]
    path: PathBuf,
}

pub fn run(args: UdevArgs) -> Result<(), CliError> {
    if !args.install {
        print!("{RULE}");
        return Ok(());
    }
    let reloaded = install(&args.path)?;
    let then = if reloaded {
        "reloaded udev"
    } else {
        "could not reload udev: it applies once udev reloads its rules (or after a reboot)"
    };
    println!(
        "Installed {}, {then}; replug the board.",
        args.path.display()
    );
    Ok(())
}

/// Writes the rule to `path` and reloads udev; returns whether udev was reloaded.
fn install(path: &Path) -> Result<bool, CliError> {
    crate::output::write_atomically(path, RULE.as_bytes()).map_err(|error| match error {
        CliError::Io { error, .. } if error.kind() == std::io::ErrorKind::PermissionDenied => {
            CliError::InvalidArgument {
                message: format!("cannot write {}: permission denied", path.display()),
                help: "run it as root: sudo dfuse udev-rule --install",
            }
        }
        other => other,
    })?;
    // Without a running udev (a container, a chroot) the rule is still in place for the next boot.
    let udevadm = |args: &[&str]| {
        Command::new("udevadm")
            .args(args)
            .status()
            .is_ok_and(|status| status.success())
    };
    Ok(udevadm(&["control", "--reload-rules"]) && udevadm(&["trigger", "--subsystem-match=usb"]))
}
