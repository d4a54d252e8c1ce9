//! The window driven through its accessibility tree (egui_kittest) against simulated boards.

mod common;
mod harness;

use harness::{drop_file, example, shown, sim, wait_for_job, window};

use std::time::{Duration, Instant};

use dfu_file::Image;
use dfuse::protocol::Status;
use dfuse::session::{Phase, Session, Settings};
use dfuse_gui::App;
use dfuse_sim::Fault;
use eframe::egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable, by};

#[test]
fn select_a_board_load_the_example_see_the_sectors_flash_and_verify() {
    let mut harness = window(&["stm32f072", "stm32f407"], false);
    harness
        .get(by().role(Role::Button).label_contains("sim:stm32f407"))
        .click();
    harness.run_steps(2);
    assert_eq!(harness.state().selected.as_deref(), Some("sim:stm32f407"));
    harness.get_by_label_contains("0483:DF11 rev 2200 at sim:stm32f407");

    drop_file(&mut harness, example("blinky-f407.hex"));
    harness.get_by_label(
        "Flashing will erase 2 sectors (32 KiB) and write 256 bytes to alt 0 (Internal Flash).",
    );
    harness.get_by_label(
        "sector 0 at 0x08000000, 16 KiB, erasable, writable, will be erased and written",
    );
    harness.get_by_label(
        "sector 1 at 0x08004000, 16 KiB, erasable, writable, will be erased and written",
    );
    harness.get_by_label("sector 2 at 0x08008000, 16 KiB, erasable, writable");
    let flash = harness.get_by_label("Flash");
    assert!(!flash.accesskit_node().is_disabled());
    flash.click();
    harness.step();
    assert!(harness.state().busy(), "the flash runs on the worker");
    wait_for_job(&mut harness);

    harness.get_by_label_contains("Verifying 100% (256 B of 256 B");
    harness.get_by_label("Done: Flashed 212 bytes to alt 0 (Internal Flash): 2 sectors already blank, 256 bytes written, verified.");
    harness.get_by_label(
        "The last flash found 2 sectors already blank, wrote 256 bytes to alt 0 (Internal Flash).",
    );
    let expected = dfu_file::read(
        &std::fs::read(example("blinky-f407.hex")).unwrap(),
        Some("hex"),
        &dfu_file::ReadOptions::default(),
    )
    .unwrap();
    let board = sim(&harness, "sim:stm32f407");
    let mut board = board.lock().unwrap();
    for segment in expected.targets[0].image.segments() {
        let read = Session::open(&mut *board, 0, Settings::default(), &mut |_| {})
            .and_then(|mut s| s.upload(segment.address(), segment.len() as u64, Phase::Read))
            .unwrap();
        assert_eq!(read, segment.data(), "at {:#010X}", segment.address());
    }
    assert!(harness.state().log.texts(dfuse_gui::log::Level::Info).any(|line| line
        .contains("interface FE/01/02 of 0483:DF11 rev 2200 → STM32 system bootloader, built-in record, priority")));
}

#[test]
fn a_refused_image_shows_why_and_offers_no_flash_button() {
    // The Photon's first flash sectors hold its bootloader: read-only.
    let mut harness = window(&["stm32f205"], false);
    drop_file(&mut harness, example("blinky-f407.hex"));
    let text = shown(&harness, "Cannot flash: Data at 0x08000000-");
    assert!(text.contains("falls in the read-only segment"), "{text}");
    assert!(
        text.contains("build the firmware for the application area"),
        "{text}"
    );
    harness
        .get_by_label("sector 0 at 0x08000000, 16 KiB, read-only, refused: the file has data here");
    assert!(harness.get_by_label("Flash").accesskit_node().is_disabled());
    assert!(
        harness
            .get_by_label("Erase the file's sectors")
            .accesskit_node()
            .is_disabled()
    );
}

#[test]
fn data_past_the_end_of_the_flash_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("too-far.hex");
    let image = Image::from_pieces([(0x080F_FFF0, vec![0xA5; 32])]).unwrap();
    std::fs::write(&path, dfu_file::ihex::write(&image, None).unwrap()).unwrap();
    let mut harness = window(&["stm32f407"], false);
    drop_file(&mut harness, path);
    harness.get_by_label_contains(
        "Cannot flash: Data at 0x08100000-0x0810000F lies outside \"Internal Flash\"",
    );
    assert!(harness.get_by_label("Flash").accesskit_node().is_disabled());
}

