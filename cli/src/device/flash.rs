//! `dfuse flash`: write a firmware file to a device, verify it, optionally start it.

use clap::Args;
use dfuse::Device;
use dfuse::device::{FlashOptions, Flashed, PlanRequest};
use serde_json::json;

use super::report::{OutputArgs, Reporter, count};
use super::{DeviceArgs, with_device};
use crate::exit::CliError;
use crate::file::InputArgs;

pub const AFTER_HELP: &str = "\
Examples:
  dfuse flash firmware.hex --device sim:stm32f407
  dfuse flash app.bin --address 0x08000000 --leave
  dfuse flash multi.dfu                  # each target to its own alternate setting
  dfuse flash app.elf --alt \"Internal Flash\" --json

Nothing is erased until the whole file has been checked against the device's
memory map: data outside it, in read-only memory, or more than fits is refused
first. Only the sectors the firmware touches are erased (or everything, with
--mass-erase); the result is read back and compared unless --no-verify.
Ctrl-C stops between two requests and leaves the board in DFU mode, idle
(exit code 130); a second Ctrl-C exits at once.";

/// Arguments of `dfuse flash`.
#[derive(Args, Debug)]
pub struct FlashArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    device: DeviceArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Alternate setting to flash: a number, or a region name such as "Internal Flash" (default 0).
    #[arg(long, value_name = "ALT")]
    alt: Option<String>,
    /// Start the firmware afterwards (leave DFU mode).
    #[arg(long)]
    leave: bool,
    #[command(flatten)]
    wait: super::WaitArgs,
    /// Do not read back and compare.
    #[arg(long)]
    no_verify: bool,
    /// Erase the whole flash instead of only the sectors written.
    #[arg(long)]
    mass_erase: bool,
    /// Also write into read-only or non-writable memory.
    #[arg(long)]
    force: bool,
    /// Flash a .dfu even when its suffix VID/PID names another device.
    #[arg(long)]
    ignore_ids: bool,
}

pub fn run(args: FlashArgs) -> Result<(), CliError> {
    if args.wait.wait && !args.leave {
        return Err(CliError::Usage(
            "--wait waits for the board after --leave: pass both".into(),
        ));
    }
    let bytes = args.input.load()?;
    let firmware = args.input.read(&bytes, args.input.address, false)?;
    if firmware.targets.len() > 1 && args.alt.is_some() {
        return Err(CliError::Usage(
            "the file has several targets, each for its own alternate setting: --alt does not apply".into(),
        ));
    }
    with_device(&args.device, |device| flash(&args, &firmware, device))
}

fn flash(
    args: &FlashArgs,
    firmware: &dfu_file::Firmware,
    device: &mut Device,
) -> Result<(), CliError> {
    let mut reporter = Reporter::new(args.output);
    let request = PlanRequest {
        alt: args
            .alt
            .as_deref()
            .map(|alt| device.profile().find_alt(alt))
            .transpose()?,
        force: args.force,
        mass_erase: args.mass_erase,
        ignore_ids: args.ignore_ids,
    };
    let plans = device.profile().plan(firmware, &request)?;
    let options = FlashOptions {
        verify: !args.no_verify,
        leave: None,
    };
    let report = device.flash(&plans, &options, &mut |event| reporter.event(event))?;
    let name = device.info().location.clone();
    let mut results = Vec::new();
    for (target, flashed) in &report.targets {
        if *flashed == Flashed::DeviceReset {
            reporter.message("The device reset after the write (option bytes take effect that way): not verified.");
        }
        let plan = &target.plan;
        let padding = plan.write_len().saturating_sub(target.bytes);
        results.push(
            json!({"alt": target.alt, "region": target.region, "bytes": target.bytes,
            "written": plan.write_len(), "erased_sectors": plan.erase.len(),
            "mass_erase": plan.mass_erase, "verified": *flashed == Flashed::Verified}),
        );
        reporter.message(&format!(
            "Flashed {} bytes{} to {name} alt {} ({:?}), {}, {}.",
            target.bytes,
            if padding > 0 {
                format!(" ({} written with padding)", plan.write_len())
            } else {
                String::new()
            },
            target.alt,
            target.region,
            if plan.mass_erase {
                "after a mass erase".to_string()
            } else {
                format!("{} erased", count(plan.erase.len(), "sector"))
            },
            if *flashed == Flashed::Verified {
                "verified"
            } else {
                "not verified"
            },
        ));
    }
    if args.leave {
        super::ops::leave_and_report(device, None, args.wait, &mut reporter)?;
    }
    reporter
        .result(json!({"result": "ok", "device": name, "targets": results, "left": args.leave}));
    Ok(())
}
