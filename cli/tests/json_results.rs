//! With --json, every command ends with exactly one result object, failures
//! included: `{"schema": 1, "result": "error", "exit", "code", "message", "help"}`.

mod common;

use std::collections::BTreeSet;

use common::{dfuse, example, p, stdout};

/// The JSON objects `args` printed; asserts each line is one and carries the schema.
fn objects(args: &[&str]) -> (Vec<serde_json::Value>, i32) {
    let output = dfuse(args);
    let text = stdout(&output);
    let objects = text
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{args:?}: not a JSON line ({e}): {line}"));
            assert_eq!(value["schema"], 1, "{args:?}: {line}");
            value
        })
        .collect();
    (objects, output.status.code().unwrap_or(-1))
}

/// Runs `args`, expecting a failure with exit `exit` and error code `code` as the one result object.
#[track_caller]
fn fails(args: &[&str], exit: i32, code: &str) {
    let (objects, status) = objects(args);
    assert_eq!(status, exit, "{args:?}: {objects:?}");
    let results: Vec<_> = objects
        .iter()
        .filter(|o| o.get("result").is_some())
        .collect();
    assert_eq!(
        results.len(),
        1,
        "{args:?}: exactly one result object: {objects:?}"
    );
    let result = results[0];
    assert!(
        std::ptr::eq(result, objects.last().unwrap()),
        "{args:?}: the result object comes last"
    );
    assert_eq!(result["result"], "error", "{args:?}");
    assert_eq!(result["exit"], exit, "{args:?}");
    assert_eq!(result["code"], code, "{args:?}: {result}");
    for field in ["message", "help"] {
        assert!(
            result[field].as_str().is_some_and(|s| !s.is_empty()),
            "{args:?}: {field} missing: {result}"
        );
    }
}

/// The subcommands `dfuse --help` lists.
fn subcommands() -> BTreeSet<String> {
    let help = stdout(&dfuse(["--help"]));
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_subcommand_fails_with_one_json_result_object() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.hex");
    let missing = p(&missing);
    let bin = example("blinky-f407.bin");
    let out = dir.path().join("out.bin");
    let f407 = ["--device", "sim:stm32f407", "--json"];
    let with = |args: &[&'static str]| -> Vec<String> {
        args.iter()
            .map(|s| s.to_string())
            .chain(f407.iter().map(|s| s.to_string()))
            .collect()
    };
    let run = |args: Vec<String>, exit: i32, code: &str| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(&args, exit, code);
    };
    let mut covered = BTreeSet::new();
    let mut case = |name: &str, args: Vec<String>, exit: i32, code: &str| {
        covered.insert(name.to_owned());
        run(args, exit, code);
    };
    let strings = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    case(
        "file",
        strings(&["file", "info", missing, "--json"]),
        4,
        "io",
    );
    case(
        "file",
        strings(&["file", "convert", p(&bin), "-o", p(&out), "--json"]),
        3,
        "missing-address",
    );
    let mut flash = with(&["flash"]);
    flash.insert(1, missing.into());
    case("flash", flash, 4, "io");
    let mut flash_bin = with(&["flash"]);
    flash_bin.insert(1, p(&bin).into());
    case("flash", flash_bin, 3, "missing-address");
    let mut verify = with(&["verify"]);
    verify.insert(1, missing.into());
    case("verify", verify, 4, "io");
    let mut read = with(&["read", "--address", "0x09000000", "--length", "16", "-o"]);
    read.insert(6, p(&out).into());
    case("read", read, 3, "not-readable");
    case(
        "dump",
        with(&["dump", "--address", "0x09000000"]),
        3,
        "not-readable",
    );
    case(
        "erase",
        with(&["erase", "--address", "0x09000000", "--length", "1"]),
        3,
        "not-erasable",
    );
    case("unprotect", with(&["unprotect"]), 2, "usage");
    case(
        "leave",
        strings(&["leave", "--device", "sim:nochip", "--json"]),
        2,
        "usage",
    );
    case(
        "list",
        strings(&["list", "--vid-pid", "nonsense", "--json"]),
        2,
        "usage",
    );
    case(
        "info",
        strings(&["info", "--device", "sim:nochip", "--json"]),
        2,
        "usage",
    );
    case(
        "driver",
        strings(&["driver", "--device", "sim:nochip", "--json"]),
        2,
        "usage",
    );
    case(
        "memmap",
        strings(&["memmap", "no layout here", "--json"]),
        3,
        "invalid-argument",
    );
    case(
        "option-bytes",
        with(&["option-bytes", "set", "bor=off"]),
        3,
        "unknown-field",
    );
    case(
        "protect",
        strings(&["protect", "--device", "sim:gd32vf103", "--json"]),
        3,
        "no-layout",
    );
    case(
        "dfu-util",
        strings(&["dfu-util", "-X", "--json"]),
        2,
        "usage",
    );
    case(
        "completions",
        strings(&["completions", "nosuchshell", "--json"]),
        2,
        "usage",
    );
    case(
        "manpages",
        strings(&["manpages", "/proc/version/man", "--json"]),
        2,
        "usage",
    );
    case(
        "udev-rule",
        strings(&[
            "udev-rule",
            "--install",
            "--path",
            "/proc/no/such/x.rules",
            "--json",
        ]),
        2,
        "usage",
    );
    // Arguments clap refuses: a usage error, as JSON too.
    case("flash", strings(&["flash", "--json"]), 2, "usage");

    let listed = subcommands();
    let untested: Vec<_> = listed.difference(&covered).collect();
    assert!(
        untested.is_empty(),
        "subcommands without a --json failure case: {untested:?}"
    );
}

