//! The shipped udev rule grants the seat user access to the VID:PID of every simulated chip (the built-in
//! boards dfuse is tested against), and nothing more.

use std::path::PathBuf;

fn rules() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../cli/assets/60-dfuse.rules");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_rule_uses_uaccess_and_none_is_world_writable() {
    let rules = rules();
    assert!(!rules.is_empty());
    for rule in &rules {
        assert!(rule.contains("TAG+=\"uaccess\""), "{rule}");
        assert!(!rule.contains("MODE"), "no rule sets a mode: {rule}");
        assert!(
            !rule.contains("GROUP"),
            "no rule hands the device to a group: {rule}"
        );
    }
}

#[test]
fn every_simulated_chip_is_covered() {
    let rules = rules();
    for chip in dfuse_sim::CHIPS {
        let wanted = format!(
            "ATTRS{{idVendor}}==\"{:04x}\", ATTRS{{idProduct}}==\"{:04x}\"",
            chip.vid, chip.pid
        );
        assert!(
            rules.iter().any(|r| r.contains(&wanted)),
            "{} ({wanted})",
            chip.id
        );
    }
}
