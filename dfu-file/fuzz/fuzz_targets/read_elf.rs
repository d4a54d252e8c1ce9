//! ELF reader on arbitrary bytes.
#![no_main]

use dfu_file::elf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = elf::read(data);
});
