//! S-record reader on arbitrary bytes.
#![no_main]

use dfu_file::srec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = srec::read(data);
});
