//! Memory-map parser on arbitrary strings; whatever it accepts must be a sane map.
#![no_main]

use dfuse::memory_map::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(parsed) = parse(&text) else {
        return;
    };
    assert!(!parsed.map.segments.is_empty(), "a map has at least one segment");
    for segment in &parsed.map.segments {
        assert!(segment.sector_count > 0 && segment.sector_size > 0);
        assert!(segment.end() <= 1 << 32, "no segment passes 4 GiB");
    }
    assert_eq!(parsed.map.name, parsed.map.name.trim());
});