#[test]
fn a_failed_verify_and_a_failed_board_carry_their_details_in_the_one_result() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("board");
    let device = [
        "--device",
        "sim:stm32f407",
        "--sim-state",
        p(&state),
        "--json",
    ];
    let hex = example("blinky-f407.hex");
    let mut args = vec!["verify", p(&hex)];
    args.extend_from_slice(&device);
    let (objects, status) = objects(&args);
    assert_eq!(status, 6);
    let result = objects.last().unwrap();
    assert_eq!(result["code"], "differs");
    assert_eq!(result["differences"][0]["start"], 0x0800_0000);
    assert_eq!(
        objects.iter().filter(|o| o.get("result").is_some()).count(),
        1
    );
}

#[test]
fn a_watch_ends_with_a_result_object_counting_what_it_saw() {
    // No board is attached here: the watch sees none, and says so when its time is up.
    let (objects, status) = objects(&["list", "--watch", "--watch-seconds", "1", "--json"]);
    assert_eq!(status, 0, "{objects:?}");
    let last = objects.last().expect("a result object");
    assert_eq!(last["result"], "ok", "{last}");
    assert_eq!(last["stopped"], "time-up", "{last}");
    assert_eq!(
        (&last["present"], &last["arrived"], &last["left"]),
        (&0.into(), &0.into(), &0.into())
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_ends_a_watch_with_its_result_object_and_exit_0() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dfuse"))
        .args(["list", "--watch", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Ctrl-C once the watch has begun, which it says on stderr.
    let mut stderr_lines =
        std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().unwrap()));
    let before: Vec<String> = stderr_lines
        .by_ref()
        .map_while(Result::ok)
        .take_while(|line| !line.starts_with("Watching for boards"))
        .collect();
    assert!(
        child.try_wait().unwrap().is_none(),
        "the watch ended: {before:?}"
    );
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let rest: Vec<String> = stderr_lines.map_while(Result::ok).collect();
    assert_eq!(output.status.code(), Some(0), "{rest:?}");
    let text = stdout(&output);
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["result"], "ok", "{last}");
    assert_eq!(last["stopped"], "interrupted", "{last}");
    assert!(
        rest.iter().any(|l| l.contains("Stopped watching.")),
        "{rest:?}"
    );
}
