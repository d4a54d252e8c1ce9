//! Attaching to vhci_hcd and serving USB/IP on Linux.

use std::fs;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use dfuse_sim::chips::{self, Chip};
use dfuse_sim::usbip::{Command, HEADER_LEN, UsbipDevice};

const VHCI: &str = "/sys/devices/platform/vhci_hcd.0";
/// USB_SPEED_FULL in the kernel's enum usb_device_speed.
const FULL_SPEED: u32 = 2;
/// How long a reset board stays off the bus before it enumerates again.
const REPLUG_DELAY: Duration = Duration::from_millis(300);

#[derive(Parser)]
#[command(
    name = "dfuse-sim",
    version,
    about = "Serve a simulated DfuSe chip as a USB device through USB/IP (vhci-hcd)"
)]
struct Cli {
    #[command(subcommand)]
    command: Verb,
}

#[derive(Subcommand)]
enum Verb {
    /// Plug a simulated board into the local vhci_hcd and serve it until SIGTERM.
    Attach {
        /// The chip to simulate.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(dfuse_sim::chip_ids()))]
        chip: String,
        /// Keep the board's memory in this file (loaded at start, saved at exit and after each reset).
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
        /// vhci port to use (default: the first free high-speed port).
        #[arg(long)]
        port: Option<u32>,
        /// Append every control request to this file as it arrives, one JSON object per
        /// line: the fields of `dfuse --sim-log` (at_us: since attach) plus wall_us (Unix
        /// time in µs, to compare with a host tool's start) and busy_us (the device's busy
        /// time so far). Standard requests (GET_DESCRIPTOR, SET_INTERFACE, ...) are logged too.
        #[arg(long, value_name = "FILE")]
        log: Option<PathBuf>,
        /// Drop off the bus when DFU request number N (from 0) arrives, then come back
        /// 300 ms later as after a reset (for tests: an unplug at an exact point).
        #[arg(long, value_name = "N")]
        unplug_at_request: Option<usize>,
        /// Stop answering from DFU request number N (from 0) on, still attached
        /// (for tests: a board that hangs).
        #[arg(long, value_name = "N")]
        hang_at_request: Option<usize>,
        /// Declare this wTransferSize instead of the chip's (for tests: blocks over a page,
        /// which a host sends differently on Linux).
        #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u16).range(1..))]
        transfer_size: Option<u16>,
    },
}

pub fn main() -> ExitCode {
    // SAFETY: setting SIGPIPE back to its default at start-up, before any thread exists, so a
    // closed output pipe ends the process quietly instead of a panic.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let Verb::Attach {
        chip,
        state,
        port,
        log,
        unplug_at_request,
        hang_at_request,
        transfer_size,
    } = Cli::parse().command;
    let log = match log.map(|path| {
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))
    }) {
        Some(Err(message)) => {
            eprintln!("dfuse-sim: {message}");
            return ExitCode::from(1);
        }
        Some(Ok(file)) => Some(file),
        None => None,
    };
    let misbehaviour = Misbehaviour {
        unplug_at_request,
        hang_at_request,
        transfer_size,
    };
    match serve(&chip, state, port, log, misbehaviour) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("dfuse-sim: {message}");
            ExitCode::from(1)
        }
    }
}

/// The first free port of vhci_hcd's high-speed hub, from its status file.
fn free_port() -> Result<u32, String> {
    let status = fs::read_to_string(format!("{VHCI}/status")).map_err(|e| {
        format!("cannot read {VHCI}/status ({e}): load the driver with `modprobe vhci-hcd`")
    })?;
    status
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // hub port sta spd dev sockfd local_busid; sta 4 is VDEV_ST_NULL (free).
            match fields.as_slice() {
                ["hs", port, "004", ..] => port.parse().ok(),
                _ => None,
            }
        })
        .next()
        .ok_or_else(|| "vhci_hcd has no free high-speed port".into())
}

fn attach(port: u32, devid: u32) -> Result<UnixStream, String> {
    let (ours, kernels) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    let line = format!("{port} {} {devid} {FULL_SPEED}", kernels.as_raw_fd());
    fs::write(format!("{VHCI}/attach"), line)
        .map_err(|e| format!("cannot attach to vhci port {port}: {e}"))?;
    // The kernel holds its own reference to its end now.
    drop(kernels);
    Ok(ours)
}

fn detach(port: u32) {
    let _ = fs::write(format!("{VHCI}/detach"), port.to_string());
}

fn save(state: &Option<PathBuf>, device: &UsbipDevice) {
    if let Some(path) = state {
        let _ = fs::write(path, device.device.save_state());
    }
}

