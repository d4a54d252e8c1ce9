//! What people bring from dfu-util and CI scripts: -a, a VID:PID given to -d,
//! DFUSE_* environment variables, --quiet.

mod common;

use common::{assert_fails, dfuse, example, p, stdout};

#[test]
fn a_vid_pid_given_as_the_device_says_what_was_meant() {
    let hex = example("blinky-f407.hex");
    for args in [
        vec!["flash", p(&hex), "-d", "0483:df11"],
        vec![
            "read",
            "-o",
            "x.bin",
            "--address",
            "0x08000000",
            "--length",
            "4",
            "--device",
            "0483:DF11",
        ],
        vec!["list", "-d", "483:df11"],
    ] {
        assert_fails(&dfuse(&args), 2, "did you mean --vid-pid");
    }
}

#[test]
fn dash_a_chooses_the_alternate_setting_and_the_environment_the_board() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("options.bin");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_dfuse"))
        .args([
            "read",
            "-a",
            "1",
            "-o",
            p(&out),
            "--address",
            "0x1FFFC000",
            "--length",
            "16",
        ])
        .env("DFUSE_DEVICE", "sim:stm32f407")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    assert_eq!(
        std::fs::read(&out).unwrap()[1],
        0xAA,
        "RDP level 0 from alt 1"
    );
    let help = stdout(&dfuse(["flash", "--help"]));
    for variable in ["DFUSE_DEVICE", "DFUSE_SERIAL", "DFUSE_VID_PID"] {
        assert!(
            help.contains(&format!("[env: {variable}=")),
            "{variable} in --help"
        );
    }
}

#[test]
fn quiet_prints_nothing_on_success_and_the_error_on_failure() {
    let hex = example("blinky-f407.hex");
    let ok = dfuse(["flash", p(&hex), "--device", "sim:stm32f407", "-q"]);
    assert!(ok.status.success(), "{}", common::stderr(&ok));
    assert_eq!(stdout(&ok), "");
    assert_eq!(common::stderr(&ok), "");
    let failed = dfuse([
        "flash",
        "missing.hex",
        "--device",
        "sim:stm32f407",
        "--quiet",
    ]);
    assert_fails(&failed, 4, "missing.hex");
}

#[test]
fn as_a_cargo_runner_it_flashes_the_elf_cargo_built() {
    // `.cargo/config.toml`: runner = "dfuse flash --leave"; cargo appends the ELF's path.
    let elf = example("blinky-f407.elf");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_dfuse"))
        .args(["flash", "--leave", p(&elf)])
        .env("DFUSE_DEVICE", "sim:stm32f407")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains("verified") && out.contains("the firmware starts at 0x08000000"),
        "{out}"
    );
}

/// Output of `dfuse ARGS` on a terminal (util-linux's `script` gives it one), with `env` set.
fn on_a_terminal(args: &str, env: &[(&str, &str)]) -> String {
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_dfuse"));
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .envs(env.iter().copied())
        .output()
        .expect("util-linux's script runs (apt-get install bsdutils)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let escape = "\u{1b}[";
    assert!(
        on_a_terminal("--help", &[]).contains(escape),
        "help is coloured on a terminal"
    );
    assert!(!on_a_terminal("--help", &[("NO_COLOR", "1")]).contains(escape));
    assert!(
        !stdout(&dfuse(["--help"])).contains(escape),
        "not coloured into a pipe"
    );
}
