//! `dfuse list` and `dfuse info`: the devices, their alternate settings and memory maps.

use clap::Args;
use dfuse::blocks::Source;
use dfuse::device::Profile;
use dfuse::memory_map;
use dfuse::transport::DeviceInfo;
use serde_json::{Value, json};

use super::{DeviceArgs, with_device};
use crate::exit::CliError;
use crate::memmap::MapJson;

// Arguments of `dfuse list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// Show, per device, how the device table chose its record.
    #[arg(long)]
    explain: bool,
    /// Keep running and report boards as they arrive and leave, until Ctrl-C (exit 0; with
    /// --json the last line is a result object counting them).
    #[arg(long)]
    watch: bool,
    /// With --watch, stop after this many seconds.
    #[arg(long, value_name = "SECONDS", requires = "watch")]
    watch_seconds: Option<u64>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

// Arguments of `dfuse info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// A board as JSON: identity, and each alternate setting with its memory map as dfuse uses it (quirks applied).
fn describe(profile: &Profile) -> Value {
    let info = &profile.info;
    let alts: Vec<Value> = info
        .alt_settings
        .iter()
        .map(|alt| {
            let map = profile.maps().iter().find(|(n, _)| *n == alt.alt);
            json!({
                "alt": alt.alt,
                "name": alt.name,
                "memory_map": map.map(|(_, m)| json!(MapJson::new(m, profile.map_warnings(alt.alt)))),
                "error": map.is_none().then(|| map_error(&alt.name)),
            })
        })
        .collect();
    let identity = profile.identity();
    let chip = json!({"family": identity.family, "flash_bytes": identity.flash, "reason": identity.reason});
    json!({
        "location": info.location, "vid": info.vid, "pid": info.pid, "bcd_device": info.bcd_device,
        "manufacturer": info.manufacturer, "product": info.product, "serial": info.serial,
        "transfer_size": profile.blocks().size,
        "transfer_size_source": match profile.blocks().source {
            Source::Declared => "declared",
            Source::Record => "record",
            Source::Assumed => "assumed",
            Source::Rounded => "rounded",
        },
        "declared_transfer_size": info.functional.map(|f| f.transfer_size),
        "dfu_version": info.functional.map(|f| f.dfu_version),
        "chip": chip,
        "alt_settings": alts,
    })
}

/// Why an alternate setting's string gives no memory map.
fn map_error(text: &str) -> String {
    match memory_map::parse(text) {
        Err(error) => error.to_string(),
        Ok(_) => "no memory map".into(),
    }
}

fn print_text(profile: &Profile) {
    let info = &profile.info;
    println!(
        "{}  {:04X}:{:04X} rev {:04X}  {:?}  serial {}  transfer size {}",
        info.location,
        info.vid,
        info.pid,
        info.bcd_device,
        info.product.as_deref().unwrap_or(""),
        info.serial.as_deref().unwrap_or("-"),
        profile.blocks()
    );
    println!("  chip: {}", profile.identity().summary());
    for alt in &info.alt_settings {
        match profile.maps().iter().find(|(n, _)| *n == alt.alt) {
            Some((_, map)) => {
                println!("  alt {}: {}", alt.alt, map.name);
                for segment in &map.segments {
                    println!("      {segment}");
                }
                for warning in profile.map_warnings(alt.alt) {
                    println!("      warning: {warning}");
                }
            }
            None => println!(
                "  alt {}: {:?} ({})",
                alt.alt,
                alt.name,
                map_error(&alt.name)
            ),
        }
    }
}

/// Why a board's alternate settings could not be read, and what to do (under its text listing).
fn print_problem(problem: &dfuse::transport::TransportError) {
    println!("  cannot read its alternate settings: {problem}");
    println!("  help: {}", problem.help());
}

