//! Device commands against simulated boards, through the real `dfuse` binary.

mod common;

use std::path::Path;

use common::{assert_fails, dfuse, example, json, p, stdout};

const FORMATS: [&str; 5] = [
    "blinky-f407.hex",
    "blinky-f407.s19",
    "blinky-f407.elf",
    "blinky-f407.bin",
    "blinky-f407.dfu",
];

fn chips() -> Vec<&'static str> {
    dfuse_sim::CHIPS.iter().map(|c| c.id).collect()
}

/// The request log a run left behind, one JSON object per line.
fn log_entries(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn erase_requests(path: &Path) -> usize {
    log_entries(path)
        .iter()
        .filter(|e| {
            e["command"]
                .as_str()
                .is_some_and(|c| c.starts_with("erase") || c == "mass erase")
        })
        .count()
}

#[test]
fn the_readme_main_job_flashes_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("board.dfu");
    let out = dfuse([
        "flash",
        p(&example("blinky-f407.hex")),
        "--device",
        "sim:stm32f407",
        "--sim-state",
        p(&state),
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = stdout(&out);
    // A fresh simulated board is erased: its sectors are read, found blank, and written without an erase.
    assert!(text.contains("compare: 32768 bytes done"), "{text}");
    assert!(!text.contains("erase:"), "{text}");
    assert!(text.contains("write: 256 bytes done"), "{text}");
    assert!(text.contains("Flashed 212 bytes to sim:stm32f407 alt 0 (\"Internal Flash\"): 2 sectors already blank, 256 bytes written, verified."), "{text}");
    // Again: nothing to do. With --full: both sectors erased and written.
    let hex = example("blinky-f407.hex");
    let again = |extra: &[&str]| {
        let mut args = vec![
            "flash",
            p(&hex),
            "--device",
            "sim:stm32f407",
            "--sim-state",
            p(&state),
        ];
        args.extend_from_slice(extra);
        let out = dfuse(&args);
        assert!(out.status.success(), "{}", common::stderr(&out));
        stdout(&out)
    };
    let text = again(&[]);
    assert!(text.contains("Flashed 212 bytes to sim:stm32f407 alt 0 (\"Internal Flash\"): 2 sectors unchanged (skipped), nothing written, verified."), "{text}");
    assert!(!text.contains("write:"), "{text}");
    let text = again(&["--full"]);
    assert!(!text.contains("compare:"), "{text}");
    assert!(text.contains("erase: 32768 bytes done"), "{text}");
    assert!(text.contains("Flashed 212 bytes to sim:stm32f407 alt 0 (\"Internal Flash\"): 2 sectors erased, 256 bytes written, verified."), "{text}");
}

/// Flashes `args` to `chip` with a fresh state, reads `length` bytes at `address` back, and returns them.
fn flash_and_read_back(chip: &str, args: &[&str], address: &str, length: usize) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("board.dfu");
    let device = format!("sim:{chip}");
    let mut all = vec!["flash", "--device", &device, "--sim-state", p(&state)];
    all.extend_from_slice(args);
    let out = dfuse(&all);
    assert!(
        out.status.success(),
        "{chip} {args:?}: {}",
        common::stderr(&out)
    );
    let back = dir.path().join("back.bin");
    let length = length.to_string();
    let out = dfuse([
        "read",
        "-o",
        p(&back),
        "--address",
        address,
        "--length",
        &length,
        "--device",
        &device,
        "--sim-state",
        p(&state),
    ]);
    assert!(
        out.status.success(),
        "{chip} {args:?}: {}",
        common::stderr(&out)
    );
    std::fs::read(&back).unwrap()
}

#[test]
fn every_chip_reads_back_exactly_what_each_example_format_flashed() {
    let expected = std::fs::read(example("blinky-f407.bin")).unwrap();
    for chip in chips() {
        let st_ids =
            matches!(dfuse_sim::chips::find(chip), Some(c) if (c.vid, c.pid) == (0x0483, 0xDF11));
        if chip == "stm32f205" {
            // Particle's bootloader keeps 0x08000000-0x0800BFFF read-only: the image goes to the application area.
            let bin = example("blinky-f407.bin");
            let back = flash_and_read_back(
                chip,
                &[p(&bin), "--address", "0x08020000", "--ignore-ids"],
                "0x08020000",
                expected.len(),
            );
            assert_eq!(back, expected, "{chip}");
            continue;
        }
        for file in FORMATS {
            let firmware = example(file);
            let mut args = vec![p(&firmware)];
            if file.ends_with(".bin") {
                args.extend(["--address", "0x08000000"]);
            }
            if file.ends_with(".dfu") && !st_ids {
                args.push("--ignore-ids"); // the example .dfu names 0483:DF11
            }
            let back = flash_and_read_back(chip, &args, "0x08000000", expected.len());
            assert_eq!(back, expected, "{chip} {file}");
        }
    }
}

#[test]
fn refusals_come_before_any_erase_with_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, args: &[&str]| {
        let log = dir.path().join(format!("{name}.log"));
        let mut all = args.to_vec();
        all.extend(["--sim-log", p(&log)]);
        (dfuse(&all), log)
    };

    // Outside the map: a .bin placed where the F407 has no flash.
    let (out, log) = run(
        "outside",
        &[
            "flash",
            p(&example("blinky-f407.bin")),
            "--address",
            "0x08100000",
            "--device",
            "sim:stm32f407",
        ],
    );
    assert_fails(&out, 3, "lies outside \"Internal Flash\"");
    assert_eq!(erase_requests(&log), 0);

    // Read-only: Particle's bootloader sectors.
    let (out, log) = run(
        "read-only",
        &[
            "flash",
            p(&example("blinky-f407.hex")),
            "--device",
            "sim:stm32f205",
        ],
    );
    assert_fails(
        &out,
        3,
        "falls in the read-only segment 0x08000000-0x0800BFFF",
    );
    assert_eq!(erase_requests(&log), 0);

    // Too large: 192 KiB for the F072's 128 KiB.
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![0x5A; 192 * 1024]).unwrap();
    let (out, log) = run(
        "too-large",
        &[
            "flash",
            p(&big),
            "--address",
            "0x08000000",
            "--device",
            "sim:stm32f072",
        ],
    );
    assert_fails(
        &out,
        3,
        "the image holds 196608 bytes, but \"Internal Flash\" holds only 131072 writable bytes",
    );
    assert_eq!(erase_requests(&log), 0);

    // VID/PID mismatch: the example .dfu names 0483:DF11; the GD32VF103 is 28E9:0189.
    let (out, log) = run(
        "ids",
        &[
            "flash",
            p(&example("blinky-f407.dfu")),
            "--device",
            "sim:gd32vf103",
        ],
    );
    assert_fails(
        &out,
        3,
        "error[foreign-file]: the file is for device 0483:DF11 (its DFU suffix), but this device is 28E9:0189\n  help: check that the file is for this board; pass --ignore-ids",
    );
    assert_eq!(erase_requests(&log), 0);

    // Unprotect without --yes never touches the device.
    let (out, log) = run("unprotect", &["unprotect", "--device", "sim:stm32f407"]);
    assert_fails(
        &out,
        2,
        "removing read protection erases the whole chip: pass --yes",
    );
    assert!(log_entries(&log).is_empty());
}

