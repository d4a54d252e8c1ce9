//! The fault matrix: every way a simulated bootloader misbehaves, one row a
//! case, through the device facade. Each row states its outcome; every row
//! also checks that nothing was erased or written outside the plan and that
//! the run ended within its bound on the virtual clock. The table is
//! docs/FAULTS.md: `DFUSE_WRITE_FAULTS=1 cargo test -p dfuse-sim --test
//! fault_matrix` writes it again after a change.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dfu_file::{Firmware, Format, Image, Target};
use dfuse::device::{FlashJob, FlashOptions, PlanRequest};
use dfuse::matching::DeviceTable;
use dfuse::protocol::{Command, FunctionalDescriptor, Request, State, Status};
use dfuse::session::{Event, Phase};
use dfuse::transport::Transport;
use dfuse::{Device, DeviceError};
use dfuse_sim::{Fault, SimBoard, SimFiles, SimTransport};

const FLASH: u32 = 0x0800_0000;
const IMAGE_LEN: usize = 4096;
const OPTION_BYTES: u32 = 0x1FFF_C000;

/// What the row does to the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// Flash 4 KiB at the flash start (full: one erase, one set-address, two blocks), verified.
    Flash,
    /// The same, incremental (sectors read first).
    FlashIncremental,
    /// The same, cancelled when the write has begun.
    FlashCancelled,
    /// Read 8 KiB at `address`.
    Read(u32),
    /// Erase the whole flash.
    MassErase,
    /// Leave DFU mode.
    Leave,
    /// Remove read protection.
    Unprotect,
    /// Write the option bytes (alternate setting 1) with their own values.
    OptionBytes,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Flash => "flash",
            Op::FlashIncremental => "flash (incremental)",
            Op::FlashCancelled => "flash, cancelled",
            Op::Read(_) => "read",
            Op::MassErase => "mass erase",
            Op::Leave => "leave",
            Op::Unprotect => "unprotect",
            Op::OptionBytes => "option bytes",
        }
    }
}

struct Case {
    phase: &'static str,
    misbehaviour: &'static str,
    op: Op,
    setup: fn(&mut SimTransport),
    /// `None`: success; else the error's code.
    expect: Option<&'static str>,
    /// Virtual time the run may take.
    bound: Duration,
    /// The device lies about where blocks go, so its writes land outside the plan
    /// where dfuse cannot prevent it (verify must catch it).
    lies: bool,
}

fn case(
    phase: &'static str,
    misbehaviour: &'static str,
    op: Op,
    setup: fn(&mut SimTransport),
    expect: Option<&'static str>,
) -> Case {
    Case {
        phase,
        misbehaviour,
        op,
        setup,
        expect,
        bound: Duration::from_secs(35),
        lies: false,
    }
}

fn fault(sim: &mut SimTransport, fault: Fault) {
    sim.inject(fault);
}

fn functional(transfer_size: u16) -> Option<FunctionalDescriptor> {
    Some(FunctionalDescriptor {
        attributes: 0x0B,
        detach_timeout_ms: 255,
        transfer_size,
        dfu_version: 0x011A,
    })
}

