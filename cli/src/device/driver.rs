//! `dfuse driver`: the Windows driver story of each DfuSe device.

use clap::Args;
use dfuse::transport::DeviceInfo;
use dfuse_drivers_win::{Inf, SHIPPED_INF, UsbIds, rank};

use super::DeviceArgs;
use super::driver_install::{self, DriverAction};
use crate::exit::CliError;

pub const AFTER_HELP: &str = "\
dfuse talks to devices through WinUSB on Windows. This shows, for each DfuSe
device, the hardware and compatible IDs Windows sees and which entry of the
shipped driver package (drivers-win/dfuse-winusb.inf) would bind it, best
first. On Windows it also names the driver bound now and whether dfuse can use it.

`dfuse driver install` signs the package for this computer and installs it, so
that Windows binds WinUSB without Zadig; `dfuse driver uninstall` removes it.";

// Arguments of `dfuse driver`.
#[derive(Args, Debug)]
#[command(after_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
pub struct DriverArgs {
    #[command(subcommand)]
    action: Option<DriverAction>,
    #[command(flatten)]
    device: DeviceArgs,
    /// INF models to rank: NTx86, NTamd64 or NTarm64.
    #[arg(long, default_value = "NTamd64")]
    arch: String,
    /// Print one JSON object: each device with its IDs, bound driver and ranked INF entries.
    #[arg(long)]
    json: bool,
}

fn ids(info: &DeviceInfo) -> UsbIds {
    UsbIds {
        vid: info.vid,
        pid: info.pid,
        rev: info.bcd_device,
        class: info.interface_class,
        interface: info.composite.then_some(info.interface),
    }
}

pub fn run(args: DriverArgs) -> Result<(), CliError> {
    if let Some(action) = args.action {
        return driver_install::run(action);
    }
    let devices: Vec<(DeviceInfo, Option<String>)> = args
        .device
        .boards()?
        .into_iter()
        .map(|board| (board.profile.info, board.driver))
        .collect();
    let inf = Inf::parse(SHIPPED_INF)
        .map_err(|e| CliError::Usage(format!("the shipped INF is broken: {e}")))?;
    if args.json {
        let list: Vec<serde_json::Value> = devices
            .iter()
            .map(|(info, driver)| {
                let ids = ids(info);
                let ranked: Vec<String> = rank(&inf, &ids, &args.arch)
                    .iter()
                    .map(|m| m.explain())
                    .collect();
                serde_json::json!({
                    "location": info.location, "vid": info.vid, "pid": info.pid,
                    "hardware_ids": ids.hardware_ids(), "compatible_ids": ids.compatible_ids(),
                    "driver": driver,
                    "advice": driver.as_deref().and_then(dfuse::usb::driver_advice),
                    "inf_matches": ranked,
                })
            })
            .collect();
        crate::output::print_json(serde_json::json!({"result": "ok", "devices": list}));
        return Ok(());
    }
    if devices.is_empty() {
        println!("No DfuSe devices found.");
        return Ok(());
    }
    for (info, driver) in &devices {
        let ids = ids(info);
        println!("{}  {:04X}:{:04X}", info.location, info.vid, info.pid);
        println!("  hardware IDs:   {}", ids.hardware_ids().join(", "));
        println!("  compatible IDs: {}", ids.compatible_ids().join(", "));
        if let Some(driver) = driver {
            match dfuse::usb::driver_advice(driver) {
                None => println!("  bound driver:   {driver} (dfuse can use it)"),
                Some(advice) => println!("  bound driver:   {driver}: {advice}"),
            }
        }
        let matches = rank(&inf, &ids, &args.arch);
        match matches.first() {
            Some(best) => {
                println!("  dfuse-winusb.inf would bind it: {}", best.explain());
                for other in &matches[1..] {
                    println!("    (ranked lower: {})", other.explain());
                }
            }
            None => println!("  dfuse-winusb.inf has no entry for it"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use dfuse::transport::Transport;
    use dfuse_sim::SimTransport;

    #[test]
    fn a_composite_device_gets_its_dfu_interface_ids() {
        let mut info = SimTransport::open("stm32f407").unwrap().info().clone();
        assert!(
            !super::ids(&info).hardware_ids()[0].contains("&MI_"),
            "a single-interface device has no &MI_nn"
        );
        info.composite = true;
        info.interface = 2;
        let ids = super::ids(&info);
        assert_eq!(
            ids.hardware_ids()[0],
            "USB\\VID_0483&PID_DF11&REV_2200&MI_02"
        );
        assert!(ids.compatible_ids()[0].starts_with("USB\\Class_FE&SubClass_01&Prot_02"));
    }
}
