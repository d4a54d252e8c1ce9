//! `dfuse file info`: text and JSON descriptions of every format, and its exit codes.

mod common;

use common::{assert_fails, dfuse, example, json, p, stderr, stdout};
use serde_json::json;

/// The two sections of the example firmware, as JSON elements.
fn example_elements() -> serde_json::Value {
    json!([
        {"address": 0x0800_0000u32, "size": 164},
        {"address": 0x0800_4000u32, "size": 48}
    ])
}

#[test]
fn json_of_the_example_dfu_matches_the_documented_schema_exactly() {
    let output = dfuse(["file", "info", "--json", p(&example("blinky-f407.dfu"))]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        json(&output),
        json!({
            "schema": 1,
            "result": "ok",
            "format": "dfuse",
            "suffix": {"vid": 0x0483, "pid": 0xDF11, "bcd_device": 0xFFFF, "bcd_dfu": 0x011A, "crc_ok": true},
            "targets": [{"alt": 0, "name": "Internal Flash", "elements": example_elements()}],
            "warnings": []
        })
    );
}

#[test]
fn hex_srec_and_elf_describe_the_same_firmware() {
    for (file, format) in [
        ("blinky-f407.hex", "ihex"),
        ("blinky-f407.s19", "srec"),
        ("blinky-f407.elf", "elf"),
    ] {
        let output = dfuse(["file", "info", "--json", p(&example(file))]);
        assert!(output.status.success(), "{file}: {}", stderr(&output));
        assert_eq!(
            json(&output),
            json!({
                "schema": 1,
                "result": "ok",
                "format": format,
                "suffix": null,
                "targets": [{"alt": 0, "name": null, "elements": example_elements()}],
                "warnings": []
            }),
            "{file}"
        );
    }
}

#[test]
fn raw_binary_takes_its_address_in_hex_or_decimal() {
    let bin = example("blinky-f407.bin");
    for address in ["0x08000000", "134217728"] {
        let output = dfuse(["file", "info", "--json", "--address", address, p(&bin)]);
        assert!(output.status.success(), "{}", stderr(&output));
        let info = json(&output);
        assert_eq!(info["format"], "bin");
        assert_eq!(
            info["targets"][0]["elements"],
            json!([{"address": 0x0800_0000u32, "size": 16432}])
        );
        assert_eq!(info["warnings"], json!([]));
    }
}

#[test]
fn raw_binary_without_address_is_shown_from_zero_with_a_warning() {
    let output = dfuse(["file", "info", p(&example("blinky-f407.bin"))]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("Format:   raw binary"), "{text}");
    assert!(text.contains("0x00000000-0x0000402F"), "{text}");
    assert!(text.contains("pass --address"), "{text}");
}

#[test]
fn text_output_names_format_suffix_targets_and_entry() {
    let output = dfuse(["file", "info", p(&example("blinky-f407.hex"))]);
    let text = stdout(&output);
    assert!(text.contains("Format:   Intel HEX"), "{text}");
    assert!(text.contains("Suffix:   none"), "{text}");
    assert!(text.contains("Entry:    0x08000041"), "{text}");
    assert!(
        text.contains("0x08000000-0x080000A3         164 bytes"),
        "{text}"
    );
    assert!(
        text.contains("0x08004000-0x0800402F          48 bytes"),
        "{text}"
    );

    let output = dfuse(["file", "info", p(&example("blinky-f407.dfu"))]);
    let text = stdout(&output);
    assert!(
        text.contains("VID 0x0483  PID 0xDF11  bcdDevice 0xFFFF  bcdDFU 0x011A  CRC 0x"),
        "{text}"
    );
    assert!(text.contains(" ok"), "{text}");
    assert!(
        text.contains("Target 0: alt 0, \"Internal Flash\", 2 elements, 212 bytes of data"),
        "{text}"
    );
}

#[test]
fn missing_file_is_an_io_error_with_code_4() {
    let output = dfuse(["file", "info", "/nonexistent/firmware.dfu"]);
    assert_fails(&output, 4, "cannot read /nonexistent/firmware.dfu");
    assert!(stdout(&output).is_empty());
}

#[test]
fn malformed_file_is_bad_input_with_code_3_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.hex");
    let mut text = std::fs::read_to_string(example("blinky-f407.hex")).unwrap();
    text.truncate(text.find(":00000001FF").unwrap());
    std::fs::write(&path, text).unwrap();
    let output = dfuse(["file", "info", p(&path)]);
    assert_eq!(output.status.code(), Some(3));
    let err = stderr(&output);
    assert!(err.contains("error[ihex]: "), "{err}");
    assert!(
        err.contains("Intel HEX line 17: no end-of-file record"),
        "{err}"
    );
    assert!(err.contains("help:"), "{err}");
}

#[test]
fn usage_errors_exit_with_code_2() {
    let output = dfuse(["file", "info", "--address", "0xZZ", "x.bin"]);
    assert_fails(&output, 2, "hexadecimal (0x1000)");
}

#[test]
fn help_documents_the_exit_codes() {
    let output = dfuse(["--help"]);
    assert!(output.status.success());
    let text = stdout(&output);
    for line in [
        "0  success",
        "2  usage error",
        "3  bad input",
        "4  I/O error",
        "5  device error",
    ] {
        assert!(text.contains(line), "--help lacks {line:?}:\n{text}");
    }
}

#[cfg(unix)]
#[test]
fn a_closed_output_pipe_ends_quietly_without_a_panic() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_dfuse"))
        .args(["file", "info", p(&example("blinky-f407.dfu"))])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once, like `| head -0`
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(status.code(), Some(101), "no panic exit");
}
