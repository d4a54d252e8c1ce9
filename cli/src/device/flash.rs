//! `dfuse flash`: write a firmware file to a device, verify it, optionally start it.

use clap::Args;
use dfu_file::{Firmware, Format};
use dfuse::plan::{FlashPlan, PlanOptions, plan};
use dfuse::session::{Session, Written};
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
    let mut results = Vec::new();
    for ((alt, region, plan), target) in plans.iter().zip(&firmware.targets) {
        let mut on_event = |event: &dfuse::session::Event| reporter.event(event);
        let settings = device.settings()?;
        let mut session = Session::open(device.transport(), *alt, settings, &mut on_event)?;
        let reset = session.download(plan)? == Written::DeviceReset;
        let verified = !args.no_verify && !reset;
        if verified {
            session.verify(plan)?;
        }
        if reset {
            reporter.message("The device reset after the write (option bytes take effect that way): not verified.");
        }
        let data = target.image.len();
        results.push(
            json!({"alt": alt, "region": region, "bytes": data, "written": plan.write_len(),
                            "erased_sectors": plan.erase.len(), "verified": !args.no_verify}),
        );
        reporter.message(&format!(
            "Flashed {data} bytes ({} written with padding) to {name} alt {alt} ({region:?}), {}, {}.",
            plan.write_len(),
            if plan.mass_erase {
                "after a mass erase".to_string()
            } else {
                format!("{} erased", count(plan.erase.len(), "sector"))
            },
            if args.no_verify {
                "not verified"
            } else {
                "verified"
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

/// Refuses a .dfu whose suffix names another device (0xFFFF matches any).
fn check_ids(
    args: &FlashArgs,
    firmware: &Firmware,
    device: &mut OpenDevice,
) -> Result<(), CliError> {
    let (Some(suffix), false) = (firmware.suffix, args.ignore_ids) else {
        return Ok(());
    };
    let info = device.info();
    let matches = |wanted: u16, actual: u16| wanted == 0xFFFF || wanted == actual;
    if matches(suffix.ids.vid, info.vid) && matches(suffix.ids.pid, info.pid) {
        return Ok(());
    }
    Err(CliError::Refused {
        path: args.input.file.clone(),
        reason: format!(
            "the file is for device {:04X}:{:04X} (its DFU suffix), but this device is {:04X}:{:04X}; pass --ignore-ids to flash it anyway",
            suffix.ids.vid, suffix.ids.pid, info.vid, info.pid
        ),
    })
}

/// Plans every target before anything is erased: (alt, region name, plan).
fn plan_targets(
    args: &FlashArgs,
    firmware: &Firmware,
    device: &OpenDevice,
) -> Result<Vec<(u8, String, FlashPlan)>, CliError> {
    let options = PlanOptions {
        force: args.force,
        mass_erase: args.mass_erase,
        ..PlanOptions::default()
    };
    let several = firmware.targets.len() > 1;
    if several && args.alt.is_some() {
        return Err(CliError::Usage(
            "the file has several targets, each for its own alternate setting: --alt does not apply".into(),
        ));
    }
    let mut plans = Vec::new();
    for target in &firmware.targets {
        let alt_text = match (firmware.format, &args.alt) {
            (_, Some(alt)) => alt.clone(),
            (Format::Dfuse, None) => target.alt.to_string(),
            (_, None) => "0".to_string(),
        };
        let (alt, map) = device.resolve_alt(Some(&alt_text))?;
        let plan =
            plan(&target.image, &map, &options).map_err(|error| CliError::Device(error.into()))?;
        plans.push((alt, map.name.clone(), plan));
    }
    Ok(plans)
}