pub fn list(args: ListArgs) -> Result<(), CliError> {
    if args.watch {
        return watch(&args);
    }
    let boards = args.device.boards()?;
    if args.json {
        let list: Vec<Value> = boards
            .iter()
            .map(|board| {
                let resolution = &board.profile.resolution;
                let mut value = describe(&board.profile);
                value["problem"] = json!(board.problem.as_ref().map(ToString::to_string));
                value["record"] = json!(resolution.chosen().map(|e| json!({
                    "name": e.record.name, "priority": e.priority, "source": e.source.to_string(),
                })));
                if args.explain {
                    value["explain"] = json!(resolution.steps());
                }
                value
            })
            .collect();
        crate::output::print_json(json!({"result": "ok", "devices": list}));
    } else if boards.is_empty() {
        println!(
            "No DfuSe devices found. Put the board in DFU mode (BOOT0 high, then reset){}",
            crate::device::offer_simulated().map_or(String::new(), |offer| format!(", {offer}"))
        );
    } else {
        for board in &boards {
            print_text(&board.profile);
            if let Some(problem) = &board.problem {
                print_problem(problem);
            }
            if args.explain {
                for step in board.profile.resolution.steps() {
                    println!("  {step}");
                }
            }
        }
    }
    Ok(())
}

pub fn info(args: InfoArgs) -> Result<(), CliError> {
    with_device(&args.device, |device| {
        // Option bytes when dfuse knows the chip's layout and the bootloader shows them.
        let options = match device.option_layout() {
            Ok(_) => Some(device.read_option_bytes(&mut |_| {})),
            Err(_) => None,
        };
        if args.json {
            let mut value = describe(device.profile());
            value["option_bytes"] = match &options {
                Some(Ok(read)) => super::options::to_json(read),
                Some(Err(error)) => json!({"error": error.code(), "message": error.to_string()}),
                None => Value::Null,
            };
            value["result"] = "ok".into();
            crate::output::print_json(value);
        } else {
            print_text(device.profile());
            match &options {
                Some(Ok(read)) => print!("{}", super::options::table(read)),
                Some(Err(error)) => println!("Option bytes: not readable: {error}"),
                None => {}
            }
        }
        Ok(())
    })
}

/// `list --watch`: the boards present, then every arrival and departure.
fn watch(args: &ListArgs) -> Result<(), CliError> {
    if args.device.device.iter().any(|d| d.starts_with("sim:")) {
        return Err(CliError::Usage(
            "--watch follows USB devices; simulated boards do not come and go".into(),
        ));
    }
    let selector = args.device.selector()?;
    let table = args.device.table()?;
    // A board that arrives but cannot be opened is reported with why, and what to do.
    let report =
        |event: &str, info: &DeviceInfo, problem: Option<&dfuse::transport::TransportError>| {
            if args.json {
                let profile = Profile::new(info.clone(), &table);
                let mut device = describe(&profile);
                if let Some(problem) = problem {
                    device["problem"] = json!(problem.to_string());
                }
                crate::output::print_json(json!({"event": event, "device": device}));
            } else {
                println!("{event}: {}", dfuse::select::describe(info).trim());
                if let Some(problem) = problem {
                    print_problem(problem);
                }
            }
        };
    let mut watcher = dfuse::usb::Watcher::new();
    let mut present = 0;
    for (info, problem) in watcher.present().filter(|(i, _)| selector.matches(i)) {
        present += 1;
        report("present", info, problem);
    }
    let deadline = args
        .watch_seconds
        .map(|s| std::time::Instant::now() + std::time::Duration::from_secs(s));
    let interrupted = super::interrupt::flag_saying("Stopped watching.");
    // On stderr, so stdout stays the list (or JSON); scripts can wait for it before plugging a board in.
    eprintln!(
        "Watching for boards arriving and leaving{}; Ctrl-C stops.",
        args.watch_seconds
            .map(|s| format!(" for {s} s"))
            .unwrap_or_default()
    );
    let (mut arrived, mut left) = (0, 0);
    while deadline.is_none_or(|d| std::time::Instant::now() < d)
        && !interrupted.load(std::sync::atomic::Ordering::SeqCst)
    {
        std::thread::sleep(std::time::Duration::from_millis(250));
        for change in watcher.poll() {
            match change {
                dfuse::usb::Change::Arrived(found) if selector.matches(&found.info) => {
                    arrived += 1;
                    report("arrived", &found.info, found.problem.as_ref())
                }
                dfuse::usb::Change::Left(info) if selector.matches(&info) => {
                    left += 1;
                    report("left", &info, None)
                }
                _ => {}
            }
        }
        let _ = std::io::Write::flush(&mut std::io::stdout());
    }
    if args.json {
        crate::output::print_json(json!({
            "result": "ok",
            "present": present,
            "arrived": arrived,
            "left": left,
            "stopped": if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                "time-up"
            } else {
                "interrupted"
            },
        }));
    }
    Ok(())
}
