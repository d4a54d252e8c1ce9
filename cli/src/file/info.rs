//! `dfuse file info`: a readable or JSON description of a firmware file.

use clap::Args;
use dfu_file::{Firmware, Suffix};
use serde::Serialize;

use super::InputArgs;
use crate::exit::CliError;

pub const AFTER_HELP: &str = "\
Examples:
  dfuse file info firmware.dfu
  dfuse file info firmware.bin --address 0x08000000
  dfuse file info firmware.hex --json | jq '.targets[0].elements'

A damaged file (CRC mismatch) is still described, and the command exits with code 3.";

// Arguments of `dfuse file info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Print exactly one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct InfoJson<'a> {
    format: &'static str,
    suffix: Option<SuffixJson>,
    targets: Vec<TargetJson<'a>>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct SuffixJson {
    vid: u16,
    pid: u16,
    bcd_device: u16,
    bcd_dfu: u16,
    crc_ok: bool,
}

#[derive(Serialize)]
struct TargetJson<'a> {
    alt: u8,
    name: Option<&'a str>,
    elements: Vec<ElementJson>,
}

#[derive(Serialize)]
struct ElementJson {
    address: u64,
    size: u64,
}

pub fn run(args: InfoArgs) -> Result<(), CliError> {
    let bytes = args.input.load()?;
    let format = args.input.format(&bytes);
    let shown_from_zero = format.needs_address() && args.input.address.is_none();
    let address = if shown_from_zero {
        Some(0)
    } else {
        args.input.address
    };
    let mut firmware = args.input.read(&bytes, address, true)?;
    if shown_from_zero {
        firmware.warnings.push(
            "raw data has no address: addresses are shown from 0x00000000 (pass --address to place it)".into(),
        );
    }
    let crc_error = firmware.suffix.and_then(|s| s.crc_error());
    if args.json {
        let info = info_json(&firmware);
        if let Some(error) = crc_error {
            // The one result object is the error's, with what the file holds.
            return Err(CliError::Detailed {
                error: Box::new(CliError::BadInput {
                    path: args.input.file,
                    error,
                }),
                details: info,
            });
        }
        let mut info = info;
        info["result"] = "ok".into();
        crate::output::print_json(info);
        return Ok(());
    }
    print_text(
        &args.input.file.display().to_string(),
        bytes.len(),
        &firmware,
    );
    match crc_error {
        Some(error) => Err(CliError::BadInput {
            path: args.input.file,
            error,
        }),
        None => Ok(()),
    }
}

/// What the file holds, as JSON.
fn info_json(firmware: &Firmware) -> serde_json::Value {
    let info = InfoJson {
        format: firmware.format.name(),
        suffix: firmware.suffix.map(|s| SuffixJson {
            vid: s.ids.vid,
            pid: s.ids.pid,
            bcd_device: s.ids.bcd_device,
            bcd_dfu: s.bcd_dfu,
            crc_ok: s.crc_ok(),
        }),
        targets: firmware
            .targets
            .iter()
            .map(|t| TargetJson {
                alt: t.alt,
                name: t.name.as_deref(),
                elements: t
                    .elements
                    .iter()
                    .map(|e| ElementJson {
                        address: e.start,
                        size: e.len(),
                    })
                    .collect(),
            })
            .collect(),
        warnings: &firmware.warnings,
    };
    // Serialising these plain structs cannot fail.
    serde_json::to_value(&info).unwrap_or_default()
}

fn print_text(path: &str, file_len: usize, firmware: &Firmware) {
    println!("File:     {path} ({file_len} bytes)");
    println!("Format:   {}", firmware.format.description());
    match &firmware.suffix {
        Some(suffix) => println!("Suffix:   {}", describe_suffix(suffix)),
        None => println!("Suffix:   none"),
    }
    if let Some(entry) = firmware.entry {
        println!("Entry:    {entry:#010X}");
    }
    for (index, target) in firmware.targets.iter().enumerate() {
        let name = target
            .name
            .as_deref()
            .map_or(String::from("unnamed"), |n| format!("{n:?}"));
        let count = target.elements.len();
        println!(
            "Target {index}: alt {}, {name}, {count} element{}, {} bytes of data",
            target.alt,
            if count == 1 { "" } else { "s" },
            target.image.len(),
        );
        for element in &target.elements {
            println!("  {element}  {:>10} bytes", element.len());
        }
    }
    if !firmware.warnings.is_empty() {
        println!("Warnings:");
        for warning in &firmware.warnings {
            println!("  - {warning}");
        }
    }
}

fn describe_suffix(suffix: &Suffix) -> String {
    let crc = if suffix.crc_ok() {
        format!("CRC {:#010X} ok", suffix.stored_crc)
    } else {
        format!(
            "CRC {:#010X} MISMATCH (computed {:#010X})",
            suffix.stored_crc, suffix.computed_crc
        )
    };
    format!(
        "VID {:#06X}  PID {:#06X}  bcdDevice {:#06X}  bcdDFU {:#06X}  {crc}",
        suffix.ids.vid, suffix.ids.pid, suffix.ids.bcd_device, suffix.bcd_dfu
    )
}
