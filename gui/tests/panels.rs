//! The option-bytes and memory tabs, driven through the accessibility tree against simulated boards.

mod common;
mod harness;

use eframe::egui::accesskit::{Role, Toggled};
use egui_kittest::kittest::{NodeT, Queryable, by};

use harness::{drop_file, example, sim, wait_for_job, window};

#[test]
fn option_bytes_tab_edits_a_write_protection_bit_shows_the_diff_applies_and_reads_back() {
    let mut harness = window(&["stm32f407"], false);
    harness.get_by_label("Option bytes").click();
    harness.run_steps(2);
    wait_for_job(&mut harness);
    harness.get_by_label_contains("Option bytes of STM32F405/407/415/417 (alt 1)");
    harness.get_by_label("BOR off: the POR/PDR threshold applies");

    let sector_3 = || by().role(Role::CheckBox).label("3");
    harness.get(sector_3()).click();
    harness.run_steps(2);
    harness.get_by_label("Pending change");
    harness.get_by_label("wrp: none -> 3 (sector 3 write-protected)");
    assert_eq!(
        sim(&harness, "sim:stm32f407")
            .lock()
            .unwrap()
            .device()
            .regions()[1]
            .byte(0x1FFF_C008),
        Some(0xFF),
        "nothing is written before Apply"
    );

    harness.get_by_label("Apply").click();
    harness.step();
    wait_for_job(&mut harness);
    harness
        .get_by_label("Done: Option bytes written: the board reset and now shows wrp none -> 3.");
    assert!(harness.query_by_label("Pending change").is_none());
    assert_eq!(
        harness.get(sector_3()).accesskit_node().toggled(),
        Some(Toggled::True),
        "the read-back shows sector 3 protected"
    );
    harness.get_by_label("sector 3 write-protected");
    // nWRP3 cleared in the board's option bytes (RM0090 table 16: active low).
    let board = sim(&harness, "sim:stm32f407");
    assert_eq!(
        board.lock().unwrap().device().regions()[1].byte(0x1FFF_C008),
        Some(0xF7)
    );
}

#[test]
fn level_two_asks_before_locking_and_keeping_sends_nothing() {
    let mut harness = window(&["stm32f407"], false);
    harness.get_by_label("Option bytes").click();
    harness.run_steps(2);
    wait_for_job(&mut harness);
    harness.state_mut().options.edited = {
        let (_, read) = harness.state().options.read.clone().unwrap();
        let mut image = read.image.clone();
        read.layout.set(&mut image, "rdp=2").unwrap();
        Some(image)
    };
    harness.run_steps(2);
    harness.get_by_label("rdp: 0 -> 2 (level 2: chip protection, permanent)");
    harness.get_by_label("Apply").click();
    harness.run_steps(2);
    harness.get_by_label_contains("Read protection level 2 is permanent");
    harness.get_by_label("Keep it").click();
    harness.run_steps(2);
    assert!(!harness.state().busy(), "nothing was started");
    let board = sim(&harness, "sim:stm32f407");
    assert_eq!(
        board.lock().unwrap().device().regions()[1].byte(0x1FFF_C001),
        Some(0xAA)
    );
}

#[test]
fn memory_tab_shows_a_megabyte_a_screen_at_a_time_and_highlights_a_difference() {
    let mut harness = window(&["stm32f407"], false);
    drop_file(&mut harness, example("blinky-f407.hex"));
    harness.get_by_label("Flash").click();
    harness.step();
    wait_for_job(&mut harness);
    // One byte changed behind the host's back: the board no longer holds the file there.
    {
        let board = sim(&harness, "sim:stm32f407");
        let mut board = board.lock().unwrap();
        let flash = &mut board.device_mut().regions_mut()[0];
        let byte = flash.byte(0x0800_0064).unwrap();
        flash.set_byte(0x0800_0064, byte ^ 0xFF);
    }
    harness.get_by_label("Memory").click();
    harness.run_steps(2);
    wait_for_job(&mut harness);
    harness.get_by_label("1 MiB of alt 0, 65536 rows.");
    harness.get_by_label("1 byte differs from the file; the first at 0x08000064.");
    let rows = |harness: &egui_kittest::Harness<'static, dfuse_gui::App>| {
        harness
            .query_all(
                by().role(Role::Label)
                    .predicate(|n| n.value().is_some_and(|v| v.starts_with("0x0"))),
            )
            .count()
    };
    let drawn = rows(&harness);
    assert!(
        (10..200).contains(&drawn),
        "only the visible rows are drawn: {drawn}"
    );
    harness.get_by_label_contains("0x08000000  ");

    // Scrolling a long way down draws rows near the end, still a screen's worth.
    harness.state_mut().memory.scroll_row(65_500);
    harness.run_steps(3);
    harness.get_by_label_contains("0x080FFDC0  ");
    assert!(harness.query_by_label_contains("0x08000060  ").is_none());
    assert!(rows(&harness) < 200);

    // Back to the difference: its row is drawn again, the far ones are not.
    harness.get_by_label("Go to the first difference").click();
    harness.run_steps(3);
    harness.get_by_label_contains("0x08000060  ");
    assert!(harness.query_by_label_contains("0x080FFDC0  ").is_none());

    // The file's bytes instead of the board's.
    harness.get_by_label("File").click();
    harness.run_steps(2);
    assert!(harness.state().memory.show_file);
}
