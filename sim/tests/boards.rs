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
        let chosen = board.profile.resolution.chosen().unwrap();
        assert_eq!(chosen.record.flavour, Flavour::Dfuse, "{id}");
        assert!(chosen.priority <= 3, "{id} has a record of its own");
        assert!(board.profile.settings().is_ok(), "{id}");
        assert!(!board.profile.maps().is_empty(), "{id}");
    }
}

#[test]
fn every_simulated_chip_is_identified_with_its_flash_size() {
    let table = DeviceTable::load(None).unwrap();
    let expected = [
        ("stm32f407", "STM32F405/407/412/415/417, 1 MiB flash"),
        ("stm32f429", "STM32F427/429/437/439, 2 MiB flash"),
        ("stm32f072", "STM32F0/F1/F3 (2 KiB pages), 128 KiB flash"),
        ("stm32f746", "STM32F745/746/756, 1 MiB flash"),
        ("stm32h743", "STM32H742/743/750/753, 2 MiB flash"),
        ("stm32l476", "STM32L47x/L48x/L49x, 1 MiB flash"),
        ("stm32g0b1", "STM32G0B1/G0C1, 512 KiB flash"),
        ("gd32vf103", "GD32VF103 (RISC-V), 128 KiB flash"),
        ("at32f415", "Artery AT32F4, 256 KiB flash"),
        (
            "stm32f205",
            "STM32F205 (Particle Photon bootloader), 1 MiB flash",
        ),
    ];
    assert_eq!(
        expected.len(),
        chip_ids().count(),
        "every chip has its line"
    );
    for (id, summary) in expected {
        let board = SimBoard::new(id, SimFiles::default())
            .unwrap()
            .board(&table);
        let identity = board.profile.identity();
        assert_eq!(identity.summary(), summary, "{id}: {}", identity.reason);
    }
}
