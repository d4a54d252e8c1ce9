//! `dfuse option-bytes show|set` and `dfuse protect`: option bytes decoded into
//! named fields, changed safely (read, change, check, write, wait for the reset,
//! read back).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use dfuse::Device;
use dfuse::device::OptionBytes;
use dfuse::option_bytes::{Allow, Image, Layouts, Reading};
use dfuse::transport::printable;
use serde_json::{Value, json};

use super::report::{OutputArgs, Reporter};
use super::{DeviceArgs, with_device};
use crate::exit::CliError;
use crate::output::read_text;

/// `dfuse option-bytes`.
#[derive(Subcommand, Debug)]
#[command(defer = true)]
pub enum OptionBytesCommand {
    /// Show every option-byte field: its value, raw bits and meaning.
    Show(OptionBytesArgs),
    /// Change option-byte fields: read, change, check, write, wait for the reset, read back.
    #[command(after_help = SET_HELP)]
    Set(SetArgs),
}

const SET_HELP: &str = "\
FIELD=VALUE: the names `dfuse option-bytes show` lists. VALUE is a value's name
(rdp=1, bor_lev=off, iwdg_sw=software), a raw value in hex (bor_lev=0x3), a
number for number fields (boot_add0=0x80), sectors for write protection
(wrp=none, wrp=all, wrp=0,3, wrp=0-3, wrp=+5, wrp=-5) or a page range
(wrp1a=0..7, wrp1a=none).

Writing option bytes resets the board; dfuse waits for it to come back and
reads the option bytes again to show that the change took.

Refused unless confirmed: read protection level 2 (rdp=2), which locks the chip
for good (--permanently-lock-this-chip); lowering level 1 to 0, which erases
the flash (--yes).

Examples:
  dfuse option-bytes set bor_lev=1
  dfuse option-bytes set wrp=+0 --json
  dfuse option-bytes set rdp=0 --yes";

// Where the option-byte layouts come from.
#[derive(Args, Debug, Clone)]
pub struct LayoutArgs {
    /// An option-byte layout file consulted before the built-in ones (format: docs/OPTION-BYTES.md; default: $XDG_CONFIG_HOME/dfuse/option-bytes.toml, if present).
    #[arg(long, value_name = "FILE")]
    layout: Option<PathBuf>,
}

impl LayoutArgs {
    fn layouts(&self) -> Result<Layouts, CliError> {
        let path = self
            .layout
            .clone()
            .or_else(|| dfuse::matching::user_config_file("option-bytes.toml"));
        let user = match path {
            Some(path) => Some((read_text(&path)?, path)),
            None => None,
        };
        Layouts::load(
            user.as_ref()
                .map(|(text, path)| (text.as_str(), path.clone())),
        )
        .map_err(|error| CliError::Device(error.into()))
    }
}

// Arguments of `dfuse option-bytes show` and `dfuse protect`: the layouts, the board, the output.
#[derive(Args, Debug)]
pub struct OptionBytesArgs {
    #[command(flatten)]
    layout: LayoutArgs,
    #[command(flatten)]
    device: DeviceArgs,
    #[command(flatten)]
    report: OutputArgs,
}

// Arguments of `dfuse option-bytes set`.
#[derive(Args, Debug)]
pub struct SetArgs {
    /// The changes, FIELD=VALUE each.
    #[arg(required = true, value_name = "FIELD=VALUE")]
    changes: Vec<String>,
    /// Confirm a change that erases the flash (read protection level 1 to 0).
    #[arg(long)]
    yes: bool,
    /// Allow read protection level 2: the chip can NEVER be read, debugged or flashed through its bootloader again.
    #[arg(long)]
    permanently_lock_this_chip: bool,
    #[command(flatten)]
    layout: LayoutArgs,
    #[command(flatten)]
    device: DeviceArgs,
    #[command(flatten)]
    report: OutputArgs,
}

pub fn run(command: OptionBytesCommand) -> Result<(), CliError> {
    match command {
        OptionBytesCommand::Show(args) => show(args),
        OptionBytesCommand::Set(args) => {
            let allow = Allow {
                permanent_lock: args.permanently_lock_this_chip,
                erase: args.yes,
            };
            change(
                &args.layout,
                &args.device,
                args.report,
                allow,
                |read, image| {
                    args.changes
                        .iter()
                        .try_for_each(|change| read.layout.set(image, change))
                },
            )
        }
    }
}

/// `dfuse protect`: read protection level 1.
pub fn protect(args: OptionBytesArgs) -> Result<(), CliError> {
    change(
        &args.layout,
        &args.device,
        args.report,
        Allow::default(),
        |read, image| read.layout.protect(image),
    )
}

fn open_with(layout: &LayoutArgs, device: &mut Device) -> Result<(), CliError> {
    device.use_layouts(layout.layouts()?);
    Ok(())
}

