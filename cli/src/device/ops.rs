//! `dfuse read`, `erase`, `unprotect` and `leave`.

use std::path::PathBuf;

use clap::Args;
use dfu_file::dump::DumpFormat;
use dfu_file::{DeviceIds, Image};
use dfuse::DeviceError;
use dfuse::plan::Sector;
use dfuse::session::{Event, Phase, Session};
use serde_json::json;

use super::report::{OutputArgs, Reporter, count};
use super::{DeviceArgs, OpenDevice};
use crate::exit::CliError;
use crate::number::{parse_size, parse_u32};
use crate::output::write_atomically;

/// Runs `body` on the opened device, then saves a simulated board's state whatever happened.
fn with_device(
    args: &DeviceArgs,
    body: impl FnOnce(&mut OpenDevice) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let mut device = args.open()?;
    let result = body(&mut device);
    let closed = device.close();
    result.and(closed)
}

/// Arguments of `dfuse read`.
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
    /// Alternate setting: a number or a region name (default 0).
    #[arg(long, value_name = "ALT")]
    alt: Option<String>,
    #[command(flatten)]
    device: DeviceArgs,
    #[command(flatten)]
    report: OutputArgs,
}

pub fn read(args: ReadArgs) -> Result<(), CliError> {
    let format = DumpFormat::of(&args.output).map_err(CliError::Usage)?;
    with_device(&args.device, |device| {
        let (alt, _) = device.resolve_alt(args.alt.as_deref())?;
        let mut reporter = Reporter::new(args.report);
        let mut on_event = |event: &Event| reporter.event(event);
        let settings = device.settings()?;
        let data = Session::open(device.transport(), alt, settings, &mut on_event)?.upload(
            args.address,
            args.length,
            Phase::Read,
        )?;
        if (data.len() as u64) < args.length {
            let end = u64::from(args.address) + data.len() as u64;
            return Err(CliError::Device(DeviceError::Target(format!(
                "the memory of alternate setting {alt} ends at {end:#010X}: only {} of {} bytes could be read",
                data.len(),
                args.length
            ))));
        }
        let image =
            Image::from_pieces([(args.address, data)]).map_err(|error| CliError::BadInput {
                path: args.output.clone(),
                error,
            })?;
        let info = device.info();
        let ids = DeviceIds {
            vid: info.vid,
            pid: info.pid,
            bcd_device: info.bcd_device,
        };
        let bytes = dfu_file::dump::encode(format, alt, image, ids).map_err(|error| {
            CliError::BadInput {
                path: args.output.clone(),
                error,
            }
        })?;
        write_atomically(&args.output, &bytes)?;
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

/// Arguments of `dfuse erase`.
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
    /// Alternate setting: a number or a region name (default 0).
    #[arg(long, value_name = "ALT")]
    alt: Option<String>,
    #[command(flatten)]
    device: DeviceArgs,
    #[command(flatten)]
    report: OutputArgs,
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
    with_device(&args.device, |device| {
        let (alt, map) = device.resolve_alt(args.alt.as_deref())?;
        let sectors = match range {
            Some((address, length)) => sectors_in(&map, address, length)?,
            None => Vec::new(),
        };
        let mut reporter = Reporter::new(args.report);
        let mut on_event = |event: &Event| reporter.event(event);
        let settings = device.settings()?;
        let mut session = Session::open(device.transport(), alt, settings, &mut on_event)?;
        match range {
            None => session.mass_erase()?,
            Some(_) => session.erase(&sectors)?,
        }
        let what = if range.is_none() {
            "the whole flash".to_string()
        } else {
            count(sectors.len(), "sector")
        };
        reporter.message(&format!("Erased {what}."));
        reporter.result(
            json!({"result": "ok", "sectors": sectors.len(), "mass_erase": range.is_none()}),
        );
        Ok(())
    })
}

/// The sectors covering `address..address+length`, refused where the memory is not erasable.
fn sectors_in(
    map: &dfuse::memory_map::MemoryMap,
    address: u32,
    length: u64,
) -> Result<Vec<Sector>, CliError> {
    let end = u64::from(address) + length.max(1);
    let mut sectors = Vec::new();
    let mut at = u64::from(address);
    while at < end {
        let refuse = |why: &str| {
            CliError::Device(DeviceError::Target(format!(
                "cannot erase {at:#010X}: {why} in {:?}",
                map.name
            )))
        };
        let segment = map
            .segment_at(at)
            .ok_or_else(|| refuse("no memory there"))?;
        if !segment.access.erasable {
            return Err(refuse("the memory is not erasable"));
        }
        let size = u64::from(segment.sector_size);
        let start = u64::from(segment.address) + (at - u64::from(segment.address)) / size * size;
        sectors.push(Sector {
            address: start as u32,
            size: segment.sector_size,
        });
        at = start + size;
    }
    Ok(sectors)
}

/// Arguments of `dfuse unprotect`.
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
        let mut on_event = |event: &Event| reporter.event(event);
        let settings = device.settings()?;
        Session::open(device.transport(), 0, settings, &mut on_event)?.read_unprotect()?;
        reporter.message("Read protection removed: the chip was mass-erased and has reset.");
        device.wait_if_asked(args.wait, &reporter)?;
        reporter.result(json!({"result": "ok"}));
        Ok(())
    })
}

/// Arguments of `dfuse leave`.
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
        let address = device.leave(args.address, args.wait, &mut reporter)?;
        reporter.result(json!({"result": "ok", "address": address}));
        Ok(())
    })
}
