//! Intel HEX reader on arbitrary bytes; whatever it accepts must survive a write/read round trip.
#![no_main]

use dfu_file::ihex;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(contents) = ihex::read(data) else {
        return;
    };
    let text = ihex::write(&contents.image, contents.entry).expect("any image is writable as HEX");
    let back = ihex::read(text.as_bytes()).expect("written HEX reads back");
    assert_eq!(back.image, contents.image);
    assert_eq!(back.entry, contents.entry);
});