#[test]
fn an_injected_write_error_is_shown_in_plain_words() {
    let mut harness = window(&["stm32f407"], false);
    drop_file(&mut harness, example("blinky-f407.hex"));
    // DNLOADs: erase sector 0, erase sector 1, set address, then the first write fails.
    sim(&harness, "sim:stm32f407")
        .lock()
        .unwrap()
        .inject(Fault::Status {
            nth_dnload: 3,
            status: Status::ErrWrite,
        });
    harness.get_by_label("Flash").click();
    harness.step();
    wait_for_job(&mut harness);
    let text = shown(&harness, "The board could not program its flash (write of ");
    assert!(text.ends_with("bytes at 0x08000000)."), "{text}");
    shown(
        &harness,
        "The sector may be write-protected or not erased: try Erase all, then flash again.",
    );
    assert!(harness.query_by_label_contains("Done: ").is_none());
}

#[test]
fn cancel_stops_a_flash_between_requests() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    std::fs::write(&path, vec![0x3C; 512 * 1024]).unwrap();
    let mut harness = window(&["stm32f407"], true);
    drop_file(&mut harness, path);
    harness.get_by_label_contains("Flashing will erase 8 sectors (512 KiB)");
    // A full flash: the blank board would otherwise need no erase to cancel.
    harness
        .get_by_label("Skip sectors that already hold the file")
        .click();
    harness.run_steps(2);
    assert!(!harness.state().incremental);
    harness.get_by_label("Flash").click();
    harness.step();
    let deadline = Instant::now() + Duration::from_secs(30);
    let started = |app: &App| {
        app.progress
            .first()
            .and_then(|(_, p)| *p)
            .is_some_and(|p| p.done > 0)
    };
    while !started(harness.state()) {
        assert!(Instant::now() < deadline, "no progress within 30 s");
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.get_by_label("Cancel").click();
    harness.step();
    wait_for_job(&mut harness);
    shown(&harness, "Cancelled during the erase. The board is idle.");
    shown(
        &harness,
        "The flash may be partly erased or written: flash the firmware again before starting it.",
    );
}

#[test]
fn read_unprotect_asks_first_and_says_it_erases_the_chip() {
    let mut harness = window(&["stm32f407"], false);
    harness.get_by_label("Read-unprotect…").click();
    harness.run_steps(2);
    harness.get_by_label_contains("the chip erase all of its flash");
    harness.get_by_label("Keep it").click();
    harness.run_steps(2);
    assert!(!harness.state().busy());
    assert!(
        harness
            .query_by_label_contains("the chip erase all of its flash")
            .is_none()
    );
}

#[test]
fn read_to_file_saves_the_memory_in_the_chosen_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = window(&["stm32f072"], false);
    let path = dir.path().join("flash.bin");
    let ctx = harness.ctx.clone();
    harness.state_mut().read_to(path.clone(), &ctx);
    wait_for_job(&mut harness);
    harness.get_by_label_contains("Done: Read 131072 bytes from 0x08000000");
    let data = std::fs::read(&path).unwrap();
    assert_eq!(data.len(), 128 * 1024);
    assert!(
        data.iter().all(|&b| b == 0xFF),
        "a fresh simulated chip is erased"
    );
}

#[test]
fn a_raw_binary_asks_for_its_load_address() {
    let mut harness = window(&["stm32f407"], false);
    drop_file(&mut harness, example("blinky-f407.bin"));
    let address = harness.get_by_label("Load address:");
    assert_eq!(
        address.value().as_deref(),
        Some("0x08000000"),
        "the flash start by default"
    );
    harness.get_by_label_contains("Flashing will erase 2 sectors (32 KiB)");

    harness.get_by_label("Load address:").focus();
    harness.run_steps(1);
    harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::A);
    harness
        .get_by_label("Load address:")
        .type_text("0x080FF000");
    harness.run_steps(3);
    shown(&harness, "Cannot flash: Data at 0x08100000-");

    harness.get_by_label("Load address:").focus();
    harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::A);
    harness.get_by_label("Load address:").type_text("banana");
    harness.run_steps(3);
    shown(
        &harness,
        "\"banana\" is not an address: type it in hexadecimal",
    );
    assert!(harness.get_by_label("Flash").accesskit_node().is_disabled());
}

