//! Truncated, oversized-claim, overlapping and wrong-magic inputs: the exact error, naming the place.

use dfu_file::{
    DeviceIds, Error, Image, ReadOptions, Span, Target, dfuse, elf, ihex, srec, suffix,
};

fn options() -> ReadOptions {
    ReadOptions::default()
}

/// A valid .dfu with one target of two elements (4 bytes at 0x08000000, 2 at 0x08000100).
fn sample_dfu() -> Vec<u8> {
    let image =
        Image::from_pieces([(0x0800_0000, vec![1, 2, 3, 4]), (0x0800_0100, vec![5, 6])]).unwrap();
    dfuse::write(
        &[Target::from_image(0, Some("Internal Flash".into()), image)],
        DeviceIds::default(),
    )
    .unwrap()
}

/// Replaces the suffix CRC so that only the change under test is wrong.
fn fix_crc(file: &mut [u8]) {
    let body = file.len() - 4;
    let crc = suffix::crc32(&file[..body]);
    file[body..].copy_from_slice(&crc.to_le_bytes());
}

/// Cuts the body of a .dfu at `len` bytes, keeping a valid suffix after it.
fn truncated_dfu(len: usize) -> Vec<u8> {
    let full = sample_dfu();
    let mut file = full[..len].to_vec();
    file.extend_from_slice(&full[full.len() - 16..]);
    fix_crc(&mut file);
    file
}

#[test]
fn truncated_prefix() {
    let err = dfuse::read(b"DfuSe\x01", false).unwrap_err();
    assert_eq!(
        err,
        Error::Truncated {
            what: "DfuSe prefix".into(),
            offset: 0,
            needed: 11,
            end: 6
        }
    );
    assert!(
        err.to_string()
            .contains("at offset 0x0 needs 11 bytes but the file ends at 0x6"),
        "{err}"
    );
}

#[test]
fn truncated_target_header() {
    let err = dfuse::read(&truncated_dfu(100), false).unwrap_err();
    assert_eq!(
        err,
        Error::Truncated {
            what: "header of target 0".into(),
            offset: 11,
            needed: 274,
            end: 100
        }
    );
    assert!(
        err.to_string().contains("header of target 0 at offset 0xB"),
        "{err}"
    );
}

#[test]
fn truncated_element_header() {
    // Prefix + target header + first element (8 + 4) + 3 bytes of the second element's header.
    let err = dfuse::read(&truncated_dfu(11 + 274 + 12 + 3), false).unwrap_err();
    assert_eq!(
        err,
        Error::Truncated {
            what: "header of element 1 of target 0".into(),
            offset: 297,
            needed: 8,
            end: 300
        }
    );
    assert!(err.to_string().contains("offset 0x129"), "{err}");
}

#[test]
fn oversized_element_claim() {
    let mut file = sample_dfu();
    // Element 1's dwElementSize sits at prefix + target header + element 0 + 4.
    let size_at = 11 + 274 + 12 + 4;
    file[size_at..size_at + 4].copy_from_slice(&65536u32.to_le_bytes());
    fix_crc(&mut file);
    let err = dfuse::read(&file, false).unwrap_err();
    let data_offset = 11 + 274 + 12 + 8;
    assert_eq!(
        err,
        Error::ElementTruncated {
            target: 0,
            element: 1,
            size: 65536,
            offset: data_offset,
            end: file.len() - 16
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "element 1 of target 0 claims 65536 bytes at offset {data_offset:#X} but the file ends at {:#X}",
            file.len() - 16
        )
    );
}

#[test]
fn oversized_element_count_does_not_allocate_or_hang() {
    let mut file = sample_dfu();
    let count_at = 11 + 270;
    file[count_at..count_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    fix_crc(&mut file);
    let err = dfuse::read(&file, false).unwrap_err();
    // Two real elements (8 + 4 and 8 + 2 bytes) end exactly where the suffix starts.
    let end = 11 + 274 + 12 + 10;
    assert_eq!(
        err,
        Error::Truncated {
            what: "header of element 2 of target 0".into(),
            offset: end,
            needed: 8,
            end
        }
    );
    assert!(
        err.to_string().contains(&format!("at offset {end:#X}")),
        "{err}"
    );
}

#[test]
fn oversized_target_count() {
    let mut file = sample_dfu();
    file[10] = 255;
    fix_crc(&mut file);
    let err = dfuse::read(&file, false).unwrap_err();
    let end = 11 + 274 + 22;
    assert_eq!(
        err,
        Error::Truncated {
            what: "header of target 1".into(),
            offset: end,
            needed: 274,
            end
        }
    );
    assert!(
        err.to_string()
            .contains(&format!("header of target 1 at offset {end:#X}")),
        "{err}"
    );
}

#[test]
fn oversized_hex_record_length() {
    // Byte count 0xFF but only 4 data bytes follow.
    let err = ihex::read(b":020000040800F2\n:FF00000001020304F2\n:00000001FF\n").unwrap_err();
    assert!(matches!(err, Error::Ihex { line: 2, .. }), "{err}");
    assert!(err.to_string().starts_with("Intel HEX line 2:"), "{err}");
}

#[test]
fn oversized_elf_program_header() {
    let mut file = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/examples/blinky-f407.elf"
    ))
    .unwrap();
    // Program header 0 starts at e_phoff (52); p_filesz is its 5th word.
    let filesz_at = 52 + 16;
    file[filesz_at..filesz_at + 4].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    let err = elf::read(&file).unwrap_err();
    assert_eq!(err.code(), "elf");
    assert!(
        err.to_string()
            .contains("program header 0 claims 2147483647 bytes at file offset 0x1000"),
        "{err}"
    );
}

