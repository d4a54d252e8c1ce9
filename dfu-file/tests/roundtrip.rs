//! Property tests: any image written as .dfu, .hex or .bin reads back equal.

use dfu_file::{DeviceIds, Format, Image, ReadOptions, Target, dfuse, ihex, raw};
use proptest::prelude::*;

/// Images of up to 8 pieces with random gaps (touching pieces included), anywhere in 4 GiB.
fn image() -> impl Strategy<Value = Image> {
    let piece = (0u64..0x2_0000, prop::collection::vec(any::<u8>(), 1..300));
    (any::<u32>(), prop::collection::vec(piece, 0..8)).prop_map(|(base, pieces)| {
        let mut address = u64::from(base);
        let mut placed = Vec::new();
        for (gap, data) in pieces {
            address += gap;
            if address + data.len() as u64 > 1 << 32 {
                break;
            }
            placed.push((address as u32, data.clone()));
            address += data.len() as u64;
        }
        Image::from_pieces(placed).expect("pieces are placed without overlap")
    })
}

fn target() -> impl Strategy<Value = Target> {
    (any::<u8>(), prop::option::of("[ -~]{0,255}"), image())
        .prop_map(|(alt, name, image)| Target::from_image(alt, name, image))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn dfu_round_trip(targets in prop::collection::vec(target(), 1..4), vid: u16, pid: u16, bcd: u16) {
        let ids = DeviceIds { vid, pid, bcd_device: bcd };
        let file = dfuse::write(&targets, ids).unwrap();
        let back = dfu_file::read(&file, Some("dfu"), &ReadOptions::default()).unwrap();
        prop_assert_eq!(back.format, Format::Dfuse);
        prop_assert_eq!(&back.targets, &targets);
        let suffix = back.suffix.unwrap();
        prop_assert_eq!(suffix.ids, ids);
        prop_assert!(suffix.crc_ok());
        // The only warning a written file can earn is two targets sharing an alternate setting.
        let mut alts: Vec<u8> = targets.iter().map(|t| t.alt).collect();
        alts.sort_unstable();
        alts.dedup();
        let shared_alts = alts.len() < targets.len();
        prop_assert_eq!(!back.warnings.is_empty(), shared_alts, "{:?}", back.warnings);
        prop_assert!(back.warnings.iter().all(|w| w.contains("are both for alternate setting")));
    }

    #[test]
    fn hex_round_trip(image in image(), entry: Option<u32>) {
        let text = ihex::write(&image, entry).unwrap();
        let back = dfu_file::read(text.as_bytes(), Some("hex"), &ReadOptions::default()).unwrap();
        prop_assert_eq!(back.format, Format::Ihex);
        prop_assert_eq!(&back.targets[0].image, &image);
        prop_assert_eq!(back.entry, entry);
    }

    #[test]
    fn bin_round_trip(image in image()) {
        prop_assume!(!image.is_empty());
        let bytes = raw::write(&image, u64::MAX).unwrap();
        let start = image.extent().unwrap().start as u32;
        let options = ReadOptions { address: Some(start), ..ReadOptions::default() };
        let back = dfu_file::read(&bytes, Some("bin"), &options).unwrap();
        prop_assert_eq!(back.format, Format::Bin);
        // A .bin cannot hold gaps: they come back as 0xFF, and every original byte is where it was.
        let expected = image.flattened(0xFF, u64::MAX).unwrap();
        prop_assert_eq!(&back.targets[0].image, &expected);
        if image.gaps().next().is_none() {
            prop_assert_eq!(&back.targets[0].image, &image);
        }
    }
}
