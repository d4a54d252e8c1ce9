//! Simulated boards through the device facade: matched, profiled, opened.

use dfuse::matching::{DeviceTable, Flavour};
use dfuse_sim::{SimBoard, SimFiles, chip_ids};

#[test]
fn every_simulated_chip_is_a_dfuse_device_with_a_record_of_its_own() {
    let table = DeviceTable::load(None).unwrap();
    for id in chip_ids() {
        let board = SimBoard::new(id, SimFiles::default())
            .unwrap()
            .board(&table);
        let chosen = board.profile.resolution.chosen.as_ref().unwrap();
        assert_eq!(chosen.record.flavour, Flavour::Dfuse, "{id}");
        assert!(chosen.priority <= 3, "{id} has a record of its own");
        assert!(board.profile.settings().is_ok(), "{id}");
        assert!(!board.profile.maps().is_empty(), "{id}");
    }
}
