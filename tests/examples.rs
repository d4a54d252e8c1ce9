//! The shipped example firmware: every format describes the same program, and the
//! .bin and .dfu are exactly what `dfuse file convert` makes from the .hex.

use std::path::PathBuf;

use dfu_file::{DeviceIds, Format, Image, ReadOptions, Target, dfuse, raw};

fn example(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/examples")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read(name: &str) -> dfu_file::Firmware {
    let extension = name.rsplit('.').next();
    let options = ReadOptions {
        address: Some(0x0800_0000),
        ..ReadOptions::default()
    };
    dfu_file::read(&example(name), extension, &options).unwrap()
}

fn hex_image() -> Image {
    read("blinky-f407.hex").targets.remove(0).image
}

#[test]
fn hex_srec_elf_and_dfu_hold_the_same_image_and_entry() {
    let hex = read("blinky-f407.hex");
    assert_eq!(hex.format, Format::Ihex);
    for name in ["blinky-f407.s19", "blinky-f407.elf", "blinky-f407.dfu"] {
        let other = read(name);
        assert_eq!(other.targets[0].image, hex.targets[0].image, "{name}");
    }
    assert_eq!(hex.entry, Some(0x0800_0041));
    assert_eq!(read("blinky-f407.elf").entry, Some(0x0800_0041));
    assert_eq!(read("blinky-f407.s19").entry, Some(0x0800_0041));
}

#[test]
fn image_looks_like_stm32f4_firmware_with_a_gap() {
    let image = hex_image();
    let segments = image.segments();
    assert_eq!(
        segments.len(),
        2,
        "code and the info block, with a gap between"
    );
    let vectors = segments[0].data();
    let word = |i: usize| u32::from_le_bytes(vectors[i * 4..i * 4 + 4].try_into().unwrap());
    assert_eq!(
        word(0),
        0x2002_0000,
        "initial SP is the top of the 128 KiB SRAM"
    );
    let reset = word(1);
    assert_eq!(reset & 1, 1, "reset vector has the Thumb bit");
    assert!(
        (0x0800_0000..0x0810_0000).contains(&reset),
        "reset vector points into flash"
    );
    assert_eq!(segments[1].address(), 0x0800_4000);
    assert_eq!(&segments[1].data()[..4], b"DFUS");
}

#[test]
fn shipped_bin_is_the_hex_flattened() {
    assert_eq!(
        example("blinky-f407.bin"),
        raw::write(&hex_image(), 1 << 20).unwrap()
    );
}

#[test]
fn shipped_dfu_is_the_hex_in_a_dfuse_container() {
    let target = Target::from_image(0, Some("Internal Flash".into()), hex_image());
    let expected = dfuse::write(&[target], DeviceIds::default()).unwrap();
    assert_eq!(example("blinky-f407.dfu"), expected);
}
