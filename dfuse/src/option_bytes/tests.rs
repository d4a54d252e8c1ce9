use super::*;

fn layout(file: &str) -> Layout {
    let (_, text) = BUILT_IN.iter().find(|(name, _)| *name == file).unwrap();
    Layout::parse(text, file).unwrap()
}

/// RM0091 Rev 10, table 12: the F0's ST production values, as the bytes lie in memory.
fn f0_factory() -> Image {
    let words: [u32; 4] = [0x00FF_55AA, 0x00FF_00FF, 0x00FF_00FF, 0x00FF_00FF];
    Image {
        pieces: vec![(
            0x1FFF_F800,
            words.iter().flat_map(|w| w.to_le_bytes()).collect(),
        )],
    }
}

#[test]
fn every_built_in_layout_reads_names_its_chips_and_cites_a_manual() {
    for (file, text) in BUILT_IN {
        let layout = Layout::parse(text, file).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            layout.source.starts_with("RM0"),
            "{file}: {}",
            layout.source
        );
        assert!(!layout.chips.is_empty(), "{file}");
        assert_eq!(layout.fields[0].name, "rdp");
    }
    assert_eq!(Layouts::built_in().all().len(), BUILT_IN.len());
}

#[test]
fn a_change_writes_the_complement_on_families_that_keep_one() {
    let layout = layout("stm32f0.toml");
    let mut image = f0_factory();
    layout.set(&mut image, "wrp=3").unwrap();
    // WRP0 bit 3 cleared protects sector 3; nWRP0 is its complement.
    assert_eq!(image.word(0x1FFF_F808, 4), Some(0x00FF_08F7));
    assert_eq!(
        layout.protected_sectors(&image),
        vec![6, 7],
        "4 KiB sector 3 = pages 6 and 7"
    );
    layout.set(&mut image, "wrp=none").unwrap();
    assert_eq!(image, f0_factory());
}

#[test]
fn values_go_by_name_and_raw_values_only_in_hex() {
    let layout = layout("stm32f4.toml");
    let mut image = Image {
        pieces: vec![(
            0x1FFF_C000,
            vec![0xEF, 0xAA, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
        )],
    };
    layout.set(&mut image, "bor_lev=1").unwrap();
    assert_eq!(
        image.word(0x1FFF_C000, 1),
        Some(0xEB),
        "level 1 is 0b10 in bits 3:2"
    );
    layout.set(&mut image, "bor_lev=0x3").unwrap();
    assert_eq!(image.word(0x1FFF_C000, 1), Some(0xEF));
    let error = layout.set(&mut image, "bor_lev=7").unwrap_err();
    assert_eq!(error.code(), "bad-value");
    assert!(error.to_string().contains("3, 2, 1, off"), "{error}");
    assert_eq!(
        layout.set(&mut image, "bor=off").unwrap_err().code(),
        "unknown-field"
    );
    assert_eq!(
        layout.set(&mut image, "bor_lev").unwrap_err().code(),
        "bad-value"
    );
    layout.set(&mut image, "wrp=0-2,11").unwrap();
    assert_eq!(image.word(0x1FFF_C008, 2), Some(0x07F8));
    layout.set(&mut image, "wrp=-1").unwrap();
    assert_eq!(layout.decode(&image)[5].value, "0,2,11");
    assert_eq!(
        layout.set(&mut image, "wrp=12").unwrap_err().code(),
        "bad-value"
    );
}

#[test]
fn level_two_needs_permission_level_one_to_zero_erases_and_level_two_is_final() {
    let layout = layout("stm32f4.toml");
    let level0 = Image {
        pieces: vec![(0x1FFF_C000, vec![0xEF, 0xAA])],
    };
    let mut level2 = level0.clone();
    layout.set(&mut level2, "rdp=2").unwrap();
    assert_eq!(layout.rdp_level(&level2), Some(2));
    let refused = layout
        .check(&level0, &level2, Allow::default())
        .unwrap_err();
    assert_eq!(refused.code(), "permanent-lock");
    let allow_lock = Allow {
        permanent_lock: true,
        ..Allow::default()
    };
    layout.check(&level0, &level2, allow_lock).unwrap();

    let mut level1 = level0.clone();
    layout.protect(&mut level1).unwrap();
    assert_eq!(layout.rdp_level(&level1), Some(1));
    assert_eq!(
        layout.check(&level1, &level0, Allow::default()),
        Err(OptionBytesError::ErasesChip)
    );
    let allow_erase = Allow {
        erase: true,
        ..Allow::default()
    };
    layout.check(&level1, &level0, allow_erase).unwrap();
    let everything = Allow {
        permanent_lock: true,
        erase: true,
    };
    assert_eq!(
        layout.check(&level2, &level0, everything),
        Err(OptionBytesError::Locked)
    );
}

#[test]
fn page_ranges_and_mirrored_registers() {
    let l4 = layout("stm32l4.toml");
    let mut image = Image {
        pieces: vec![(
            0x1FFF_7818,
            [0xFFu32, !0xFF]
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect(),
        )],
    };
    assert_eq!(l4.decode(&image)[0].value, "none");
    l4.set(&mut image, "wrp1a=5..6").unwrap();
    assert_eq!(image.word(0x1FFF_7818, 4), Some(0x0006_0005));
    assert_eq!(
        image.word(0x1FFF_781C, 4),
        Some(!0x0006_0005),
        "the complement word"
    );
    assert_eq!(l4.protected_sectors(&image), vec![5, 6]);
    assert_eq!(
        l4.protecting(&image, 6).map(|f| f.name.as_str()),
        Some("wrp1a")
    );
    assert_eq!(
        l4.set(&mut image, "wrp1a=7..6").unwrap_err().code(),
        "bad-value"
    );

    let h7 = layout("stm32h7.toml");
    let mut registers = Image {
        pieces: vec![(
            0x5200_2038,
            [0xFFu32, 0xFF]
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect(),
        )],
    };
    h7.set(&mut registers, "wrp=+2").unwrap();
    assert_eq!(registers.word(0x5200_2038, 4), Some(0xFB));
    assert_eq!(
        registers.word(0x5200_203C, 4),
        Some(0xFB),
        "the program register"
    );
}

#[test]
fn a_user_layout_comes_first_and_a_broken_one_says_where() {
    let (_, text) = BUILT_IN[1];
    let mine = text.replace("RM0090", "RM0090 (mine)");
    let layouts = Layouts::load(Some((&mine, "mine.toml".into()))).unwrap();
    let chosen = layouts.for_chip("STM32F405/407/412/415/417").unwrap();
    assert!(chosen.source.contains("(mine)"));
    let broken = text.replace("bits = \"3:2\"", "bits = \"17:2\"");
    let error = Layouts::load(Some((&broken, "broken.toml".into()))).unwrap_err();
    assert!(error.to_string().contains("broken.toml"), "{error}");
    assert!(error.to_string().contains("bor_lev"), "{error}");
}
