//! `dfuse dfu-util`: dfu-util command lines run through dfuse, on a simulated board.

mod common;

use std::process::Command;

use common::{example, p};

/// Runs `dfuse dfu-util ARGS` on the simulated F407 whose memory is kept in `state`.
fn dfu_util(state: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dfuse"))
        .arg("dfu-util")
        .args(args)
        .env("DFUSE_DEVICE", "sim:stm32f407")
        .env("DFUSE_SIM_STATE", state)
        .output()
        .unwrap()
}

#[test]
fn download_upload_and_mass_erase_as_dfu_util_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("board.dfu");
    let bin = example("blinky-f407.bin");
    let flashed = dfu_util(&state, &["-a", "0", "-s", "0x08000000", "-D", p(&bin)]);
    assert!(flashed.status.success(), "{}", common::stderr(&flashed));
    assert!(common::stderr(&flashed).contains("running `dfuse flash "));
    assert!(
        common::stdout(&flashed).contains("verified"),
        "{}",
        common::stdout(&flashed)
    );

    let out = dir.path().join("back.bin");
    let length = std::fs::metadata(&bin).unwrap().len().to_string();
    let spec = format!("0x08000000:{length}");
    let read = dfu_util(&state, &["-a", "0", "-s", &spec, "-U", p(&out)]);
    assert!(read.status.success(), "{}", common::stderr(&read));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&bin).unwrap());

    let erased = dfu_util(
        &state,
        &[
            "-a",
            "0",
            "-s",
            "0x08000000:mass-erase:force",
            "-D",
            p(&bin),
        ],
    );
    assert!(erased.status.success(), "{}", common::stderr(&erased));
    assert!(common::stderr(&erased).contains("--mass-erase --force"));

    let refused = dfu_util(&state, &["-a", "0", "-U", p(&out)]);
    common::assert_fails(&refused, 2, "-U needs the start address");
}
