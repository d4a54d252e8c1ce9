//! `dfuse flash`: write a firmware file to one board or several, verify it, optionally start it.

use clap::Args;
use dfuse::Device;
use dfuse::device::{FlashJob, FlashOptions, FlashReport, Flashed, PlanRequest, TargetPlan};
use dfuse::plan::{Found, MassErase, Sector};
use serde_json::{Value, json};

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
  dfuse flash app.hex --all              # every board attached, at once
  dfuse flash app.hex -d 1-1 -d 1-2      # these two boards, at once

Nothing is erased until the whole file has been checked against the device's
memory map: data outside it, in read-only memory, or more than fits is refused
first. The sectors the firmware touches are then read back: those that already
hold exactly what flashing would leave there are skipped, blank ones are
written without an erase, and only the rest are erased (--full erases and
writes them all). An image that covers every sector of the internal flash is
erased with one mass erase, which is quicker. The result is read back and
compared unless --no-verify (skipped sectors were compared before).

With several boards (--all, or --device more than once) each board is flashed
in its own thread; one that fails does not stop the others, and the exit code
is 0 only if every board succeeded.

Ctrl-C stops between two requests and leaves the board(s) in DFU mode, idle
(exit code 130); a second Ctrl-C exits at once.";

// Arguments of `dfuse flash`.
#[derive(Args, Debug)]
pub struct FlashArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    device: DeviceArgs,
    /// Flash every DfuSe board attached at once (narrowed by --serial and --vid-pid).
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    output: OutputArgs,
    /// Alternate setting to flash: a number, or a region name such as "Internal Flash" (default 0).
    #[arg(long, short = 'a', value_name = "ALT")]
    alt: Option<String>,
    /// Start the firmware afterwards (leave DFU mode).
    #[arg(long)]
    leave: bool,
    #[command(flatten)]
    wait: super::WaitArgs,
    /// Do not read back and compare.
    #[arg(long)]
    no_verify: bool,
    /// Erase and write every sector the firmware touches, without reading them first.
    #[arg(long)]
    full: bool,
    /// Erase the whole flash instead of only the sectors written (implies --full).
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
    let several = args.all || args.device.device.len() > 1;
    if several && args.wait.wait {
        return Err(CliError::Usage(
            "--wait follows one board: with several, leave out --wait".into(),
        ));
    }
    let firmware = args.input.firmware_for(args.alt.as_deref())?;
    if several {
        let boards = args.device.several(args.all)?;
        return super::many::flash(&boards, &job(&args, &firmware, None), args.output);
    }
    with_device(&args.device, |device| flash(&args, &firmware, device))
}

/// The flash the arguments ask for; `alt` is the alternate setting --alt names on this board.
fn job<'a>(args: &FlashArgs, firmware: &'a dfu_file::Firmware, alt: Option<u8>) -> FlashJob<'a> {
    FlashJob {
        firmware,
        request: PlanRequest {
            alt,
            force: args.force,
            mass_erase: args.mass_erase,
            ignore_ids: args.ignore_ids,
        },
        incremental: !args.full && !args.mass_erase,
        options: FlashOptions {
            verify: !args.no_verify,
            leave: None,
        },
    }
}

fn flash(
    args: &FlashArgs,
    firmware: &dfu_file::Firmware,
    device: &mut Device,
) -> Result<(), CliError> {
    let mut reporter = Reporter::new(args.output);
    let alt = super::alt_named(device, args.alt.as_deref())?;
    let job = job(args, firmware, alt);
    let plans = device.prepare(&job, &mut |event| reporter.event(event))?;
    for target in &plans {
        report_plan(&reporter, target);
    }
    let report = device.flash(&plans, &job.options, &mut |event| reporter.event(event))?;
    let name = device.info().location.clone();
    for (target, flashed) in &report.targets {
        if *flashed == Flashed::DeviceReset {
            reporter.message("The device reset after the write (option bytes take effect that way): not verified.");
        }
        reporter.message(&format!(
            "Flashed {} bytes to {name} alt {} ({:?}): {}.",
            target.bytes,
            target.alt,
            target.region,
            target.summary(*flashed)
        ));
    }
    if args.leave {
        super::ops::leave_and_report(device, None, args.wait, &mut reporter)?;
    }
    if reporter.json() {
        let targets = report_json(&report);
        reporter.result(
            json!({"result": "ok", "device": name, "targets": targets, "left": args.leave}),
        );
    }
    Ok(())
}

