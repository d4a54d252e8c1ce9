//! `dfuse read`, `erase`, `unprotect` and `leave`.

use std::path::PathBuf;

use clap::Args;
use dfu_file::dump::DumpFormat;
use dfuse::Device;
use dfuse::device::Erased;
use serde_json::json;

use super::report::{OutputArgs, Reporter, count};
use super::{DeviceArgs, with_device};
use crate::exit::CliError;
use crate::number::{parse_size, parse_u32};

// Which board and memory region a command works on, and how it reports.
#[derive(Args, Debug)]
pub struct OnRegion {
    /// Alternate setting: a number or a region name (default 0).
    #[arg(long, short = 'a', value_name = "ALT")]
    alt: Option<String>,
    #[command(flatten)]
    pub device: DeviceArgs,
    #[command(flatten)]
    pub report: OutputArgs,
}

impl OnRegion {
    /// The alternate setting --alt names on `device` (0 without it).
    pub fn alt(&self, device: &Device) -> Result<u8, CliError> {
        Ok(device
            .profile()
            .find_alt(self.alt.as_deref().unwrap_or("0"))?)
    }
}

// Arguments of `dfuse read`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  dfuse read -o backup.bin --address 0x08000000 --length 1M\n  dfuse read -o ob.hex --alt \"Option Bytes\" --address 0x1FFFC000 --length 16"
)]
pub struct ReadArgs {
    /// The file to write; its extension (.bin, .hex, .dfu) picks the format.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// First address to read.
    #[arg(long, value_parser = parse_u32, value_name = "ADDR")]
    address: u32,
    /// Bytes to read (K and M suffixes allowed).
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    length: u64,
    #[command(flatten)]
    on: OnRegion,
}

pub fn read(args: ReadArgs) -> Result<(), CliError> {
    DumpFormat::of(&args.output).map_err(CliError::Usage)?;
    with_device(&args.on.device, |device| {
        let alt = args.on.alt(device)?;
        let mut reporter = Reporter::new(args.on.report);
        device.read_to_file(alt, args.address, args.length, &args.output, &mut |event| {
            reporter.event(event)
        })?;
        reporter.message(&format!(
            "Read {} bytes from {:#010X} into {}.",
            args.length,
            args.address,
            args.output.display()
        ));
        reporter.result(json!({"result": "ok", "address": args.address, "length": args.length, "file": args.output}));
        Ok(())
    })
}

// Arguments of `dfuse erase`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  dfuse erase --all\n  dfuse erase --address 0x08020000 --length 128K"
)]
pub struct EraseArgs {
    /// Erase the whole flash (mass erase).
    #[arg(long, conflicts_with_all = ["address", "length"])]
    all: bool,
    /// First address of the range to erase (whole sectors around it are erased).
    #[arg(long, value_parser = parse_u32, value_name = "ADDR", requires = "length")]
    address: Option<u32>,
    /// Length of the range (K and M suffixes allowed).
    #[arg(long, value_parser = parse_size, value_name = "SIZE", requires = "address")]
    length: Option<u64>,
    #[command(flatten)]
    on: OnRegion,
}

pub fn erase(args: EraseArgs) -> Result<(), CliError> {
    let range = match (args.all, args.address, args.length) {
        (true, _, _) => None,
        (false, Some(address), Some(length)) => Some((address, length)),
        _ => {
            return Err(CliError::Usage(
                "say what to erase: --all, or --address and --length".into(),
            ));
        }
    };
    with_device(&args.on.device, |device| {
        let alt = args.on.alt(device)?;
        let mut reporter = Reporter::new(args.on.report);
        let erased = device.erase(alt, range, &mut |event| reporter.event(event))?;
        let (what, sectors) = match &erased {
            Erased::All => ("the whole flash".to_string(), 0),
            Erased::Sectors(sectors) => (count(sectors.len(), "sector"), sectors.len()),
        };
        reporter.message(&format!("Erased {what}."));
        reporter.result(
            json!({"result": "ok", "sectors": sectors, "mass_erase": erased == Erased::All}),
        );
        Ok(())
    })
}

// Arguments of `dfuse unprotect`.
#[derive(Args, Debug)]
pub struct UnprotectArgs {
    #[command(flatten)]
    wait: super::WaitArgs,
    /// Confirm: removing read protection ERASES THE WHOLE CHIP.
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    device: DeviceArgs,
    #[command(flatten)]
    report: OutputArgs,
}

pub fn unprotect(args: UnprotectArgs) -> Result<(), CliError> {
    if !args.yes {
        return Err(CliError::Usage(
            "removing read protection erases the whole chip: pass --yes to confirm".into(),
        ));
    }
    with_device(&args.device, |device| {
        let mut reporter = Reporter::new(args.report);
        device.unprotect(&mut |event| reporter.event(event))?;
        reporter.message("Read protection removed: the chip was mass-erased and has reset.");
        args.wait.wait_if_asked(device, &reporter)?;
        reporter.result(json!({"result": "ok"}));
        Ok(())
    })
}

// Arguments of `dfuse leave`.
#[derive(Args, Debug)]
pub struct LeaveArgs {
    #[command(flatten)]
    wait: super::WaitArgs,
    /// Where the firmware starts (default: the start of alternate setting 0's memory).
    #[arg(long, value_parser = parse_u32, value_name = "ADDR")]
    address: Option<u32>,
    #[command(flatten)]
    device: DeviceArgs,
    #[command(flatten)]
    report: OutputArgs,
}

pub fn leave(args: LeaveArgs) -> Result<(), CliError> {
    with_device(&args.device, |device| {
        let mut reporter = Reporter::new(args.report);
        let address = leave_and_report(device, args.address, args.wait, &mut reporter)?;
        reporter.result(json!({"result": "ok", "address": address}));
        Ok(())
    })
}

/// Leaves DFU mode (default start: alternate setting 0's memory), says so, and waits for the board if asked.
pub fn leave_and_report(
    device: &mut Device,
    address: Option<u32>,
    wait: super::WaitArgs,
    reporter: &mut Reporter,
) -> Result<u32, CliError> {
    let address = device.leave(address, &mut |event| reporter.event(event))?;
    reporter.message(&format!(
        "Left DFU mode: the firmware starts at {address:#010X}."
    ));
    wait.wait_if_asked(device, reporter)?;
    Ok(address)
}
