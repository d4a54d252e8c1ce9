//! Modelled flash time on the simulated STM32F407, against the floor a
//! perfect host could reach: `cargo bench -p dfuse-sim --bench flash`.
//!
//! Time is the simulator's virtual clock: the chip's datasheet busy times plus
//! the bus time of every request (see `UsbTiming`), so host overhead (extra
//! requests, polling late) shows as distance from the floor. The floor is the
//! device's busy time plus the bus time of the fewest requests a correct host
//! needs for the same plan: per DNLOAD (command or 2 KiB block) the DNLOAD and
//! two GETSTATUS (busy, then idle); per read-back chunk a set-address, one
//! ABORT and one UPLOAD per block. The F407's ROM answers a GETSTATUS sent
//! during a block's write when the write is done (docs/PROTOCOL.md), so a
//! block's second GETSTATUS can go out during the write: the floor counts one
//! GETSTATUS per block on the bus besides the write. The tables go to
//! docs/PERFORMANCE.md.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dfu_file::{Firmware, Format, Image, Target};
use dfuse::Device;
use dfuse::device::{FlashJob, FlashOptions, PlanRequest, TargetPlan};
use dfuse::matching::DeviceTable;
use dfuse::plan::FlashPlan;
use dfuse::protocol::Request;
use dfuse::transport::Transport;
use dfuse_sim::{SimBoard, SimFiles, SimTransport, UsbTiming};

const FLASH: u32 = 0x0800_0000;
const MIB: usize = 1024 * 1024;
const BLOCK: usize = 2048;
const STATUS: usize = 6;
const COMMAND: usize = 5;

fn firmware(data: Vec<u8>) -> Firmware {
    Firmware {
        format: Format::Bin,
        targets: vec![Target::from_image(
            0,
            None,
            Image::from_pieces([(FLASH, data)]).expect("one piece"),
        )],
        suffix: None,
        entry: None,
        warnings: Vec::new(),
    }
}

/// Bytes that look like firmware and differ between seeds.
fn image(seed: u32, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

struct Run {
    name: String,
    modelled: Duration,
    floor: Duration,
    busy: Duration,
    requests_per_block: f64,
    erases: String,
}

struct Bench {
    sim: Arc<Mutex<SimTransport>>,
    device: Device,
    usb: UsbTiming,
    /// The chip answers a write's GETSTATUS when the write is done.
    overlapped: bool,
}

impl Bench {
    fn new() -> Bench {
        let board = SimBoard::new("stm32f407", SimFiles::default()).expect("a simulated F407");
        let table = DeviceTable::load(None).expect("the built-in device table");
        let device = board.board(&table).open().expect("opens");
        let sim = board.chip();
        let (usb, overlapped) = {
            let sim = sim.lock().expect("sim");
            (sim.usb_timing(), sim.device().chip().answers_when_done)
        };
        Bench {
            sim,
            device,
            usb,
            overlapped,
        }
    }

    fn clock(&self) -> (Duration, Duration, usize) {
        let sim = self.sim.lock().expect("sim");
        (sim.now(), sim.device().busy_time(), sim.log().len())
    }

    /// Flashes and measures; `incremental` and `verify` as the CLI's defaults or flags.
    fn flash(&mut self, name: &str, data: Vec<u8>, incremental: bool, verify: bool) -> Run {
        let firmware = firmware(data);
        let job = FlashJob {
            firmware: &firmware,
            request: PlanRequest::default(),
            incremental,
            options: FlashOptions {
                verify,
                leave: None,
            },
        };
        let (start, busy_start, log_start) = self.clock();
        let plans = self.device.prepare(&job, &mut |_| {}).expect("plans");
        self.device
            .flash(&plans, &job.options, &mut |_| {})
            .expect("flashes");
        let (end, busy_end, _) = self.clock();
        let busy = busy_end - busy_start;
        let sim = self.sim.lock().expect("sim");
        let log = &sim.log()[log_start..];
        Run {
            name: name.into(),
            modelled: end - start,
            floor: busy + self.minimal_usb(&plans, verify, incremental),
            busy,
            requests_per_block: requests_per_block(log),
            erases: erase_summary(log),
        }
    }

    /// Bus time of the fewest requests a correct host needs for `plans`.
    fn minimal_usb(&self, plans: &[TargetPlan], verify: bool, compared: bool) -> Duration {
        let cost = |bytes: usize| self.usb.cost(bytes);
        let dnload = |bytes: usize| cost(bytes) + cost(STATUS) * 2;
        // A block's last poll overlaps its write on a ROM that answers when done.
        let block = |bytes: usize| cost(bytes) + cost(STATUS) * (2 - u32::from(self.overlapped));
        let read = |ranges: &[(u32, usize)]| -> Duration {
            ranges
                .iter()
                .map(|&(_, len)| {
                    dnload(COMMAND)
                        + cost(0)
                        + (0..len.div_ceil(BLOCK))
                            .map(|_| cost(BLOCK))
                            .sum::<Duration>()
                })
                .sum()
        };
        let mut total = Duration::ZERO;
        for target in plans {
            let plan: &FlashPlan = &target.plan;
            if compared {
                let sectors: Vec<(u32, usize)> = plan
                    .sectors
                    .iter()
                    .map(|s| (s.address, s.size as usize))
                    .collect();
                total += read(&merge(&sectors));
            }
            let commands = plan.erase.len() + usize::from(plan.mass_erase.is_some());
            let writes: Vec<(u32, usize)> = plan
                .writes()
                .iter()
                .map(|r| (r.address, r.data.len()))
                .collect();
            total += dnload(COMMAND) * (commands + writes.len()) as u32;
            for &(_, len) in &writes {
                total += (0..len.div_ceil(BLOCK))
                    .map(|i| block((len - i * BLOCK).min(BLOCK)))
                    .sum::<Duration>();
            }
            if verify {
                total += read(&writes);
            }
        }
        total
    }
}

/// Adjacent ranges joined: one read-back chunk each.
fn merge(ranges: &[(u32, usize)]) -> Vec<(u32, usize)> {
    let mut merged: Vec<(u32, usize)> = Vec::new();
    for &(address, len) in ranges {
        match merged.last_mut() {
            Some((start, total)) if *start as usize + *total == address as usize => *total += len,
            _ => merged.push((address, len)),
        }
    }
    merged
}

/// Requests from one full 2 KiB data DNLOAD to the next, averaged over the write.
fn requests_per_block(log: &[dfuse_sim::LogEntry]) -> f64 {
    let blocks: Vec<usize> = log
        .iter()
        .enumerate()
        .filter(|(_, e)| e.request == Request::Dnload && e.value >= 2 && e.length == BLOCK)
        .map(|(i, _)| i)
        .collect();
    let gaps: Vec<usize> = blocks
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&gap| gap < 10) // within one run, not across a set-address
        .collect();
    if gaps.is_empty() {
        return 0.0;
    }
    gaps.iter().sum::<usize>() as f64 / gaps.len() as f64
}

