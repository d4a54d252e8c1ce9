//! dfuse-gui's command line, before any window opens.

use std::process::Command;

fn gui(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dfuse-gui"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("dfuse-gui runs")
}

#[test]
fn an_unknown_simulated_chip_is_refused_with_the_list() {
    let out = gui(&["--sim", "stm32f999"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("invalid value 'stm32f999' for '--sim <CHIP>'"),
        "{text}"
    );
    assert!(
        text.contains("stm32f407") && text.contains("gd32vf103"),
        "{text}"
    );
}

#[test]
fn help_teaches_with_examples() {
    let out = gui(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("drop it on the window"), "{text}");
    assert!(
        text.contains("dfuse-gui --sim stm32f407 --sim stm32f072 assets/examples/blinky-f407.hex"),
        "{text}"
    );
}

#[test]
fn a_bad_window_size_is_refused_before_any_window() {
    let out = gui(&["--size", "big", "--no-usb"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("--size takes WIDTHxHEIGHT, like 1100x760, not \"big\""),
        "{text}"
    );
}

#[test]
fn without_a_display_it_says_so_and_fails() {
    let out = gui(&["--no-usb", "--sim", "stm32f407"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("error: cannot open the window:"), "{text}");
    assert!(text.contains("use the `dfuse` command line"), "{text}");
}
