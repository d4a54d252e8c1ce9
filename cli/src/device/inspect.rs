//! `dfuse list` and `dfuse info`: the devices, their alternate settings and memory maps.

use clap::Args;
use dfuse::matching::{Interface, Resolution};
use dfuse::memory_map;
use dfuse::transport::DeviceInfo;
use serde_json::{Value, json};

use super::DeviceArgs;
use crate::exit::CliError;

/// Arguments of `dfuse list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// Show, per device, how the device table chose its record.
    #[arg(long)]
    explain: bool,
    /// Keep running and report boards as they arrive and leave (until Ctrl-C).
    #[arg(long)]
    watch: bool,
    /// With --watch, stop after this many seconds.
    #[arg(long, value_name = "SECONDS", requires = "watch")]
    watch_seconds: Option<u64>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Arguments of `dfuse info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn describe(info: &DeviceInfo) -> Value {
    let alts: Vec<Value> = info
        .alt_settings
        .iter()
        .map(|alt| {
            let parsed = memory_map::parse(&alt.name);
            json!({
                "alt": alt.alt,
                "name": alt.name,
                "memory_map": parsed.as_ref().ok().map(|p| json!({
                    "name": p.map.name,
                    "segments": p.map.segments.iter().map(|s| json!({
                        "address": s.address, "sector_size": s.sector_size, "sector_count": s.sector_count,
                        "readable": s.access.readable, "erasable": s.access.erasable, "writable": s.access.writable,
                    })).collect::<Vec<_>>(),
                    "warnings": p.warnings,
                })),
                "error": parsed.err().map(|e| e.to_string()),
            })
        })
        .collect();
    json!({
        "location": info.location, "vid": info.vid, "pid": info.pid, "bcd_device": info.bcd_device,
        "manufacturer": info.manufacturer, "product": info.product, "serial": info.serial,
        "transfer_size": info.functional.transfer_size, "dfu_version": info.functional.dfu_version,
        "alt_settings": alts,
    })
}

fn print_text(info: &DeviceInfo) {
    println!(
        "{}  {:04X}:{:04X} rev {:04X}  {:?}  serial {}  transfer size {}",
        info.location,
        info.vid,
        info.pid,
        info.bcd_device,
        info.product.as_deref().unwrap_or(""),
        info.serial.as_deref().unwrap_or("-"),
        info.functional.transfer_size
    );
    for alt in &info.alt_settings {
        match memory_map::parse(&alt.name) {
            Ok(parsed) => {
                println!("  alt {}: {}", alt.alt, parsed.map.name);
                for segment in &parsed.map.segments {
                    println!("      {segment}");
                }
                for warning in &parsed.warnings {
                    println!("      warning: {warning}");
                }
            }
            Err(error) => println!("  alt {}: {:?} ({error})", alt.alt, alt.name),
        }
    }
}

pub fn list(args: ListArgs) -> Result<(), CliError> {
    if args.watch {
        return watch(&args);
    }
    let devices: Vec<(DeviceInfo, Option<String>)> = args
        .device
        .listed()?
        .into_iter()
        .map(|listed| (listed.info, listed.problem))
        .collect();
    let table = args.device.table()?;
    let resolutions: Vec<Resolution> = devices
        .iter()
        .map(|(info, _)| table.resolve(&Interface::of(info)))
        .collect();
    if args.json {
        let list: Vec<Value> = devices
            .iter()
            .zip(&resolutions)
            .map(|((info, problem), resolution)| {
                let mut value = describe(info);
                value["problem"] = json!(problem);
                value["record"] = json!(resolution.chosen.as_ref().map(|e| json!({
                    "name": e.record.name, "priority": e.priority, "source": e.source.to_string(),
                })));
                if args.explain {
                    value["explain"] = json!(resolution.steps);
                }
                value
            })
            .collect();
        println!("{}", json!({"devices": list}));
    } else if devices.is_empty() {
        println!(
            "No DfuSe devices found. Put the board in DFU mode (BOOT0 high, then reset), or try a simulated one: --device sim:stm32f407"
        );
    } else {
        for ((info, problem), resolution) in devices.iter().zip(&resolutions) {
            print_text(info);
            if let Some(problem) = problem {
                println!("  cannot read its alternate settings: {problem}");
            }
            if args.explain {
                resolution
                    .steps
                    .iter()
                    .for_each(|step| println!("  {step}"));
            }
        }
    }
    Ok(())
}

pub fn info(args: InfoArgs) -> Result<(), CliError> {
    let device = args.device.open()?;
    let info = device.info().clone();
    if args.json {
        println!("{}", describe(&info));
    } else {
        print_text(&info);
    }
    Ok(())
}

/// `list --watch`: the boards present, then every arrival and departure.
fn watch(args: &ListArgs) -> Result<(), CliError> {
    if args
        .device
        .device
        .as_deref()
        .is_some_and(|d| d.starts_with("sim:"))
    {
        return Err(CliError::Usage(
            "--watch follows USB devices; simulated boards do not come and go".into(),
        ));
    }
    let selector = args.device.selector()?;
    let report = |event: &str, info: &DeviceInfo| {
        if args.json {
            println!("{}", json!({"event": event, "device": describe(info)}));
        } else {
            println!("{event}: {}", dfuse::select::describe(info).trim());
        }
    };
    let mut watcher = dfuse::usb::Watcher::new();
    watcher
        .present()
        .filter(|i| selector.matches(i))
        .for_each(|info| report("present", info));
    let deadline = args
        .watch_seconds
        .map(|s| std::time::Instant::now() + std::time::Duration::from_secs(s));
    while deadline.is_none_or(|d| std::time::Instant::now() < d) {
        std::thread::sleep(std::time::Duration::from_millis(250));
        for change in watcher.poll() {
            match change {
                dfuse::usb::Change::Arrived(found) if selector.matches(&found.info) => {
                    report("arrived", &found.info)
                }
                dfuse::usb::Change::Left(info) if selector.matches(&info) => report("left", &info),
                _ => {}
            }
        }
        let _ = std::io::Write::flush(&mut std::io::stdout());
    }
    Ok(())
}
