//! `dfuse option-bytes`, `protect` and `unprotect` against simulated boards:
//! factory values as the reference manuals give them, changes that round-trip
//! through the board's reset, and the protections they set taking effect.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{assert_fails, dfuse, example, json, p, stderr};

/// Runs dfuse with `args` on simulated `chip` keeping its memory in `state`.
fn on(chip: &str, state: &Path, args: &[&str]) -> std::process::Output {
    let device = format!("sim:{chip}");
    let mut all: Vec<&str> = args.to_vec();
    all.extend_from_slice(&["--device", &device, "--sim-state", p(state)]);
    dfuse(&all)
}

/// `option-bytes show --json`: field name -> (value, raw).
fn fields(chip: &str, state: &Path) -> HashMap<String, (String, u64)> {
    let shown = on(chip, state, &["option-bytes", "show", "--json"]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    json(&shown)["option_bytes"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let value = f["value"].as_str().unwrap().to_owned();
            (
                f["name"].as_str().unwrap().to_owned(),
                (value, f["raw"].as_u64().unwrap()),
            )
        })
        .collect()
}

/// Asserts each (field, value) of `expected` on a fresh simulated `chip`.
#[track_caller]
fn assert_factory(chip: &str, expected: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let shown = fields(chip, &dir.path().join("state"));
    for (name, value) in expected {
        let got = shown
            .get(*name)
            .unwrap_or_else(|| panic!("{chip}: no field {name}"));
        assert_eq!(got.0, *value, "{chip}: {name}");
    }
}

#[test]
fn f405_407_factory_values_of_rm0090_table_16() {
    // RM0090 Rev 21, 3.7.1 table 16 and FLASH_OPTCR's reset value 0x0FFF AAED:
    // RDP 0xAA, BOR off (11), software watchdog, no reset on Stop/Standby, no nWRP cleared.
    assert_factory(
        "stm32f407",
        &[
            ("rdp", "0"),
            ("bor_lev", "off"),
            ("wdg_sw", "software"),
            ("nrst_stop", "no-reset"),
            ("nrst_stdby", "no-reset"),
            ("wrp", "none"),
        ],
    );
}

#[test]
fn f429_factory_values_of_rm0090_table_17() {
    // Table 17 adds BFB2 = 0, DB1M = 0, SPRMOD = 0 and bank 2's nWRP, all sectors unprotected.
    assert_factory(
        "stm32f429",
        &[
            ("rdp", "0"),
            ("bor_lev", "off"),
            ("bfb2", "off"),
            ("db1m", "single"),
            ("sprmod", "wrp"),
            ("wrp", "none"),
            ("wrp2", "none"),
        ],
    );
}

