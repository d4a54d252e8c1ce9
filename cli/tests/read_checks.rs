//! `read` and `erase` check what can be checked before the first request, as `flash` does.

mod common;

use common::{assert_fails, dfuse, p};

#[test]
fn a_read_past_the_flash_or_into_an_unwritable_file_is_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.jsonl");
    let out = dir.path().join("flash.bin");
    let read = |output: &str, length: &str| {
        dfuse([
            "read",
            "-o",
            output,
            "--address",
            "0x08000000",
            "--length",
            length,
            "--device",
            "sim:stm32f407",
            "--sim-log",
            p(&log),
        ])
    };
    // The F407 has 1 MiB: 2 MiB from its start runs off the end.
    let long = read(p(&out), "2M");
    assert_fails(&long, 3, "error[not-readable]");
    assert!(common::stderr(&long).contains("0x08000000-0x081FFFFF"));
    let unwritable = dir.path().join("no-such-dir").join("flash.bin");
    let refused = read(p(&unwritable), "16K");
    assert_fails(&refused, 3, "error[bad-output]");
    let unknown = read(p(&dir.path().join("flash.xyz")), "16K");
    assert_fails(&unknown, 2, "cannot tell the format");
    let requests = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(requests.is_empty(), "requests were sent: {requests}");
    assert!(!out.exists());

    // Within the flash it reads.
    let ok = read(p(&out), "16K");
    assert!(ok.status.success(), "{}", common::stderr(&ok));
    assert_eq!(std::fs::read(&out).unwrap().len(), 16 * 1024);
}

#[test]
fn erasing_or_dumping_outside_the_map_is_refused_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.jsonl");
    let device = ["--device", "sim:stm32f407", "--sim-log", p(&log)];
    let mut erase = vec!["erase", "--address", "0x09000000", "--length", "1"];
    erase.extend_from_slice(&device);
    assert_fails(&dfuse(&erase), 3, "error[not-erasable]");
    let mut dump = vec!["dump", "--address", "0x080FFFF0", "--length", "32"];
    dump.extend_from_slice(&device);
    assert_fails(&dfuse(&dump), 3, "error[not-readable]");
    assert!(std::fs::read_to_string(&log).unwrap_or_default().is_empty());
}
