//! One test per real-world deviation in docs/PROTOCOL.md, then property tests.

use super::*;
use proptest::prelude::*;

const RWE: Access = Access {
    readable: true,
    erasable: true,
    writable: true,
};
const RW: Access = Access {
    readable: true,
    erasable: false,
    writable: true,
};
const R: Access = Access {
    readable: true,
    erasable: false,
    writable: false,
};

fn seg(address: u32, sector_count: u32, sector_size: u32, access: Access) -> Segment {
    Segment {
        address,
        sector_size,
        sector_count,
        access,
    }
}

fn ok(text: &str) -> Parsed {
    parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

#[test]
fn stm32f407_internal_flash() {
    let parsed = ok("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg");
    assert_eq!(parsed.map.name, "Internal Flash");
    assert_eq!(
        parsed.map.segments,
        vec![
            seg(0x0800_0000, 4, 16 * 1024, RWE),
            seg(0x0801_0000, 1, 64 * 1024, RWE),
            seg(0x0802_0000, 7, 128 * 1024, RWE),
        ]
    );
    assert!(parsed.warnings.is_empty());
    assert_eq!(parsed.map.segments[2].end(), 0x0810_0000);
}

#[test]
fn one_to_three_padding_spaces_or_none_before_the_first_slash() {
    for pad in ["", " ", "  ", "   "] {
        let parsed = ok(&format!("@Option Bytes{pad}/0x1FFFC000/01*016 e"));
        assert_eq!(parsed.map.name, "Option Bytes");
        assert_eq!(parsed.map.segments, vec![seg(0x1FFF_C000, 1, 16, RW)]);
    }
    let parsed = ok("@Device Feature/0xFFFF0000/01*004 e");
    assert_eq!(parsed.map.segments, vec![seg(0xFFFF_0000, 1, 4, RW)]);
}

#[test]
fn counts_and_sizes_of_any_width_with_leading_zeros() {
    assert_eq!(
        ok("@F/0x0/01*016Kg").map.segments,
        vec![seg(0, 1, 16384, RWE)]
    );
    assert_eq!(
        ok("@F/0x0/0128*0002Kg").map.segments,
        vec![seg(0, 128, 2048, RWE)]
    );
    assert_eq!(ok("@F/0x0/1*1Kg").map.segments, vec![seg(0, 1, 1024, RWE)]);
    assert_eq!(
        ok("@F/0x0/1000*04Kg").map.segments,
        vec![seg(0, 1000, 4096, RWE)]
    );
}

#[test]
fn missing_unit_letter_means_bytes() {
    let parsed = ok("@Internal Flash  /0x08000000/1536*128g");
    assert_eq!(parsed.map.segments, vec![seg(0x0800_0000, 1536, 128, RWE)]);
}

#[test]
fn unit_written_as_a_space_means_bytes() {
    assert_eq!(
        ok("@OB /0x1FFFF800/01*016 e").map.segments,
        vec![seg(0x1FFF_F800, 1, 16, RW)]
    );
}

#[test]
fn units_b_k_and_m() {
    let parsed = ok("@X/0x0/1*8Ba,1*1Ka,1*1Ma");
    let sizes: Vec<u32> = parsed.map.segments.iter().map(|s| s.sector_size).collect();
    assert_eq!(sizes, vec![8, 1024, 1 << 20]);
}

#[test]
fn space_after_the_slash_before_the_count() {
    let parsed = ok("@Internal Flash  /0x08000000/ 256*02Kg");
    assert_eq!(parsed.map.segments, vec![seg(0x0800_0000, 256, 2048, RWE)]);
}

#[test]
fn several_address_groups_each_restart_the_address() {
    let parsed = ok("@Option Bytes   /0x1FFFC000/01*016 e/0x1FFEC000/01*016 e");
    assert_eq!(
        parsed.map.segments,
        vec![seg(0x1FFF_C000, 1, 16, RW), seg(0x1FFE_C000, 1, 16, RW)]
    );
    let parsed = ok("@Flash/0x08000000/08*128Kg/0x90000000/64*64Kg,1*4Ka");
    assert_eq!(
        parsed.map.segments,
        vec![
            seg(0x0800_0000, 8, 128 * 1024, RWE),
            seg(0x9000_0000, 64, 64 * 1024, RWE),
            seg(0x9040_0000, 1, 4096, R),
        ]
    );
}

#[test]
fn trailing_garbage_keeps_every_good_segment_and_is_reported() {
    // F42x: bLength 166 for 112 bytes of text, so the string carries junk.
    let text = "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg,04*016Kg,01*064Kg,07*128Kg\u{0}\u{FFFD}\u{1}~";
    let parsed = ok(text);
    assert_eq!(parsed.map.segments.len(), 6);
    assert_eq!(parsed.map.segments[5].end(), 0x0820_0000);
    assert_eq!(parsed.warnings.len(), 1);
    assert!(
        parsed.warnings[0].starts_with("ignored 4 characters of trailing data"),
        "{:?}",
        parsed.warnings
    );

    // Junk that looks like the start of another segment or group is still junk.
    for junk in [",07*", "/0x", "/0x0800", "/zz", ",x", "/0x1/", "/0x1/?"] {
        let parsed = ok(&format!("@F/0x0/1*1Ka{junk}"));
        assert_eq!(parsed.map.segments, vec![seg(0, 1, 1024, R)], "{junk}");
        assert_eq!(parsed.warnings.len(), 1, "{junk}: {:?}", parsed.warnings);
        assert!(
            parsed.warnings[0].ends_with(&format!("{junk:?}")),
            "{junk}: {:?}",
            parsed.warnings
        );
    }
}

#[test]
fn option_bytes_at_register_addresses_with_odd_sizes() {
    let parsed = ok("@Option Bytes   /0x5200201C/01*297 e");
    assert_eq!(parsed.map.segments, vec![seg(0x5200_201C, 1, 297, RW)]);
}

#[test]
fn read_only_segments_guard_a_bootloader() {
    let parsed = ok("@Internal Flash  /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg");
    assert_eq!(parsed.map.segments[0].access, R);
    assert_eq!(parsed.map.segments[1].access, RWE);
}

#[test]
fn device_feature_reported_as_g_is_not_erasable() {
    let parsed = ok("@Device Feature  /0xFFFF0000/01*004 g");
    assert_eq!(parsed.map.segments, vec![seg(0xFFFF_0000, 1, 4, RW)]);
    assert_eq!(parsed.warnings.len(), 1);
    // Other regions keep their letter.
    assert_eq!(ok("@Internal Flash /0x0/1*4 g").map.segments[0].access, RWE);
}

#[test]
fn every_type_letter() {
    let letters: Vec<(char, bool, bool, bool)> = ('a'..='g')
        .map(|c| {
            let a = Access::from_letter(c).unwrap();
            (c, a.readable, a.erasable, a.writable)
        })
        .collect();
    assert_eq!(
        letters,
        vec![
            ('a', true, false, false),
            ('b', false, true, false),
            ('c', true, true, false),
            ('d', false, false, true),
            ('e', true, false, true),
            ('f', false, true, true),
            ('g', true, true, true),
        ]
    );
    assert_eq!(Access::from_letter('h'), None);
    for c in 'a'..='g' {
        assert_eq!(Access::from_letter(c).unwrap().letter(), Some(c));
    }
}

#[test]
fn strings_that_are_not_dfuse_layouts() {
    for text in [
        "Internal Flash",
        "DFU bootloader v1.2",
        "",
        "STM32  BOOTLOADER",
    ] {
        assert_eq!(
            parse(text),
            Err(MemoryMapError::NotDfuse { text: text.into() })
        );
    }
    let err = parse("@Internal Flash").unwrap_err();
    assert!(
        matches!(err, MemoryMapError::Malformed { position: 16, .. }),
        "{err}"
    );
    let err = parse("@Internal Flash  /08000000/04*016Kg").unwrap_err();
    assert!(
        err.to_string()
            .contains("expected an address like 0x08000000"),
        "{err}"
    );
    let err = parse("@Internal Flash  /0x08000000/04x016Kg").unwrap_err();
    assert!(
        err.to_string().contains("at character 32: expected '*'"),
        "{err}"
    );
    let err = parse("@Internal Flash  /0x08000000/04*016Kz").unwrap_err();
    assert!(
        err.to_string().contains("expected a type letter a-g"),
        "{err}"
    );
}

#[test]
fn sectors_past_4gib_are_an_error_not_a_wrap() {
    let err = parse("@F/0xFFFF0000/3*32Kg").unwrap_err();
    assert_eq!(
        err,
        MemoryMapError::Overflow {
            segment: 0,
            address: 0xFFFF_0000,
            count: 3,
            size: 32768
        }
    );
    assert!(
        parse("@F/0xFFFF0000/1*64Kg").is_ok(),
        "ending exactly at 4 GiB is fine"
    );
    assert!(matches!(
        parse("@F/0x0/99999999999999999999*1Kg"),
        Err(MemoryMapError::Malformed { .. })
    ));
    assert!(matches!(
        parse("@F/0x0/4294967295*4294967295Mg"),
        Err(MemoryMapError::Overflow { .. })
    ));
    assert!(matches!(
        parse("@F/0x0/1*1Ka,4294967295*4294967295Mg"),
        Err(MemoryMapError::Overflow { segment: 1, .. })
    ));
}

#[test]
fn empty_segments_are_skipped_with_a_warning() {
    let parsed = ok("@F/0x0/0*1Ka,2*0Ka,1*1Ka");
    assert_eq!(parsed.map.segments, vec![seg(0, 1, 1024, R)]);
    assert_eq!(parsed.warnings.len(), 2);
    // Found by fuzzing: a layout whose only segment is empty is no map at all.
    let err = parse("@In,ernal Flash  /0x08000000/ 0*02Kg").unwrap_err();
    assert!(
        err.to_string().contains("no segment has any sectors"),
        "{err}"
    );
}

#[test]
fn segment_lookup() {
    let map = ok("@Internal Flash  /0x08000000/04*016Kg,01*064Kg").map;
    assert_eq!(map.segment_at(0x0800_FFFF).unwrap().sector_size, 16384);
    assert_eq!(map.segment_at(0x0801_0000).unwrap().sector_size, 65536);
    assert!(map.segment_at(0x0802_0000).is_none());
}

/// A segment list for the property tests: (count, size, unit, letter).
fn segments() -> impl Strategy<Value = Vec<(u32, u32, char, char)>> {
    prop::collection::vec(
        (
            1u32..300,
            1u32..1000,
            prop::sample::select(vec!['B', 'K', 'M', ' ', '\0']),
            proptest::char::range('a', 'g'),
        ),
        1..5,
    )
}

/// Renders a count or size with `zeros` leading zeros.
fn padded(value: u32, zeros: usize) -> String {
    format!("{}{value}", "0".repeat(zeros))
}

proptest! {
    #[test]
    fn rendered_maps_parse_back(
        name in "[A-Za-z][A-Za-z ]{0,20}[A-Za-z]",
        pad in 0usize..4,
        groups in prop::collection::vec((0u32..0x1000_0000, segments()), 1..4),
        zeros in 0usize..3,
        space_after_slash: bool,
    ) {
        prop_assume!(name != "Device Feature");
        let mut text = format!("@{name}{}", " ".repeat(pad));
        let mut expected = Vec::new();
        for (address, list) in &groups {
            text.push_str(&format!("/0x{address:08X}/"));
            if space_after_slash {
                text.push(' ');
            }
            let mut next = u64::from(*address);
            let rendered: Vec<String> = list.iter().map(|&(count, size, unit, letter)| {
                let bytes = size * match unit { 'K' => 1024, 'M' => 1 << 20, _ => 1 };
                expected.push(seg(next as u32, count, bytes, Access::from_letter(letter).unwrap()));
                next += u64::from(count) * u64::from(bytes);
                let unit = if unit == '\0' { String::new() } else { unit.to_string() };
                format!("{}*{}{unit}{letter}", padded(count, zeros), padded(size, zeros))
            }).collect();
            text.push_str(&rendered.join(","));
        }
        let fits = expected.iter().all(|s| s.end() <= 1 << 32);
        match parse(&text) {
            Ok(parsed) => {
                prop_assert!(fits);
                prop_assert_eq!(parsed.map.name, name.trim());
                prop_assert_eq!(parsed.map.segments, expected);
                prop_assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
            }
            Err(MemoryMapError::Overflow { .. }) => prop_assert!(!fits),
            Err(other) => prop_assert!(false, "{text:?}: {other}"),
        }
    }

    #[test]
    fn appended_garbage_never_loses_a_segment(
        good in "@Internal Flash  /0x08000000/04\\*016Kg,01\\*064Kg,07\\*128Kg",
        junk in "[^0-9a-gBKM*, ].*",
    ) {
        let parsed = parse(&format!("{good}{junk}")).unwrap();
        prop_assert_eq!(parsed.map.segments.len(), 3);
        prop_assert_eq!(parsed.warnings.is_empty(), junk.is_empty());
    }

    #[test]
    fn any_string_is_a_map_or_an_error_never_a_panic(text in ".*") {
        let _ = parse(&text);
        let _ = parse(&format!("@{text}"));
        let _ = parse(&format!("@X/0x0/{text}"));
    }
}
