//! Incremental flash, the automatic mass erase and several boards at once,
//! through the device facade on simulated boards.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use dfu_file::{Firmware, Format, Image, Target};
use dfuse::Device;
use dfuse::device::{FlashJob, FlashOptions, Flashed, PlanRequest, flash_boards};
use dfuse::matching::DeviceTable;
use dfuse::plan::{Found, MassErase};
use dfuse::protocol::{Command, Request};
use dfuse_sim::{Fault, SimBoard, SimFiles, SimTransport};

const FLASH: u32 = 0x0800_0000;

fn firmware(data: Vec<u8>) -> Firmware {
    let image = Image::from_pieces([(FLASH, data)]).unwrap();
    Firmware {
        format: Format::Bin,
        targets: vec![Target::from_image(0, None, image)],
        suffix: None,
        entry: None,
        warnings: Vec::new(),
    }
}

fn job(firmware: &Firmware) -> FlashJob<'_> {
    FlashJob {
        firmware,
        request: PlanRequest::default(),
        incremental: true,
        options: FlashOptions::default(),
    }
}

fn board(chip: &str) -> (SimBoard, Device) {
    let sim = SimBoard::new(chip, SimFiles::default()).unwrap();
    let device = sim.board(&DeviceTable::load(None).unwrap()).open().unwrap();
    (sim, device)
}

/// Prepares and flashes; returns the report's only target plan and how it ended.
fn flash(device: &mut Device, job: &FlashJob) -> (dfuse::plan::FlashPlan, Flashed) {
    let plans = device.prepare(job, &mut |_| {}).unwrap();
    let report = device.flash(&plans, &job.options, &mut |_| {}).unwrap();
    let (target, flashed) = report.targets.into_iter().next().unwrap();
    (target.plan, flashed)
}

fn log_of(sim: &SimBoard) -> Vec<dfuse_sim::LogEntry> {
    let chip: Arc<Mutex<SimTransport>> = sim.chip();
    chip.lock().unwrap().log().to_vec()
}

fn erases(log: &[dfuse_sim::LogEntry]) -> Vec<Command> {
    log.iter()
        .filter_map(|e| e.command)
        .filter(|c| matches!(c, Command::Erase(_) | Command::MassErase))
        .collect()
}

