//! Choosing one board among simulated ones placed at USB locations.
use dfuse::select::{SelectError, Selector, select};
use dfuse::transport::{DeviceInfo, Transport};
use dfuse_sim::SimTransport;

/// The lab's three boards: an F407 and two F072s with the F0 ROM's constant serial.
fn boards() -> Vec<DeviceInfo> {
    let board = |chip: &str, location: &str| {
        let mut info = SimTransport::open(chip).unwrap().info().clone();
        info.location = location.into();
        info
    };
    vec![
        board("stm32f407", "1-1"),
        board("stm32f072", "1-2.1"),
        board("stm32f072", "1-2.2"),
    ]
}

#[test]
fn port_path_picks_each_board() {
    let boards = boards();
    for location in ["1-1", "1-2.1", "1-2.2"] {
        let selector = Selector {
            location: Some(location.into()),
            ..Selector::default()
        };
        assert_eq!(select(&boards, &selector).unwrap().location, location);
    }
}

#[test]
fn serial_picks_the_f407_and_reports_the_f072_ambiguity() {
    let boards = boards();
    let f407 = Selector {
        serial: Some("3276395A3032".into()),
        ..Selector::default()
    };
    assert_eq!(select(&boards, &f407).unwrap().location, "1-1");
    let f072 = Selector {
        serial: Some("FFFFFFFEFFFF".into()),
        ..Selector::default()
    };
    let err = select(&boards, &f072).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("more than one DfuSe device matches with serial FFFFFFFEFFFF; choose one by its location:"), "{text}");
    assert!(
        text.contains("1-2.1") && text.contains("1-2.2") && !text.contains("1-1 "),
        "{text}"
    );
}

#[test]
fn no_selector_with_several_devices_lists_them_all() {
    let err = select(&boards(), &Selector::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("more than one DfuSe device matches; choose one by its location:"),
        "{text}"
    );
    for location in ["1-1", "1-2.1", "1-2.2"] {
        assert!(text.contains(location), "{text}");
    }
}

#[test]
fn selectors_combine_and_misses_list_what_is_present() {
    let boards = boards();
    let both = Selector {
        serial: Some("FFFFFFFEFFFF".into()),
        location: Some("1-2.2".into()),
        vid_pid: Some((0x0483, 0xDF11)),
    };
    assert_eq!(select(&boards, &both).unwrap().location, "1-2.2");
    let gd32 = Selector {
        vid_pid: Some((0x28E9, 0x0189)),
        ..Selector::default()
    };
    let err = select(&boards, &gd32).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("no DfuSe device matches with VID:PID 28e9:0189; present:"),
        "{err}"
    );
    assert_eq!(
        select(&[], &Selector::default()),
        Err(SelectError::NoDevice)
    );
    let single = &boards[..1];
    assert_eq!(
        select(single, &Selector::default()).unwrap().location,
        "1-1",
        "one device needs no selector"
    );
}
