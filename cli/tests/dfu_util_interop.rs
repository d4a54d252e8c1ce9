//! Interoperability with dfu-util's own `dfu-suffix` (Debian package dfu-util).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{dfuse, example, json, p, stderr, stdout};

/// The dfu-suffix binary; fails the test with install advice when it is missing.
fn dfu_suffix() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("dfu-suffix"))
            .find(|candidate| candidate.is_file())
    });
    found.expect(
        "dfu-suffix not found on PATH: install it with `apt-get install dfu-util` (Debian/Ubuntu)",
    )
}

fn run_dfu_suffix(args: &[&str]) -> std::process::Output {
    Command::new(dfu_suffix())
        .args(args)
        .output()
        .expect("dfu-suffix runs")
}

fn copy_example(name: &str, dir: &Path) -> PathBuf {
    let path = dir.join(name);
    std::fs::copy(example(name), &path).unwrap();
    path
}

/// The example .bin copied into `dir` and given a 0483:DF11 suffix by `dfu-suffix -a`.
fn example_bin_suffixed_by_dfu_suffix(dir: &Path) -> PathBuf {
    let bin = copy_example("blinky-f407.bin", dir);
    let add = run_dfu_suffix(&["-a", p(&bin), "-v", "0483", "-p", "df11"]);
    assert!(
        add.status.success(),
        "dfu-suffix -a failed: {}",
        stderr(&add)
    );
    bin
}

#[test]
fn dfu_written_by_convert_passes_dfu_suffix_check() {
    let dir = tempfile::tempdir().unwrap();
    let dfu = dir.path().join("fw.dfu");
    let out = dfuse([
        "file",
        "convert",
        p(&example("blinky-f407.hex")),
        "-o",
        p(&dfu),
        "--bcd-device",
        "0x2200",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    let check = run_dfu_suffix(&["-c", p(&dfu)]);
    let text = stdout(&check);
    assert!(
        check.status.success(),
        "dfu-suffix -c failed:\n{text}{}",
        stderr(&check)
    );
    assert!(text.contains("contains a DFU suffix"), "{text}");
    assert!(text.contains("BCD device:\t0x2200"), "{text}");
    assert!(text.contains("Product ID:\t0xDF11"), "{text}");
    assert!(text.contains("Vendor ID:\t0x0483"), "{text}");
    assert!(text.contains("BCD DFU:\t0x011A"), "{text}");
}

#[test]
fn bin_suffixed_by_dfu_suffix_is_read_with_its_ids_and_a_good_crc() {
    let dir = tempfile::tempdir().unwrap();
    let bin = example_bin_suffixed_by_dfu_suffix(dir.path());

    let out = dfuse(["file", "info", "--json", "--address", "0x08000000", p(&bin)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let info = json(&out);
    assert_eq!(info["format"], "dfu");
    assert_eq!(info["suffix"]["vid"], 0x0483);
    assert_eq!(info["suffix"]["pid"], 0xDF11);
    assert_eq!(info["suffix"]["crc_ok"], true);
    // The suffix is stripped: the data is exactly the original .bin.
    assert_eq!(info["targets"][0]["elements"][0]["size"], 16432);
}

#[test]
fn one_flipped_byte_is_a_crc_mismatch_for_both_tools() {
    let dir = tempfile::tempdir().unwrap();
    let bin = example_bin_suffixed_by_dfu_suffix(dir.path());
    for file in [bin, copy_example("blinky-f407.dfu", dir.path())] {
        let mut bytes = std::fs::read(&file).unwrap();
        bytes[100] ^= 0x01;
        std::fs::write(&file, bytes).unwrap();

        let out = dfuse(["file", "info", "--address", "0x08000000", p(&file)]);
        assert_eq!(out.status.code(), Some(3), "{}", file.display());
        assert!(
            stderr(&out).contains("CRC mismatch: file says 0x"),
            "{}",
            stderr(&out)
        );
        assert!(stdout(&out).contains("MISMATCH"), "{}", stdout(&out));

        let out = dfuse([
            "file",
            "info",
            "--json",
            "--address",
            "0x08000000",
            p(&file),
        ]);
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(json(&out)["suffix"]["crc_ok"], false);

        let check = run_dfu_suffix(&["-c", p(&file)]);
        assert!(
            !check.status.success(),
            "dfu-suffix agrees the CRC is wrong"
        );
        assert!(
            stderr(&check).contains("CRC does not match"),
            "{}",
            stderr(&check)
        );
    }
}
