//! `dfuse verify` against simulated boards: 0 when the board holds the file, 6 and where not.

mod common;

use common::{dfuse, example, p, stdout};

#[test]
fn verify_says_whether_the_board_holds_the_file_and_where_it_differs() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("board.dfu");
    let hex = example("blinky-f407.hex");
    let device = ["--device", "sim:stm32f407", "--sim-state", p(&state)];
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&device);
        dfuse(&all)
    };
    let flashed = run(&["flash", p(&hex)]);
    assert!(flashed.status.success(), "{}", common::stderr(&flashed));
    let same = run(&["verify", p(&hex)]);
    assert_eq!(same.status.code(), Some(0), "{}", common::stderr(&same));
    assert!(stdout(&same).contains("holds"), "{}", stdout(&same));

    // One byte changed at 0x08000064: exit 6, the range named, also in JSON.
    let mut bin = std::fs::read(example("blinky-f407.bin")).unwrap();
    bin[100] ^= 0xFF;
    let changed = dir.path().join("changed.bin");
    std::fs::write(&changed, &bin).unwrap();
    let differs = run(&["verify", p(&changed), "--address", "0x08000000"]);
    assert_eq!(differs.status.code(), Some(6));
    assert!(
        stdout(&differs).contains("alt 0: 0x08000064-0x08000064 (1 byte)"),
        "{}",
        stdout(&differs)
    );
    assert!(common::stderr(&differs).contains("error[differs]"));
    let json = run(&["verify", p(&changed), "--address", "0x08000000", "--json"]);
    assert_eq!(json.status.code(), Some(6));
    let last: serde_json::Value =
        serde_json::from_str(stdout(&json).lines().last().unwrap()).unwrap();
    assert_eq!(last["result"], "error");
    assert_eq!(last["code"], "differs");
    assert_eq!(last["exit"], 6);
    assert_eq!(last["differences"][0]["start"], 0x0800_0064);
    assert_eq!(last["differences"][0]["end"], 0x0800_0065);
    // Nothing was written: the board still holds the example.
    assert_eq!(run(&["verify", p(&hex)]).status.code(), Some(0));
}