#[test]
fn f072_factory_values_of_rm0091_table_12() {
    // RM0091 Rev 10, table 12: 0x00FF55AA, 0x00FF00FF, 0x00FF00FF, 0x00FF00FF.
    assert_factory(
        "stm32f072",
        &[
            ("rdp", "0"),
            ("wdg_sw", "software"),
            ("nrst_stop", "no-reset"),
            ("nrst_stdby", "no-reset"),
            ("nboot1", "1"),
            ("vdda_monitor", "on"),
            ("ram_parity_check", "off"),
            ("data0", "0xff"),
            ("data1", "0xff"),
            ("wrp", "none"),
            ("wrp3", "none"),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let shown = on(
        "stm32f072",
        &dir.path().join("s"),
        &["option-bytes", "show", "--json"],
    );
    assert_eq!(
        json(&shown)["option_bytes"]["bytes"][0]["hex"],
        "aa55ff00ff00ff00ff00ff00ff00ff00"
    );
}

#[test]
fn f746_factory_values_of_rm0385() {
    // RM0385 Rev 8, 3.4.1 and the reset values of FLASH_OPTCR (0xC0FF AAFD) and
    // FLASH_OPTCR1 (0x0040 0080): boot from 0x0020 0000 (ITCM) and 0x0010 0000.
    assert_factory(
        "stm32f746",
        &[
            ("rdp", "0"),
            ("bor_lev", "off"),
            ("wwdg_sw", "software"),
            ("iwdg_sw", "software"),
            ("nrst_stop", "no-reset"),
            ("nrst_stdby", "no-reset"),
            ("wrp", "none"),
            ("iwdg_stop", "running"),
            ("iwdg_stdby", "running"),
            ("boot_add0", "0x80"),
            ("boot_add1", "0x40"),
        ],
    );
}

#[test]
fn l476_factory_values_of_rm0351() {
    // RM0351 Rev 9: FLASH_OPTR 0xFFEF F8AA (BOR level 0, BFB2 0, DUALBANK 1),
    // WRP1AR/WRP1BR with start 0xFF > end 0x00: nothing protected.
    assert_factory(
        "stm32l476",
        &[
            ("rdp", "0"),
            ("bor_lev", "0"),
            ("nrst_stop", "no-reset"),
            ("nrst_stdby", "no-reset"),
            ("nrst_shdw", "no-reset"),
            ("iwdg_sw", "software"),
            ("wwdg_sw", "software"),
            ("bfb2", "off"),
            ("dualbank", "dual"),
            ("nboot1", "1"),
            ("sram2_pe", "off"),
            ("sram2_rst", "keep"),
            ("wrp1a", "none"),
            ("wrp1b", "none"),
        ],
    );
}

#[test]
fn g0b1_factory_values_of_rm0444() {
    // RM0444 Rev 5: FLASH_OPTR 0xFFFF FEAA: BOR disabled with both thresholds at
    // 3, boot from nBOOT0, NRST bidirectional; WRP areas empty.
    assert_factory(
        "stm32g0b1",
        &[
            ("rdp", "0"),
            ("bor_en", "off"),
            ("borf_lev", "3"),
            ("borr_lev", "3"),
            ("iwdg_sw", "software"),
            ("nboot_sel", "option"),
            ("nboot0", "1"),
            ("nboot1", "1"),
            ("nrst_mode", "bidirectional"),
            ("irhen", "on"),
            ("wrp1a", "none"),
            ("wrp1b", "none"),
        ],
    );
}

#[test]
fn h743_factory_values_of_rm0433() {
    // RM0433 Rev 7, 4.4: RDP 0xAA, BOR level 0, software IWDG1, no reset on
    // DStop/DStandby, no sector protected, BOOT_ADD0 0x0800 (0x0800 0000) and
    // BOOT_ADD1 0x1FF0 (0x1FF0 0000, the bootloader).
    assert_factory(
        "stm32h743",
        &[
            ("rdp", "0"),
            ("bor_lev", "0"),
            ("iwdg1_sw", "software"),
            ("nrst_stop_d1", "no-reset"),
            ("nrst_stby_d1", "no-reset"),
            ("security", "off"),
            ("swap_bank", "normal"),
            ("wrp", "none"),
            ("wrp2", "none"),
            ("boot_add0", "0x800"),
            ("boot_add1", "0x1ff0"),
        ],
    );
}

/// Sets `changes` on `chip`, checks `expected` (field, value, raw) after the
/// reset, then that erasing `protected` fails naming `field` and erasing `free` works.
#[track_caller]
fn round_trip(
    chip: &str,
    changes: &[&str],
    expected: &[(&str, &str, u64)],
    (field, protected, free): (&str, &str, &str),
) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut args = vec!["option-bytes", "set"];
    args.extend_from_slice(changes);
    let set = on(chip, &state, &args);
    assert!(set.status.success(), "{chip}: {}", stderr(&set));
    assert!(
        common::stdout(&set).contains("the board then resets"),
        "{chip}: {}",
        common::stdout(&set)
    );
    let shown = fields(chip, &state);
    for (name, value, raw) in expected {
        assert_eq!(shown[*name], (value.to_string(), *raw), "{chip}: {name}");
    }
    let refused = on(
        chip,
        &state,
        &["erase", "--address", protected, "--length", "1"],
    );
    assert_fails(&refused, 5, "error[write-protected]");
    assert!(
        stderr(&refused).contains(&format!("option-byte field {field}")),
        "{}",
        stderr(&refused)
    );
    assert!(
        stderr(&refused).contains(&format!("dfuse option-bytes set {field}=none")),
        "{}",
        stderr(&refused)
    );
    let erased = on(chip, &state, &["erase", "--address", free, "--length", "1"]);
    assert!(erased.status.success(), "{chip}: {}", stderr(&erased));
}

#[test]
fn one_write_protection_and_the_brown_out_level_round_trip_and_protect() {
    // nWRP1 cleared (0xFFD) protects sector 1; BOR level 2 is 01 (RM0090 table 16).
    round_trip(
        "stm32f407",
        &["wrp=+1", "bor_lev=2"],
        &[("wrp", "1", 0xFFD), ("bor_lev", "2", 1)],
        ("wrp", "0x08004000", "0x08008000"),
    );
    // Bank 2's sector 12 is the first 16 KiB sector at 0x0810 0000 (RM0090 table 6).
    round_trip(
        "stm32f429",
        &["wrp2=12", "bor_lev=3"],
        &[("wrp2", "12", 0xFFE), ("bor_lev", "3", 0)],
        ("wrp2", "0x08100000", "0x08104000"),
    );
    // WRP0 bit 1 protects the second 4 KiB sector: pages 2 and 3 (RM0091 4.1.3).
    // The F0 has no brown-out option: a user bit stands in for it.
    round_trip(
        "stm32f072",
        &["wrp=1", "nrst_stop=reset"],
        &[("wrp", "1", 0xFD), ("nrst_stop", "reset", 0)],
        ("wrp", "0x08001800", "0x08002000"),
    );
    round_trip(
        "stm32f746",
        &["wrp=1", "bor_lev=1"],
        &[("wrp", "1", 0xFD), ("bor_lev", "1", 2)],
        ("wrp", "0x08008000", "0x08010000"),
    );
    // WRP1A start 5, end 5: page 5 only (RM0351 3.5.2).
    round_trip(
        "stm32l476",
        &["wrp1a=5", "bor_lev=2"],
        &[("wrp1a", "5..5", 5), ("bor_lev", "2", 2)],
        ("wrp1a", "0x08002800", "0x08003000"),
    );
    round_trip(
        "stm32g0b1",
        &["wrp1a=5..6", "bor_en=on", "borr_lev=1"],
        &[
            ("wrp1a", "5..6", 5),
            ("bor_en", "on", 1),
            ("borr_lev", "1", 1),
        ],
        ("wrp1a", "0x08003000", "0x08003800"),
    );
    round_trip(
        "stm32h743",
        &["wrp=1", "bor_lev=2"],
        &[("wrp", "1", 0xFD), ("bor_lev", "2", 2)],
        ("wrp", "0x08020000", "0x08040000"),
    );
}

#[test]
fn read_protection_protect_refuse_level_two_and_unprotect() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let log = dir.path().join("log.jsonl");
    let flashed = on(
        "stm32f407",
        &state,
        &["flash", p(&example("blinky-f407.hex"))],
    );
    assert!(flashed.status.success(), "{}", stderr(&flashed));

    // Level 2 without the flag: refused after reading, before anything is written.
    let mut args = vec!["option-bytes", "set", "rdp=2", "--sim-log", p(&log)];
    args.extend_from_slice(&["--device", "sim:stm32f407", "--sim-state", p(&state)]);
    let refused = dfuse(&args);
    assert_fails(&refused, 3, "error[permanent-lock]");
    assert!(stderr(&refused).contains("--permanently-lock-this-chip"));
    let requests = std::fs::read_to_string(&log).unwrap();
    assert!(
        requests.contains("DFU_UPLOAD"),
        "the option bytes were read"
    );
    for line in requests.lines().filter(|l| l.contains("DFU_DNLOAD")) {
        assert!(
            line.contains("\"set address"),
            "something was written: {line}"
        );
    }
    assert_eq!(fields("stm32f407", &state)["rdp"].0, "0");

    // Level 1: the bootloader refuses reads, of the option bytes too (as ST's ROM does).
    let protected = on("stm32f407", &state, &["protect", "--json"]);
    assert!(protected.status.success(), "{}", stderr(&protected));
    let result: serde_json::Value =
        serde_json::from_str(common::stdout(&protected).lines().last().unwrap()).unwrap();
    assert_eq!(result["changed"][0]["name"], "rdp");
    assert_eq!(result["changed"][0]["raw_after"], 0xBB);
    assert_eq!(result["read_back"], false);
    let read = on(
        "stm32f407",
        &state,
        &[
            "read",
            "-o",
            p(&dir.path().join("x.bin")),
            "--address",
            "0x08000000",
            "--length",
            "16",
        ],
    );
    assert_fails(&read, 5, "error[read-protected]");
    assert!(
        stderr(&read).contains("dfuse unprotect --yes"),
        "{}",
        stderr(&read)
    );
    assert_fails(
        &on("stm32f407", &state, &["option-bytes", "show"]),
        5,
        "error[read-protected]",
    );

    let unprotected = on("stm32f407", &state, &["unprotect", "--yes"]);
    assert!(unprotected.status.success(), "{}", stderr(&unprotected));
    assert_eq!(fields("stm32f407", &state)["rdp"], ("0".into(), 0xAA));
    let back = dir.path().join("back.bin");
    let read = on(
        "stm32f407",
        &state,
        &[
            "read",
            "-o",
            p(&back),
            "--address",
            "0x08000000",
            "--length",
            "16",
        ],
    );
    assert!(read.status.success(), "{}", stderr(&read));
    assert_eq!(
        std::fs::read(&back).unwrap(),
        vec![0xFF; 16],
        "the flash was erased"
    );
}

#[test]
fn bad_fields_and_values_say_what_there_is_and_chips_without_a_layout_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let unknown = on("stm32f407", &state, &["option-bytes", "set", "bor=off"]);
    assert_fails(&unknown, 3, "error[unknown-field]");
    assert!(
        stderr(&unknown).contains("rdp, bor_lev, wdg_sw"),
        "{}",
        stderr(&unknown)
    );
    let bad = on("stm32f407", &state, &["option-bytes", "set", "bor_lev=4"]);
    assert_fails(&bad, 3, "error[bad-value]");
    assert!(stderr(&bad).contains("3, 2, 1, off"), "{}", stderr(&bad));
    let same = on("stm32f407", &state, &["option-bytes", "set", "bor_lev=off"]);
    assert!(common::stdout(&same).contains("Nothing to change"));
    let gd = on(
        "gd32vf103",
        &state.with_extension("gd"),
        &["option-bytes", "show"],
    );
    assert_fails(&gd, 3, "error[no-layout]");
    assert!(stderr(&gd).contains("--layout"));
}