/// The full flash's requests, from 0: GETSTATUS (open); erase: DNLOAD 1, GETSTATUS 2, 3,
/// ABORT 4; set-address: DNLOAD 5, GETSTATUS 6, 7; blocks: DNLOAD 8 and 11, GETSTATUS
/// 9, 10, 12, 13; ABORT 14; verify: set-address 15-17, ABORT 18, UPLOAD 19, 20.
#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Op::*;
    let ok = None;
    let mut rows = vec![
        case("open", "none (the reference)", Flash, |_| {}, ok),
        case("open", "starts in dfuERROR", Flash, |s| s.device_mut().set_state(State::Error, Status::ErrUnknown), ok),
        case("open", "starts in dfuDNLOAD-IDLE", Flash, |s| s.device_mut().set_state(State::DnloadIdle, Status::Ok), ok),
        case("open", "starts in appIDLE (no way to dfuIDLE)", Flash, |s| s.device_mut().set_state(State::AppIdle, Status::Ok), Some("not-idle")),
        case("open", "first GETSTATUS STALLed", Flash, |s| fault(s, Fault::Stall { request: Request::GetStatus, nth: 0 }), Some("request-failed")),
        case("open", "gone at the first request", Flash, |s| fault(s, Fault::Disconnect { nth_request: 0 }), Some("request-failed")),
        case("open", "no answer to the first request", Flash, |s| fault(s, Fault::Timeout { nth_request: 0 }), Some("request-failed")),
        case("open", "status reply of 3 bytes", Flash, |s| fault(s, Fault::GarbledStatus { nth_getstatus: 0, reply: &[0, 0, 0] }), Some("bad-reply")),
        case("open", "status reply of 8 bytes", Flash, |s| fault(s, Fault::GarbledStatus { nth_getstatus: 0, reply: &[0, 0, 0, 0, 2, 0, 0, 0] }), Some("bad-reply")),
        case("open", "empty status reply", Flash, |s| fault(s, Fault::GarbledStatus { nth_getstatus: 0, reply: &[] }), Some("bad-reply")),
        case("open", "no DFU functional descriptor", Flash, |s| s.info_mut().functional = None, ok),
        case("open", "wTransferSize 0", Flash, |s| s.info_mut().functional = functional(0), ok),
        case("open", "wTransferSize 1000 (not a multiple of 32)", Flash, |s| s.info_mut().functional = functional(1000), ok),
        Case { lies: true, ..case("open", "wTransferSize 1024 declared, the ROM uses 2048 (†)", Flash, |s| s.info_mut().functional = functional(1024), Some("verify-mismatch")) },
        case("open", "escape sequences in every string", Flash, hostile_strings, ok),
        case("erase", "DNLOAD STALLed", Flash, |s| fault(s, Fault::Stall { request: Request::Dnload, nth: 0 }), Some("request-failed")),
        case("erase", "errERASE", Flash, |s| fault(s, Fault::Status { nth_dnload: 0, status: Status::ErrErase }), Some("device-status")),
        case("erase", "errTARGET", Flash, |s| fault(s, Fault::Status { nth_dnload: 0, status: Status::ErrTarget }), Some("device-status")),
        case("erase", "errVENDOR (read protection)", Flash, |s| fault(s, Fault::Status { nth_dnload: 0, status: Status::ErrVendor }), Some("read-protected")),
        case("erase", "errCHECK_ERASED", Flash, |s| fault(s, Fault::Status { nth_dnload: 0, status: Status::ErrCheckErased }), Some("device-status")),
        case("erase", "GETSTATUS STALLed while busy", Flash, |s| fault(s, Fault::Stall { request: Request::GetStatus, nth: 1 }), Some("request-failed")),
        case("erase", "busy forever", Flash, |s| fault(s, Fault::BusyForever), Some("busy-too-long")),
        case("erase", "bwPollTimeout 0xFFFFFF ms (absurd)", Flash, |s| fault(s, Fault::LyingPollTimeout { ms: 0xFF_FFFF }), ok),
        case("erase", "bwPollTimeout 0 ms", Flash, |s| fault(s, Fault::LyingPollTimeout { ms: 0 }), ok),
        case("erase", "busy for 5 more polls", Flash, |s| fault(s, Fault::BusyPolls { polls: 5 }), ok),
        case("erase", "early GETSTATUS STALLed (STM32L4)", Flash, |s| { fault(s, Fault::LyingPollTimeout { ms: 1 }); fault(s, Fault::StallWhenPolledEarly) }, ok),
        case("erase", "invalid state byte 0x42", Flash, |s| fault(s, Fault::GarbledStatus { nth_getstatus: 2, reply: &[0, 0, 0, 0, 0x42, 0] }), Some("wrong-state")),
        case("erase", "invalid status byte 0x99", Flash, |s| fault(s, Fault::GarbledStatus { nth_getstatus: 2, reply: &[0x99, 0, 0, 0, 5, 0] }), Some("device-status")),
        case("erase", "gone while busy", Flash, |s| fault(s, Fault::Disconnect { nth_request: 2 }), Some("request-failed")),
        case("erase", "no answer while busy", Flash, |s| fault(s, Fault::Timeout { nth_request: 3 }), Some("request-failed")),
        case("set-address", "errTARGET", Flash, |s| fault(s, Fault::Status { nth_dnload: 1, status: Status::ErrTarget }), Some("device-status")),
        case("set-address", "errADDRESS", Flash, |s| fault(s, Fault::Status { nth_dnload: 1, status: Status::ErrAddress }), Some("device-status")),
        case("set-address", "DNLOAD STALLed", Flash, |s| fault(s, Fault::Stall { request: Request::Dnload, nth: 1 }), Some("request-failed")),
        case("write", "errWRITE", Flash, |s| fault(s, Fault::Status { nth_dnload: 2, status: Status::ErrWrite }), Some("device-status")),
        case("write", "errPROG", Flash, |s| fault(s, Fault::Status { nth_dnload: 3, status: Status::ErrProg }), Some("device-status")),
        case("write", "errVERIFY", Flash, |s| fault(s, Fault::Status { nth_dnload: 3, status: Status::ErrVerify }), Some("device-status")),
        case("write", "DNLOAD STALLed", Flash, |s| fault(s, Fault::Stall { request: Request::Dnload, nth: 2 }), Some("request-failed")),
        case("write", "a block dropped (dfuIDLE after it)", Flash, |s| fault(s, Fault::DropDnload { nth_dnload: 3 }), Some("wrong-state")),
        case("write", "gone mid-write", Flash, |s| fault(s, Fault::Disconnect { nth_request: 9 }), Some("request-failed")),
        case("write", "no answer mid-write", Flash, |s| fault(s, Fault::Timeout { nth_request: 11 }), Some("request-failed")),
        case("write", "early GETSTATUS answered busy (a ROM that does not wait for the write)", Flash, |s| fault(s, Fault::BusyWhenPolledEarly), ok),
        case("write", "early GETSTATUS STALLed", Flash, |s| fault(s, Fault::StallWhenPolledEarly), ok),
        case("write", "a bit flips in the written flash", Flash, |s| fault(s, Fault::FlipBit { address: FLASH + 3000 }), Some("verify-mismatch")),
        case("write", "Ctrl-C (cancel) mid-write", FlashCancelled, |_| {}, Some("cancelled")),
        case("verify", "UPLOAD STALLed", Flash, |s| fault(s, Fault::Stall { request: Request::Upload, nth: 0 }), Some("device-status")),
        case("verify", "UPLOAD cut short", Flash, |s| fault(s, Fault::ShortUpload { nth_upload: 0 }), Some("verify-mismatch")),
        case("compare", "uploads refused (read protection)", FlashIncremental, |s| fault(s, Fault::UploadRefused), Some("read-protected")),
        case("compare", "none: a blank board", FlashIncremental, |_| {}, ok),
        case("read", "uploads refused (read protection)", Read(FLASH), |s| fault(s, Fault::UploadRefused), Some("read-protected")),
        case("read", "UPLOAD cut short inside the memory", Read(FLASH), |s| fault(s, Fault::ShortUpload { nth_upload: 1 }), Some("short-upload")),
        case("read", "none: past the end of the memory (refused before any request)", Read(0x080F_F000), |_| {}, Some("not-readable")),
        case("read", "gone mid-read", Read(FLASH), |s| fault(s, Fault::Disconnect { nth_request: 6 }), Some("request-failed")),
        case("mass erase", "none", MassErase, |_| {}, ok),
        case("mass erase", "errERASE", MassErase, |s| fault(s, Fault::Status { nth_dnload: 0, status: Status::ErrErase }), Some("device-status")),
        case("leave", "none: the board resets", Leave, |_| {}, ok),
        case("leave", "GETSTATUS after the leave STALLed", Leave, |s| fault(s, Fault::Stall { request: Request::GetStatus, nth: 3 }), ok),
        case("leave", "errTARGET on the start address", Leave, |s| fault(s, Fault::Status { nth_dnload: 0, status: Status::ErrTarget }), Some("device-status")),
        case("unprotect", "none: the chip erases itself and resets", Unprotect, |_| {}, ok),
        case("unprotect", "DNLOAD STALLed", Unprotect, |s| fault(s, Fault::Stall { request: Request::Dnload, nth: 0 }), Some("request-failed")),
        case("option bytes", "none: the chip resets after the write", OptionBytes, |_| {}, ok),
        case("option bytes", "errWRITE", OptionBytes, |s| fault(s, Fault::Status { nth_dnload: 1, status: Status::ErrWrite }), Some("device-status")),
    ];
    let mut busy_mass_erase = case("mass erase", "busy forever", MassErase, |s| fault(s, Fault::BusyForever), Some("busy-too-long"));
    busy_mass_erase.bound = Duration::from_secs(125);
    rows.push(busy_mass_erase);
    rows
}

