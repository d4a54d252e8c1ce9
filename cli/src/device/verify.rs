//! `dfuse verify`: does the board hold this firmware? Reads, compares, writes nothing.

use clap::Args;
use dfuse::device::{Difference, PlanRequest};
use serde_json::json;

use super::report::{OutputArgs, Reporter, count};
use super::{DeviceArgs, with_device};
use crate::exit::CliError;
use crate::file::InputArgs;

pub const AFTER_HELP: &str = "\
Examples:
  dfuse verify firmware.hex --device sim:stm32f407
  dfuse verify app.bin --address 0x08000000 --json

Every byte the file holds is read back from where `flash` would put it and
compared; nothing is erased or written. Exit code 0: the board holds the file;
6: it differs (the differing ranges are listed, the first one first).";

/// How many differing ranges are listed for people (JSON lists all).
const SHOWN: usize = 10;

// Arguments of `dfuse verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    device: DeviceArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Alternate setting to compare: a number, or a region name such as "Internal Flash" (default 0).
    #[arg(long, short = 'a', value_name = "ALT")]
    alt: Option<String>,
    /// Compare a .dfu even when its suffix VID/PID names another device.
    #[arg(long)]
    ignore_ids: bool,
}

pub fn run(args: VerifyArgs) -> Result<(), CliError> {
    let firmware = args.input.firmware_for(args.alt.as_deref())?;
    with_device(&args.device, |device| {
        let mut reporter = Reporter::new(args.output);
        let request = PlanRequest {
            alt: super::alt_named(device, args.alt.as_deref())?,
            ignore_ids: args.ignore_ids,
            ..PlanRequest::default()
        };
        let differences =
            device.differences(&firmware, &request, &mut |event| reporter.event(event))?;
        let bytes: u64 = firmware.targets.iter().map(|t| t.image.len()).sum();
        let name = args.input.file.display().to_string();
        let location = device.info().location.clone();
        let ranges: Vec<_> = differences
            .iter()
            .map(|d| json!({"alt": d.alt, "start": d.start, "end": d.end}))
            .collect();
        if differences.is_empty() {
            reporter.message(&format!(
                "{location} holds {name}: all {bytes} bytes match."
            ));
            reporter.result(
                json!({"result": "ok", "device": location, "bytes": bytes, "differences": ranges}),
            );
            return Ok(());
        }
        let differing: u64 = differences.iter().map(|d| d.end - d.start).sum();
        reporter.message(&format!(
            "{location} differs from {name}: {differing} of {bytes} bytes in {} range{}:",
            differences.len(),
            if differences.len() == 1 { "" } else { "s" }
        ));
        for difference in differences.iter().take(SHOWN) {
            reporter.message(&format!("  {}", describe(difference)));
        }
        if differences.len() > SHOWN {
            reporter.message(&format!("  ... and {} more", differences.len() - SHOWN));
        }
        // With --json, the error result object carries the differences.
        Err(CliError::Differs {
            first: differences[0].start,
            details: json!({"device": location, "bytes": bytes,
                "differing_bytes": differing, "differences": ranges}),
        })
    })
}

fn describe(difference: &Difference) -> String {
    format!(
        "alt {}: {:#010X}-{:#010X} ({})",
        difference.alt,
        difference.start,
        difference.end - 1,
        count((difference.end - difference.start) as usize, "byte")
    )
}