fn sectors_json(sectors: &[Sector]) -> Value {
    sectors
        .iter()
        .map(|s| json!({"address": s.address, "size": s.size}))
        .collect()
}

/// Says what will be done to one target, before anything is erased: a line for people, an
/// object for --json (only the one asked for is made).
pub fn report_plan(reporter: &Reporter, target: &TargetPlan) {
    if reporter.json() {
        reporter.line(plan_json(target));
    } else {
        reporter.text(&plan_text(target));
    }
}

/// Whether the board was read before planning, and why not when it refused.
fn compared(target: &TargetPlan) -> (&'static str, Option<String>) {
    match &target.plan.found {
        Found::NotRead => ("no", None),
        Found::Read { .. } => ("yes", None),
        Found::Unreadable(reason) => (
            "refused",
            Some(format!(
                "the device refused to be read ({reason}), so every sector is erased and written"
            )),
        ),
    }
}

/// The plan of one target as a line for people.
fn plan_text(target: &TargetPlan) -> String {
    let plan = &target.plan;
    let mut parts = Vec::new();
    match plan.mass_erase {
        Some(MassErase::Asked) => parts.push("mass erase (asked for)".to_string()),
        Some(MassErase::EverySector) => parts.push(format!(
            "one mass erase: the image covers all {}",
            count(plan.sectors.len(), "sector")
        )),
        None if plan.sectors.is_empty() => parts.push("written in place (not erasable)".into()),
        None if plan.erase.is_empty() => {}
        None => parts.push(format!("erase {}", count(plan.erase.len(), "sector"))),
    }
    if !plan.unchanged().is_empty() {
        parts.push(format!(
            "skip {} already holding these bytes",
            count(plan.unchanged().len(), "sector")
        ));
    }
    if !plan.blank().is_empty() {
        parts.push(format!(
            "{} already blank (no erase needed)",
            count(plan.blank().len(), "sector")
        ));
    }
    parts.push(match plan.write_len() {
        0 => "nothing to erase or write".into(),
        bytes => format!("write {bytes} bytes"),
    });
    let mut text = format!(
        "Plan for alt {} ({:?}): {}.",
        target.alt,
        target.region,
        parts.join(", ")
    );
    if let (_, Some(note)) = compared(target) {
        text.push_str(&format!(" Note: {note}."));
    }
    text
}

/// The plan of one target as a JSON event.
fn plan_json(target: &TargetPlan) -> Value {
    let plan = &target.plan;
    let (compared, note) = compared(target);
    json!({
        "event": "plan", "alt": target.alt, "region": target.region, "bytes": target.bytes,
        "write": plan.write_len(),
        "mass_erase": plan.mass_erase.map(|m| match m {
            MassErase::Asked => "asked",
            MassErase::EverySector => "every-sector",
        }),
        "erase": sectors_json(&plan.erase),
        "unchanged": sectors_json(plan.unchanged()),
        "blank": sectors_json(plan.blank()),
        "compared": compared, "note": note,
    })
}

/// One target's result for --json.
pub fn target_json(target: &TargetPlan, flashed: Flashed) -> Value {
    let plan = &target.plan;
    json!({"alt": target.alt, "region": target.region, "bytes": target.bytes,
        "written": plan.write_len(), "erased_sectors": plan.erase.len(),
        "unchanged_sectors": plan.unchanged().len(), "blank_sectors": plan.blank().len(),
        "mass_erase": plan.mass_erase.is_some(), "verified": flashed == Flashed::Verified})
}

/// Every target of a report for --json.
pub fn report_json(report: &FlashReport) -> Value {
    report
        .targets
        .iter()
        .map(|(target, flashed)| target_json(target, *flashed))
        .collect()
}
