//! `dfuse file convert`: every output format, the options, refusals and their exit codes.

mod common;

use std::path::Path;

use common::{assert_fails, dfuse, example, json, p, stderr, stdout};
use dfu_file::{DeviceIds, Image, ReadOptions, Target};

fn convert(args: &[&str]) -> std::process::Output {
    let mut all = vec!["file", "convert"];
    all.extend_from_slice(args);
    dfuse(all)
}

fn read(path: &Path, address: Option<u32>) -> dfu_file::Firmware {
    let bytes = std::fs::read(path).unwrap();
    let extension = path.extension().and_then(|e| e.to_str());
    dfu_file::read(
        &bytes,
        extension,
        &ReadOptions {
            address,
            ..ReadOptions::default()
        },
    )
    .unwrap()
}

#[test]
fn hex_to_dfu_to_hex_keeps_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let dfu = dir.path().join("a.dfu");
    let hex = dir.path().join("b.hex");
    let out = convert(&[
        p(&example("blinky-f407.hex")),
        "-o",
        p(&dfu),
        "--alt",
        "2",
        "--target-name",
        "Flash",
        "--vid",
        "0x28e9",
        "--pid",
        "393",
        "--bcd-device",
        "0x0100",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("suffix VID 0x28E9 PID 0x0189 bcdDevice 0x0100"),
        "{}",
        stdout(&out)
    );
    let firmware = read(&dfu, None);
    assert_eq!(firmware.targets[0].alt, 2);
    assert_eq!(firmware.targets[0].name.as_deref(), Some("Flash"));
    assert_eq!(
        firmware.suffix.unwrap().ids,
        DeviceIds {
            vid: 0x28E9,
            pid: 0x0189,
            bcd_device: 0x0100
        }
    );

    let out = convert(&[p(&dfu), "-o", p(&hex)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let original = read(&example("blinky-f407.hex"), None);
    assert_eq!(read(&hex, None).targets[0].image, original.targets[0].image);
}

#[test]
fn dfu_to_dfu_keeps_the_suffix_ids_unless_overridden() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.dfu");
    let second = dir.path().join("second.dfu");
    let out = convert(&[
        p(&example("blinky-f407.hex")),
        "-o",
        p(&first),
        "--vid",
        "0x2e3c",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = convert(&[p(&first), "-o", p(&second), "--pid", "0xffff"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ids = read(&second, None).suffix.unwrap().ids;
    assert_eq!(
        ids,
        DeviceIds {
            vid: 0x2E3C,
            pid: 0xFFFF,
            bcd_device: 0xFFFF
        }
    );
}

#[test]
fn elf_to_bin_fills_the_gap_and_prints_the_load_address() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("fw.bin");
    let out = convert(&[p(&example("blinky-f407.elf")), "-o", p(&bin)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("--address 0x08000000"),
        "{}",
        stdout(&out)
    );
    let bytes = std::fs::read(&bin).unwrap();
    assert_eq!(bytes.len(), 0x4030);
    assert!(
        bytes[0xA4..0x4000].iter().all(|&b| b == 0xFF),
        "the gap is 0xFF"
    );
    assert_eq!(&bytes[0x4000..0x4004], b"DFUS");
}

#[test]
fn bin_with_address_to_dfu_places_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let dfu = dir.path().join("fw.dfu");
    let out = convert(&[
        p(&example("blinky-f407.bin")),
        "--address",
        "0x08000000",
        "-o",
        p(&dfu),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let target = &read(&dfu, None).targets[0];
    assert_eq!(target.elements.len(), 1);
    assert_eq!(target.elements[0].start, 0x0800_0000);
    assert_eq!(target.elements[0].len(), 16432);
}

#[test]
fn bin_without_address_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let out = convert(&[
        p(&example("blinky-f407.bin")),
        "-o",
        p(&dir.path().join("x.dfu")),
    ]);
    assert_fails(&out, 3, "pass --address");
}

#[test]
fn gap_over_the_fill_limit_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("fw.bin");
    let out = convert(&[
        p(&example("blinky-f407.hex")),
        "-o",
        p(&bin),
        "--max-fill",
        "4K",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("the gap 0x080000A4-0x08003FFF (16220 bytes) is larger than the fill limit of 4096 bytes"), "{err}");
    assert!(err.contains("raise --max-fill"), "{err}");
    assert!(!bin.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no partial file is left behind"
    );
}

#[test]
fn several_targets_need_alt_for_single_target_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let multi = dir.path().join("multi.dfu");
    let flash = Image::from_pieces([(0x0800_0000, vec![1, 2, 3, 4])]).unwrap();
    let option_bytes = Image::from_pieces([(0x1FFF_C000, vec![0xAA, 0xF8])]).unwrap();
    let file = dfu_file::dfuse::write(
        &[
            Target::from_image(0, Some("Internal Flash".into()), flash),
            Target::from_image(1, Some("Option Bytes".into()), option_bytes.clone()),
        ],
        DeviceIds::default(),
    )
    .unwrap();
    std::fs::write(&multi, file).unwrap();

    let hex = dir.path().join("ob.hex");
    let out = convert(&[p(&multi), "-o", p(&hex)]);
    assert_fails(&out, 2, "has 2 targets (alternate settings 0, 1)");
    assert!(
        stderr(&out).contains("choose it with --alt"),
        "{}",
        stderr(&out)
    );

    let out = convert(&[p(&multi), "-o", p(&hex), "--alt", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(read(&hex, None).targets[0].image, option_bytes);

    let out = convert(&[p(&multi), "-o", p(&hex), "--alt", "7"]);
    assert_fails(&out, 2, "no target for alternate setting 7 (it has: 0, 1)");

    let both = dir.path().join("both.dfu");
    let out = convert(&[p(&multi), "-o", p(&both)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let info = json(&dfuse(["file", "info", "--json", p(&both)]));
    assert_eq!(info["targets"][1]["name"], "Option Bytes");
    assert_eq!(info["targets"][1]["alt"], 1);
}

#[test]
fn input_without_data_is_refused_as_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.hex");
    std::fs::write(&empty, ":00000001FF\n").unwrap();
    let out = convert(&[p(&empty), "-o", p(&dir.path().join("x.dfu"))]);
    assert_fails(&out, 3, "the file holds no data");
}

#[test]
fn output_format_comes_from_extension_or_flag() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = dir.path().join("fw.xyz");
    let out = convert(&[p(&example("blinky-f407.hex")), "-o", p(&unknown)]);
    assert_fails(&out, 2, "name it .dfu, .bin or .hex, or pass --format");

    let out = convert(&[
        p(&example("blinky-f407.hex")),
        "-o",
        p(&unknown),
        "--format",
        "dfu",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(&std::fs::read(&unknown).unwrap()[..5], b"DfuSe");
}

#[test]
fn dfu_only_options_are_refused_for_other_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = convert(&[
        p(&example("blinky-f407.hex")),
        "-o",
        p(&dir.path().join("x.bin")),
        "--vid",
        "0x0483",
    ]);
    assert_fails(&out, 2, "--vid only applies to .dfu output");
}

#[test]
fn crc_mismatch_is_refused_unless_ignored_and_then_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("damaged.dfu");
    let mut bytes = std::fs::read(example("blinky-f407.dfu")).unwrap();
    bytes[300] ^= 0x40;
    std::fs::write(&damaged, &bytes).unwrap();
    let repaired = dir.path().join("repaired.dfu");
    let out = convert(&[p(&damaged), "-o", p(&repaired)]);
    assert_fails(&out, 3, "CRC mismatch: file says 0x");
    assert!(!repaired.exists());

    let out = convert(&[p(&damaged), "-o", p(&repaired), "--ignore-crc"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning:"), "{}", stderr(&out));
    assert!(read(&repaired, None).suffix.unwrap().crc_ok());
}
