//! The device table through the CLI: explanations, user records, quirks applied.

mod common;

use common::{assert_fails, dfuse, example, json, p, stdout};

fn user_table(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("devices.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn list_explain_shows_the_steps_and_the_record_chosen() {
    let out = dfuse(["list", "--explain", "--device", "sim:gd32vf103"]);
    let text = stdout(&out);
    assert!(
        text.contains("interface FE/01/02 of 28E9:0189 rev 1000"),
        "{text}"
    );
    assert!(
        text.contains("→ GigaDevice GD32VF103 bootloader, built-in record, priority 3"),
        "{text}"
    );
    let listed = json(&dfuse([
        "list",
        "--json",
        "--explain",
        "--device",
        "sim:at32f415",
    ]));
    let device = &listed["devices"][0];
    assert_eq!(device["record"]["name"], "ArteryTek AT32 bootloader");
    assert_eq!(device["record"]["priority"], 3);
    assert_eq!(device["record"]["source"], "built-in record");
    assert!(device["explain"].as_array().unwrap().len() >= 8);
}

#[test]
fn a_user_record_wins_and_a_plain_dfu_record_is_refused_before_any_erase() {
    let dir = tempfile::tempdir().unwrap();
    let db = user_table(
        dir.path(),
        "[[device]]\nname = \"Bench fixture\"\nvendor = 0x0483\nproduct = 0xDF11\nflavour = \"dfu\"\n",
    );
    let listed = json(&dfuse([
        "list",
        "--json",
        "--device",
        "sim:stm32f407",
        "--device-db",
        p(&db),
    ]));
    let source = listed["devices"][0]["record"]["source"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(source.starts_with("user record from "), "{source}");

    let log = dir.path().join("requests.log");
    let out = dfuse([
        "flash",
        p(&example("blinky-f407.hex")),
        "--device",
        "sim:stm32f407",
        "--device-db",
        p(&db),
        "--sim-log",
        p(&log),
    ]);
    assert_fails(
        &out,
        5,
        "is a plain DFU 1.1 device (\"Bench fixture\", user record from",
    );
    assert!(common::stderr(&out).contains("use dfu-util for plain DFU devices"));
    assert!(
        !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("erase")
    );
}

#[test]
fn a_layout_override_replaces_the_devices_memory_map() {
    let dir = tempfile::tempdir().unwrap();
    let db = user_table(
        dir.path(),
        "[[device]]\nname = \"Small part\"\nvendor = 0x0483\nproduct = 0xDF11\nquirks = { layout = \"@Internal Flash /0x08000000/02*016Kg\" }\n",
    );
    let ok = dfuse([
        "flash",
        p(&example("blinky-f407.hex")),
        "--device",
        "sim:stm32f407",
        "--device-db",
        p(&db),
    ]);
    assert!(ok.status.success(), "{}", common::stderr(&ok));
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![0u8; 40 * 1024]).unwrap();
    let out = dfuse([
        "flash",
        p(&big),
        "--address",
        "0x08000000",
        "--device",
        "sim:stm32f407",
        "--device-db",
        p(&db),
    ]);
    assert_fails(&out, 3, "holds only 32768 writable bytes");
    // `info` shows the map `flash` used: the record's layout, not the device's string.
    let info = dfuse([
        "info",
        "--json",
        "--device",
        "sim:stm32f407",
        "--device-db",
        p(&db),
    ]);
    assert!(info.status.success(), "{}", common::stderr(&info));
    let info = common::json(&info);
    let map = &info["alt_settings"][0]["memory_map"];
    assert_eq!(map["name"], "Internal Flash");
    assert_eq!(
        map["segments"],
        serde_json::json!([{"address": 0x0800_0000u32, "sector_size": 16384, "sector_count": 2,
            "readable": true, "erasable": true, "writable": true}])
    );
    // The same schema as `dfuse memmap --json` for that string.
    let mut memmap = common::json(&dfuse([
        "memmap",
        "--json",
        "@Internal Flash /0x08000000/02*016Kg",
    ]));
    let object = memmap.as_object_mut().unwrap();
    assert_eq!(object.remove("result"), Some("ok".into()));
    assert_eq!(object.remove("schema"), Some(1.into()));
    assert_eq!(map, &memmap);
}

#[test]
fn the_gd32_flash_size_comes_from_its_serial() {
    // A GD32VF103 string claiming 1 MiB on a part whose serial ("3CBJ") says 128 KiB.
    let dir = tempfile::tempdir().unwrap();
    let db = user_table(
        dir.path(),
        "[[device]]\nname = \"GD32 claiming 1 MiB\"\nvendor = 0x28E9\nproduct = 0x0189\nquirks = { layout = \"@Internal Flash  /0x08000000/1024*001Kg\", flash_size_from_serial = true }\n",
    );
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![0u8; 200 * 1024]).unwrap();
    let out = dfuse([
        "flash",
        p(&big),
        "--address",
        "0x08000000",
        "--device",
        "sim:gd32vf103",
        "--device-db",
        p(&db),
    ]);
    assert_fails(&out, 3, "holds only 131072 writable bytes");
}

#[test]
fn a_malformed_user_table_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = user_table(
        dir.path(),
        "[[device]]\nname = \"vendor only\"\nvendor = 0x0483\n",
    );
    let out = dfuse(["info", "--device", "sim:stm32f407", "--device-db", p(&db)]);
    assert_fails(
        &out,
        2,
        "record \"vendor only\" names a combination of fields the table does not allow",
    );
}

#[test]
fn driver_names_the_ids_and_the_inf_entry_that_would_bind_the_board() {
    let out = dfuse(["driver", "--device", "sim:at32f415"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("hardware IDs:   USB\\VID_2E3C&PID_DF11&REV_0200, USB\\VID_2E3C&PID_DF11"),
        "{text}"
    );
    assert!(
        text.contains("compatible IDs: USB\\Class_FE&SubClass_01&Prot_02"),
        "{text}"
    );
    assert!(
        text.contains("would bind it: [Dfuse.NTamd64] \"AT32 DFU bootloader (WinUSB)\""),
        "{text}"
    );
    assert!(
        text.contains("ranked lower: [Dfuse.NTamd64] \"DfuSe device (WinUSB)\""),
        "{text}"
    );
}
