//! Installing the signed package on this computer (Windows), removing it again,
//! and asking Windows' own catalog API about a package. Elsewhere every call
//! says it is Windows-only. The steps are in docs/WINDOWS-DRIVER.md.

use std::path::Path;

use crate::{Package, PackageError};

#[cfg(windows)]
mod windows;

/// What went wrong changing this computer. `done` lists what had been done (and
/// undone) before the failure, for the report.
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    /// The call exists only on Windows.
    #[error(
        "{0} works on Windows only: on Linux and macOS dfuse needs no driver (on Linux, `sudo dfuse udev-rule --install` lets you use the board without root); `dfuse driver install --dry-run DIR` writes the signed package for inspection on any system"
    )]
    NotWindows(&'static str),
    /// The process lacks administrator rights.
    #[error(
        "changing drivers and the machine's certificate stores needs administrator rights: run dfuse from an administrator prompt, or let it ask (User Account Control)"
    )]
    NotElevated,
    /// The user declined the administrator prompt.
    #[error("the administrator prompt was declined: nothing was changed")]
    Declined,
    /// A Windows call failed.
    #[error("{what} failed: {error}")]
    Call {
        /// The step, in words.
        what: String,
        /// Windows' error.
        error: String,
        /// What had been done before, and any undoing.
        done: Vec<String>,
    },
    /// Building or reading the package failed.
    #[error(transparent)]
    Package(#[from] PackageError),
}

impl SystemError {
    /// What had been done before the failure (nothing, for most errors).
    pub fn done(&self) -> &[String] {
        match self {
            SystemError::Call { done, .. } => done,
            _ => &[],
        }
    }
}

/// Whether this process may change drivers and the machine's certificate stores.
pub fn is_elevated() -> bool {
    #[cfg(windows)]
    return windows::is_elevated();
    #[cfg(not(windows))]
    false
}

/// Whether changing the machine means asking Windows for administrator rights first
/// ([`elevate_and_report`]). Off Windows it never does: the calls say they are Windows-only.
pub fn needs_elevation() -> bool {
    cfg!(windows) && !is_elevated()
}

/// Signs a fresh package (a new key, dropped once signed) and [`install`]s it.
pub fn install_fresh() -> Result<Vec<String>, SystemError> {
    install(&Package::build()?)
}

/// Installs `package`: its certificate into LocalMachine Root and TrustedPublisher, the
/// package into the driver store, WinUSB onto the boards plugged in now, then a device
/// rescan. Undoes the certificate step when the package is refused. Returns what was done.
pub fn install(package: &Package) -> Result<Vec<String>, SystemError> {
    #[cfg(windows)]
    return windows::install(package);
    #[cfg(not(windows))]
    {
        let _ = package;
        Err(SystemError::NotWindows("installing the driver"))
    }
}

/// Only the certificate step of [`install`]: trusts `package`'s certificate. For
/// testing the stores where packages cannot be installed (Wine).
pub fn trust_certificate(package: &Package) -> Result<Vec<String>, SystemError> {
    #[cfg(windows)]
    return windows::trust(&package.cer);
    #[cfg(not(windows))]
    {
        let _ = package;
        Err(SystemError::NotWindows("trusting the certificate"))
    }
}

/// Removes every dfuse package from the driver store and every certificate dfuse
/// added, nothing else. Returns what was removed.
pub fn uninstall() -> Result<Vec<String>, SystemError> {
    #[cfg(windows)]
    return windows::uninstall();
    #[cfg(not(windows))]
    Err(SystemError::NotWindows("removing the driver"))
}

/// Opens the package's catalog in `dir` with Windows' catalog API (wintrust), has
/// Windows hash the INF, and checks the hash is a member. Returns what it found.
pub fn check_with_windows(dir: &Path) -> Result<Vec<String>, SystemError> {
    #[cfg(windows)]
    return windows::check_catalog(dir);
    #[cfg(not(windows))]
    {
        let _ = dir;
        Err(SystemError::NotWindows("Windows' catalog API"))
    }
}

/// Writes `result` for the unelevated copy that started this one: a `done: ` line per
/// step, then an `error: ` line if it failed.
pub fn write_report(
    report: &Path,
    result: &Result<Vec<String>, SystemError>,
) -> std::io::Result<()> {
    let (done, error) = match result {
        Ok(done) => (done.as_slice(), None),
        Err(error) => (error.done(), Some(error)),
    };
    let mut text: String = done.iter().map(|line| format!("done: {line}\n")).collect();
    if let Some(error) = error {
        text += &format!("error: {error}\n");
    }
    std::fs::write(report, text)
}

/// Runs this program again as administrator with `args` and `--report FILE`, waits, and
/// returns what it reported (see [`write_report`]).
pub fn elevate_and_report(args: &[&str]) -> Result<Vec<String>, SystemError> {
    let report = tempfile::NamedTempFile::new().map_err(|e| SystemError::Call {
        what: "making a file for the administrator copy's report".into(),
        error: e.to_string(),
        done: Vec::new(),
    })?;
    let mut all: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    all.push("--report".into());
    all.push(report.path().display().to_string());
    let code = run_elevated(&all)?;
    let text = std::fs::read_to_string(report.path()).unwrap_or_default();
    let mut done = Vec::new();
    let mut failure = None;
    for line in text.lines() {
        if let Some(step) = line.strip_prefix("done: ") {
            done.push(step.to_string());
        } else if let Some(error) = line.strip_prefix("error: ") {
            failure = Some(error.to_string());
        }
    }
    let error = match (code, failure) {
        (0, None) => return Ok(done),
        (_, Some(error)) => error,
        (code, None) => format!("it exited with {code} and left no report"),
    };
    Err(SystemError::Call {
        what: "the administrator copy of dfuse".into(),
        error,
        done,
    })
}

/// Runs this program again with `args` as administrator (User Account Control asks the
/// user), waits for it and returns its exit code.
pub fn run_elevated(args: &[String]) -> Result<u32, SystemError> {
    #[cfg(windows)]
    return windows::run_elevated(args);
    #[cfg(not(windows))]
    {
        let _ = args;
        Err(SystemError::NotWindows("asking for administrator rights"))
    }
}