fn hostile_strings(sim: &mut SimTransport) {
    let info = sim.info_mut();
    info.product = Some("STM32\u{1b}]0;owned\u{7}\u{1b}[2J".into());
    info.manufacturer = Some("\u{9b}31mST".into());
    info.serial = Some("\u{1b}[1A".into());
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 29 % 253) as u8).collect()
}

fn firmware(alt: u8, address: u32, data: Vec<u8>) -> Firmware {
    Firmware {
        format: Format::Dfuse,
        targets: vec![Target::from_image(
            alt,
            None,
            Image::from_pieces([(address, data)]).unwrap(),
        )],
        suffix: None,
        entry: None,
        warnings: Vec::new(),
    }
}

/// Runs `op` on `device`; the address ranges it may write (empty: none).
fn run(device: &mut Device, op: Op) -> (Result<(), DeviceError>, Vec<(u64, u64)>) {
    let flash_range = vec![(u64::from(FLASH), u64::from(FLASH) + IMAGE_LEN as u64)];
    match op {
        Op::Flash | Op::FlashIncremental | Op::FlashCancelled => {
            let firmware = firmware(0, FLASH, pattern(IMAGE_LEN));
            let job = FlashJob {
                firmware: &firmware,
                request: PlanRequest::default(),
                incremental: op == Op::FlashIncremental,
                options: FlashOptions::default(),
            };
            let cancel = Arc::new(AtomicBool::new(false));
            device.cancel_on(Arc::clone(&cancel));
            let mut events = |event: &Event| {
                if op == Op::FlashCancelled
                    && matches!(
                        event,
                        Event::Begin {
                            phase: Phase::Write,
                            ..
                        }
                    )
                {
                    cancel.store(true, Ordering::Relaxed);
                }
            };
            let result = device
                .prepare(&job, &mut events)
                .and_then(|plans| device.flash(&plans, &job.options, &mut events))
                .map(|_| ());
            (result, flash_range)
        }
        Op::Read(address) => (
            device.read(0, address, 8192, &mut |_| {}).map(|_| ()),
            Vec::new(),
        ),
        Op::MassErase => (device.erase(0, None, &mut |_| {}).map(|_| ()), Vec::new()),
        Op::Leave => (device.leave(None, &mut |_| {}).map(|_| ()), Vec::new()),
        Op::Unprotect => (device.unprotect(&mut |_| {}), Vec::new()),
        Op::OptionBytes => {
            let firmware = firmware(1, OPTION_BYTES, vec![0xEC, 0xAA, 0xFF, 0xFF]);
            let request = PlanRequest {
                alt: Some(1),
                ..PlanRequest::default()
            };
            let job = FlashJob {
                firmware: &firmware,
                request,
                incremental: false,
                options: FlashOptions::default(),
            };
            let result = device
                .prepare(&job, &mut |_| {})
                .and_then(|plans| device.flash(&plans, &job.options, &mut |_| {}))
                .map(|_| ());
            (
                result,
                vec![(u64::from(OPTION_BYTES), u64::from(OPTION_BYTES) + 4)],
            )
        }
    }
}

