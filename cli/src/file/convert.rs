//! `dfuse file convert`: any readable firmware file to .dfu, .bin or .hex.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use dfu_file::{DeviceIds, Firmware, Target};

use super::{InputArgs, extension};
use crate::exit::CliError;
use crate::number::{parse_size, parse_u8, parse_u16};
use crate::output::write_atomically;

pub const AFTER_HELP: &str = "\
Examples:
  dfuse file convert app.hex -o app.dfu --target-name \"Internal Flash\"
  dfuse file convert app.bin --address 0x08000000 -o app.dfu --vid 0x0483 --pid 0xdf11
  dfuse file convert app.elf -o app.bin
  dfuse file convert multi.dfu --alt 1 -o option-bytes.hex

.dfu output: one target per alternate setting, one element per segment, and a
DFU suffix (bcdDFU 0x011A) with a CRC-32. DFUImageSize counts the prefix and the
targets but not the 16-byte suffix, as dfu-util's dfuse-pack writes it. The
suffix IDs are kept from a .dfu input; otherwise they default to the STM32
system bootloader, VID 0x0483 PID 0xDF11, with bcdDevice 0xFFFF (any).

.bin output holds bytes from the first address on, gaps filled with 0xFF; it
does not record the address, which is printed so you can pass it when flashing.";

/// Output formats.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// DfuSe .dfu (UM0391) with suffix and CRC
    Dfu,
    /// Raw binary, gaps filled with 0xFF
    Bin,
    /// Intel HEX (I32HEX)
    #[value(alias = "ihex")]
    Hex,
}

impl OutputFormat {
    /// The usual extension, for messages.
    fn label(self) -> &'static str {
        match self {
            OutputFormat::Dfu => ".dfu",
            OutputFormat::Bin => ".bin",
            OutputFormat::Hex => ".hex",
        }
    }
}

// Arguments of `dfuse file convert`.
#[derive(Args, Debug)]
pub struct ConvertArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The file to write (replaced only once it is complete).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Output format; by default taken from the output's extension (.dfu, .bin, .hex/.ihex).
    #[arg(long, value_enum)]
    format: Option<OutputFormat>,
    /// With several targets in the input, keep only the one for this alternate setting;
    /// with one, the alternate setting to give it in a .dfu (default: the input's, else 0).
    #[arg(long, value_parser = parse_u8, value_name = "N")]
    alt: Option<u8>,
    /// Target name to write in a .dfu (e.g. "Internal Flash").
    #[arg(long, value_name = "NAME")]
    target_name: Option<String>,
    /// Suffix idVendor for a .dfu (0xFFFF = any device).
    #[arg(long, value_parser = parse_u16, value_name = "ID")]
    vid: Option<u16>,
    /// Suffix idProduct for a .dfu (0xFFFF = any device).
    #[arg(long, value_parser = parse_u16, value_name = "ID")]
    pid: Option<u16>,
    /// Suffix bcdDevice for a .dfu (0xFFFF = any release).
    #[arg(long, value_parser = parse_u16, value_name = "BCD")]
    bcd_device: Option<u16>,
    /// Largest gap a .bin may fill with 0xFF (bytes; K and M suffixes allowed).
    #[arg(long, value_parser = parse_size, default_value = "1M", value_name = "SIZE")]
    max_fill: u64,
    /// Convert a file whose suffix CRC does not match (a new, correct CRC is written).
    #[arg(long)]
    ignore_crc: bool,
    /// Print one JSON result object instead of the summary line.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ConvertArgs) -> Result<(), CliError> {
    let format = output_format(&args)?;
    let bytes = args.input.load()?;
    let firmware = args
        .input
        .read(&bytes, args.input.address, args.ignore_crc)?;
    for warning in &firmware.warnings {
        eprintln!("warning: {}: {warning}", args.input.file.display());
    }
    let targets = select_targets(&args, &firmware, format)?;
    if targets.iter().all(|t| t.image.is_empty()) {
        return Err(CliError::Refused {
            path: args.input.file.clone(),
            reason: "the file holds no data: there is nothing to convert".into(),
        });
    }
    let bad_conversion = |error| CliError::BadInput {
        path: args.input.file.clone(),
        error,
    };
    let (bytes, summary) = match format {
        OutputFormat::Dfu => {
            let ids = suffix_ids(&args, &firmware);
            let bytes = dfu_file::dfuse::write(&targets, ids).map_err(bad_conversion)?;
            let summary = format!(
                "DfuSe file, {} target{}, suffix VID {:#06X} PID {:#06X} bcdDevice {:#06X}",
                targets.len(),
                if targets.len() == 1 { "" } else { "s" },
                ids.vid,
                ids.pid,
                ids.bcd_device
            );
            (bytes, summary)
        }
        OutputFormat::Bin => {
            let image = &targets[0].image;
            let bytes = dfu_file::raw::write(image, args.max_fill).map_err(bad_conversion)?;
            let start = image.extent().map_or(0, |e| e.start);
            let summary = format!(
                "raw binary; load address {start:#010X} (not stored in a .bin: flash it with --address {start:#010X})"
            );
            (bytes, summary)
        }
        OutputFormat::Hex => {
            let text =
                dfu_file::ihex::write(&targets[0].image, firmware.entry).map_err(bad_conversion)?;
            (text.into_bytes(), "Intel HEX".to_string())
        }
    };
    write_atomically(&args.output, &bytes)?;
    let data: u64 = targets.iter().map(|t| t.image.len()).sum();
    if args.json {
        crate::output::print_json(serde_json::json!({
            "result": "ok", "output": args.output, "bytes": bytes.len(), "data": data,
            "summary": summary,
        }));
    } else {
        println!(
            "wrote {} ({} bytes): {summary}; {data} bytes of data",
            args.output.display(),
            bytes.len()
        );
    }
    Ok(())
}