#[test]
fn a_dfu_file_for_another_device_is_refused_until_its_ids_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.dfu");
    let image = Image::from_pieces([(0x0800_0000, vec![0x11; 1000])]).unwrap();
    let ids = dfu_file::DeviceIds {
        vid: 0x1209,
        pid: 0x0001,
        bcd_device: 0xFFFF,
    };
    let targets = [dfu_file::Target::from_image(0, None, image)];
    std::fs::write(&path, dfu_file::dfuse::write(&targets, ids).unwrap()).unwrap();
    let mut harness = window(&["stm32f407"], false);
    drop_file(&mut harness, path);
    shown(
        &harness,
        "Cannot flash: the file is for device 1209:0001 (its DFU suffix), but this device is 0483:DF11.",
    );
    assert!(harness.get_by_label("Flash").accesskit_node().is_disabled());
    harness.get_by_label("Ignore the file's device IDs").click();
    harness.run_steps(3);
    harness.get_by_label_contains("Flashing will erase 1 sector (16 KiB)");
    assert!(!harness.get_by_label("Flash").accesskit_node().is_disabled());
}

#[test]
fn erase_all_asks_first_then_mass_erases() {
    let mut harness = window(&["stm32f407"], false);
    harness.get_by_label("Erase all…").click();
    harness.run_steps(2);
    harness.get_by_label_contains("Every sector of the flash is erased.");
    harness.get_by_label("Erase everything").click();
    harness.step();
    wait_for_job(&mut harness);
    shown(&harness, "Done: Erased the whole flash.");
    harness.get_by_label_contains("Erasing the whole flash (");
    let log = sim(&harness, "sim:stm32f407");
    let log = log.lock().unwrap();
    assert!(
        log.log()
            .iter()
            .any(|e| e.command == Some(dfuse::protocol::Command::MassErase)),
        "the board received a mass erase"
    );
}

#[test]
fn flash_then_start_the_firmware() {
    let mut harness = window(&["stm32f407"], false);
    drop_file(&mut harness, example("blinky-f407.dfu"));
    harness
        .get_by_label("Start the firmware after flashing")
        .click();
    harness.run_steps(2);
    harness.get_by_label("Flash").click();
    harness.step();
    wait_for_job(&mut harness);
    shown(
        &harness,
        "Done: Flashed 212 bytes to alt 0 (Internal Flash): 2 sectors already blank, 256 bytes written, verified. Started the firmware at 0x08000000.",
    );
    let board = sim(&harness, "sim:stm32f407");
    assert!(
        !board.lock().unwrap().connected(),
        "the board left DFU mode"
    );
}

#[test]
fn two_boards_flashed_together_each_with_its_progress_then_unchanged_sectors_skipped() {
    let mut harness = window(&["stm32f407", "stm32f072"], false);
    harness
        .get(by().role(Role::Button).label_contains("sim:stm32f407"))
        .click();
    harness.run_steps(2);
    harness.get_by_label("Flash sim:stm32f072 too").click();
    harness.run_steps(2);
    assert_eq!(harness.state().also, vec!["sim:stm32f072".to_string()]);
    drop_file(&mut harness, example("blinky-f407.hex"));
    harness.get_by_label("Flash 2 boards").click();
    harness.step();
    wait_for_job(&mut harness);
    harness.get_by_label_contains("sim:stm32f407: Verifying 100% (256 B of 256 B");
    harness.get_by_label_contains("sim:stm32f072: Verifying 100% (256 B of 256 B");
    let done = shown(&harness, "Done: ");
    assert!(
        done.contains("sim:stm32f407: Flashed 212 bytes")
            && done.contains("sim:stm32f072: Flashed 212 bytes"),
        "{done}"
    );
    let expected = std::fs::read(example("blinky-f407.bin")).unwrap();
    for location in ["sim:stm32f407", "sim:stm32f072"] {
        let board = sim(&harness, location);
        let mut board = board.lock().unwrap();
        let read = Session::open(&mut *board, 0, Settings::default(), &mut |_| {})
            .and_then(|mut s| s.upload(0x0800_0000, expected.len() as u64, Phase::Read))
            .unwrap();
        assert_eq!(read, expected, "{location}");
    }

    // Again, the selected board only: both sectors already hold the file and are skipped.
    harness.get_by_label("Flash sim:stm32f072 too").click();
    harness.run_steps(2);
    harness.get_by_label("Flash").click();
    harness.step();
    wait_for_job(&mut harness);
    harness.get_by_label(
        "Done: Flashed 212 bytes to alt 0 (Internal Flash): 2 sectors unchanged (skipped), nothing written, verified.",
    );
    harness.get_by_label(
        "sector 0 at 0x08000000, 16 KiB, erasable, writable, already held the file: skipped",
    );
    harness.get_by_label(
        "The last flash skipped 2 sectors that already held the file, wrote 0 bytes to alt 0 (Internal Flash).",
    );
}