/// What the device was asked to erase or write outside `allowed` (and the plan's sector).
fn outside(sim: &SimTransport, op: Op, allowed: &[(u64, u64)]) -> Vec<String> {
    let stride = u64::from(sim.device().chip().transfer_size);
    let mut pointer = 0u64;
    let mut found = Vec::new();
    for entry in sim.log() {
        if entry.request != Request::Dnload || entry.outcome.is_err() {
            continue;
        }
        match (entry.value, entry.command) {
            (0, Some(Command::SetAddress(address))) => pointer = u64::from(address),
            (0, Some(Command::Erase(address))) => {
                let in_plan = matches!(op, Op::Flash | Op::FlashIncremental | Op::FlashCancelled)
                    && address == FLASH;
                if !in_plan {
                    found.push(format!("erase at {address:#010X}"));
                }
            }
            (0, Some(Command::MassErase)) if op != Op::MassErase => {
                found.push("mass erase".into());
            }
            (block, _) if block >= 2 && entry.length > 0 => {
                let start = pointer + u64::from(block - 2) * stride;
                let end = start + entry.length as u64;
                if !allowed.iter().any(|&(a, b)| a <= start && end <= b) {
                    found.push(format!("write at {start:#010X}..{end:#010X}"));
                }
            }
            _ => {}
        }
    }
    found
}

