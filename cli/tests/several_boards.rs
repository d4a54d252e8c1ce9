//! `dfuse flash` on several simulated boards at once, through the real binary.

mod common;

use common::{assert_fails, dfuse, example, p, stdout};

#[test]
fn two_boards_are_flashed_at_once_and_each_is_named_in_every_json_line() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.dfu"), dir.path().join("b.dfu"));
    let hex = example("blinky-f407.hex");
    let args = [
        "flash",
        p(&hex),
        "-d",
        "sim:stm32f407",
        "-d",
        "sim:stm32f072",
        "--sim-state",
        p(&a),
        "--sim-state",
        p(&b),
        "--json",
    ];
    let out = dfuse(args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let result = lines.last().unwrap();
    assert_eq!(result["result"], "ok");
    let boards = result["boards"].as_array().unwrap();
    assert_eq!(boards.len(), 2);
    assert_eq!(boards[0]["device"], "sim:stm32f407");
    assert_eq!(boards[1]["device"], "sim:stm32f072");
    assert!(boards.iter().all(|b| b["targets"][0]["verified"] == true));
    for event in lines
        .iter()
        .filter(|l| l.get("event").is_some_and(|e| e != "message"))
    {
        assert!(
            event["device"] == "sim:stm32f407" || event["device"] == "sim:stm32f072",
            "{event}"
        );
    }
    // Each board kept its own memory: flashed again, both skip everything.
    let out = dfuse(&args[..args.len() - 1]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert_eq!(
        text.matches("ok: 2 sectors unchanged (skipped), nothing written, verified")
            .count()
            + text
                .matches("ok: 1 sector unchanged (skipped), nothing written, verified")
                .count(),
        2,
        "{text}"
    );
    assert!(text.contains("Board"), "the table of results: {text}");
}

#[test]
fn several_boards_refuse_what_does_not_fit_together() {
    let hex = example("blinky-f407.hex");
    let hex = p(&hex);
    assert_fails(
        &dfuse(["flash", hex, "--all", "-d", "sim:stm32f407"]),
        2,
        "--all flashes every board attached; --device names boards",
    );
    assert_fails(
        &dfuse(["flash", hex, "-d", "sim:stm32f407", "-d", "sim:stm32f407"]),
        2,
        "--device sim:stm32f407 is named twice",
    );
    assert_fails(
        &dfuse([
            "flash",
            hex,
            "-d",
            "sim:stm32f407",
            "-d",
            "sim:stm32f072",
            "--sim-state",
            "x.dfu",
        ]),
        2,
        "--sim-state goes once with each simulated board, in order: 2 boards, 1 given",
    );
    assert_fails(
        &dfuse(["info", "-d", "sim:stm32f407", "-d", "sim:stm32f072"]),
        2,
        "only `dfuse flash` takes several",
    );
    assert_fails(
        &dfuse([
            "flash",
            hex,
            "-d",
            "sim:stm32f407",
            "-d",
            "sim:stm32f072",
            "--leave",
            "--wait",
        ]),
        2,
        "--wait follows one board",
    );
}