fn written(log: &[dfuse_sim::LogEntry]) -> usize {
    log.iter()
        .filter(|e| e.request == Request::Dnload && e.value >= 2)
        .map(|e| e.length)
        .sum()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn a_second_flash_with_one_byte_changed_erases_and_writes_that_sector_only() {
    let (sim, mut device) = board("stm32f407");
    let mut data = pattern(256 * 1024);
    let first = firmware(data.clone());
    flash(&mut device, &job(&first));
    let before = log_of(&sim).len();

    data[100] ^= 0xFF;
    let (plan, flashed) = flash(&mut device, &job(&firmware(data.clone())));
    assert_eq!(flashed, Flashed::Verified);
    assert_eq!(plan.unchanged().len(), 5);
    let log = &log_of(&sim)[before..];
    assert_eq!(erases(log), vec![Command::Erase(FLASH)]);
    assert_eq!(written(log), 16 * 1024);
    let read = device
        .read(0, FLASH, data.len() as u64, &mut |_| {})
        .unwrap();
    assert_eq!(read, data, "the board holds the new image");
}

#[test]
fn an_image_over_every_sector_uses_one_mass_erase() {
    let (sim, mut device) = board("stm32f407");
    let data = pattern(1024 * 1024);
    // Not blank, so the comparison finds every sector changed.
    flash(&mut device, &job(&firmware(vec![0; 1024 * 1024])));
    let before = log_of(&sim).len();
    let (plan, _) = flash(&mut device, &job(&firmware(data)));
    assert_eq!(plan.mass_erase, Some(MassErase::EverySector));
    assert_eq!(erases(&log_of(&sim)[before..]), vec![Command::MassErase]);
}

#[test]
fn a_read_protected_chip_is_flashed_in_full_with_the_reason() {
    let (sim, mut device) = board("stm32f407");
    sim.chip().lock().unwrap().device_mut().regions_mut()[1].set_byte(0x1FFF_C001, 0x00);
    let plans = device
        .prepare(&job(&firmware(pattern(4096))), &mut |_| {})
        .unwrap();
    let plan = &plans[0].plan;
    assert!(
        matches!(&plan.found, Found::Unreadable(reason) if reason.contains("errVENDOR")),
        "{:?}",
        plan.found
    );
    assert_eq!(plan.erase.len(), 1, "every touched sector is erased");
}

#[test]
fn several_boards_at_once_and_one_that_drops_off_fails_alone() {
    let table = DeviceTable::load(None).unwrap();
    let chips = ["stm32f407", "stm32f072", "gd32vf103", "stm32l476"];
    let sims: Vec<SimBoard> = chips
        .iter()
        .map(|chip| SimBoard::new(chip, SimFiles::default()).unwrap())
        .collect();
    let data = pattern(32 * 1024);
    let firmware = firmware(data.clone());
    // Board 1 drops off the bus three quarters of the way through its requests: during the write.
    let (rehearsal, mut device) = board(chips[1]);
    flash(&mut device, &job(&firmware));
    let requests = log_of(&rehearsal).len();
    sims[1].chip().lock().unwrap().inject(Fault::Disconnect {
        nth_request: requests * 3 / 4,
    });
    let boards: Vec<_> = sims.iter().map(|s| s.board(&table)).collect();
    let planned = Mutex::new(Vec::new());
    let results = flash_boards(
        &boards,
        &job(&firmware),
        &Arc::new(AtomicBool::new(false)),
        &|index, event| {
            if let dfuse::device::BoardEvent::Planned(_) = event {
                planned.lock().unwrap().push(index);
            }
        },
    );
    assert_eq!(planned.lock().unwrap().len(), 4);
    for (i, result) in results.iter().enumerate() {
        assert_eq!(result.location, format!("sim:{}", chips[i]));
        if i == 1 {
            let Err(error) = &result.result else {
                panic!("the unplugged board succeeded");
            };
            assert_eq!(
                error.transport(),
                Some(&dfuse::transport::TransportError::Disconnected),
                "{error}"
            );
            continue;
        }
        if let Err(error) = &result.result {
            panic!("{}: {error}", chips[i]);
        }
        let mut device = boards[i].open().unwrap();
        let read = device
            .read(0, FLASH, data.len() as u64, &mut |_| {})
            .unwrap();
        assert_eq!(read, data, "{}", chips[i]);
    }
}

#[test]
fn a_cancel_stops_every_board_each_left_idle() {
    let table = DeviceTable::load(None).unwrap();
    let sims: Vec<SimBoard> = ["stm32f407", "stm32f072"]
        .iter()
        .map(|chip| SimBoard::new(chip, SimFiles::default()).unwrap())
        .collect();
    let boards: Vec<_> = sims.iter().map(|s| s.board(&table)).collect();
    let firmware = firmware(pattern(64 * 1024));
    let cancel = Arc::new(AtomicBool::new(false));
    let results = flash_boards(&boards, &job(&firmware), &cancel, &|_, event| {
        if let dfuse::device::BoardEvent::Session(dfuse::session::Event::Progress { .. }) = event {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    for (result, sim) in results.iter().zip(&sims) {
        let Err(error) = &result.result else {
            panic!("{} was not cancelled", result.location);
        };
        assert_eq!(error.code(), "cancelled", "{error}");
        let log = log_of(sim);
        let last = log.iter().rev().find_map(|e| e.reply).unwrap();
        assert_eq!(
            last.state,
            dfuse::protocol::State::DfuIdle,
            "{}",
            result.location
        );
    }
}