fn output_format(args: &ConvertArgs) -> Result<OutputFormat, CliError> {
    let format = match args.format {
        Some(format) => format,
        None => match extension(&args.output)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("dfu") => OutputFormat::Dfu,
            Some("bin") => OutputFormat::Bin,
            Some("hex" | "ihex" | "ihx") => OutputFormat::Hex,
            _ => {
                return Err(CliError::Usage(format!(
                    "cannot tell the output format from {}: name it .dfu, .bin or .hex, or pass --format",
                    args.output.display()
                )));
            }
        },
    };
    if format != OutputFormat::Dfu {
        let dfu_only = [
            ("--target-name", args.target_name.is_some()),
            ("--vid", args.vid.is_some()),
            ("--pid", args.pid.is_some()),
            ("--bcd-device", args.bcd_device.is_some()),
        ];
        if let Some((flag, _)) = dfu_only.iter().find(|(_, given)| *given) {
            return Err(CliError::Usage(format!(
                "{flag} only applies to .dfu output, and the output is {}",
                format.label()
            )));
        }
    }
    Ok(format)
}

/// The targets to write: all of them, or the one `--alt` picks, renamed and re-numbered as asked.
fn select_targets(
    args: &ConvertArgs,
    firmware: &Firmware,
    format: OutputFormat,
) -> Result<Vec<Target>, CliError> {
    let mut targets = firmware.targets.clone();
    let alts = || {
        firmware
            .targets
            .iter()
            .map(|t| t.alt.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(alt) = args.alt {
        if targets.len() > 1 {
            targets.retain(|t| t.alt == alt);
            if targets.is_empty() {
                return Err(CliError::Usage(format!(
                    "{} has no target for alternate setting {alt} (it has: {})",
                    args.input.file.display(),
                    alts()
                )));
            }
        } else if let Some(target) = targets.first_mut() {
            target.alt = alt;
        }
    }
    if targets.len() > 1 && format != OutputFormat::Dfu {
        return Err(CliError::Usage(format!(
            "{} has {} targets (alternate settings {}), but a {} file holds one: choose it with --alt",
            args.input.file.display(),
            targets.len(),
            alts(),
            format.label()
        )));
    }
    if let Some(name) = &args.target_name {
        if targets.len() > 1 {
            return Err(CliError::Usage(
                "--target-name names one target, but several would be written: choose one with --alt".into(),
            ));
        }
        if let Some(target) = targets.first_mut() {
            target.name = Some(name.clone());
        }
    }
    Ok(targets)
}

/// The input's suffix IDs (or the STM32 ROM's), with the flags applied.
fn suffix_ids(args: &ConvertArgs, firmware: &Firmware) -> DeviceIds {
    let base = firmware.suffix.map(|s| s.ids).unwrap_or_default();
    DeviceIds {
        vid: args.vid.unwrap_or(base.vid),
        pid: args.pid.unwrap_or(base.pid),
        bcd_device: args.bcd_device.unwrap_or(base.bcd_device),
    }
}
