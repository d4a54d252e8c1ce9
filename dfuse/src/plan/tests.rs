//! Plans for realistic maps, and every refusal.

use super::*;
use crate::memory_map;

fn map(text: &str) -> MemoryMap {
    memory_map::parse(text).unwrap().map
}

fn f407() -> MemoryMap {
    map("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg")
}

fn image(pieces: &[(u32, usize)]) -> Image {
    Image::from_pieces(pieces.iter().map(|&(a, n)| (a, vec![0x5A; n]))).unwrap()
}

#[test]
fn each_touched_sector_is_erased_once_with_its_own_size() {
    // Spans sectors 0-1 (16 KiB) and starts mid-way in the 64 KiB sector 4 and the 128 KiB sector 5.
    let plan = plan(
        &image(&[(0x0800_0000, 0x4100), (0x0801_8000, 0x9000)]),
        &f407(),
        &PlanOptions::default(),
    )
    .unwrap();
    assert_eq!(
        plan.erase,
        vec![
            Sector {
                address: 0x0800_0000,
                size: 0x4000
            },
            Sector {
                address: 0x0800_4000,
                size: 0x4000
            },
            Sector {
                address: 0x0801_0000,
                size: 0x1_0000
            },
            Sector {
                address: 0x0802_0000,
                size: 0x2_0000
            },
        ]
    );
    assert_eq!(plan.runs.len(), 2);
}

#[test]
fn runs_are_padded_to_the_write_unit_with_ff_and_merged_when_they_touch() {
    let options = PlanOptions {
        write_unit: 8,
        ..PlanOptions::default()
    };
    let plan = plan(
        &image(&[(0x0800_0003, 2), (0x0800_000A, 1), (0x0800_0100, 9)]),
        &f407(),
        &options,
    )
    .unwrap();
    assert_eq!(plan.runs.len(), 2);
    assert_eq!(plan.runs[0].address, 0x0800_0000);
    assert_eq!(
        plan.runs[0].data,
        vec![
            0xFF, 0xFF, 0xFF, 0x5A, 0x5A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x5A, 0xFF, 0xFF, 0xFF,
            0xFF, 0xFF
        ]
    );
    assert_eq!(plan.runs[1].address, 0x0800_0100);
    assert_eq!(plan.runs[1].data.len(), 16);
    assert_eq!(plan.write_len(), 32);
}

#[test]
fn non_erasable_memory_is_written_exactly_and_not_erased() {
    let option_bytes = map("@Option Bytes  /0x1FFFC000/01*016 e");
    let plan = plan(
        &image(&[(0x1FFF_C000, 3)]),
        &option_bytes,
        &PlanOptions::default(),
    )
    .unwrap();
    assert!(plan.erase.is_empty());
    assert_eq!(
        plan.runs,
        vec![WriteRun {
            address: 0x1FFF_C000,
            data: vec![0x5A; 3]
        }]
    );
}

#[test]
fn mass_erase_replaces_the_sector_list() {
    let options = PlanOptions {
        mass_erase: true,
        ..PlanOptions::default()
    };
    let plan = plan(&image(&[(0x0800_0000, 4)]), &f407(), &options).unwrap();
    assert!(plan.mass_erase == Some(MassErase::Asked) && plan.erase.is_empty());
}

#[test]
fn data_outside_the_map_is_refused_naming_the_range() {
    let err = plan(
        &image(&[(0x080F_FFF0, 0x20)]),
        &f407(),
        &PlanOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "data at 0x08100000-0x0810000F lies outside \"Internal Flash\", which covers 0x08000000-0x0800FFFF, 0x08010000-0x0801FFFF, 0x08020000-0x080FFFFF"
    );
    let err = plan(
        &image(&[(0x0700_0000, 4)]),
        &f407(),
        &PlanOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, PlanError::OutsideMap { range, .. } if range == Span::new(0x0700_0000, 4)),
        "{err}"
    );
}

#[test]
fn read_only_segments_are_refused_unless_forced() {
    let guarded = map("@Internal Flash  /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg");
    let err = plan(
        &image(&[(0x0800_8000, 4)]),
        &guarded,
        &PlanOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "data at 0x08008000-0x08008003 falls in the read-only segment 0x08000000-0x0800BFFF of \"Internal Flash\""
    );
    let forced = PlanOptions {
        force: true,
        ..PlanOptions::default()
    };
    let plan = plan(&image(&[(0x0800_8000, 4)]), &guarded, &forced).unwrap();
    assert!(
        plan.erase.is_empty(),
        "a forced write into non-erasable memory erases nothing"
    );
}

#[test]
fn images_larger_than_the_region_are_refused_first() {
    let small = map("@Internal Flash  /0x08000000/064*0002Kg");
    let err = plan(
        &image(&[(0x0800_0000, 0x2_0001)]),
        &small,
        &PlanOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        PlanError::TooLarge {
            image: 0x2_0001,
            capacity: 0x2_0000,
            region: "Internal Flash".into()
        }
    );
}

#[test]
fn an_empty_image_is_refused() {
    assert_eq!(
        plan(&Image::new(), &f407(), &PlanOptions::default()),
        Err(PlanError::Empty)
    );
}
