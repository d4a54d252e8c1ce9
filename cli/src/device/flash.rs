//! `dfuse flash`: write a firmware file to a device, verify it, optionally start it.

use clap::Args;
use std::sync::atomic::AtomicBool;

use dfu_file::Firmware;
use dfuse::flash::{Flashed, TargetPlan, foreign_ids, plan_firmware, write_target};
use dfuse::plan::PlanOptions;
use serde_json::json;

use super::report::{OutputArgs, Reporter, count};
use super::{DeviceArgs, OpenDevice};
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
--mass-erase); the result is read back and compared unless --no-verify.";

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
    let mut device = args.device.open()?;
    let result = flash(&args, &firmware, &mut device);
    let closed = device.close();
    result.and(closed)
}

fn flash(args: &FlashArgs, firmware: &Firmware, device: &mut OpenDevice) -> Result<(), CliError> {
    let mut reporter = Reporter::new(args.output);
    check_ids(args, firmware, device)?;
    let plans = plan_targets(args, firmware, device)?;
    let name = device.info().location.clone();
    let never = AtomicBool::new(false);
    let mut results = Vec::new();
    for target in &plans {
        let mut on_event = |event: &dfuse::session::Event| reporter.event(event);
        let settings = device.settings()?;
        let flashed = write_target(
            device.transport(),
            settings,
            target,
            !args.no_verify,
            &never,
            &mut on_event,
        )?;
        if flashed == Flashed::DeviceReset {
            reporter.message("The device reset after the write (option bytes take effect that way): not verified.");
        }
        let TargetPlan {
            alt,
            region,
            bytes,
            plan,
        } = target;
        results.push(
            json!({"alt": alt, "region": region, "bytes": bytes, "written": plan.write_len(),
                            "erased_sectors": plan.erase.len(), "verified": flashed == Flashed::Verified}),
        );
        reporter.message(&format!(
            "Flashed {bytes} bytes ({} written with padding) to {name} alt {alt} ({region:?}), {}, {}.",
            plan.write_len(),
            if plan.mass_erase {
                "after a mass erase".to_string()
            } else {
                format!("{} erased", count(plan.erase.len(), "sector"))
            },
            if flashed == Flashed::Verified {
                "verified"
            } else {
                "not verified"
            },
        ));
    }
    if args.leave {
        device.leave(None, args.wait, &mut reporter)?;
    }
    reporter
        .result(json!({"result": "ok", "device": name, "targets": results, "left": args.leave}));
    Ok(())
}

/// Refuses a .dfu whose suffix names another device, unless --ignore-ids.
fn check_ids(args: &FlashArgs, firmware: &Firmware, device: &OpenDevice) -> Result<(), CliError> {
    match foreign_ids(firmware, device.info()) {
        Some(reason) if !args.ignore_ids => Err(CliError::Refused {
            path: args.input.file.clone(),
            reason: format!("{reason}; pass --ignore-ids to flash it anyway"),
        }),
        _ => Ok(()),
    }
}

/// Plans every target before anything is erased.
fn plan_targets(
    args: &FlashArgs,
    firmware: &Firmware,
    device: &OpenDevice,
) -> Result<Vec<TargetPlan>, CliError> {
    let options = PlanOptions {
        force: args.force,
        mass_erase: args.mass_erase,
        ..PlanOptions::default()
    };
    if firmware.targets.len() > 1 && args.alt.is_some() {
        return Err(CliError::Usage(
            "the file has several targets, each for its own alternate setting: --alt does not apply".into(),
        ));
    }
    let alt = match &args.alt {
        Some(alt) => Some(device.resolve_alt(Some(alt))?.0),
        None => None,
    };
    Ok(plan_firmware(firmware, &device.maps(), alt, &options)?)
}
