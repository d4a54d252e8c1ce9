//! DfuSe reader on arbitrary bytes; whatever it accepts must survive a write/read round trip.
#![no_main]

use dfu_file::{DeviceIds, dfuse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // CRC checking would stop almost every input at the suffix; ignore it to reach the parser.
    let Ok(firmware) = dfuse::read(data, true) else {
        return;
    };
    if let Ok(written) = dfuse::write(&firmware.targets, DeviceIds::default()) {
        let back = dfuse::read(&written, false).expect("a written file reads back");
        for (a, b) in firmware.targets.iter().zip(&back.targets) {
            assert_eq!(a.image, b.image);
            assert_eq!(a.alt, b.alt);
        }
    }
});
