//! Ranking against the shipped INF, for the four kinds of device that matter.

use super::*;
use crate::{InfError, SHIPPED_INF};

fn shipped() -> Inf {
    Inf::parse(SHIPPED_INF).unwrap()
}

fn device(vid: u16, pid: u16, rev: u16, class: (u8, u8, u8), interface: Option<u8>) -> UsbIds {
    UsbIds {
        vid,
        pid,
        rev,
        class,
        interface,
    }
}

#[test]
fn the_shipped_inf_has_every_entry_for_three_architectures() {
    let inf = shipped();
    for arch in ["NTx86", "NTamd64", "NTarm64"] {
        let entries: Vec<&Entry> = inf
            .entries
            .iter()
            .filter(|e| e.section == format!("Dfuse.{arch}"))
            .collect();
        assert_eq!(entries.len(), 7, "{arch}");
        assert!(entries.iter().all(|e| e.install == "WinUsb_Install"));
    }
    assert!(SHIPPED_INF.contains("Include = winusb.inf"));
    assert!(SHIPPED_INF.contains("Needs   = WINUSB.NT"));
    assert!(SHIPPED_INF.contains("DeviceInterfaceGUIDs"));
}

#[test]
fn an_st_rom_is_bound_by_its_hardware_id() {
    let inf = shipped();
    let rom = device(0x0483, 0xDF11, 0x2200, (0xFE, 0x01, 0x02), None);
    assert_eq!(
        rom.hardware_ids(),
        vec!["USB\\VID_0483&PID_DF11&REV_2200", "USB\\VID_0483&PID_DF11"]
    );
    let matches = rank(&inf, &rom, "NTamd64");
    let best = &matches[0];
    assert_eq!(best.kind, IdKind::Hardware);
    assert_eq!(best.id, "USB\\VID_0483&PID_DF11");
    assert_eq!(best.entry.description, "STM32 BOOTLOADER (DfuSe, WinUSB)");
    assert_eq!(
        best.position, 1,
        "the device's second hardware ID (no REV in the INF)"
    );
    // The generic DfuSe entry matches too, but only by compatible ID: it ranks lower.
    assert_eq!(matches[1].kind, IdKind::Compatible);
    assert_eq!(matches[1].entry.description, "DfuSe device (WinUSB)");
    assert!(
        best.explain()
            .contains("matches the device's hardware ID #2 USB\\VID_0483&PID_DF11"),
        "{}",
        best.explain()
    );
}

#[test]
fn an_unknown_dfuse_clone_is_bound_by_the_compatible_id() {
    let inf = shipped();
    let clone = device(0x1209, 0xABCD, 0x0100, (0xFE, 0x01, 0x02), None);
    let matches = rank(&inf, &clone, "NTamd64");
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0].kind, IdKind::Compatible);
    assert_eq!(matches[0].id, "USB\\Class_FE&SubClass_01&Prot_02");
    assert_eq!(matches[0].position, 0);
}

#[test]
fn a_composite_devices_dfu_interface_gets_mi_ids_and_the_class_match() {
    let inf = shipped();
    let interface = device(0x2B04, 0xC006, 0x0250, (0xFE, 0x01, 0x02), Some(2));
    assert_eq!(
        interface.hardware_ids(),
        vec![
            "USB\\VID_2B04&PID_C006&REV_0250&MI_02",
            "USB\\VID_2B04&PID_C006&MI_02"
        ]
    );
    let matches = rank(&inf, &interface, "NTarm64");
    assert_eq!(matches.len(), 1);
    assert_eq!(
        (matches[0].kind, matches[0].entry.section.as_str()),
        (IdKind::Compatible, "Dfuse.NTarm64")
    );
    // A DFU runtime interface (protocol 1) of a composite device is not ours to bind.
    let runtime = device(0x2B04, 0xC006, 0x0250, (0xFE, 0x01, 0x01), Some(2));
    assert!(rank(&inf, &runtime, "NTamd64").is_empty());
}

#[test]
fn a_non_dfu_device_matches_nothing() {
    let hid = device(0x046D, 0xC52B, 0x1211, (0x03, 0x01, 0x02), None);
    assert!(rank(&shipped(), &hid, "NTamd64").is_empty());
}

#[test]
fn ids_compare_case_insensitively_and_comments_are_ignored() {
    let inf = Inf::parse("[Manufacturer]\n%P%=M ; vendor\n[M]\n%D%=I, usb\\vid_0483&pid_df11 ; a comment\n[Strings]\nP=\"p;q\"\nD=\"Desc\"\n").unwrap();
    let rom = device(0x0483, 0xDF11, 0x2200, (0xFE, 1, 2), None);
    let matches = rank(&inf, &rom, "");
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0].entry.description, "Desc");
    assert_eq!(
        Inf::parse("[Version]\nx=1\n"),
        Err(InfError::NoManufacturer)
    );
    assert_eq!(
        Inf::parse("[Manufacturer]\n%P%=M,NTamd64\n"),
        Err(InfError::MissingModels("M.NTamd64".into()))
    );
}
