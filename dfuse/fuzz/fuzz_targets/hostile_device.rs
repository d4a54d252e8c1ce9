//! A device whose every answer comes from the fuzzer: dfuse flashes, verifies,
//! reads and leaves it, and the invariants of `dfuse_sim::hostile` must hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dfuse_sim::hostile::check(data);
});
