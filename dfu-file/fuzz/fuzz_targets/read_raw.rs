//! Raw / plain-DFU reader on arbitrary bytes; the .bin it writes back must hold the same bytes.
#![no_main]

use dfu_file::raw;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Read both as a .bin (suffix optional) and as a plain .dfu (suffix required).
    for expect_suffix in [false, true] {
        let Ok(firmware) = raw::read(data, Some(0x0800_0000), expect_suffix, true) else {
            continue;
        };
        let image = &firmware.targets[0].image;
        let written = raw::write(image, 0).expect("one segment has no gap");
        assert_eq!(written.len() as u64, image.len());
    }
});
