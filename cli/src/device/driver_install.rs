//! `dfuse driver install | uninstall | verify-package`: the signed WinUSB package,
//! written for inspection anywhere and installed on Windows. The work is done by
//! [`dfuse_drivers_win::system`]; this parses, asks for elevation and reports.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use dfuse_drivers_win::system::{self, SystemError};
use dfuse_drivers_win::{CAT_NAME, CER_NAME, INF_NAME, Package, check_dir};

use crate::exit::CliError;

// What `dfuse driver` does besides showing the drivers bound.
#[derive(Subcommand, Debug)]
#[command(defer = true)]
pub enum DriverAction {
    /// Sign the WinUSB package for this computer and install it (Windows, as administrator).
    #[command(after_help = INSTALL_HELP)]
    Install(InstallArgs),
    /// Remove dfuse's package from the driver store and the certificates it added (Windows).
    Uninstall(UninstallArgs),
    /// Check a package folder: the catalog's signature, and the INF's hashes inside it.
    VerifyPackage {
        /// The folder `driver install --dry-run` wrote.
        dir: PathBuf,
        /// Print one JSON object: the signer, the INF's hashes and the catalog's attributes.
        #[arg(long)]
        json: bool,
    },
}

const INSTALL_HELP: &str = "\
What it does, in order:
  1. makes an RSA-2048 key and a self-signed code-signing certificate unique to this
     computer, signs the catalog (dfuse-winusb.cat) of dfuse-winusb.inf with it, and
     forgets the key: nothing else can ever be signed with it;
  2. adds the certificate to the LocalMachine Trusted Root and Trusted Publisher stores;
  3. installs the package into the driver store and binds WinUSB to the DfuSe boards
     plugged in now (replacing STTub30 or any other driver), then rescans devices.
Windows asks for administrator rights (User Account Control) first. WinUSB itself is
Microsoft's driver, part of Windows; the package only tells Windows to use it.
`dfuse driver uninstall` undoes steps 2 and 3. With --dry-run DIR nothing is installed:
the signed package is written to DIR, on any system, for inspection.";

// Arguments of `dfuse driver install`.
#[derive(Args, Debug)]
pub struct InstallArgs {
    /// Write the signed package (INF, CAT, CER) to this folder and install nothing.
    #[arg(long, value_name = "DIR")]
    dry_run: Option<PathBuf>,
    /// Only add a fresh certificate to the stores (testing the store step where packages cannot be installed, e.g. Wine).
    #[arg(long, hide = true)]
    certificate_only: bool,
    /// Print one JSON object: what was done, step by step.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    report: ReportArg,
}

// Arguments of `dfuse driver uninstall`.
#[derive(Args, Debug)]
pub struct UninstallArgs {
    /// Print one JSON object: what was removed, step by step.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    report: ReportArg,
}

// Where an elevated copy of dfuse writes what it did, for the copy that started it.
#[derive(Args, Debug)]
pub struct ReportArg {
    #[arg(long, hide = true, value_name = "FILE")]
    report: Option<PathBuf>,
}

/// The error's stable code for `--json` and `error[...]`.
pub fn code(error: &SystemError) -> &'static str {
    match error {
        SystemError::NotWindows(_) => "windows-only",
        SystemError::NotElevated => "not-administrator",
        SystemError::Declined => "elevation-declined",
        SystemError::Call { .. } => "driver-install-failed",
        SystemError::Package(_) => "driver-package",
    }
}

/// What to do about it.
pub fn help(error: &SystemError) -> &'static str {
    match error {
        SystemError::NotWindows(_) => "run it on the Windows computer the board is plugged into",
        SystemError::NotElevated | SystemError::Declined => {
            "run `dfuse driver install` again and accept the administrator prompt"
        }
        SystemError::Call { .. } => {
            "nothing is left half-installed; Zadig (zadig.akeo.ie, WinUSB) is the fallback, see drivers-win/README.md"
        }
        SystemError::Package(_) => {
            "write the package again (`dfuse driver install --dry-run DIR`): Windows refuses a package whose files changed after signing"
        }
    }
}

