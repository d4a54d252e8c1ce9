//! Completion scripts that a shell sources, and man pages.

mod common;

use common::{dfuse, p};

/// What bash completes after `line`, with dfuse's completion script sourced.
fn bash_completes(line: &str) -> String {
    let dfuse = env!("CARGO_BIN_EXE_dfuse");
    let words: Vec<&str> = line.split(' ').collect();
    let script = format!(
        r#"source <("{dfuse}" completions bash) || exit 3
COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}
_dfuse dfuse "{current}" "{previous}"
echo "${{COMPREPLY[@]}}""#,
        words = words.join(" "),
        cword = words.len() - 1,
        current = words[words.len() - 1],
        previous = words[words.len() - 2],
    );
    let output = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("bash runs (apt-get install bash)");
    assert!(output.status.success(), "{}", common::stderr(&output));
    common::stdout(&output).trim().to_owned()
}

#[test]
fn bash_completes_subcommands_and_options() {
    assert_eq!(bash_completes("dfuse fl"), "flash");
    assert_eq!(bash_completes("dfuse option-bytes s"), "show set");
    assert!(bash_completes("dfuse flash --mass").contains("--mass-erase"));
}

#[test]
fn man_pages_are_written_for_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dfuse(["manpages", p(dir.path())]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    for page in ["dfuse.1", "dfuse-flash.1", "dfuse-option-bytes-set.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.starts_with(".ie"), "{page} is roff");
    }
    let flash = std::fs::read_to_string(dir.path().join("dfuse-flash.1")).unwrap();
    assert!(flash.contains("mass\\-erase"), "options are documented");
}

#[test]
fn the_udev_rule_prints_and_installs_where_asked() {
    let printed = dfuse(["udev-rule"]);
    assert!(printed.status.success());
    let rule = common::stdout(&printed);
    assert!(rule.contains(r#"ATTRS{idVendor}=="0483", ATTRS{idProduct}=="df11", TAG+="uaccess""#));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("60-dfuse.rules");
    let installed = dfuse(["udev-rule", "--install", "--path", p(&path)]);
    assert!(installed.status.success(), "{}", common::stderr(&installed));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), rule);
}
