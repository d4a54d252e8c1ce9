//! Bootloaders that misbehave: each case here once went wrong silently or slowly.

use dfu_file::Image;
use dfuse::memory_map;
use dfuse::plan::{PlanOptions, plan};
use dfuse::protocol::{FunctionalDescriptor, Request};
use dfuse::session::{Session, Settings};
use dfuse::transport::Transport;
use dfuse_sim::SimTransport;

const FLASH: u32 = 0x0800_0000;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 13 % 251) as u8).collect()
}

/// Erases, writes and verifies `data` at the F407's flash start through a session.
fn flash(sim: &mut SimTransport, data: &[u8]) -> Result<(), dfuse::DeviceError> {
    let map = memory_map::parse(&sim.info().alt_settings[0].name)
        .unwrap()
        .map;
    let image = Image::from_pieces([(FLASH, data.to_vec())]).unwrap();
    let plan = plan(&image, &map, &PlanOptions::default()).unwrap();
    let mut ignore = |_: &dfuse::session::Event| {};
    let mut session = Session::open(sim, 0, Settings::default(), &mut ignore)?;
    session.download(&plan)?;
    session.verify(&plan)
}

/// The chip's flash holds `data` at its start; else the first address that differs.
fn assert_holds(sim: &SimTransport, data: &[u8]) {
    let memory = sim.device().regions()[0]
        .read(u64::from(FLASH), data.len())
        .unwrap();
    if let Some(at) = memory.iter().zip(data).position(|(a, b)| a != b) {
        panic!(
            "the chip differs from the image at {:#010X}",
            FLASH as usize + at
        );
    }
}

#[test]
fn without_a_functional_descriptor_every_block_lands_where_it_belongs() {
    // The ROM places block n at its own 2048-byte stride; dfuse cannot know that stride.
    let mut sim = SimTransport::open("stm32f407").unwrap();
    sim.info_mut().functional = None;
    let data = pattern(8 * 1024);
    flash(&mut sim, &data).unwrap();
    assert_holds(&sim, &data);
    let blocks: Vec<u16> = sim
        .log()
        .iter()
        .filter(|e| e.request == Request::Dnload && e.value >= 2)
        .map(|e| e.value)
        .collect();
    assert!(blocks.iter().all(|&b| b == 2), "one block per set-address");
}

#[test]
fn a_zero_transfer_size_is_treated_as_none_declared_not_as_one_byte_blocks() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    sim.info_mut().functional = Some(FunctionalDescriptor {
        attributes: 0x0B,
        detach_timeout_ms: 255,
        transfer_size: 0,
        dfu_version: 0x011A,
    });
    let data = pattern(40 * 1024);
    flash(&mut sim, &data).unwrap();
    assert_holds(&sim, &data);
    let dnloads = sim
        .log()
        .iter()
        .filter(|e| e.request == Request::Dnload)
        .count();
    assert!(dnloads < 200, "{dnloads} DNLOADs for 40 KiB");
}

#[test]
fn an_absurd_poll_timeout_does_not_stall_every_operation_for_its_bound() {
    // The ROM claims 0xFFFFFF ms (4.6 hours) for everything, and is in fact quick.
    let mut sim = SimTransport::open("stm32f407").unwrap();
    sim.inject(dfuse_sim::Fault::LyingPollTimeout { ms: 0xFF_FFFF });
    let data = pattern(6 * 1024);
    flash(&mut sim, &data).unwrap();
    assert_holds(&sim, &data);
    // One erase (237 ms) and three blocks: seconds, not 30 s per operation.
    assert!(
        sim.now() < std::time::Duration::from_secs(3),
        "took {:?} of virtual time",
        sim.now()
    );
}

fn open_board(sim: &dfuse_sim::SimBoard) -> dfuse::Device {
    let table = dfuse::matching::DeviceTable::load(None).unwrap();
    sim.board(&table).open().unwrap()
}

#[test]
fn a_read_refused_by_read_protection_says_so() {
    // The ROM takes the set-address, then STALLs the UPLOAD: its status says errVENDOR.
    let board = dfuse_sim::SimBoard::new("stm32f407", dfuse_sim::SimFiles::default()).unwrap();
    board
        .chip()
        .lock()
        .unwrap()
        .inject(dfuse_sim::Fault::UploadRefused);
    let error = open_board(&board)
        .read(0, FLASH, 4096, &mut |_| {})
        .unwrap_err();
    assert_eq!(error.code(), "read-protected", "{error}");
    assert!(error.to_string().contains("read at 0x08000000"), "{error}");
}

#[test]
fn a_dropped_block_fails_the_flash_even_without_verify() {
    let board = dfuse_sim::SimBoard::new("stm32f407", dfuse_sim::SimFiles::default()).unwrap();
    // DNLOADs: one erase, one set-address, then blocks: the third block is dropped.
    board
        .chip()
        .lock()
        .unwrap()
        .inject(dfuse_sim::Fault::DropDnload { nth_dnload: 4 });
    let mut device = open_board(&board);
    let image = Image::from_pieces([(FLASH, pattern(8 * 1024))]).unwrap();
    let firmware = dfu_file::Firmware {
        format: dfu_file::Format::Bin,
        targets: vec![dfu_file::Target::from_image(0, None, image)],
        suffix: None,
        entry: None,
        warnings: Vec::new(),
    };
    let job = dfuse::device::FlashJob {
        firmware: &firmware,
        request: dfuse::device::PlanRequest::default(),
        incremental: false,
        options: dfuse::device::FlashOptions {
            verify: false,
            leave: None,
        },
    };
    let plans = device.prepare(&job, &mut |_| {}).unwrap();
    let error = device.flash(&plans, &job.options, &mut |_| {}).unwrap_err();
    assert_eq!(error.code(), "wrong-state", "{error}");
    assert!(
        error
            .to_string()
            .contains("write of 2048 bytes at 0x08001000"),
        "{error}"
    );
}

#[test]
fn a_short_upload_inside_the_memory_is_a_device_fault_past_its_end_a_refusal() {
    let board = dfuse_sim::SimBoard::new("stm32f072", dfuse_sim::SimFiles::default()).unwrap();
    board
        .chip()
        .lock()
        .unwrap()
        .inject(dfuse_sim::Fault::ShortUpload { nth_upload: 1 });
    let mut device = open_board(&board);
    let error = device.read(0, FLASH, 8192, &mut |_| {}).unwrap_err();
    assert_eq!(error.code(), "short-upload", "{error}");
    assert!(!error.is_refusal(), "a device fault: exit code 5");
    // Past the end of the F072's 128 KiB: what was asked for does not exist,
    // refused before any request.
    let sent = board.chip().lock().unwrap().log().len();
    let error = device.read(0, 0x0801_F000, 8192, &mut |_| {}).unwrap_err();
    assert_eq!(error.code(), "not-readable", "{error}");
    assert!(error.is_refusal(), "bad input: exit code 3");
    assert_eq!(
        board.chip().lock().unwrap().log().len(),
        sent,
        "nothing sent"
    );
}