fn erase_summary(log: &[dfuse_sim::LogEntry]) -> String {
    use dfuse::protocol::Command;
    let sectors = log
        .iter()
        .filter(|e| matches!(e.command, Some(Command::Erase(_))))
        .count();
    let mass = log
        .iter()
        .filter(|e| matches!(e.command, Some(Command::MassErase)))
        .count();
    match (mass, sectors) {
        (0, n) => format!("{n} sector erases"),
        (m, 0) => format!("{m} mass erase"),
        (m, n) => format!("{m} mass erase + {n} sector erases"),
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn main() {
    // `cargo test --benches` runs this too; the numbers are the same either way (virtual time).
    let usb = UsbTiming::default();
    println!(
        "Simulated STM32F407 (dfuse-sim), 1 MiB image at 0x{FLASH:08X}; bus: {} µs a request, {} bytes/ms\n",
        usb.latency.as_micros(),
        usb.bytes_per_ms
    );
    let mut runs = Vec::new();

    // A board holding last week's build: the usual case when reflashing.
    let mut bench = Bench::new();
    bench.flash("(setup: old build)", image(1, MIB), false, false);
    runs.push(bench.flash(
        "full, no verify (--full --no-verify)",
        image(2, MIB),
        false,
        false,
    ));
    let mut bench = Bench::new();
    bench.flash("(setup: old build)", image(1, MIB), false, false);
    runs.push(bench.flash("first flash, defaults", image(2, MIB), true, true));
    let mut changed = image(2, MIB);
    changed[100] ^= 0xFF;
    runs.push(bench.flash("one byte changed, defaults", changed, true, true));
    let mut blank = Bench::new();
    runs.push(blank.flash("blank board, defaults", image(2, MIB), true, true));

    println!("| run | modelled | floor | ratio | device busy | requests / 2 KiB | erase |");
    println!("|---|---|---|---|---|---|---|");
    for run in &runs {
        println!(
            "| {} | {} | {} | {:.3} | {} | {:.1} | {} |",
            run.name,
            seconds(run.modelled),
            seconds(run.floor),
            run.modelled.as_secs_f64() / run.floor.as_secs_f64(),
            seconds(run.busy),
            run.requests_per_block,
            run.erases
        );
    }
    let first = &runs[1];
    let second = &runs[2];
    println!(
        "\nincremental: one byte changed / first flash = {:.3}",
        second.modelled.as_secs_f64() / first.modelled.as_secs_f64()
    );
}