fn exit_code(result: &Result<(), DeviceError>) -> u8 {
    match result {
        Ok(()) => 0,
        Err(DeviceError::Cancelled { .. }) => 130,
        Err(error) if error.is_refusal() => 3,
        Err(_) => 5,
    }
}

#[test]
fn every_misbehaviour_ends_as_the_matrix_says_within_its_bound_and_inside_the_plan() {
    let table = DeviceTable::load(None).unwrap();
    let rows = cases();
    assert!(rows.len() >= 40, "{} rows", rows.len());
    let mut failures = Vec::new();
    let mut doc = String::from(
        "# What dfuse survives: the fault matrix\n\n\
         Written by `sim/tests/fault_matrix.rs` (`DFUSE_WRITE_FAULTS=1 cargo test -p dfuse-sim \
         --test fault_matrix`), which checks every row on each run: a simulated STM32F407 \
         misbehaves one way, dfuse runs one operation through the device facade, and the \
         outcome must be the one below. Every row also checks that nothing was erased or \
         written outside the plan, that a successful flash left the image in the chip, and \
         that the run ended within its bound on the virtual clock (35 s; 125 s for a mass \
         erase). Flash rows write 4 KiB at 0x08000000 (one sector erase, one set-address, \
         two 2 KiB blocks) and verify it. The exit code is the CLI's.\n\n\
         (†) A ROM that declares a block size other than the one it uses puts blocks where \
         its own size says, outside the plan, and no host can know beforehand; verify \
         catches it, because the last block of each run is read back on its own.\n\n\
         | # | phase | misbehaviour | operation | outcome | exit code |\n\
         |---|---|---|---|---|---|\n",
    );
    for (index, row) in rows.iter().enumerate() {
        let mut sim = SimTransport::open("stm32f407").unwrap();
        (row.setup)(&mut sim);
        let board = SimBoard::from_transport(sim, SimFiles::default());
        let chip = board.chip();
        let (result, allowed) = match board.board(&table).open() {
            Ok(mut device) => {
                if row.misbehaviour.starts_with("escape") {
                    let shown = format!(
                        "{}{}{}",
                        device.info().product.clone().unwrap_or_default(),
                        device.info().manufacturer.clone().unwrap_or_default(),
                        device.info().serial.clone().unwrap_or_default()
                    );
                    if shown.chars().any(char::is_control) {
                        failures.push(format!(
                            "row {}: strings not printable: {shown:?}",
                            index + 1
                        ));
                    }
                }
                run(&mut device, row.op)
            }
            Err(error) => (Err(error), Vec::new()),
        };
        let sim = chip.lock().unwrap();
        let code = result.as_ref().err().map(DeviceError::code);
        let label = format!("row {} ({}: {})", index + 1, row.phase, row.misbehaviour);
        if code != row.expect {
            failures.push(format!(
                "{label}: expected {:?}, got {:?} ({result:?})",
                row.expect.unwrap_or("success"),
                code.unwrap_or("success")
            ));
        }
        if result.is_ok() && matches!(row.op, Op::Flash | Op::FlashIncremental) {
            let memory = sim.device().regions()[0]
                .read(u64::from(FLASH), IMAGE_LEN)
                .unwrap();
            if memory != pattern(IMAGE_LEN) {
                failures.push(format!(
                    "{label}: succeeded, but the chip does not hold the image"
                ));
            }
        }
        let stray = outside(&sim, row.op, &allowed);
        if !stray.is_empty() && !row.lies {
            failures.push(format!("{label}: outside the plan: {}", stray.join(", ")));
        }
        if sim.now() > row.bound {
            failures.push(format!(
                "{label}: took {:?} (bound {:?})",
                sim.now(),
                row.bound
            ));
        }
        let outcome = match &result {
            Ok(()) => "succeeds".to_string(),
            Err(error) => format!("`{}`", error.code()),
        };
        doc.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            index + 1,
            row.phase,
            row.misbehaviour,
            row.op.name(),
            outcome,
            exit_code(&result)
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/FAULTS.md");
    if std::env::var_os("DFUSE_WRITE_FAULTS").is_some() {
        std::fs::write(&path, &doc).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == doc,
        "docs/FAULTS.md is not the table this test ran: write it with DFUSE_WRITE_FAULTS=1 cargo test -p dfuse-sim --test fault_matrix"
    );
}