/// Writes the log line of the request `command` that arrived at `at` (since attach) and
/// `wall` and was just handled, if it was a control request.
fn log_request(
    log: &mut fs::File,
    device: &UsbipDevice,
    command: &Command,
    logged_before: usize,
    (at, wall): (Duration, SystemTime),
) {
    if command.command != dfuse_sim::usbip::CMD_SUBMIT || command.ep != 0 {
        return;
    }
    let mut line = match device.device.log().get(logged_before) {
        Some(entry) => dfuse_sim::log_line(entry),
        None => {
            let [_, _, v0, v1, _, _, l0, l1] = command.setup;
            serde_json::json!({
                "at_us": at.as_micros() as u64,
                "request": dfuse_sim::usbip::standard_request_name(command.setup),
                "value": u16::from_le_bytes([v0, v1]),
                "length": u16::from_le_bytes([l0, l1]),
            })
        }
    };
    let wall = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
    if let Some(object) = line.as_object_mut() {
        object.insert("wall_us".into(), (wall.as_micros() as u64).into());
        object.insert(
            "busy_us".into(),
            (device.device.busy_time().as_micros() as u64).into(),
        );
    }
    // A log that cannot be written must not stop the board.
    let _ = log.write_all(format!("{line}\n").as_bytes());
}

/// True for a DFU class request on endpoint 0.
fn is_class_request(command: &Command) -> bool {
    command.command == dfuse_sim::usbip::CMD_SUBMIT
        && command.ep == 0
        && command.setup[0] & 0x60 == 0x20
}

/// Misbehaviour asked for on the command line, for tests.
struct Misbehaviour {
    unplug_at_request: Option<usize>,
    hang_at_request: Option<usize>,
    transfer_size: Option<u16>,
}

fn serve(
    chip_id: &str,
    state: Option<PathBuf>,
    port: Option<u32>,
    mut log: Option<fs::File>,
    misbehaviour: Misbehaviour,
) -> Result<(), String> {
    let chip = chips::find(chip_id).ok_or_else(|| {
        let ids: Vec<&str> = chips::CHIPS.iter().map(|c| c.id).collect();
        format!(
            "no simulated chip {chip_id:?}; choose one of: {}",
            ids.join(", ")
        )
    })?;
    let chip: &'static Chip = match misbehaviour.transfer_size {
        // Once per process: the board keeps its chip for as long as it is served.
        Some(transfer_size) => Box::leak(Box::new(Chip {
            transfer_size,
            ..*chip
        })),
        None => chip,
    };
    let mut device = UsbipDevice::new(chip);
    if let Some(path) = &state
        && path.exists()
    {
        let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        device
            .device
            .load_state(&bytes)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(nth_request) = misbehaviour.unplug_at_request {
        device
            .device
            .inject(dfuse_sim::Fault::Disconnect { nth_request });
    }
    let port = match port {
        Some(port) => port,
        None => free_port()?,
    };
    let devid = (1 << 16) | (port + 2);
    let stopping = Arc::new(AtomicBool::new(false));
    {
        let stopping = stopping.clone();
        ctrlc::set_handler(move || {
            stopping.store(true, Ordering::SeqCst);
            detach(port);
        })
        .map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
    }
    let start = Instant::now();
    let mut waiter = dfuse::wait::Waiter::default();
    let mut socket = attach(port, devid)?;
    println!(
        "ready: sim:{} attached to vhci port {port} (devid {devid:#x})",
        chip.id
    );
    let _ = std::io::stdout().flush();
    loop {
        let mut header = [0u8; HEADER_LEN];
        if socket.read_exact(&mut header).is_err() {
            break; // detached: by SIGTERM, or by the kernel
        }
        let Some(command) = Command::decode(&header) else {
            break;
        };
        let mut data = vec![0u8; command.out_len()];
        if socket.read_exact(&mut data).is_err() {
            break;
        }
        let logged_before = device.device.log().len();
        if misbehaviour
            .hang_at_request
            .is_some_and(|n| logged_before >= n && is_class_request(&command))
        {
            continue; // hung: the request is never answered (the kernel's unlink is, below)
        }
        let (at, wall) = (start.elapsed(), SystemTime::now());
        let reply = device.handle(&command, &data, at);
        let held = device.device.held();
        if !held.is_zero() {
            // A chip that answers when its operation ends: the reply leaves then.
            waiter.wait((at + held).saturating_sub(start.elapsed()));
        }
        if let Some(reply) = reply
            && socket.write_all(&reply).is_err()
        {
            break;
        }
        if let Some(log) = &mut log {
            // After the reply, so logging adds nothing to the request's latency.
            log_request(log, &device, &command, logged_before, (at, wall));
        }
        if !device.connected() {
            // The board reset itself: off the bus, then back like the real part.
            save(&state, &device);
            detach(port);
            drop(socket);
            std::thread::sleep(REPLUG_DELAY);
            if stopping.load(Ordering::SeqCst) {
                break;
            }
            device.device.reconnect();
            socket = attach(port, devid)?;
            println!("replugged: sim:{} on vhci port {port}", chip.id);
            let _ = std::io::stdout().flush();
        }
    }
    detach(port);
    save(&state, &device);
    Ok(())
}