pub fn run(action: DriverAction) -> Result<(), CliError> {
    match action {
        DriverAction::Install(args) => install(args),
        DriverAction::Uninstall(args) => elevated(
            &["driver", "uninstall"],
            &args.report,
            args.json,
            system::uninstall,
        ),
        DriverAction::VerifyPackage { dir, json } => verify(&dir, json),
    }
}

fn install(args: InstallArgs) -> Result<(), CliError> {
    if let Some(dir) = args.dry_run {
        let package = Package::build().map_err(package_error)?;
        package.write(&dir).map_err(package_error)?;
        if args.json {
            let files =
                [INF_NAME, CAT_NAME, CER_NAME].map(|name| dir.join(name).display().to_string());
            crate::output::print_json(
                serde_json::json!({"result": "ok", "installed": false, "files": files}),
            );
            return Ok(());
        }
        println!(
            "Wrote the signed package to {}: {INF_NAME}, {CAT_NAME} (signed by the certificate in {CER_NAME}; its key is gone). Nothing was installed.",
            dir.display()
        );
        return Ok(());
    }
    let mut invocation = vec!["driver", "install"];
    if args.certificate_only {
        invocation.push("--certificate-only");
    }
    let work = move || {
        if args.certificate_only {
            system::trust_certificate(&Package::build()?)
        } else {
            system::install_fresh()
        }
    };
    elevated(&invocation, &args.report, args.json, work)
}

fn package_error(error: dfuse_drivers_win::PackageError) -> CliError {
    CliError::Driver(SystemError::Package(error))
}

/// Runs `work` here when this process may change the machine (writing `report` if an
/// unelevated dfuse started it); otherwise starts dfuse again as administrator with
/// `invocation` and shows what it reports.
fn elevated(
    invocation: &[&str],
    report: &ReportArg,
    json: bool,
    work: impl FnOnce() -> Result<Vec<String>, SystemError>,
) -> Result<(), CliError> {
    let result = if system::needs_elevation() {
        eprintln!(
            "Changing drivers and the machine's certificate stores needs administrator rights: Windows will ask now (User Account Control)."
        );
        system::elevate_and_report(invocation)
    } else {
        let result = work();
        if let Some(path) = &report.report {
            system::write_report(path, &result).map_err(|error| CliError::Io {
                path: path.to_path_buf(),
                action: "write",
                error,
            })?;
        }
        result
    };
    let done = match &result {
        Ok(done) => done.as_slice(),
        Err(error) => error.done(),
    };
    if json {
        if result.is_ok() {
            crate::output::print_json(serde_json::json!({"result": "ok", "done": done}));
        }
    } else {
        for line in done {
            println!("{line}");
        }
    }
    result.map(drop).map_err(CliError::Driver)
}

fn verify(dir: &Path, json: bool) -> Result<(), CliError> {
    use dfuse::transport::printable;
    let checked = check_dir(dir).map_err(package_error)?;
    let windows = if cfg!(windows) {
        system::check_with_windows(dir).map_err(CliError::Driver)?
    } else {
        Vec::new()
    };
    if json {
        let hashes: Vec<_> = checked
            .inf_hashes
            .iter()
            .map(|(kind, tag)| serde_json::json!({"hash": kind.to_string(), "tag": tag}))
            .collect();
        let names: serde_json::Map<String, serde_json::Value> = checked
            .names
            .iter()
            .map(|(name, value)| (name.clone(), value.clone().into()))
            .collect();
        crate::output::print_json(serde_json::json!({
            "result": "ok", "signer": checked.signer, "inf_members": hashes,
            "attributes": names, "windows": windows,
        }));
        return Ok(());
    }
    println!(
        "{}: the catalog's signature holds, signed by \"{}\"",
        dir.display(),
        printable(&checked.signer)
    );
    for (kind, tag) in &checked.inf_hashes {
        println!("  {INF_NAME} {kind} {tag}: a member");
    }
    for (name, value) in &checked.names {
        println!(
            "  catalog attribute {} = {}",
            printable(name),
            printable(value)
        );
    }
    for line in windows {
        println!("  Windows: {}", printable(&line));
    }
    Ok(())
}