#[test]
fn overlapping_dfu_elements() {
    let mut file = sample_dfu();
    // Move element 1 from 0x08000100 to 0x08000002, inside element 0.
    let address_at = 11 + 274 + 12;
    file[address_at..address_at + 4].copy_from_slice(&0x0800_0002u32.to_le_bytes());
    fix_crc(&mut file);
    let err = dfuse::read(&file, false).unwrap_err();
    assert_eq!(
        err,
        Error::Overlap {
            first: Span::new(0x0800_0000, 4),
            second: Span::new(0x0800_0002, 2)
        }
    );
    assert_eq!(
        err.to_string(),
        "data at 0x08000000-0x08000003 overlaps data at 0x08000002-0x08000003"
    );
}

#[test]
fn overlapping_hex_records() {
    let file = b":020000040800F2\n:0400000001020304F2\n:020002000909EA\n:00000001FF\n";
    let err = dfu_file::read(file, Some("hex"), &options()).unwrap_err();
    assert_eq!(
        err,
        Error::Overlap {
            first: Span::new(0x0800_0000, 4),
            second: Span::new(0x0800_0002, 2)
        }
    );
    assert!(err.to_string().contains("0x08000002-0x08000003"), "{err}");
}

#[test]
fn overlapping_srec_records() {
    let file = b"S3090800000001020304E4\nS307080000020909DC\nS70508000101F0\n";
    let err = srec::read(file).unwrap_err();
    assert_eq!(
        err,
        Error::Overlap {
            first: Span::new(0x0800_0000, 4),
            second: Span::new(0x0800_0002, 2)
        }
    );
}

#[test]
fn wrong_dfuse_prefix_magic() {
    let mut file = sample_dfu();
    file[..5].copy_from_slice(b"DfuSx");
    let err = dfuse::read(&file, false).unwrap_err();
    assert_eq!(
        err,
        Error::BadSignature {
            what: "DfuSe prefix",
            offset: 0,
            expected: "DfuSe",
            found: "DfuSx".into()
        }
    );
}

#[test]
fn wrong_target_magic() {
    let mut file = sample_dfu();
    file[11..17].copy_from_slice(b"Tarxet");
    fix_crc(&mut file);
    let err = dfuse::read(&file, false).unwrap_err();
    assert_eq!(
        err,
        Error::BadSignature {
            what: "target",
            offset: 11,
            expected: "Target",
            found: "Tarxet".into()
        }
    );
    assert!(err.to_string().contains("at offset 0xB"), "{err}");
}

#[test]
fn wrong_suffix_magic_on_a_dfuse_file() {
    let mut file = sample_dfu();
    let len = file.len();
    file[len - 8] = b'X';
    let err = dfuse::read(&file, false).unwrap_err();
    assert_eq!(
        err,
        Error::MissingSuffix {
            len,
            offset: len - 16
        }
    );
}

#[test]
fn wrong_elf_magic_class() {
    let err = elf::read(b"\x7FELF\x07rest of a header").unwrap_err();
    assert!(
        err.to_string().contains("EI_CLASS at offset 0x4 is 7"),
        "{err}"
    );
}

#[test]
fn wrong_hex_start_code() {
    let err = ihex::read(b":00000001FF\n")
        .and_then(|_| ihex::read(b"#0400000001020304F2\n"))
        .unwrap_err();
    assert!(matches!(err, Error::Ihex { line: 1, .. }), "{err}");
    assert!(err.to_string().contains("missing start code"), "{err}");
}

#[test]
fn crc_mismatch_is_an_error_unless_ignored() {
    let mut file = sample_dfu();
    file[300] ^= 0x01;
    let err = dfuse::read(&file, false).unwrap_err();
    assert!(matches!(err, Error::CrcMismatch { .. }), "{err}");
    assert!(
        err.to_string().starts_with("CRC mismatch: file says 0x"),
        "{err}"
    );
    let lenient = dfuse::read(&file, true).unwrap();
    assert!(!lenient.suffix.unwrap().crc_ok());
    assert!(lenient.warnings[0].starts_with("CRC mismatch"));
}