#[test]
fn several_targets_go_to_their_own_alternate_settings() {
    let dir = tempfile::tempdir().unwrap();
    let multi = dir.path().join("multi.dfu");
    let flash = dfu_file::Image::from_pieces([(0x0800_0000, vec![1, 2, 3, 4])]).unwrap();
    let otp = dfu_file::Image::from_pieces([(0x1FFF_7800, b"SERIAL-0042".to_vec())]).unwrap();
    let file = dfu_file::dfuse::write(
        &[
            dfu_file::Target::from_image(0, None, flash),
            dfu_file::Target::from_image(2, None, otp),
        ],
        dfu_file::DeviceIds::default(),
    )
    .unwrap();
    std::fs::write(&multi, file).unwrap();
    let state = dir.path().join("board.dfu");
    let out = dfuse([
        "flash",
        p(&multi),
        "--device",
        "sim:stm32f407",
        "--sim-state",
        p(&state),
        "--json",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let last = stdout(&out).lines().last().unwrap().to_string();
    let result: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(result["result"], "ok");
    assert_eq!(result["targets"][1]["alt"], 2);
    assert_eq!(result["targets"][1]["region"], "OTP Memory");

    let back = dir.path().join("otp.bin");
    let out = dfuse([
        "read",
        "-o",
        p(&back),
        "--alt",
        "OTP Memory",
        "--address",
        "0x1FFF7800",
        "--length",
        "11",
        "--device",
        "sim:stm32f407",
        "--sim-state",
        p(&state),
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(std::fs::read(&back).unwrap(), b"SERIAL-0042");
}

#[test]
fn json_lines_end_with_one_result_object() {
    let out = dfuse([
        "flash",
        p(&example("blinky-f407.elf")),
        "--device",
        "sim:stm32l476",
        "--json",
    ]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["event"], "begin");
    assert_eq!(lines[0]["phase"], "compare");
    let plan = lines.iter().find(|l| l["event"] == "plan").unwrap();
    assert_eq!(plan["compared"], "yes");
    assert!(
        plan["blank"].as_array().is_some_and(|b| !b.is_empty()),
        "{plan}"
    );
    let results: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l.get("result").is_some()).collect();
    assert_eq!(results.len(), 1);
    assert_eq!(lines.last().unwrap()["targets"][0]["verified"], true);
}

#[test]
fn erase_leave_info_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("board.dfu");
    let flash = dfuse([
        "flash",
        p(&example("blinky-f407.hex")),
        "--device",
        "sim:stm32f072",
        "--sim-state",
        p(&state),
    ]);
    assert!(flash.status.success());
    let out = dfuse([
        "erase",
        "--address",
        "0x08000000",
        "--length",
        "1",
        "--device",
        "sim:stm32f072",
        "--sim-state",
        p(&state),
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(
        stdout(&out).contains("Erased 1 sector."),
        "{}",
        stdout(&out)
    );
    let back = dir.path().join("back.bin");
    dfuse([
        "read",
        "-o",
        p(&back),
        "--address",
        "0x08000000",
        "--length",
        "4",
        "--device",
        "sim:stm32f072",
        "--sim-state",
        p(&state),
    ]);
    assert_eq!(std::fs::read(&back).unwrap(), vec![0xFF; 4]);

    let out = dfuse(["leave", "--device", "sim:stm32f072"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(stdout(&out).contains("firmware starts at 0x08000000"));

    let info = json(&dfuse(["info", "--json", "--device", "sim:stm32f429"]));
    assert_eq!(info["serial"], "2079347A5646");
    assert_eq!(
        info["alt_settings"][0]["memory_map"]["segments"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(
        info["alt_settings"][0]["memory_map"]["warnings"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "F429 trailing garbage"
    );

    let out = dfuse(["list"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("No DfuSe devices found"),
        "{}",
        stdout(&out)
    );
    let out = dfuse(["flash", p(&example("blinky-f407.hex"))]);
    assert_fails(
        &out,
        5,
        "error[no-device]: no DfuSe device found\n  help: connect the board in DFU mode (BOOT0 high, then reset), or try a simulated board: --device sim:<chip>, one of: stm32f407",
    );
    let out = dfuse([
        "flash",
        p(&example("blinky-f407.hex")),
        "--device",
        "sim:stm32f999",
    ]);
    assert_fails(&out, 2, "there is no simulated chip \"stm32f999\"");
}

#[test]
fn read_protection_set_through_option_bytes_and_removed_by_unprotect() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("board.dfu");
    let device = ["--device", "sim:stm32f407", "--sim-state", p(&state)];
    let with_device = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&device);
        dfuse(&all)
    };
    assert!(
        with_device(&["flash", p(&example("blinky-f407.hex"))])
            .status
            .success()
    );

    // RDP 0x55 (level 1) into the option bytes: the chip resets, as it really does.
    let option_bytes = dir.path().join("ob.bin");
    std::fs::write(&option_bytes, [0xEC, 0x55]).unwrap();
    let out = with_device(&[
        "flash",
        p(&option_bytes),
        "--address",
        "0x1FFFC000",
        "--alt",
        "Option Bytes",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(
        stdout(&out).contains("The device reset after the write"),
        "{}",
        stdout(&out)
    );

    let back = dir.path().join("back.bin");
    let out = with_device(&[
        "read",
        "-o",
        p(&back),
        "--address",
        "0x08000000",
        "--length",
        "16",
    ]);
    assert_fails(&out, 5, "errVENDOR");
    assert!(
        common::stderr(&out).contains("dfuse unprotect --yes"),
        "{}",
        common::stderr(&out)
    );

    let out = with_device(&["unprotect", "--yes"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let out = with_device(&[
        "read",
        "-o",
        p(&back),
        "--address",
        "0x08000000",
        "--length",
        "16",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(
        std::fs::read(&back).unwrap(),
        vec![0xFF; 16],
        "unprotect mass-erased the flash"
    );
}

#[test]
fn serial_and_vid_pid_filter_the_device() {
    let hex = example("blinky-f407.hex");
    let out = dfuse([
        "info",
        "--device",
        "sim:stm32f072",
        "--serial",
        "FFFFFFFEFFFF",
        "--vid-pid",
        "0483:df11",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let out = dfuse([
        "flash",
        p(&hex),
        "--device",
        "sim:stm32f072",
        "--serial",
        "1234",
    ]);
    assert_fails(
        &out,
        5,
        "error[no-match]: no DfuSe device matches with serial 1234; present:\n  sim:stm32f072",
    );
    let out = dfuse([
        "flash",
        p(&hex),
        "--device",
        "sim:stm32f072",
        "--vid-pid",
        "28e9:0189",
    ]);
    assert_fails(
        &out,
        5,
        "no DfuSe device matches with VID:PID 28e9:0189; present:",
    );
    let out = dfuse(["info", "--device", "sim:stm32f072", "--vid-pid", "0483"]);
    assert_fails(&out, 2, "--vid-pid takes VID:PID in hexadecimal");
}

#[test]
fn dump_shows_memory_as_a_hex_view() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("board.dfu");
    let hex = example("blinky-f407.hex");
    let device = ["--device", "sim:stm32f407", "--sim-state", p(&state)];
    let mut flash = vec!["flash", p(&hex)];
    flash.extend_from_slice(&device);
    assert!(dfuse(&flash).status.success());
    let mut args = vec!["dump", "--address", "0x08000000", "--length", "32"];
    args.extend_from_slice(&device);
    let out = dfuse(&args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let bin = std::fs::read(example("blinky-f407.bin")).unwrap();
    let first: Vec<String> = bin[..16].iter().map(|b| format!("{b:02X}")).collect();
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.starts_with(&format!("0x08000000  {}", first.join(" "))),
        "{text}"
    );
}
