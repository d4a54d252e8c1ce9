//! The table's priorities, user overrides, explanations and refusals.

use super::*;

fn interface(vid: u16, pid: u16, bcd_device: u16, protocol: u8) -> Interface {
    Interface {
        vid,
        pid,
        bcd_device,
        class: 0xFE,
        subclass: 0x01,
        protocol,
    }
}

fn built_in() -> DeviceTable {
    DeviceTable::load(None).unwrap()
}

#[test]
fn the_built_in_table_loads_and_every_record_has_a_priority() {
    let table = built_in();
    assert!(table.entries().len() >= 8);
    assert!(table.entries().iter().all(|e| e.source == Source::BuiltIn));
}

/// build.rs compiles devices.toml into Rust; the run-time reader must make the same of it.
#[test]
fn the_compiled_built_in_table_equals_the_parsed_text() {
    let parsed = parse(BUILT_IN, Source::BuiltIn).unwrap();
    assert_eq!(super::built_in(), parsed);
    assert_eq!(parsed.len(), BUILT_IN.matches("[[device]]").count());
}

#[test]
fn an_st_rom_gets_the_st_record_and_the_steps_say_why() {
    let resolution = built_in().resolve(&interface(0x0483, 0xDF11, 0x2200, 2));
    let chosen = resolution.chosen().cloned().unwrap();
    assert_eq!(chosen.record.name, "STM32 system bootloader");
    assert_eq!(chosen.priority, 3);
    assert!(chosen.record.quirks.stall_means_busy);
    let settings = chosen
        .record
        .quirks
        .apply(crate::session::Settings::default());
    assert!(settings.stall_means_busy && settings.answers_when_done);
    let steps = resolution.steps().join("\n");
    assert!(
        steps.starts_with("interface FE/01/02 of 0483:DF11 rev 2200"),
        "{steps}"
    );
    assert!(
        steps.contains("priority 1 (vendor+product+release+class/sub/proto): no record"),
        "{steps}"
    );
    assert!(
        steps.contains("priority 3 (vendor+product): \"STM32 system bootloader\", built-in record"),
        "{steps}"
    );
    assert!(steps.contains("priority 5 (class/sub/proto): \"DfuSe device\", built-in record (less specific, not used)"), "{steps}");
    assert!(
        steps.ends_with("→ STM32 system bootloader, built-in record, priority 3"),
        "{steps}"
    );
}

#[test]
fn clones_and_plain_dfu_fall_back_to_the_class_records() {
    let table = built_in();
    let clone = table
        .resolve(&interface(0x1234, 0x5678, 0x0100, 2))
        .chosen()
        .cloned()
        .unwrap();
    assert_eq!(
        (clone.record.name.as_str(), clone.priority),
        ("DfuSe device", 5)
    );
    let plain = table
        .resolve(&interface(0x1234, 0x5678, 0x0100, 1))
        .chosen()
        .cloned()
        .unwrap();
    assert_eq!(
        (
            plain.record.name.as_str(),
            plain.priority,
            plain.record.flavour
        ),
        ("DFU device", 6, Flavour::Dfu)
    );
    let hid = Interface {
        class: 0x03,
        subclass: 0,
        protocol: 0,
        ..interface(0x1234, 0x5678, 0, 0)
    };
    let none = table.resolve(&hid);
    assert!(none.chosen().is_none());
    assert!(none.steps().last().unwrap().contains("no record matches"));
}

#[test]
fn gd32_and_at32_have_their_own_records() {
    let table = built_in();
    let gd32 = table
        .resolve(&interface(0x28E9, 0x0189, 0x1000, 2))
        .chosen()
        .cloned()
        .unwrap();
    assert!(gd32.record.quirks.flash_size_from_serial);
    let at32 = table
        .resolve(&interface(0x2E3C, 0xDF11, 0x0200, 2))
        .chosen()
        .cloned()
        .unwrap();
    assert_eq!(at32.record.name, "ArteryTek AT32 bootloader");
}

#[test]
fn a_user_record_overrides_a_built_in_one_of_equal_priority() {
    let user = r#"
        [[device]]
        name = "Our production fixture"
        vendor = 0x0483
        product = 0xDF11
        quirks = { transfer_size = 1024, poll_timeout_floor_ms = 20 }
    "#;
    let table = DeviceTable::load(Some((user, PathBuf::from("/etc/dfuse/devices.toml")))).unwrap();
    let chosen = table
        .resolve(&interface(0x0483, 0xDF11, 0x2200, 2))
        .chosen()
        .cloned()
        .unwrap();
    assert_eq!(chosen.record.name, "Our production fixture");
    assert_eq!(
        chosen.source,
        Source::User(PathBuf::from("/etc/dfuse/devices.toml"))
    );
    assert_eq!(chosen.record.quirks.transfer_size, Some(1024));

    // The explanation names the user's record first and says the built-in one matched too.
    let steps = table.resolve(&interface(0x0483, 0xDF11, 0x2200, 2)).steps();
    assert_eq!(
        steps[3],
        "  priority 3 (vendor+product): \"Our production fixture\", user record from /etc/dfuse/devices.toml (first of several)"
    );
    assert_eq!(
        steps.last().unwrap(),
        "  → Our production fixture, user record from /etc/dfuse/devices.toml, priority 3"
    );
}

#[test]
fn a_more_specific_record_wins_whatever_its_source() {
    let user = r#"
        [[device]]
        name = "Generic override"
        class = 0xFE
        subclass = 0x01
        protocol = 0x02
    "#;
    let table = DeviceTable::load(Some((user, PathBuf::from("user.toml")))).unwrap();
    // The built-in vendor+product record (priority 3) beats the user's class record (priority 5).
    let st = table
        .resolve(&interface(0x0483, 0xDF11, 0x2200, 2))
        .chosen()
        .cloned()
        .unwrap();
    assert_eq!(st.record.name, "STM32 system bootloader");
    // For an unknown clone, the user's class record comes before the built-in one of the same priority.
    let clone = table
        .resolve(&interface(0x1234, 0x5678, 0, 2))
        .chosen()
        .cloned()
        .unwrap();
    assert_eq!(clone.record.name, "Generic override");
}

#[test]
fn malformed_user_tables_are_refused_with_the_reason() {
    let shape = "[[device]]\nname = \"vendor only\"\nvendor = 0x0483\n";
    let err = DeviceTable::load(Some((shape, PathBuf::from("mine.toml")))).unwrap_err();
    assert_eq!(
        err,
        TableError::Shape {
            table: "mine.toml".into(),
            name: "vendor only".into()
        }
    );
    let unknown = "[[device]]\nname = \"x\"\nvendor = 1\nproduct = 2\nspeed = 9\n";
    let err = DeviceTable::load(Some((unknown, PathBuf::from("mine.toml")))).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("mine.toml: unknown field `speed`"),
        "{err}"
    );
}

#[test]
fn gd32_flash_size_comes_from_the_serial() {
    assert_eq!(gd32_flash_size("3CBJ"), Some(128 * 1024));
    assert_eq!(gd32_flash_size("3C8J"), Some(64 * 1024));
    assert_eq!(gd32_flash_size("3c6j"), Some(32 * 1024));
    assert_eq!(gd32_flash_size("3CZJ"), None);
    assert_eq!(gd32_flash_size(""), None);
}