fn show(args: OptionBytesArgs) -> Result<(), CliError> {
    with_device(&args.device, |device| {
        open_with(&args.layout, device)?;
        let reporter = Reporter::new(args.report);
        let read = device.read_option_bytes(&mut |_| {})?;
        if args.report.json {
            reporter.result(json!({"result": "ok", "option_bytes": to_json(&read)}));
        } else {
            print!("{}", table(&read));
        }
        Ok(())
    })
}

/// Reads the option bytes, changes them with `edit`, checks, writes, waits for the reset and reads them back.
fn change(
    layout: &LayoutArgs,
    device_args: &DeviceArgs,
    report: OutputArgs,
    allow: Allow,
    edit: impl FnOnce(&OptionBytes, &mut Image) -> Result<(), dfuse::option_bytes::OptionBytesError>,
) -> Result<(), CliError> {
    with_device(device_args, |device| {
        open_with(layout, device)?;
        let mut reporter = Reporter::new(report);
        let read = device.read_option_bytes(&mut |event| reporter.event(event))?;
        let mut after = read.image.clone();
        edit(&read, &mut after).map_err(|error| CliError::Device(error.into()))?;
        let planned = read.layout.changes(&read.image, &after);
        if planned.is_empty() {
            reporter.message("Nothing to change: the option bytes already hold these values.");
            reporter.result(json!({"result": "ok", "changed": [], "reset": false}));
            return Ok(());
        }
        for line in diff_lines(&planned) {
            reporter.message(&format!("Changing {line}"));
        }
        reporter.message(
            "Writing: the board then resets to load its option bytes, and dfuse waits for it.",
        );
        let applied =
            device.apply_option_bytes(&read, &after, allow, &mut |event| reporter.event(event))?;
        let reset = applied.reset;
        let Some(back) = applied.back else {
            // Most STM32 bootloaders refuse every read once read protection is on.
            reporter.message(
                "Read protection is active: the bootloader no longer shows the option bytes. `dfuse unprotect --yes` removes it, erasing the chip.",
            );
            reporter.result(json!({
                "result": "ok", "reset": reset, "read_back": false,
                "changed": changes_json(&planned),
            }));
            return Ok(());
        };
        let took = read.layout.changes(&read.image, &back.image);
        for line in diff_lines(&took) {
            reporter.message(&format!("Now {line}"));
        }
        reporter.result(json!({
            "result": "ok",
            "reset": reset,
            "read_back": true,
            "changed": changes_json(&took),
            "option_bytes": to_json(&back),
        }));
        Ok(())
    })
}

/// Changed fields as JSON: name, values and raw bits before and after.
fn changes_json(changes: &[(Reading, Reading)]) -> Value {
    changes
        .iter()
        .map(|(old, new)| {
            json!({
                "name": old.name, "before": old.value, "after": new.value,
                "raw_before": old.raw, "raw_after": new.raw, "means": new.means,
            })
        })
        .collect()
}

/// "bor_lev: off -> 1 (BOR level 1 (VBOR1))" for each change.
fn diff_lines(changes: &[(Reading, Reading)]) -> Vec<String> {
    changes
        .iter()
        .map(|(old, new)| {
            printable(&format!(
                "{}: {} -> {} ({})",
                new.name, old.value, new.value, new.means
            ))
        })
        .collect()
}

/// The text table of `option-bytes show` (and `info`).
pub fn table(read: &OptionBytes) -> String {
    let mut out = format!(
        "Option bytes of {} (alternate setting {}; {})\n",
        printable(&read.layout.family),
        read.alt,
        printable(&read.layout.source)
    );
    let readings = read.layout.decode(&read.image);
    let digits = |r: &Reading| {
        let width = read.layout.field(&r.name).map_or(32, |f| f.width);
        width.div_ceil(4) as usize + 2
    };
    let name_width = readings.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let value_width = readings.iter().map(|r| r.value.len()).max().unwrap_or(0);
    let raw_width = readings.iter().map(digits).max().unwrap_or(0);
    for reading in &readings {
        let means = if reading.means.is_empty() {
            reading.about.clone()
        } else {
            format!("{}: {}", reading.about, reading.means)
        };
        let raw = format!("{:#0w$x}", reading.raw, w = digits(reading));
        let line = format!(
            "  {:<name_width$}  {:<value_width$}  {raw:<raw_width$}  {means}",
            reading.name, reading.value
        );
        out.push_str(&printable(&line));
        out.push('\n');
    }
    out
}

/// The option bytes as a JSON object.
pub fn to_json(read: &OptionBytes) -> Value {
    json!({
        "family": read.layout.family,
        "source": read.layout.source,
        "alt": read.alt,
        "rdp_level": read.layout.rdp_level(&read.image),
        "write_protected_sectors": read.layout.protected_sectors(&read.image),
        "fields": read.layout.decode(&read.image).iter().map(|r| json!({
            "name": r.name, "value": r.value, "raw": r.raw, "means": r.means, "about": r.about,
        })).collect::<Vec<_>>(),
        "bytes": read.image.pieces.iter().map(|(address, bytes)| json!({
            "address": address,
            "hex": bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        })).collect::<Vec<_>>(),
    })
}
